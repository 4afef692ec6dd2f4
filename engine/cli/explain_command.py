"""`explain RUN --sample N --method M --out MAP.png`: why trained weights gave a class, as a map over the input."""

from __future__ import annotations

import argparse

from engine.cli import EXIT_OK, report_bad_input


class MethodNames:
    """The keys of engine.inspection.explanations.METHODS, read when argparse first looks (parsing `explain`, or its help):
    every command registers its parser at start-up, and the others must not pay for torch's import."""

    def _keys(self) -> list[str]:
        from engine.inspection.explanations import METHODS

        return list(METHODS)

    def __iter__(self):
        return iter(self._keys())

    def __contains__(self, key: object) -> bool:
        return key in self._keys()


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("explain", help="an explanation map (saliency, Grad-CAM, ...) of one image",
                       description="Explain one image's class score with trained weights (a run folder, a "
                                   ".convscope project, or an architecture .json with --weights). The image is "
                                   "normalised with the statistics the network was trained with. --out writes "
                                   "the map over the image as a PNG; --npy the raw map (input height x width, "
                                   "float32).")
    p.add_argument("source", metavar="RUN", help="run folder, .convscope project or architecture .json")
    p.add_argument("--weights", metavar="FILE", help=".safetensors or state-dict .pt (overrides the source's)")
    p.add_argument("--sample", type=int, required=True, metavar="N",
                   help="0-based: the N-th image of --dataset (file order, every image, no split), else the N-th "
                        "sample of the run's own --split (the indexing of evaluate's mistakes[].index)")
    p.add_argument("--dataset", metavar="NAME_OR_PATH", help="another dataset file or folder (default: the run's)")
    p.add_argument("--split", choices=("val", "test"), help="the run's own split to index (default: val)")
    p.add_argument("--method", choices=MethodNames(), required=True, metavar="METHOD",
                   help="one of %(choices)s (docs/command-line.md#explain)")
    p.add_argument("--layer", type=int, metavar="K",
                   help="Grad-CAM's layer: the 1-based index of `summary` (default: the last conv layer with a map "
                        "larger than 2x2)")
    p.add_argument("--target", type=int, metavar="C", help="the class to explain (default: the predicted one)")
    p.add_argument("--out", metavar="MAP.png", required=True, help="the map over the image, as a PNG")
    p.add_argument("--npy", metavar="MAP.npy", help="also the raw map, float32 (input height, input width)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from engine.network.builder import BuildError
    from engine.config import ConfigError
    from engine.datasets import DatasetError
    from engine.scoring.evaluation import inspection_copy
    from engine.inspection.explanations import METHODS, ExplanationError, explain, gradcam_layers
    from engine.inspection.explanation_images import overlay
    from engine.export.images import save_png
    from engine.export.target import ExportError
    from engine.project.run_input import RunInputError, read_run_input, trained_weights
    from engine.scoring.split import images_to_score
    from engine.network.weights import WeightsError
    from models.shapes import analyze

    try:
        source = read_run_input(args.source)
        weights = trained_weights(source, args.source, args.weights)
        if args.dataset and args.split:
            raise RunInputError("--split indexes the run's own dataset; with --dataset, --sample counts every image "
                                "of that file or folder, so leave --split out")
        analysis = analyze(source.architecture)
        if analysis.errors:
            raise RunInputError(f"{args.source}: {analysis.errors[0]}")
        outputs = analysis.output_shape or ()
        if len(outputs) != 1:
            raise RunInputError(f"{args.source}: the network's output is not a vector of class scores")
        split_name = "all" if args.dataset else (args.split or "val")
        scored = images_to_score(source.config, args.dataset, split_name, source.normalization, outputs[0])
        if scored.input_shape != tuple(source.architecture.input.as_tuple()):
            raise RunInputError(f"{args.dataset or source.config.dataset}: has "
                                f"{'x'.join(map(str, scored.input_shape))} images but the network takes "
                                f"{'x'.join(map(str, source.architecture.input.as_tuple()))}")
        images = scored.split.images
        if not 0 <= args.sample < len(images):
            raise RunInputError(f"--sample {args.sample} is out of range: {scored.description} are numbered 0 to "
                                f"{len(images) - 1}")
        model = inspection_copy(source.architecture, weights, source=args.weights or str(args.source))
        image, label = images[args.sample], int(scored.split.labels[args.sample])
        with torch.no_grad():
            probabilities = torch.softmax(model.logits(image[None]).float(), dim=1)[0]
        predicted = int(probabilities.argmax())
        target = predicted if args.target is None else args.target
        layer = args.layer
        if METHODS[args.method].needs_layer and layer is None:
            offered = gradcam_layers(source.architecture)
            if not offered:
                raise ExplanationError("the network has no conv layer with a map larger than 2x2 for Grad-CAM; "
                                       "pass --layer K or choose another method")
            layer = offered[-1]
        normalization = source.normalization
        if normalization is None:  # its inputs, the black baseline and the PNG all need the training statistics
            raise RunInputError(f"{args.source}: stores no input normalisation (it predates ConvScope storing it); "
                                f"train it again to explain its predictions")
        attribution = explain(model, image, target, args.method, normalization=normalization, layer=layer,
                              arch=source.architecture)
        pixels = normalization.undo(image[None])[0].clamp(0, 1)
        picture = overlay(np.rint(pixels.permute(1, 2, 0).numpy() * 255).astype(np.uint8), attribution, 0.7)
        save_png(picture.astype(np.float32) / 255, args.out)
        if args.npy:
            np.save(args.npy, attribution.astype(np.float32))
    except (RunInputError, WeightsError, ConfigError, DatasetError, BuildError, ExplanationError, ExportError) as exc:
        return report_bad_input(exc)
    except OSError as exc:
        return report_bad_input(f"{args.npy}: cannot write ({exc.strerror or exc})")
    names = scored.class_names
    where = f" at layer {layer}" if layer is not None and METHODS[args.method].needs_layer else ""
    print(f"{args.method}{where} for class {target} ({names[target] if target < len(names) else target}) on sample "
          f"{args.sample} of {scored.description}: true {label}, predicted {predicted} at "
          f"{float(probabilities[predicted]):.0%}; wrote {args.out}" + (f" and {args.npy}" if args.npy else ""))
    return EXIT_OK

