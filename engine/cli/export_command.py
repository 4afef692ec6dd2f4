"""`export PROJECT_OR_DIR --format F --out PATH`: trained weights, TorchScript, ONNX, Python source, tables, PNGs."""

from __future__ import annotations

import argparse

from engine.cli import report_bad_input

# format -> (what --out is, help); the exporters themselves are imported in `run` (torch is slow to import).
FORMATS = {
    "state-dict": ("FILE.pt", "PyTorch state dict (torch.save of a dict of tensors)"),
    "safetensors": ("FILE.safetensors", "safetensors weights"),
    "torchscript": ("FILE.pt", "TorchScript (torch.jit.load, libtorch)"),
    "onnx": ("FILE.onnx", "ONNX, opset 17, dynamic batch size"),
    "python": ("FILE.py", "standalone PyTorch module, weights written beside it as FILE.safetensors"),
    "summary-md": ("FILE.md", "layer table as Markdown (no weights needed)"),
    "summary-csv": ("FILE.csv", "layer table as CSV (no weights needed)"),
    "metrics-csv": ("FILE.csv", "training history as CSV"),
    "filters-png": ("FOLDER", "one PNG of the filters per conv layer"),
}


def register(sub: argparse._SubParsersAction) -> None:
    formats = "\n".join(f"  {name:<12} --out {out:<17} {help_}" for name, (out, help_) in FORMATS.items())
    p = sub.add_parser("export", help="export a trained network (weights, TorchScript, ONNX, Python source) "
                                      "or its tables and filter images",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description=f"Export from a .convscope project, a run folder written by `train --out`,\n"
                                   f"or (summary formats only) an architecture .json.\n\nformats:\n{formats}")
    p.add_argument("source", metavar="PROJECT_OR_DIR", help="a .convscope project file or a run folder")
    p.add_argument("--format", "-f", required=True, choices=list(FORMATS), metavar="FORMAT",
                   help=f"one of: {', '.join(FORMATS)}")
    p.add_argument("--out", "-o", required=True, metavar="PATH", help="file (or folder, for filters-png) to write")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.export import images, onnx_format, python_source, tables, torch_formats
    from engine.export.target import ExportError
    from engine.project import ProjectError, open_project_or_run
    from engine.weights import WeightsError

    try:
        project = open_project_or_run(args.source)
        arch, weights = project.architecture, project.weights
        fmt = args.format
        if weights is None and fmt not in ("summary-md", "summary-csv", "metrics-csv"):
            raise ExportError(f"{args.source}: has no trained weights, so there is nothing to export as {fmt}; "
                              f"train it first (or export summary-md / summary-csv)")
        if fmt == "state-dict":
            written = [torch_formats.export_state_dict(arch, weights, args.out)]
        elif fmt == "safetensors":
            written = [torch_formats.export_safetensors(arch, weights, args.out)]
        elif fmt == "torchscript":
            written = [torch_formats.export_torchscript(arch, weights, args.out)]
        elif fmt == "onnx":
            written = [onnx_format.export_onnx(arch, weights, args.out)]
        elif fmt == "python":
            written = list(python_source.export_python(arch, weights, args.out))
        elif fmt in ("summary-md", "summary-csv"):
            written = [tables.export_summary(arch, args.out, style=fmt.split("-")[1])]
        elif fmt == "metrics-csv":
            written = [tables.export_metrics_csv(project.history, args.out)]
        else:
            written = images.export_filter_pngs(arch, weights, args.out)
    except (ProjectError, ExportError, WeightsError) as exc:
        return report_bad_input(exc)
    for path in written:
        print(f"wrote {path}")
    return 0
