"""A drawing turned into an MNIST input the way MNIST itself was made (LeCun, Cortes and Burges' MNIST page).

The ink is cropped to its bounding box, scaled to fit a 20x20 box keeping the aspect ratio (anti-aliased,
so strokes become grey levels as in MNIST), pasted into a 28x28 field and shifted so that its centre of
mass is the field's centre.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

FIELD = 28
BOX = 20
INK = 0.05  # below this, a pixel is paper (the drawing's anti-aliased fringe)


def mnist_style(drawing: np.ndarray) -> np.ndarray:
    """(H, W) amounts of ink in [0, 1] (1 = full ink, bright, as MNIST stores it) -> (28, 28) float32 in [0, 1].

    A blank drawing gives a blank field.
    """
    ink = np.clip(np.nan_to_num(np.asarray(drawing, dtype=np.float32)), 0.0, 1.0)
    if ink.ndim != 2:
        raise ValueError(f"a drawing is one (height, width) plane, got shape {ink.shape}")
    rows, cols = np.nonzero(ink > INK)
    field = np.zeros((FIELD, FIELD), dtype=np.float32)
    if rows.size == 0:
        return field
    crop = ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    height, width = crop.shape
    scale = BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))  # PIL: (width, height)
    picture = Image.fromarray(np.ascontiguousarray(crop))  # float32: mode "F", resampled without rounding
    fitted = np.asarray(picture.resize(size, Image.Resampling.LANCZOS), dtype=np.float32)
    fitted = np.clip(fitted, 0.0, 1.0)
    top, left = (FIELD - size[1]) // 2, (FIELD - size[0]) // 2
    field[top:top + size[1], left:left + size[0]] = fitted
    return _centred(field)


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, column) of the ink's centre of mass, in pixel centres (the field's centre is 13.5, 13.5)."""
    total = float(image.sum())
    rows, cols = np.indices(image.shape)
    return float((rows * image).sum() / total), float((cols * image).sum() / total)


def _centred(field: np.ndarray) -> np.ndarray:
    """Shift by whole pixels so the centre of mass lands within half a pixel of the centre (zeros come in)."""
    row, col = centre_of_mass(field)
    centre = (FIELD - 1) / 2
    dy, dx = int(round(centre - row)), int(round(centre - col))
    out = np.zeros_like(field)
    src_rows = slice(max(0, -dy), min(FIELD, FIELD - dy))
    src_cols = slice(max(0, -dx), min(FIELD, FIELD - dx))
    dst_rows = slice(max(0, dy), min(FIELD, FIELD + dy))
    dst_cols = slice(max(0, dx), min(FIELD, FIELD + dx))
    out[dst_rows, dst_cols] = field[src_rows, src_cols]
    return out
