"""The arithmetic of one window at a time: convolution, max and average pooling, step by step (numpy only).

A `WindowOp` is a conv or pooling layer reduced to numbers: weights (M, C/groups, kh, kw) and biases
for a convolution, only the window for pooling, a stride and an explicit (top, bottom, left, right)
zero padding. `step(op, x, m, i, j)` writes out output cell (i, j) of map m: the window's values, the
weights, every product, the per-channel sums, the bias and the total; `output(op, x)` is every cell at
once (vectorised, for large layers). Pooling follows PyTorch: max pooling never picks a padding cell
(torch pads with -infinity), average pooling divides by the whole window, padding zeros included
(torch's count_include_pad=True).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from models.shapes import same_padding

CONV, MAXPOOL, AVGPOOL = "conv", "maxpool", "avgpool"
OPERATIONS = (CONV, MAXPOOL, AVGPOOL)


@dataclass(frozen=True)
class WindowOp:
    """One windowed layer as numbers. `weights` is (M, C/groups, kh, kw) for CONV and None for pooling."""

    kind: str
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int, int, int]  # zeros (top, bottom, left, right)
    weights: np.ndarray | None = None
    bias: np.ndarray | None = None      # (M,), or None for a conv without bias
    groups: int = 1

    def maps(self, channels: int) -> int:
        """How many output maps an input of `channels` channels gives (filters, or one per channel)."""
        return self.weights.shape[0] if self.kind == CONV else channels

    def input_channels(self, m: int, channels: int) -> range:
        """The input channels output map m reads: all of them, its group's (grouped conv) or its own (pooling)."""
        if self.kind != CONV:
            return range(m, m + 1)
        per_group = channels // self.groups
        group = m // (self.weights.shape[0] // self.groups)
        return range(group * per_group, (group + 1) * per_group)

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        top, bottom, left, right = self.padding
        return ((height + top + bottom - self.kernel[0]) // self.stride[0] + 1,
                (width + left + right - self.kernel[1]) // self.stride[1] + 1)


@dataclass(frozen=True)
class Step:
    """Output cell (i, j) of map m, written out. Arrays are (channels read, kh, kw)."""

    kind: str
    map: int
    position: tuple[int, int]
    origin: tuple[int, int]          # the window's top-left cell in padded coordinates
    channels: tuple[int, ...]        # input channels the window reads
    window: np.ndarray               # input values, padding zeros included
    in_padding: np.ndarray           # bool: which window cells are padding
    weights: np.ndarray | None       # CONV only
    bias: float
    value: float
    channel_sums: tuple[float, ...] = ()  # CONV: sum of products per channel (before the bias)
    winner: tuple[int, int, int] | None = None  # MAXPOOL: (channel index, row, col) in the window

    @property
    def products(self) -> np.ndarray | None:
        return None if self.weights is None else self.window * self.weights

    def terms(self) -> list:
        """[[x, w], ...] in channel, row, column order for CONV; the window's values for pooling
        (max pooling leaves out padding cells, which it never picks)."""
        if self.weights is not None:
            return [[number(x), number(w)] for x, w in zip(self.window.ravel(), self.weights.ravel())]
        values = self.window.ravel()
        if self.kind == MAXPOOL:
            values = values[~self.in_padding.ravel()]
        return [number(x) for x in values]


def resolve_padding(padding: int | tuple[int, int] | list | str, size: tuple[int, int], kernel: tuple[int, int],
                    stride: tuple[int, int]) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) zeros for a padding given as a number, [ph, pw], 'valid' or 'same'
    ('same': output ceil(n / s), the odd zero after, as Keras and models.shapes do)."""
    if padding == "valid":
        return 0, 0, 0, 0
    if padding == "same":
        (top, bottom), (left, right) = (same_padding(size[0], kernel[0], stride[0]),
                                        same_padding(size[1], kernel[1], stride[1]))
        return top, bottom, left, right
    ph, pw = (padding, padding) if isinstance(padding, int) else (int(padding[0]), int(padding[1]))
    return ph, ph, pw, pw


def padded(op: WindowOp, x: np.ndarray) -> np.ndarray:
    """`x` (C, H, W) with the padding zeros around it, as float64."""
    top, bottom, left, right = op.padding
    return np.pad(np.asarray(x, dtype=np.float64), ((0, 0), (top, bottom), (left, right)))


def padding_mask(op: WindowOp, height: int, width: int) -> np.ndarray:
    """(H + pads, W + pads) bool: True on the padding cells."""
    top, bottom, left, right = op.padding
    mask = np.ones((height + top + bottom, width + left + right), dtype=bool)
    mask[top:top + height, left:left + width] = False
    return mask


def step(op: WindowOp, x: np.ndarray, m: int, i: int, j: int, *, padded_x: np.ndarray | None = None) -> Step:
    """Output cell (i, j) of map m of `op` on `x` (C, H, W); `padded_x` may pass `padded(op, x)` once for many steps."""
    channels, height, width = x.shape
    xp = padded(op, x) if padded_x is None else padded_x
    (kh, kw), (sh, sw) = op.kernel, op.stride
    r, c = i * sh, j * sw
    read = op.input_channels(m, channels)
    window = xp[read.start:read.stop, r:r + kh, c:c + kw]
    pad = np.broadcast_to(padding_mask(op, height, width)[r:r + kh, c:c + kw], window.shape)
    if op.kind == CONV:
        w = np.asarray(op.weights[m], dtype=np.float64)
        sums = tuple(float(s) for s in (window * w).sum(axis=(1, 2)))
        bias = float(op.bias[m]) if op.bias is not None else 0.0
        return Step(op.kind, m, (i, j), (r, c), tuple(read), window, pad, w, bias, float(sum(sums)) + bias, sums)
    if op.kind == MAXPOOL:
        candidates = np.where(pad, -np.inf, window)
        winner = np.unravel_index(int(np.argmax(candidates)), window.shape)
        return Step(op.kind, m, (i, j), (r, c), tuple(read), window, pad, None, 0.0, float(candidates[winner]),
                    winner=tuple(int(v) for v in winner))
    if op.kind == AVGPOOL:
        return Step(op.kind, m, (i, j), (r, c), tuple(read), window, pad, None, 0.0, float(window.sum() / window.size))
    raise ValueError(f"unknown operation {op.kind!r}; expected one of {', '.join(OPERATIONS)}")


def output(op: WindowOp, x: np.ndarray) -> np.ndarray:
    """Every output map at once, (M, H', W') float64: what `step` gives cell by cell."""
    channels, height, width = x.shape
    (kh, kw), (sh, sw) = op.kernel, op.stride
    oh, ow = op.output_size(height, width)
    xp = padded(op, x)
    if op.kind == MAXPOOL:
        xp = np.where(padding_mask(op, height, width), -np.inf, xp)
    windows = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(1, 2))[:, ::sh, ::sw][:, :oh, :ow]
    if op.kind == MAXPOOL:
        return windows.max(axis=(3, 4))
    if op.kind == AVGPOOL:
        return windows.mean(axis=(3, 4))
    weights = np.asarray(op.weights, dtype=np.float64)
    maps = weights.shape[0]
    per_map = maps // op.groups
    out = np.empty((maps, oh, ow))
    for g in range(op.groups):
        read = op.input_channels(g * per_map, channels)
        out[g * per_map:(g + 1) * per_map] = np.einsum("chwyx,mcyx->mhw", windows[read.start:read.stop],
                                                       weights[g * per_map:(g + 1) * per_map])
    if op.bias is not None:
        out += np.asarray(op.bias, dtype=np.float64)[:, None, None]
    return out


def all_steps(op: WindowOp, x: np.ndarray):
    """Every step, map by map, row by row (a generator: a layer's steps are many)."""
    xp = padded(op, x)
    oh, ow = op.output_size(x.shape[1], x.shape[2])
    for m in range(op.maps(x.shape[0])):
        for i in range(oh):
            for j in range(ow):
                yield step(op, x, m, i, j, padded_x=xp)


def formula(op: WindowOp, height: int, width: int) -> list[str]:
    """The output size with the numbers in: 'floor((n + 2p - f)/s) + 1' per axis (one line when both agree)."""
    top, bottom, left, right = op.padding
    lines = []
    for axis, n, before, after, f, s in (("H", height, top, bottom, op.kernel[0], op.stride[0]),
                                        ("W", width, left, right, op.kernel[1], op.stride[1])):
        p = f"2*{before}" if before == after else f"{before}+{after}"
        out = (n + before + after - f) // s + 1
        lines.append(f"{axis}: floor(({n} + {p} - {f})/{s}) + 1 = {out}")
    if lines[0][3:] == lines[1][3:]:
        return ["H, W" + lines[0][1:]]
    return lines


def unused(op: WindowOp, height: int, width: int) -> tuple[int, int]:
    """Input rows and columns at the bottom and right that no window reaches (a stride that does not fit)."""
    top, bottom, left, right = op.padding
    oh, ow = op.output_size(height, width)
    last_row = (oh - 1) * op.stride[0] + op.kernel[0]   # one past the last padded row a window covers
    last_col = (ow - 1) * op.stride[1] + op.kernel[1]
    return (max(0, min(height, top + height - last_row)), max(0, min(width, left + width - last_col)))


def warnings(op: WindowOp, height: int, width: int) -> list[str]:
    rows, cols = unused(op, height, width)
    skipped = [f"{n} {axis}" for n, axis in ((rows, "row(s)"), (cols, "column(s)")) if n]
    if not skipped:
        return []
    return [f"the windows never reach the last {' and '.join(skipped)} of the input (stride "
            f"{op.stride[0]}x{op.stride[1]}, kernel {op.kernel[0]}x{op.kernel[1]}): those pixels are unused"]


def number(value: float) -> int | float:
    """A value for JSON and text: a whole number as an int (-5, not -5.0), else the float."""
    value = float(value)
    if math.isfinite(value) and value.is_integer() and abs(value) < 2 ** 53:
        return int(value)
    return value


def number_text(value: float, digits: int = 4) -> str:
    """A short human form: whole numbers exactly, others to `digits` significant digits."""
    v = number(value)
    if isinstance(v, int):
        return str(v)
    return f"{v:.{digits}g}"
