"""One step of a convolution or pooling written out as text: products, per-channel sums, bias, total."""

from __future__ import annotations

import numpy as np

from models.convolution_steps import AVGPOOL, CONV, MAXPOOL, Step, number_text


def _signed(value: float, digits: int) -> str:
    text = number_text(value, digits)
    return f"({text})" if text.startswith("-") else text


def products_text(window: np.ndarray, weights: np.ndarray, digits: int = 4) -> str:
    """'3*1 + 0*0 + 1*(-1) + ...' for one channel's window and kernel, row by row."""
    return " + ".join(f"{_signed(x, digits)}*{_signed(w, digits)}"
                      for x, w in zip(window.ravel(), weights.ravel()))


def step_lines(step: Step, channel_names: list[str] | None = None, digits: int = 4) -> list[str]:
    """The step as lines: one per input channel for a multi-channel convolution, then the total."""
    value = number_text(step.value, digits)
    if step.kind == CONV:
        bias = number_text(step.bias, digits)
        if len(step.channels) == 1:
            return [f"{products_text(step.window[0], step.weights[0], digits)} + bias {bias} = {value}"]
        names = channel_names or [f"channel {c}" for c in step.channels]
        lines = [f"{name}: {products_text(step.window[k], step.weights[k], digits)} = "
                 f"{number_text(step.channel_sums[k], digits)}" for k, name in enumerate(names)]
        sums = " + ".join(_signed(s, digits) for s in step.channel_sums)
        return lines + [f"sum: {sums} + bias {bias} = {value}"]
    values = step.window.ravel()
    if step.kind == MAXPOOL:
        shown = ", ".join("pad" if pad else number_text(x, digits)
                          for x, pad in zip(values, step.in_padding.ravel()))
        return [f"max({shown}) = {value}"]
    if step.kind == AVGPOOL:
        total = number_text(values.sum(), digits)
        return [f"mean({', '.join(number_text(x, digits) for x in values)}) = {total}/{values.size} = {value}"]
    raise ValueError(f"unknown operation {step.kind!r}")


def grid_text(grid: np.ndarray, digits: int = 4) -> str:
    """A 2-D array as right-aligned columns."""
    cells = [[number_text(v, digits) for v in row] for row in grid]
    width = max(len(c) for row in cells for c in row)
    return "\n".join(" ".join(c.rjust(width) for c in row) for row in cells)
