"""An experiment's results: one RunResult per variant and seed, and results.csv / results.md written from them."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from engine.metrics import MetricsHistory
from models.atomic_file import write_atomically

COLUMNS = ("variant", "seed", "params", "macs", "best_val_accuracy", "final_val_accuracy", "best_epoch", "seconds",
           "samples_per_second")
CSV_COLUMNS = COLUMNS + ("folder",)  # the run folder's name, inside the experiment folder
RESULTS_CSV, RESULTS_MD, SPEC_JSON = "results.csv", "results.md", "experiment.json"


@dataclass(frozen=True)
class RunResult:
    variant: str
    seed: int
    folder: Path
    params: int
    macs: int
    best_val_accuracy: float | None
    final_val_accuracy: float | None
    best_epoch: int | None
    seconds: float
    samples_per_second: float
    history: MetricsHistory

    def row(self) -> dict:
        return {"variant": self.variant, "seed": self.seed, "params": self.params, "macs": self.macs,
                "best_val_accuracy": self.best_val_accuracy, "final_val_accuracy": self.final_val_accuracy,
                "best_epoch": self.best_epoch, "seconds": round(self.seconds, 3),
                "samples_per_second": round(self.samples_per_second, 1)}


def best_epoch(history: MetricsHistory) -> tuple[float | None, int | None]:
    """(the best validation accuracy, the first epoch reaching it), or (None, None) without a scored epoch."""
    epochs = [e for e in history.epochs if e.val_accuracy == e.val_accuracy]  # NaN-free
    if not epochs:
        return None, None
    best = max(epochs, key=lambda e: (e.val_accuracy, -e.epoch))
    return best.val_accuracy, best.epoch


def results_csv(results: list[RunResult]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in results:
        row = {k: ("" if v is None else v) for k, v in r.row().items()}
        writer.writerow({**row, "folder": r.folder.name})
    return buffer.getvalue()


def cell_text(name: str, value) -> str:
    if value is None:
        return "-"
    if name.endswith("accuracy"):
        return f"{value:.2%}"
    if name in ("params", "macs"):
        return f"{value:,}"
    if name == "seconds":
        return f"{value:.1f}"
    if name == "samples_per_second":
        return f"{value:,.0f}"
    return str(value)


def differing_columns(results: list[RunResult]) -> list[str]:
    """The table's columns: variant, then only those whose values differ between the rows (all, for one row);
    timings always differ, so the results columns stay; parameters and multiply-adds only where they change."""
    rows = [r.row() for r in results]
    keep = ["variant"]
    for name in COLUMNS[1:]:
        if len(rows) < 2 or len({repr(row[name]) for row in rows}) > 1:
            keep.append(name)
    return keep


TITLES = {
    "variant": "Variant", "seed": "Seed", "params": "Parameters", "macs": "Mult-adds",
    "best_val_accuracy": "Best val. accuracy", "final_val_accuracy": "Final val. accuracy",
    "best_epoch": "Best epoch", "seconds": "Seconds", "samples_per_second": "Samples/s", "folder": "Run folder",
}


def column_title(name: str) -> str:
    """A column's title for people (results.md, the window's table); results.csv keeps the names for programs.
    One added later reads as words rather than snake_case."""
    return TITLES.get(name) or name.replace("_", " ").capitalize()


def results_markdown(title: str, results: list[RunResult]) -> str:
    columns = differing_columns(results)
    lines = [f"# {title}", "", "| " + " | ".join(column_title(c) for c in columns) + " |",
             "|" + "---|" * len(columns)]
    for r in results:
        row = r.row()
        lines.append("| " + " | ".join(cell_text(c, row[c]) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def write_results(folder: Path, results: list[RunResult], title: str | None = None) -> None:
    spec = json.loads((folder / SPEC_JSON).read_text()) if title is None else {"name": title}
    write_atomically(folder / RESULTS_CSV, results_csv(results).encode("utf-8"))
    write_atomically(folder / RESULTS_MD, results_markdown(spec["name"], results).encode("utf-8"))
