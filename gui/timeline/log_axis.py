"""LogAxis: a log-scale plot axis whose tick labels never overlap.

pyqtgraph's own log axis labels every minor tick (2 to 9 times each decade), and those crowd at the top of
each decade (log10 9 - log10 8 is a twentieth of a decade) and over each other once several decades share a
short axis. Here labelled ticks stand at least MIN_LABEL_PX apart, whatever the range and the axis' length.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

MIN_LABEL_PX = 30  # between two labels' centres: a label line is about 15 px high, so a gap as high is left
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _nice(step: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten that is at least `step`."""
    power = 10.0 ** math.floor(math.log10(step))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= step)


def log_ticks(low: float, high: float, size: float, min_px: float = MIN_LABEL_PX
              ) -> list[tuple[float | None, list[float]]]:
    """Tick levels for a log axis showing log10 values `low` to `high` over `size` pixels: [(spacing, labelled
    values), (None, unlabelled minor values)], the labelled ones at least `min_px` pixels apart."""
    low, high = sorted((float(low), float(high)))
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low or size <= 0:
        return [(1.0, []), (None, [])]
    px = size / (high - low)  # pixels per decade
    decades = list(range(math.ceil(low), math.floor(high) + 1))
    if len(decades) >= 2 and px * (decades[-1] - decades[0]) >= min_px:  # labels on whole decades suffice
        every = max(1, math.ceil(min_px / px))  # decades between labels
        labelled = [d for d in decades if d % every == 0] or decades[:1]
        minor = [float(d) for d in decades if d % every]
        if every == 1 and px * (math.log10(2)) >= 4:  # room for the unlabelled 2..9 marks of each decade
            minor += [d + math.log10(m) for d in range(math.floor(low), math.ceil(high)) for m in range(2, 10)
                      if low <= d + math.log10(m) <= high]
        return [(float(every), [float(d) for d in labelled]), (None, minor)]
    # Within a decade or two: 1, 2 and 5 times a power of ten, or finer round values, thinned to min_px.
    candidates = sorted(d + math.log10(m) for d in range(math.floor(low), math.ceil(high) + 1) for m in (1, 2, 5)
                        if low <= d + math.log10(m) <= high)
    if len(_thinned(candidates, px, min_px)) < 2:
        lo, hi = 10.0 ** low, 10.0 ** high
        step = _nice((hi - lo) / max(1.0, size / min_px))
        candidates = [math.log10(v) for v in np.arange(math.ceil(lo / step) * step, hi, step) if v > 0]
    return [(1.0, _thinned(candidates, px, min_px)), (None, [])]


def _thinned(values: list[float], px: float, min_px: float) -> list[float]:
    kept: list[float] = []
    for value in values:
        if not kept or (value - kept[-1]) * px >= min_px:
            kept.append(value)
    return kept


def log_label(value: float, digits: int = 3) -> str:
    """The text of a log axis' tick at log10 value `value`: "10⁻⁴" for a far decade, else the number."""
    if abs(value - round(value)) < 1e-9 and abs(round(value)) >= 3:
        return "10" + str(int(round(value))).translate(_SUPERSCRIPT)
    return f"{10.0 ** value:.{digits}g}"


class LogAxis(pg.AxisItem):
    """An AxisItem whose log mode uses log_ticks and labels only its labelled level (others stay marks)."""

    def logTickValues(self, minVal, maxVal, size, stdTicks):  # noqa: N802, N803 - pyqtgraph's override
        return log_ticks(minVal, maxVal, size)

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph's override
        if not self.logMode:
            return super().tickStrings(values, scale, spacing)
        if spacing is None:  # the minor marks
            return [""] * len(values)
        # Enough digits that two labels never read the same (finer ticks within a decade).
        gaps = np.diff(np.power(10.0, np.asarray(values, dtype=float))) if len(values) > 1 else np.array([1.0])
        top = max((abs(10.0 ** v) for v in values), default=1.0)
        smallest = float(np.min(np.abs(gaps))) if gaps.size and np.min(np.abs(gaps)) > 0 else top
        digits = max(3, math.ceil(math.log10(top / smallest)) + 2) if top > 0 else 3
        return [log_label(v, digits) for v in values]
