"""Reading an experiment folder back (Experiments > Open): experiment.json, results.csv and each run's metrics;
and one variant's row read from the run folder its `train` child wrote (summary.json, metrics.csv).

The folder may be a stranger's, so every file is read as hostile: only regular files that are not links, each
within a size limit, JSON strictly, CSV with its errors caught, every cell checked before it is used; a row's
run folder must be a plain name inside the experiment folder. Every problem is one ExperimentError naming the
file (and the row).
"""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path

from engine.experiments.results_table import CSV_COLUMNS, RESULTS_CSV, SPEC_JSON, RunResult, best_epoch
from engine.metrics import MetricsFormatError, MetricsHistory
from models import strict_json
from models.experiment import MAX_SEEDS, MAX_VARIANTS, ExperimentError, text_problem
from models.regular_file import open_regular, read_at_most
from models.safe_text import clean, excerpt

MAX_SPEC_BYTES = 16 << 20     # experiment.json holds every variant's architecture
MAX_RESULTS_BYTES = 1 << 20   # results.csv: at most MAX_VARIANTS x MAX_SEEDS short rows
MAX_METRICS_BYTES = 64 << 20  # a run's metrics.csv, as in a project
MAX_SUMMARY_BYTES = 1 << 20  # summary.json: a few dozen numbers and the settings
METRICS, SUMMARY = "metrics.csv", "summary.json"


def _read(path: Path, cap: int) -> bytes:
    try:
        with open_regular(path, follow_links=False) as f:
            data = read_at_most(f, cap + 1)
    except OSError as exc:
        raise ExperimentError(f"{clean(str(path))}: cannot read ({exc.strerror or exc})") from None
    if len(data) > cap:
        raise ExperimentError(f"{clean(str(path))}: larger than {cap:,} bytes, the limit for this file")
    return data


def _text(path: Path, cap: int) -> str:
    try:
        return _read(path, cap).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ExperimentError(f"{clean(str(path))}: not UTF-8 text (byte {exc.start})") from None


def _name(path: Path) -> str:
    try:
        data = strict_json.loads(_text(path, MAX_SPEC_BYTES))
    except strict_json.StrictJSONError as exc:
        raise ExperimentError(f"{clean(str(path))}: {exc}") from None
    name = data.get("name") if isinstance(data, dict) else None
    if text_problem(name):
        raise ExperimentError(f'{clean(str(path))}: field "name": expected one line of text, got {excerpt(name)}')
    return name


def _rows(path: Path) -> list[dict]:
    try:
        reader = csv.DictReader(io.StringIO(_text(path, MAX_RESULTS_BYTES), newline=""))
        rows = list(reader)
    except csv.Error as exc:  # e.g. a field over csv's 128 kB limit, or a NUL byte
        raise ExperimentError(f"{clean(str(path))}: not valid CSV ({excerpt(str(exc))})") from None
    missing = [c for c in CSV_COLUMNS if c != "samples_per_second" and c not in (reader.fieldnames or [])]
    if missing:
        raise ExperimentError(f"{clean(str(path))}: no {missing[0]} column; expected {', '.join(CSV_COLUMNS)}")
    if len(rows) > MAX_VARIANTS * MAX_SEEDS:
        raise ExperimentError(f"{clean(str(path))}: {len(rows):,} rows, more than an experiment runs "
                              f"({MAX_VARIANTS} variants x {MAX_SEEDS} seeds)")
    return rows


def _number(row: dict, key: str, kind=float, optional: bool = False):
    text = row.get(key)
    if optional and text in ("", None):
        return None
    try:
        if not isinstance(text, str) or len(text) > 40:
            raise ValueError
        value = kind(text)
        if not math.isfinite(value) or value < 0:
            raise ValueError
    except ValueError:
        raise ExperimentError(f"column {key}: {excerpt(text)} is not a number of the kind it holds") from None
    return value


def _run_folder(folder: Path, row: dict) -> Path:
    name = row.get("folder")
    if (not isinstance(name, str) or text_problem(name) or name in (".", "..") or "/" in name or "\\" in name
            or "\0" in name):
        raise ExperimentError(f"column folder: {excerpt(name)} is not the name of a run folder inside the "
                              f"experiment folder")
    run_dir = folder / name
    if os.path.islink(run_dir):
        raise ExperimentError(f"column folder: {excerpt(name)} is a symbolic link; run folders are read only "
                              f"from inside the experiment folder")
    return run_dir


def _history(run_dir: Path) -> MetricsHistory:
    metrics = run_dir / METRICS
    if not os.path.lexists(metrics):
        return MetricsHistory()  # a run stopped before it wrote its curves
    try:
        return MetricsHistory.from_csv(_read(metrics, MAX_METRICS_BYTES))
    except MetricsFormatError as exc:
        raise ExperimentError(f"{clean(str(metrics))}: {exc}") from None


def _result(folder: Path, row: dict) -> RunResult:
    variant = row.get("variant")
    if text_problem(variant):
        raise ExperimentError(f"column variant: expected one line of text, got {excerpt(variant)}")
    run_dir = _run_folder(folder, row)
    return RunResult(variant, _number(row, "seed", int), run_dir, _number(row, "params", int),
                     _number(row, "macs", int), _number(row, "best_val_accuracy", optional=True),
                     _number(row, "final_val_accuracy", optional=True), _number(row, "best_epoch", int, True),
                     _number(row, "seconds"), _number(row, "samples_per_second", optional=True) or 0.0,
                     _history(run_dir))


def read_experiment(folder: str | os.PathLike) -> tuple[str, list[RunResult]]:
    """An experiment folder written by `run_experiment`: its name and results, each with its run's metrics.
    ExperimentError naming the file (and row) for a folder that is not one."""
    folder = Path(folder)
    if not (os.path.lexists(folder / SPEC_JSON) and os.path.lexists(folder / RESULTS_CSV)):
        raise ExperimentError(f"{clean(str(folder))}: not an experiment folder ({SPEC_JSON} and {RESULTS_CSV} "
                              f"expected, as `experiment --out` and the Experiments tab write them)")
    name = _name(folder / SPEC_JSON)
    results = []
    for n, row in enumerate(_rows(folder / RESULTS_CSV), start=1):
        try:
            results.append(_result(folder, row))
        except ExperimentError as exc:
            raise ExperimentError(f"{clean(str(folder / RESULTS_CSV))}: row {n}: {exc}") from None
    return name, results


def variant_result(run_dir: str | os.PathLike, variant: str, seed: int, params: int, macs: int) -> RunResult | None:
    """The row of one variant's run folder as `train --out` wrote it (summary.json, metrics.csv); None while the
    folder has no summary.json (its training process ended before writing it). ExperimentError naming the file
    for a damaged one."""
    run_dir = Path(run_dir)
    path = run_dir / SUMMARY
    if not os.path.lexists(path):
        return None
    try:
        summary = strict_json.loads(_text(path, MAX_SUMMARY_BYTES))
    except strict_json.StrictJSONError as exc:
        raise ExperimentError(f"{clean(str(path))}: {exc}") from None
    if not isinstance(summary, dict):
        raise ExperimentError(f"{clean(str(path))}: expected a JSON object")
    as_text = {k: ("" if summary.get(k) is None else str(summary.get(k)))
               for k in ("final_val_accuracy", "seconds", "samples_per_second")}
    try:
        final = _number(as_text, "final_val_accuracy", optional=True)
        seconds = _number(as_text, "seconds")
        speed = _number(as_text, "samples_per_second", optional=True) or 0.0
    except ExperimentError as exc:
        raise ExperimentError(f"{clean(str(path))}: {str(exc).replace('column ', 'field ', 1)}") from None
    history = _history(run_dir)
    best, epoch = best_epoch(history)
    return RunResult(variant, seed, run_dir, params, macs, best, final, epoch, seconds, speed, history)
