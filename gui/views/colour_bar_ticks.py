"""Colour-bar tick labels that stay readable at any range: short scientific labels for huge or tiny values."""
from __future__ import annotations

import math

# Plain labels are used while every tick reads in at most this many characters; pyqtgraph drops any label that
# does not fit the axis' width (45 px in ColorBarItem), so an exploded layer's (-1e6, 1e6) kept only "0".
PLAIN_RANGE = (1e-3, 1e4)
BAR_AXIS_WIDTH = 52  # px: room for "-2.5e-7"


def tick_label(value: float, spacing: float) -> str:
    """``value`` with as many digits as the tick ``spacing`` needs: plain in PLAIN_RANGE, else short
    scientific ("1e6", "-2.5e-7", no "+" or leading zeros in the exponent)."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    magnitude = abs(value)
    if PLAIN_RANGE[0] <= magnitude < PLAIN_RANGE[1] and spacing >= PLAIN_RANGE[0]:
        decimals = max(0, -math.floor(math.log10(spacing))) if spacing > 0 else 3
        return f"{value:.{min(decimals, 3)}f}"
    # the mantissa needs the digits that tell neighbouring ticks apart: spacing's exponent below value's
    digits = 0
    if spacing > 0:
        digits = max(0, min(3, math.floor(math.log10(magnitude)) - math.floor(math.log10(spacing))))
    mantissa, exponent = f"{value:.{digits}e}".split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def tick_strings(values: list[float], _scale: float, spacing: float) -> list[str]:
    """pyqtgraph's ``AxisItem.tickStrings`` signature (the colour bar's axis has scale 1)."""
    return [tick_label(v, spacing) for v in values]


def install(axis) -> None:
    """Make a pyqtgraph colour bar's value axis use these labels (and give them room)."""
    axis.tickStrings = tick_strings  # an instance attribute: this axis only
    axis.setWidth(BAR_AXIS_WIDTH)
