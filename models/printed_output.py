"""Errata: where a lesson's printed output (as the course printed it) differs from the computation."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from models import convolution_steps as cs
from models.lesson import Lesson


@dataclass(frozen=True)
class PrintedDifference:
    """One output cell the course printed otherwise: map, position (i, j), the printed and the computed value."""

    map: int
    position: tuple[int, int]
    printed: float
    computed: float

    def as_json(self) -> dict:
        return {"map": self.map, "position": list(self.position), "printed": cs.number(self.printed),
                "computed": cs.number(self.computed)}

    def text(self) -> str:
        return (f"the course printed {cs.number_text(self.printed)}, the computation gives "
                f"{cs.number_text(self.computed)}")


def _decimals(value: float) -> int | None:
    """Decimal places the printed number was written with (91 -> 0, 0.33 -> 2); None in exponent form."""
    text = repr(float(value))
    if "e" in text or "inf" in text or "nan" in text:
        return None
    whole, _, fraction = text.partition(".")
    return 0 if fraction == "0" else len(fraction)


def agrees(printed: float, computed: float) -> bool:
    """A printed value agrees when it is the computed value rounded as printed (a course prints 1/3 as 0.33)."""
    decimals = _decimals(printed)
    if decimals is None:
        return math.isclose(printed, computed, rel_tol=1e-6, abs_tol=1e-12)
    return math.isclose(round(computed, decimals), printed, rel_tol=1e-12, abs_tol=10.0 ** -(decimals + 6))


def printed_differences(lesson: Lesson, output: np.ndarray | None = None) -> list[PrintedDifference]:
    """Every cell (in map, row, column order) where `lesson.printed` differs from the computed `output`
    (computed here when not given); [] for a lesson without a printed output."""
    if lesson.printed is None:
        return []
    if output is None:
        output = cs.output(lesson.op, lesson.input)
    found = []
    for m, i, j in np.ndindex(*output.shape):
        printed, computed = float(lesson.printed[m, i, j]), float(output[m, i, j])
        if not agrees(printed, computed):
            found.append(PrintedDifference(m, (i, j), printed, computed))
    return found
