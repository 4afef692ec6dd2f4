"""An attribution map drawn over its input image (pure numpy): the window and `explain --out` draw the same picture."""

from __future__ import annotations

import numpy as np

# Heat ramp for maps that are never negative (saliency, Grad-CAM): dark red -> red -> yellow -> white.
_HEAT = np.array([[80, 0, 0], [220, 30, 0], [255, 200, 0], [255, 255, 230]], dtype=np.float32)
_POSITIVE, _NEGATIVE = np.array([230, 40, 30], np.float32), np.array([40, 110, 240], np.float32)


def as_rgb(image: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 1 or 3) -> uint8 (H, W, 3)."""
    return np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image[..., :3]


def overlay(image: np.ndarray, attribution: np.ndarray, opacity: float) -> np.ndarray:
    """`image` uint8 (H, W, C) with `attribution` (H, W) blended in at up to `opacity` (0..1).

    Each pixel's colour weight is opacity times its share of the largest |value|, so unimportant pixels show
    the image. A map with negative values is diverging (red: raises the class score, blue: lowers it);
    a non-negative one uses the heat ramp.
    """
    rgb = as_rgb(image).astype(np.float32)
    values = np.nan_to_num(np.asarray(attribution, dtype=np.float32))
    scale = float(np.abs(values).max())
    if scale == 0:
        return rgb.astype(np.uint8)
    strength = np.abs(values) / scale
    if values.min() < 0:
        colors = np.where(values[..., None] >= 0, _POSITIVE, _NEGATIVE)
    else:
        stops = np.linspace(0, 1, len(_HEAT))
        colors = np.stack([np.interp(strength, stops, _HEAT[:, c]) for c in range(3)], axis=-1)
    alpha = (float(np.clip(opacity, 0, 1)) * strength)[..., None]
    return np.clip(np.rint(rgb * (1 - alpha) + colors * alpha), 0, 255).astype(np.uint8)
