"""`evaluate RUN_OR_ARCH --dataset D`: loss, accuracy and confusion matrix of trained weights on a split."""

from __future__ import annotations

import argparse
import json
import sys

from engine.cli import EXIT_OK, report_bad_input
from engine.config import DEVICES

SPLITS = ("val", "test", "all")  # engine.scoring.split.SPLITS; repeated so `--help` needs no torch import


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="loss, accuracy and confusion matrix of trained weights on a dataset",
                       description="Evaluate trained weights: a run folder from `train --out`, a .convscope "
                                   "project, or an architecture .json with --weights. Images are normalised "
                                   "with the statistics the network was trained with. On the run's own dataset "
                                   "the default is the validation split training held out (cut again with the "
                                   "run's seed and fraction); on any other dataset, its test split when it has "
                                   "one, else every image in it.")
    p.add_argument("source", metavar="RUN_OR_ARCH", help="run folder, .convscope project or architecture .json")
    p.add_argument("--weights", metavar="FILE", help=".safetensors or state-dict .pt (overrides the source's)")
    p.add_argument("--dataset", metavar="NAME_OR_PATH", help="default: the dataset the run was trained on")
    p.add_argument("--split", choices=SPLITS,
                   help="val: the seeded validation split; test: the set's own test split; all: every image "
                        "(default: val on the run's own dataset, else test if the set has one, else all)")
    p.add_argument("--json", action="store_true",
                   help='print {"accuracy", "loss", "samples", "confusion_matrix", "per_class", "mistakes"} as JSON '
                        '(mistakes: index, label, predicted, confidence; most confident first)')
    p.add_argument("--seed", type=int, help="split seed (default: the run's)")
    p.add_argument("--val-fraction", type=float, help="validation share (default: the run's)")
    p.add_argument("--batch-size", type=int, default=1000)
    p.add_argument("--device", choices=DEVICES, default="auto")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from engine.network.builder import BuildError, build_model
    from engine.config import ConfigError
    from engine.datasets import DatasetError
    from engine.training.device import DeviceError, select_device
    from engine.scoring.evaluation import evaluate
    from engine.project.run_input import RunInputError, read_run_input, trained_weights
    from engine.scoring.split import images_to_score
    from engine.network.weights import WeightsError, apply_state_dict
    from models.shapes import analyze

    try:
        source = read_run_input(args.source)
        if source.notice and not args.weights:
            print(source.notice, file=sys.stderr)
        weights = trained_weights(source, args.source, args.weights)
        changes = {k: v for k, v in (("seed", args.seed), ("val_fraction", args.val_fraction)) if v is not None}
        config = source.config.replace(**changes)
        if args.batch_size < 1:
            raise ConfigError(f"--batch-size must be at least 1, not {args.batch_size}")
        device = select_device(args.device)
        analysis = analyze(source.architecture)
        if analysis.errors:
            raise RunInputError(f"{args.source}: {analysis.errors[0]}")
        outputs = analysis.output_shape or ()
        if len(outputs) != 1:
            raise RunInputError(f"{args.source}: the network's output is not a vector of class scores")
        scored = images_to_score(config, args.dataset, args.split, source.normalization, outputs[0])
        if scored.input_shape != tuple(source.architecture.input.as_tuple()):
            dims = "x".join(map(str, scored.input_shape))
            raise RunInputError(f"{args.dataset or config.dataset}: has {dims} images but the network takes "
                                f"{'x'.join(map(str, source.architecture.input.as_tuple()))}; choose a dataset "
                                f"of the kind it was trained on")
        with torch.random.fork_rng(devices=[]):
            model = build_model(source.architecture, analysis)
        apply_state_dict(model, weights, source=args.weights or str(args.source))
    except (RunInputError, WeightsError, ConfigError, DeviceError, DatasetError, BuildError) as exc:
        return report_bad_input(exc)
    if scored.notice:
        print(f"note: {scored.notice}", file=sys.stderr)
    split = scored.split
    result = evaluate(model.to(device), split.images, split.labels, len(scored.class_names), args.batch_size)
    dataset_name = args.dataset or config.dataset
    if args.json:
        from engine.scoring.predictions import class_metrics, predict

        predictions = predict(model, split.images, split.labels, args.batch_size)
        mistakes = [{"index": int(i), "label": int(predictions.labels[i]), "predicted": int(predictions.predicted[i]),
                     "confidence": float(predictions.confidence[i])} for i in predictions.confident_mistakes()]
        print(json.dumps({**result.to_json(), "dataset": dataset_name, "split": scored.split_name,
                          "per_class": class_metrics(result.confusion).to_json(scored.class_names),
                          "mistakes": mistakes}, indent=2))
        return EXIT_OK
    print(f"{source.architecture.name} on {dataset_name}: {scored.description}")
    print(f"loss {result.loss:.4f}   accuracy {result.accuracy:.2%}\n")
    print(confusion_table(result.confusion, scored.class_names), end="")
    return EXIT_OK


def confusion_table(matrix, class_names: tuple[str, ...]) -> str:
    """Rows: true class (index and name) with its recall; columns: predicted class index."""
    k = len(class_names)
    corner = "true \\ predicted"
    labels = [name if name == str(i) else f"{i} {name}" for i, name in enumerate(class_names)]
    label_w = max(len(corner), *(len(s) for s in labels))
    cell_w = max(3, len(str(int(matrix.max()) if matrix.size else 0)), len(str(k - 1)))
    header = f"{corner:<{label_w}} " + " ".join(f"{i:>{cell_w}}" for i in range(k)) + "  recall"
    lines = ["confusion matrix (rows: true class, columns: predicted class)", header]
    for i, label in enumerate(labels):
        row = matrix[i]
        total = int(row.sum())
        recall = f"{row[i] / total:7.1%}" if total else "      -"
        lines.append(f"{label:<{label_w}} " + " ".join(f"{int(v):>{cell_w}}" for v in row) + " " + recall)
    return "\n".join(lines) + "\n"
