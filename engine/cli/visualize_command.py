"""`visualize RUN --layer K [--channel C] --out GRID.png`: the input each channel (or class) of a layer wants most."""

from __future__ import annotations

import argparse

from engine.cli import EXIT_OK, report_bad_input


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("visualize", help="activation maximisation: the input each channel of a layer wants most",
                       description="For each channel of a layer (a class, for the output layer), the input that "
                                   "maximises its mean activation: gradient ascent on the input with L2 and "
                                   "total-variation penalties and a small jitter, clamped to the pixel range, "
                                   "normalised as training did. Writes one grid PNG, channel 0 first, row by row.")
    p.add_argument("source", metavar="RUN", help="run folder, .convscope project or architecture .json")
    p.add_argument("--weights", metavar="FILE", help=".safetensors or state-dict .pt (overrides the source's)")
    p.add_argument("--layer", type=int, required=True, metavar="K", help="1-based layer index of `summary`")
    p.add_argument("--channel", type=int, metavar="C", help="only this channel (default: every channel)")
    p.add_argument("--steps", type=int, default=128, help="gradient ascent steps (default 128)")
    p.add_argument("--l2", type=float, default=0.05, help="per pixel: weight of the pull towards mid-grey (default 0.05)")
    p.add_argument("--tv", type=float, default=0.05, help="weight of the total-variation penalty (default 0.05)")
    p.add_argument("--out", metavar="GRID.png", required=True)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.inspection.activation_maximisation import MaximisationConfig, MaximisationError, maximise, pixel_grid
    from engine.scoring.evaluation import inspection_copy
    from engine.export.images import save_png
    from engine.export.target import ExportError
    from engine.project.run_input import RunInputError, read_run_input, trained_weights
    from engine.network.weights import WeightsError

    try:
        source = read_run_input(args.source)
        weights = trained_weights(source, args.source, args.weights)
        if source.normalization is None:
            raise RunInputError(f"{args.source}: stores no input normalisation (it predates ConvScope storing it); "
                                f"train it again to visualise it")
        if args.steps < 1 or args.l2 < 0 or args.tv < 0:
            raise MaximisationError("--steps must be at least 1 and --l2 / --tv at least 0")
        model = inspection_copy(source.architecture, weights, source=args.weights or str(args.source))
        config = MaximisationConfig(steps=args.steps, l2=args.l2, total_variation=args.tv)
        pixels, channels = maximise(model, source.architecture.input.as_tuple(), source.normalization, args.layer,
                                    None if args.channel is None else [args.channel], config)
        save_png(pixel_grid(pixels), args.out)
    except (RunInputError, WeightsError, MaximisationError, ExportError) as exc:
        return report_bad_input(exc)
    print(f"layer {args.layer}: {len(channels)} channel{'s' if len(channels) != 1 else ''} maximised in "
          f"{args.steps} steps; wrote {args.out}")
    return EXIT_OK
