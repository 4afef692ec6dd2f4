"""`export PROJECT_OR_DIR --format F --out PATH`: trained weights, TorchScript, ONNX, Python source, tables, PNGs."""

from __future__ import annotations

import argparse
import sys

from engine.cli import report_bad_input
from engine.export import formats  # the registry; its writers import torch only when they write


def _options() -> dict[str, formats.ExportOption]:
    """Every option some format declares, by name (one --name serves every format that takes it)."""
    options: dict[str, formats.ExportOption] = {}
    for fmt in formats.all_formats():
        for option in fmt.options:
            if options.setdefault(option.name, option).kind is not option.kind:
                raise TypeError(f"--{option.name} is declared with two types; give one of them another name")
    return options


def register(sub: argparse._SubParsersAction) -> None:
    listing = "\n".join(f"  {f.key:<12} --out {f.out:<17} {f.description}" for f in formats.all_formats())
    p = sub.add_parser("export", help="export a trained network (weights, TorchScript, ONNX, Python source) "
                                      "or its tables and filter images",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description=f"Export from a .convscope project, a run folder written by `train --out`,\n"
                                   f"or (summary formats only) an architecture .json.\n\nformats:\n{listing}")
    keys = [f.key for f in formats.all_formats()]
    p.add_argument("source", metavar="PROJECT_OR_DIR", help="a .convscope project file or a run folder")
    p.add_argument("--format", "-f", required=True, choices=keys, metavar="FORMAT", help=f"one of: {', '.join(keys)}")
    p.add_argument("--out", "-o", required=True, metavar="PATH", help="file (or folder, for filters-png) to write")
    for name, option in _options().items():
        takers = ", ".join(f.key for f in formats.all_formats() if option in f.options)
        # Strings here: the format checks them (with its own message) once it is known which format it is.
        p.add_argument(f"--{name}", dest=f"option_{name}", metavar=option.kind.__name__.upper(),
                       help=f"{option.help} (for {takers}; default {option.default})")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.export.target import ExportError
    from engine.project.project_file import ProjectError
    from engine.project.sources import open_project_or_run
    from engine.network.weights import WeightsError

    fmt = formats.by_key(args.format)
    given = {k[len("option_"):]: v for k, v in vars(args).items() if k.startswith("option_") and v is not None}
    try:
        options = fmt.checked_options(given)  # before opening the project: a bad option is the quicker answer
        project = open_project_or_run(args.source)
        if project.notice:
            print(project.notice, file=sys.stderr)
        if project.weights is None and fmt.needs == formats.NEEDS_WEIGHTS:
            raise ExportError(f"{args.source}: has no trained weights, so there is nothing to export as {fmt.key}; "
                              f"train it first (or export summary-md / summary-csv)")
        written = fmt.export(project.architecture, project.weights, project.history, args.out, options,
                             project.normalization, run_folder=args.source)
    except (ProjectError, ExportError, WeightsError) as exc:
        return report_bad_input(exc)
    for path in written:
        print(f"wrote {path}")
    if project.normalization is None and options.get("input") == formats.PIXELS:
        print(f"note: {args.source} stores no input normalisation (it predates ConvScope storing it), so the "
              f"export takes inputs normalised as in training; retrain to export a model that takes pixels",
              file=sys.stderr)
    return 0
