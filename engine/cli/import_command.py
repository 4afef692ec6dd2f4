"""`import SOURCE --out PROJECT.convscope`: an ONNX file or a PyTorch module (FILE.py:FACTORY) as a project."""

from __future__ import annotations

import argparse
import re

from engine.cli import EXIT_OK, report_bad_input

_SHAPE = re.compile(r"^\s*(\d+)\s*[x,]\s*(\d+)\s*[x,]\s*(\d+)\s*$")


def input_shape(text: str) -> tuple[int, int, int]:
    """'1x28x28' (or '1,28,28') -> (1, 28, 28)."""
    match = _SHAPE.match(text)
    if not match or any(int(n) < 1 for n in match.groups()):
        raise argparse.ArgumentTypeError(f"{text!r}: give channels x height x width, e.g. 1x28x28")
    return tuple(int(n) for n in match.groups())  # type: ignore[return-value]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="import an ONNX file or a PyTorch module as a project (layers and weights)",
                       description="Import a model made elsewhere as a ConvScope project: an ONNX file (opsets 13 "
                                   "to 20, read without running anything) or FILE.py:FACTORY, a function or "
                                   "nn.Module class returning a module (the file is RUN, then traced with "
                                   "torch.fx). Every node becomes a ConvScope layer, or the import names those "
                                   "that cannot and writes nothing. The project's input normalisation is the "
                                   "identity, so its exports take the inputs the source took.")
    p.add_argument("source", metavar="SOURCE", help="MODEL.onnx or FILE.py:FACTORY")
    p.add_argument("--out", "-o", required=True, metavar="PROJECT.convscope", help="the project file to write")
    p.add_argument("--input", type=input_shape, metavar="CxHxW",
                   help="the input's channels, height and width (needed for PyTorch modules, and for ONNX files "
                        "whose input size is not fixed)")
    p.add_argument("--weights", metavar="FILE.safetensors",
                   help="(PyTorch sources) load this state dict of the module before importing")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.project.importers import ModelImportError, import_model
    from engine.project.project_file import SUFFIX, ProjectError, save_project
    from models.shapes import analyze

    if not str(args.out).endswith(SUFFIX):
        return report_bad_input(f"{args.out}: the project file must end in {SUFFIX}")
    try:
        project = import_model(args.source, weights=args.weights, input_shape=args.input)
        save_project(project, args.out)
    except (ModelImportError, ProjectError) as exc:
        return report_bad_input(exc)
    count = analyze(project.architecture).total_params
    print(f"wrote {args.out}: {len(project.architecture.layers)} layers, {count:,} parameters imported from "
          f"{args.source}; the input normalisation is the identity until it is trained here")
    return EXIT_OK
