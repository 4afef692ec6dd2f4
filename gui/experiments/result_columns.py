"""The results table's column titles: results.csv's names (engine/experiments/runner.py COLUMNS) in words."""

from __future__ import annotations

TITLES = {
    "variant": "Variant", "seed": "Seed", "params": "Parameters", "macs": "Mult-adds",
    "best_val_accuracy": "Best val. accuracy", "final_val_accuracy": "Final val. accuracy",
    "best_epoch": "Best epoch", "seconds": "Seconds", "samples_per_second": "Samples/s", "folder": "Run folder",
}


def column_title(name: str) -> str:
    """A column's title; one added to results.csv later reads as words rather than snake_case."""
    return TITLES.get(name) or name.replace("_", " ").capitalize()
