"""`fully-convolutional RUN --out DIR`: a trained run rewritten with its linear layers as convolutions."""

from __future__ import annotations

import argparse
import sys

from engine.cli import EXIT_OK, report_bad_input

TOLERANCE = 1e-5  # relative to the largest output: the same sums, only in another order


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fully-convolutional", help="rewrite a trained run's linear layers as convolutions",
                       description="Write a run folder whose network replaces the linear layers after the last "
                                   "spatial layer by the equivalent convolutions (the first with the incoming "
                                   "map's size as kernel, the rest 1x1; the flatten goes; a global average pool "
                                   "ends it), with the weights reshaped. On the training image size it gives the "
                                   "original's outputs, so `evaluate` gives the same accuracy; on a larger image, "
                                   "without that last average, it gives a map of class scores.")
    p.add_argument("source", metavar="RUN", help="a run folder from `train --out` or a .convscope project")
    p.add_argument("--out", required=True, metavar="DIR", help="the run folder to write")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from engine.network.builder import build_model
    from engine.network.fully_convolutional import NotFullyConvolutional, fully_convolutional
    from engine.network.weights import WeightsError, apply_state_dict
    from engine.project.run_input import RunInputError, read_run_input, trained_weights
    from engine.run_folder.run_output import (RunOutputError, prepare_output_dir, release_output_dir,
                                              write_run_output)

    try:
        source = read_run_input(args.source)
        if source.notice:
            print(source.notice, file=sys.stderr)
        weights = trained_weights(source, args.source, None)
        rewrite = fully_convolutional(source.architecture)
        with torch.random.fork_rng(devices=[]):  # building initialises weights: leave the caller's RNG alone
            original, rewritten = build_model(source.architecture), build_model(rewrite.architecture)
        apply_state_dict(original, weights, source=str(args.source))
        apply_state_dict(rewritten, rewrite.convert_state(original.state_dict()), source="the rewritten weights")
    except (RunInputError, WeightsError, NotFullyConvolutional) as exc:
        return report_bad_input(exc)
    difference = _largest_difference(original.eval(), rewritten.eval(), source.architecture.input.as_tuple())
    if difference > TOLERANCE:  # a rewrite rule is wrong: never write a network that computes something else
        print(f"error: the rewritten network's outputs differ from the original's by {difference:.2e} (relative); "
              f"nothing was written", file=sys.stderr)
        return 1
    try:
        folder = prepare_output_dir(args.out)
        try:
            summary = {"fully_convolutional_from": str(args.source), "largest_relative_difference": difference,
                       "window": list(rewrite.window), "stride": list(rewrite.stride)}
            write_run_output(folder, arch=rewrite.architecture, model=rewritten, config=source.config,
                             normalization=source.normalization, history=source.history, summary=summary)
        finally:
            release_output_dir(folder)
    except RunOutputError as exc:
        return report_bad_input(exc)
    (h, w), (sh, sw) = rewrite.window, rewrite.stride
    kernel = "x".join(map(str, next(iter(rewrite.kernels.values()))))
    print(f"wrote {folder}: {len(rewrite.kernels)} linear layer(s) as convolutions (the first with a {kernel} "
          f"kernel); on {h}x{w} images the outputs equal the original's (largest relative difference "
          f"{difference:.1e}); on larger images each class score sees a {h}x{w} window, {sh}x{sw} pixels apart")
    return EXIT_OK


def _largest_difference(original, rewritten, shape: tuple[int, int, int]) -> float:
    """max |rewritten - original| / max(1, max |original|) on a few seeded random images of the training size."""
    import torch

    x = torch.randn((4, *shape), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected, got = original(x), rewritten(x)
    return float((got - expected).abs().max() / expected.abs().max().clamp(min=1.0))
