"""Pure-numpy mosaics: many small kernels or feature maps tiled into one image (NaN = gap)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Floor for symmetric_limit so an all-zero layer still gets a valid, non-degenerate colour scale.
_LIMIT_FLOOR = 1e-12


def grid_shape(count: int) -> tuple[int, int]:
    """Near-square (rows, cols) grid holding ``count`` tiles, wider than tall when not square."""
    if count < 1:
        raise ValueError(f"cannot tile {count} items: need at least one")
    cols = math.ceil(math.sqrt(count))
    return math.ceil(count / cols), cols


@dataclass(frozen=True)
class MosaicLayout:
    """Where tile ``index`` lives in a mosaic: row-major grid of equal tiles with ``pad`` gaps."""

    rows: int
    cols: int
    tile_h: int
    tile_w: int
    pad: int
    count: int

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) of the mosaic in pixels; padding only between tiles, not around."""
        return (self.rows * (self.tile_h + self.pad) - self.pad,
                self.cols * (self.tile_w + self.pad) - self.pad)

    def origin(self, index: int) -> tuple[int, int]:
        """Top-left pixel (y, x) of tile ``index``."""
        if not 0 <= index < self.count:
            raise IndexError(f"tile {index} out of range 0..{self.count - 1}")
        grid_row, grid_col = divmod(index, self.cols)
        return grid_row * (self.tile_h + self.pad), grid_col * (self.tile_w + self.pad)

    def cell_at(self, y: int, x: int) -> tuple[int, int, int] | None:
        """(tile index, row, col) under mosaic pixel (y, x); None on padding or outside."""
        if y < 0 or x < 0:
            return None
        grid_row, row = divmod(int(y), self.tile_h + self.pad)
        grid_col, col = divmod(int(x), self.tile_w + self.pad)
        if row >= self.tile_h or col >= self.tile_w or grid_col >= self.cols:
            return None
        index = grid_row * self.cols + grid_col
        if index >= self.count:
            return None
        return index, row, col


def symmetric_limit(a: np.ndarray) -> float:
    """max |a| over finite values (NaN/inf ignored), at least 1e-12: the half-range of a
    colour scale centred on zero."""
    values = np.asarray(a, dtype=np.float64)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return _LIMIT_FLOOR
    return max(float(np.abs(finite).max()), _LIMIT_FLOOR)


def filter_limits(weights: np.ndarray) -> np.ndarray:
    """Each filter's own symmetric limit, shape (out_c,): max |w| over its input channels and taps (finite
    values only), at least 1e-12 (a dead all-zero filter still scales)."""
    values = np.asarray(weights, dtype=np.float64).reshape(len(weights), -1)
    magnitudes = np.where(np.isfinite(values), np.abs(values), 0.0)
    return np.maximum(magnitudes.max(axis=1, initial=0.0), _LIMIT_FLOOR)


def maps_layout(shape: tuple[int, ...], pad: int = 1) -> MosaicLayout:
    """Layout that :func:`tile_maps` uses for activations of ``shape`` (C, H, W)."""
    _check_pad(pad)
    if len(shape) != 3:
        raise ValueError(
            f"feature maps must be 3-D (channels, height, width); got shape {tuple(shape)}")
    channels, height, width = shape
    rows, cols = grid_shape(channels)
    return MosaicLayout(rows, cols, height, width, pad, channels)


def tile_maps(maps: np.ndarray, pad: int = 1) -> np.ndarray:
    """Activations (C, H, W) -> one 2-D float32 image: a near-square grid, channel c at
    grid position divmod(c, cols), NaN between tiles and in unused cells."""
    maps = np.asarray(maps)
    layout = maps_layout(maps.shape, pad)
    return _tile(maps, layout)


def kernels_layout(shape: tuple[int, ...], *, rgb: bool = False, pad: int = 1) -> MosaicLayout:
    """Layout that :func:`tile_kernels` uses for conv weights of ``shape`` (out_c, in_c, kh, kw).

    Grey: tile index = out * in_c + in (one grid row per filter). One input channel, or RGB:
    tile index = filter, in a near-square grid (a 1-wide column of filters wastes the view)."""
    _check_pad(pad)
    if len(shape) != 4:
        raise ValueError(
            "conv weights must be 4-D (out_channels, in_channels, kh, kw); "
            f"got shape {tuple(shape)}")
    out_c, in_c, kh, kw = shape
    if min(shape) < 1:
        raise ValueError(f"conv weights have an empty dimension: shape {tuple(shape)}")
    if in_c == 1 or (rgb and in_c == 3):
        rows, cols = grid_shape(out_c)
        return MosaicLayout(rows, cols, kh, kw, pad, out_c)
    return MosaicLayout(out_c, in_c, kh, kw, pad, out_c * in_c)


def tile_kernels(weights: np.ndarray, *, rgb: bool = False, pad: int = 1, per_filter: bool = False) -> np.ndarray:
    """Conv weights (out_c, in_c, kh, kw) -> one float32 mosaic, NaN between tiles.

    Default: out_c rows x in_c columns of single-channel kernels, raw values (colour them
    with levels +-symmetric_limit); with in_c == 1 the filters fill a near-square grid
    instead (filter f at grid position divmod(f, cols)). With ``rgb`` and in_c == 3: one
    colour tile per filter in a near-square grid, shape (H, W, 3), each value mapped to
    0.5 + w / (2 * limit) with the layer's symmetric limit, so 0 is mid grey and the range
    fills [0, 1]. ``rgb`` with in_c != 3 falls back to the grey layout.

    ``per_filter``: every filter divided by its own limit (:func:`filter_limits`), so each fills the colour
    scale (grey values in [-1, 1]); one large hand-set filter (a frozen Sobel, +-2) no longer washes the
    learned ones of its layer out to white.
    """
    weights = np.asarray(weights)
    layout = kernels_layout(weights.shape, rgb=rgb, pad=pad)
    out_c, in_c, kh, kw = weights.shape
    if per_filter:
        weights = (weights / filter_limits(weights)[:, None, None, None]).astype(np.float32)
    if rgb and in_c == 3:
        limit = 1.0 if per_filter else symmetric_limit(weights)
        scaled = 0.5 + weights.astype(np.float32) / (2.0 * limit)
        return _tile(np.moveaxis(scaled, 1, -1), layout)  # (out_c, kh, kw, 3)
    return _tile(weights.reshape(out_c * in_c, kh, kw), layout)


def _tile(tiles: np.ndarray, layout: MosaicLayout) -> np.ndarray:
    """Place tiles (count, h, w[, 3]) into the layout's grid; vectorised, no Python loop."""
    extra = tiles.shape[3:]
    step_h, step_w = layout.tile_h + layout.pad, layout.tile_w + layout.pad
    grid = np.full((layout.rows * layout.cols, step_h, step_w, *extra), np.nan, dtype=np.float32)
    grid[:layout.count, :layout.tile_h, :layout.tile_w] = tiles
    grid = grid.reshape(layout.rows, layout.cols, step_h, step_w, *extra)
    grid = grid.swapaxes(1, 2).reshape(layout.rows * step_h, layout.cols * step_w, *extra)
    height, width = layout.shape
    return np.ascontiguousarray(grid[:height, :width])


def _check_pad(pad: int) -> None:
    if pad < 0:
        raise ValueError(f"pad must be >= 0 pixels; got {pad}")
