"""The generated colour set: same pixels on every install, RGB 3x32x32, and a class needs colour and shape."""

from __future__ import annotations

import numpy as np
import torch

from engine.datasets import BUNDLED, load_dataset
from engine.datasets.shapes import SHAPES_CLASSES, _generated, coloured_shapes


def test_shapes_rgb_is_a_bundled_rgb_set_with_ten_balanced_classes() -> None:
    assert "shapes-rgb" in BUNDLED
    dataset = load_dataset("shapes-rgb")
    assert dataset.input_shape == (3, 32, 32)
    assert dataset.class_names == SHAPES_CLASSES and len(SHAPES_CLASSES) == 10
    assert (len(dataset.train), len(dataset.val)) == (8000, 2000)
    assert dataset.test is None
    counts = torch.bincount(torch.cat([dataset.train.labels, dataset.val.labels]), minlength=10)
    assert counts.tolist() == [1000] * 10


def test_generation_is_deterministic_and_loads_do_not_share_arrays() -> None:
    images, labels = _generated()
    fresh_images, fresh_labels = _generated.__wrapped__()  # a second generation, not the cached one
    assert np.array_equal(images, fresh_images) and np.array_equal(labels, fresh_labels)
    first = coloured_shapes()
    first.images[:] = 0
    assert coloured_shapes().images.any()


def _object_pixels(image: np.ndarray) -> np.ndarray:
    """Pixels whose channels differ widely: the shape (the background is grey, its channels close)."""
    pixels = image.astype(np.int64)
    return pixels.max(axis=-1) - pixels.min(axis=-1) > 60


def test_the_class_is_the_colour_of_the_shape_and_its_outline() -> None:
    raw = coloured_shapes()
    for index, name in enumerate(SHAPES_CLASSES):
        colour, shape = name.split(" ")
        for image in raw.images[raw.labels == index][:50]:
            mask = _object_pixels(image)
            assert mask.sum() > 40, name
            # The colour: which channels are bright inside the shape.
            bright = tuple(int(v > 125) for v in image[mask].astype(np.int64).mean(axis=0))
            expected = {"red": (1, 0, 0), "green": (0, 1, 0), "blue": (0, 0, 1), "yellow": (1, 1, 0),
                        "magenta": (1, 0, 1)}[colour]
            assert bright == expected, name
            # The outline: how much of its circumscribed circle the shape fills (disc 1, the plus sign
            # 1.04 / (pi * 0.776^2) = 0.55), measured from the pixel mask alone.
            ys, xs = np.nonzero(mask)
            radius = np.sqrt((xs - xs.mean()) ** 2 + (ys - ys.mean()) ** 2).max() + 0.5
            fill = mask.sum() / (np.pi * radius ** 2)
            low, high = {"circle": (0.75, 1.2), "cross": (0.35, 0.72)}[shape]
            assert low < fill < high, (name, fill)
