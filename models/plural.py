"""Counts with their nouns in agreement ("1 layer", "2 layers"): every message that prints a count uses these,
so a window showing one epoch never says "1 epochs"."""

from __future__ import annotations

# Units the training settings and messages use, plural -> singular (engine/config.py's Setting.unit).
SINGULAR_UNITS = {"epochs": "epoch", "seconds": "second", "steps": "step", "images": "image", "filters": "filter"}


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """`n` and its noun, digits grouped: counted(1, "layer") == "1 layer", counted(1052, "step") == "1,052 steps"."""
    return f"{n:,} {singular if n == 1 else plural or singular + 's'}"


def unit_for(n: float, unit: str) -> str:
    """A plural unit ("epochs") in agreement with the value shown beside it: "epoch" for exactly 1."""
    return SINGULAR_UNITS.get(unit, unit) if n == 1 else unit
