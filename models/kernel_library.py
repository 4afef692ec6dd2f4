"""Classical hand-made image kernels (Sobel, Scharr, Prewitt, Laplacian, blurs, sharpen, identity) and conv2d's
`init` field: one entry per filter, a kernel name, numbers, or null (the usual random initialisation). A list
shorter than the layer's filters sets the first ones; the rest keep the usual random start, as if null."""

from __future__ import annotations

import math

from models.safe_text import excerpt

# 3x3, as course material prints them (x: responds to vertical edges, changes along x).
KERNELS: dict[str, tuple[tuple[float, ...], ...]] = {
    "sobel_x": ((1, 0, -1), (2, 0, -2), (1, 0, -1)),
    "sobel_y": ((1, 2, 1), (0, 0, 0), (-1, -2, -1)),
    "scharr_x": ((3, 0, -3), (10, 0, -10), (3, 0, -3)),
    "scharr_y": ((3, 10, 3), (0, 0, 0), (-3, -10, -3)),
    "prewitt_x": ((1, 0, -1), (1, 0, -1), (1, 0, -1)),
    "prewitt_y": ((1, 1, 1), (0, 0, 0), (-1, -1, -1)),
    "laplacian": ((0, 1, 0), (1, -4, 1), (0, 1, 0)),
    "box_blur": tuple(tuple(1 / 9 for _ in range(3)) for _ in range(3)),
    "gaussian_blur": ((1 / 16, 2 / 16, 1 / 16), (2 / 16, 4 / 16, 2 / 16), (1 / 16, 2 / 16, 1 / 16)),
    "sharpen": ((0, -1, 0), (-1, 5, -1), (0, -1, 0)),
    "identity": ((0, 0, 0), (0, 1, 0), (0, 0, 0)),
}
KERNEL_NAMES = tuple(KERNELS)
MAX_INIT_ENTRIES = 4096

InitEntry = "str | tuple | None"


class InitError(ValueError):
    """An `init` value that does not fit; the message says which filter and what to change."""


def _numbers(value: object, where: str, depth: int = 0):
    """A nested list of finite numbers as nested tuples of floats (rectangularity is checked by the caller)."""
    if isinstance(value, (list, tuple)):
        if not value or depth > 2:
            raise InitError(f"{where}: expected rows of numbers (k x k, or in_channels x k x k)")
        return tuple(_numbers(v, where, depth + 1) for v in value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InitError(f"{where}: expected a number, got {excerpt(value)}")
    return float(value)


def canonical_init(value: object) -> tuple | None:
    """`init` as written in a file (a list of names, nested lists or nulls) in canonical, hashable form."""
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or not value:
        raise InitError(f"expected a list with one entry per filter (a kernel name, rows of numbers or null), "
                        f"got {excerpt(value)}")
    if len(value) > MAX_INIT_ENTRIES:
        raise InitError(f"{len(value):,} entries, more than {MAX_INIT_ENTRIES:,}")
    out = []
    for n, entry in enumerate(value):
        if entry is None:
            out.append(None)
        elif isinstance(entry, str):
            if entry not in KERNELS:
                raise InitError(f"filter {n}: unknown kernel {excerpt(entry)}; kernels: {', '.join(KERNEL_NAMES)}")
            out.append(entry)
        else:
            out.append(_numbers(entry, f"filter {n}"))
    return tuple(out)


def _depth(value) -> int:
    return 1 + _depth(value[0]) if isinstance(value, tuple) else 0


def _centred(kernel: tuple, kh: int, kw: int, name: str, n: int) -> list[list[float]]:
    """A 3x3 library kernel in the middle of a kh x kw window (zeros around), for odd sizes of at least 3."""
    if kh < 3 or kw < 3 or kh % 2 == 0 or kw % 2 == 0:
        raise InitError(f"filter {n}: {name} is 3x3 and fits only odd kernels of 3 or more (this layer's is "
                        f"{kh}x{kw}); type the numbers instead")
    top, left = (kh - 3) // 2, (kw - 3) // 2
    grid = [[0.0] * kw for _ in range(kh)]
    for r in range(3):
        for c in range(3):
            grid[top + r][left + c] = float(kernel[r][c])
    return grid


def filter_values(entry, n: int, in_channels: int, kh: int, kw: int) -> list[list[list[float]]] | None:
    """Filter n's weights (in_channels x kh x kw) for one `init` entry, None for random; InitError if it does not fit."""
    if entry is None:
        return None
    if isinstance(entry, str):
        grid = _centred(KERNELS[entry], kh, kw, entry, n)
        return [grid for _ in range(in_channels)]
    depth = _depth(entry)
    grids = [entry] if depth == 2 else list(entry) if depth == 3 else None
    if grids is None or any(_depth(g) != 2 for g in grids):
        raise InitError(f"filter {n}: expected {kh}x{kw} numbers or {in_channels}x{kh}x{kw}")
    if len(grids) not in (1, in_channels) or any(len(g) != kh or any(len(row) != kw for row in g) for g in grids):
        shape = "x".join(str(s) for s in (len(grids), len(grids[0]), len(grids[0][0])))
        raise InitError(f"filter {n}: {shape if depth == 3 else shape[2:]} numbers, but the filter is "
                        f"{in_channels}x{kh}x{kw}; give {kh}x{kw} (used for every input channel) or "
                        f"{in_channels}x{kh}x{kw}")
    grids = grids * in_channels if len(grids) == 1 else grids
    return [[list(row) for row in g] for g in grids]


def init_problem(init: tuple | None, filters: int, in_channels: int, kh: int, kw: int) -> str | None:
    """Why `init` does not fit a conv layer of `filters` filters of in_channels x kh x kw, or None."""
    if init is None:
        return None
    if len(init) > filters:  # fewer is fine: the filters after the list start random (one pick is enough)
        return (f"init has {len(init)} entries for {filters} filters; give at most one per filter (null or a "
                f"shorter list keeps a filter's random start)")
    try:
        for n, entry in enumerate(init):
            filter_values(entry, n, in_channels, kh, kw)
    except InitError as exc:
        return f"init: {exc}"
    return None
