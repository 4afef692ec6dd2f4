"""The generated colour set "shapes-rgb": 32x32 RGB circles, squares and triangles in red, green or blue."""

from __future__ import annotations

import functools

import numpy as np

from engine.datasets.raw import RawImages

SIZE = 32
PER_CLASS = 1000
SEED = 15  # fixed: every install generates the same images, bit for bit
COLOURS = {"red": (0, 1, 2), "green": (1, 0, 2), "blue": (2, 0, 1)}  # (strong channel, weak, weak)
SHAPES = {"circle": 0, "square": 4, "triangle": 3}  # polygon sides; 0 = a disc
# Class index = colour-major: neither the colour nor the shape alone names the class.
SHAPES_CLASSES = tuple(f"{colour} {shape}" for colour in COLOURS for shape in SHAPES)


def _masks(rng: np.random.Generator, sides: int, count: int) -> np.ndarray:
    """`count` boolean (SIZE, SIZE) masks of one shape at random places, sizes and rotations."""
    radius = rng.uniform(7.0, 12.0, count).astype(np.float32)[:, None, None]
    # The centre keeps the whole shape (its circumscribed circle) inside the image.
    cx = rng.uniform(radius[:, 0, 0], SIZE - 1 - radius[:, 0, 0])[:, None, None]
    cy = rng.uniform(radius[:, 0, 0], SIZE - 1 - radius[:, 0, 0])[:, None, None]
    ys, xs = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)  # float32: half the work of float64
    dx, dy = xs[None] - cx, ys[None] - cy
    if sides == 0:
        # A disc of the same area as the square would be; radius * 0.85 keeps the sizes comparable.
        return dx * dx + dy * dy <= (radius * 0.85) ** 2
    angle = rng.uniform(0.0, 2 * np.pi, count).astype(np.float32)[:, None, None]
    inside = np.ones((count, SIZE, SIZE), dtype=bool)
    apothem = radius * np.cos(np.pi / sides)
    for edge in range(sides):  # a regular polygon is the intersection of its edges' half-planes
        normal = angle + (2 * edge + 1) * np.pi / sides
        inside &= dx * np.cos(normal) + dy * np.sin(normal) <= apothem
    return inside


def _paint(rng: np.random.Generator, masks: np.ndarray, channels: tuple[int, int, int]) -> np.ndarray:
    """Grey noisy backgrounds with each mask filled in one colour (strong channel high, the others low)."""
    count = masks.shape[0]
    # Integer noise in int16: far cheaper than normal floats for the 27 MB of pixels.
    grey = rng.integers(30, 151, (count, 1, 1, 1), dtype=np.int16)
    images = grey + rng.integers(-20, 21, (count, SIZE, SIZE, 3), dtype=np.int16)
    colour = np.empty((count, 3), dtype=np.int16)
    strong, weak_a, weak_b = channels
    colour[:, strong] = rng.integers(170, 256, count)
    colour[:, weak_a] = rng.integers(0, 91, count)
    colour[:, weak_b] = rng.integers(0, 91, count)
    shade = colour[:, None, None, :] + rng.integers(-15, 16, (count, SIZE, SIZE, 3), dtype=np.int16)
    images = np.where(masks[..., None], shade, images)
    return np.clip(images, 0, 255).astype(np.uint8)


@functools.lru_cache(maxsize=1)
def _generated() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(SEED)
    images, labels = [], []
    for index, name in enumerate(SHAPES_CLASSES):
        colour, shape = name.split(" ")
        images.append(_paint(rng, _masks(rng, SHAPES[shape], PER_CLASS), COLOURS[colour]))
        labels.append(np.full(PER_CLASS, index, dtype=np.int64))
    order = np.random.default_rng(SEED + 1).permutation(PER_CLASS * len(SHAPES_CLASSES))
    return np.concatenate(images)[order], np.concatenate(labels)[order]


def coloured_shapes() -> RawImages:
    """The 9,000 images (1,000 per class, shuffled), generated on first use and kept for the process."""
    images, labels = _generated()
    # Copies: a caller that edits its arrays must not change the next load's.
    return RawImages(images.copy(), labels.copy(), "shapes-rgb (generated)")
