"""Table exports: the metrics history as CSV and the layer summary as Markdown or CSV."""

from __future__ import annotations

import os
from pathlib import Path

from engine.export.target import ExportError, check_destination
from engine.metrics import MetricsHistory
from models import summary_table
from models.architecture import Architecture
from models.atomic_file import write_atomically
from models.shapes import analyze

SUMMARY_STYLES = {"md": (".md", ".markdown"), "csv": (".csv",)}


def _write_text(path: Path, text: str) -> Path:
    try:
        write_atomically(path, text.encode("utf-8"))
    except OSError as exc:
        raise ExportError(f"{path}: cannot write ({exc.strerror or exc}); nothing was changed") from None
    return path


def export_metrics_csv(history: MetricsHistory, out_path: str | os.PathLike) -> Path:
    """The run's batch and epoch rows (MetricsHistory.to_csv), readable back with MetricsHistory.from_csv."""
    return _write_text(check_destination(out_path, (".csv",), "CSV"), history.to_csv())


def export_summary(arch: Architecture, out_path: str | os.PathLike, style: str = "md") -> Path:
    """The textbook layer table (shapes, parameters, multiply-adds) as Markdown ("md") or CSV ("csv")."""
    if style not in SUMMARY_STYLES:
        raise ExportError(f"unknown summary style {style!r}; use {' or '.join(SUMMARY_STYLES)}")
    path = check_destination(out_path, SUMMARY_STYLES[style], "Markdown" if style == "md" else "CSV")
    analysis = analyze(arch)
    if style == "csv":
        return _write_text(path, summary_table.as_csv(analysis))
    shape = "x".join(map(str, arch.input.as_tuple()))
    text = f"# {arch.name}\n\nInput: {shape}\n\n{summary_table.as_markdown(analysis)}"
    problems = [f"- error: {e}" for e in analysis.errors] + [f"- warning: {w}" for w in analysis.warnings]
    if problems:
        text += "\n" + "\n".join(problems) + "\n"
    return _write_text(path, text)
