"""The generated colour set "shapes-rgb": 32x32 RGB circles and crosses in five colours (ten classes)."""

from __future__ import annotations

import functools

import numpy as np

from engine.datasets.raw import RawImages

SIZE = 32
PER_CLASS = 1000
SEED = 15  # fixed: every install generates the same images, bit for bit
# Which of R, G, B are high: primaries and two mixtures, so a class is never one channel alone.
COLOURS = {
    "red": (1, 0, 0), "green": (0, 1, 0), "blue": (0, 0, 1), "yellow": (1, 1, 0), "magenta": (1, 0, 1),
}
SHAPES = ("circle", "cross")
# Class index = colour-major: neither the colour nor the shape alone names the class.
SHAPES_CLASSES = tuple(f"{colour} {shape}" for colour in COLOURS for shape in SHAPES)


def _masks(rng: np.random.Generator, shape: str, count: int) -> np.ndarray:
    """`count` boolean (SIZE, SIZE) masks of one shape at random places, sizes and rotations."""
    radius = rng.uniform(7.0, 12.0, count).astype(np.float32)[:, None, None]
    # The centre keeps the whole shape (its circumscribed circle) inside the image.
    cx = rng.uniform(radius[:, 0, 0], SIZE - 1 - radius[:, 0, 0])[:, None, None]
    cy = rng.uniform(radius[:, 0, 0], SIZE - 1 - radius[:, 0, 0])[:, None, None]
    ys, xs = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)  # float32: half the work of float64
    dx, dy = xs[None] - cx, ys[None] - cy
    if shape == "circle":
        # 0.7 of the radius: a disc about as large as the cross (1.54 r^2 against 1.04 r^2), so size alone
        # does not give the shape away.
        return dx * dx + dy * dy <= (radius * 0.7) ** 2
    angle = rng.uniform(0.0, 2 * np.pi, count).astype(np.float32)[:, None, None]
    # A plus sign: two crossed bars, rotated (a TinyVGG tells it from a disc within 2 epochs; a filled triangle
    # of the same size left it at 55% (the colour alone) for 3).
    u = dx * np.cos(angle) + dy * np.sin(angle)
    v = dy * np.cos(angle) - dx * np.sin(angle)
    bar, arm = radius * 0.2, radius * 0.75
    return ((np.abs(u) <= arm) & (np.abs(v) <= bar)) | ((np.abs(v) <= arm) & (np.abs(u) <= bar))


def _paint(rng: np.random.Generator, masks: np.ndarray, high: tuple[int, int, int]) -> np.ndarray:
    """Grey noisy backgrounds with each mask filled in one colour (the `high` channels bright, the others dark)."""
    count = masks.shape[0]
    # Integer noise in int16: far cheaper than normal floats for the 27 MB of pixels.
    grey = rng.integers(30, 151, (count, 1, 1, 1), dtype=np.int16)
    images = grey + rng.integers(-20, 21, (count, SIZE, SIZE, 3), dtype=np.int16)
    bright = rng.integers(180, 256, (count, 3), dtype=np.int16)
    dark = rng.integers(0, 71, (count, 3), dtype=np.int16)
    colour = np.where(np.asarray(high, dtype=bool), bright, dark)
    shade = colour[:, None, None, :] + rng.integers(-15, 16, (count, SIZE, SIZE, 3), dtype=np.int16)
    images = np.where(masks[..., None], shade, images)
    return np.clip(images, 0, 255).astype(np.uint8)


@functools.lru_cache(maxsize=1)
def _generated() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(SEED)
    images, labels = [], []
    for index, name in enumerate(SHAPES_CLASSES):
        colour, shape = name.split(" ")
        images.append(_paint(rng, _masks(rng, shape, PER_CLASS), COLOURS[colour]))
        labels.append(np.full(PER_CLASS, index, dtype=np.int64))
    order = np.random.default_rng(SEED + 1).permutation(PER_CLASS * len(SHAPES_CLASSES))
    return np.concatenate(images)[order], np.concatenate(labels)[order]


def coloured_shapes() -> RawImages:
    """The 10,000 images (1,000 per class, shuffled), generated on first use and kept for the process."""
    images, labels = _generated()
    # Copies: a caller that edits its arrays must not change the next load's.
    return RawImages(images.copy(), labels.copy(), "shapes-rgb (generated)")
