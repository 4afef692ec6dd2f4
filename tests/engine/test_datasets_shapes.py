"""The generated colour set: same pixels on every install, RGB 3x32x32, and a class needs colour and shape."""

from __future__ import annotations

import numpy as np
import torch

from engine.datasets import BUNDLED, load_dataset
from engine.datasets.shapes import SHAPES_CLASSES, _generated, coloured_shapes


def test_shapes_rgb_is_a_bundled_rgb_set_with_nine_balanced_classes() -> None:
    assert "shapes-rgb" in BUNDLED
    dataset = load_dataset("shapes-rgb")
    assert dataset.input_shape == (3, 32, 32)
    assert dataset.class_names == SHAPES_CLASSES and len(SHAPES_CLASSES) == 9
    assert (len(dataset.train), len(dataset.val)) == (7200, 1800)
    assert dataset.test is None
    counts = torch.bincount(torch.cat([dataset.train.labels, dataset.val.labels]), minlength=9)
    assert counts.tolist() == [1000] * 9


def test_generation_is_deterministic_and_loads_do_not_share_arrays() -> None:
    images, labels = _generated()
    fresh_images, fresh_labels = _generated.__wrapped__()  # a second generation, not the cached one
    assert np.array_equal(images, fresh_images) and np.array_equal(labels, fresh_labels)
    first = coloured_shapes()
    first.images[:] = 0
    assert coloured_shapes().images.any()


def _object_pixels(image: np.ndarray) -> np.ndarray:
    """Pixels where one channel stands far above the others: the shape (the background is grey)."""
    pixels = image.astype(np.int64)
    ordered = np.sort(pixels, axis=-1)
    return ordered[..., 2] - ordered[..., 1] > 60


def test_the_class_is_the_colour_of_the_shape_and_its_outline() -> None:
    raw = coloured_shapes()
    for index, name in enumerate(SHAPES_CLASSES):
        colour, shape = name.split(" ")
        for image in raw.images[raw.labels == index][:50]:
            mask = _object_pixels(image)
            assert mask.sum() > 40, name
            # The colour: the strongest channel inside the shape.
            strongest = image[mask].astype(np.int64).mean(axis=0).argmax()
            assert strongest == {"red": 0, "green": 1, "blue": 2}[colour], name
            # The outline: how much of its circumscribed circle the shape fills (disc 1, square 2/pi = 0.64,
            # triangle 3*sqrt(3)/(4*pi) = 0.41), measured from the pixel mask alone.
            ys, xs = np.nonzero(mask)
            radius = np.sqrt((xs - xs.mean()) ** 2 + (ys - ys.mean()) ** 2).max() + 0.5
            fill = mask.sum() / (np.pi * radius ** 2)
            low, high = {"circle": (0.8, 1.2), "square": (0.5, 0.8), "triangle": (0.28, 0.5)}[shape]
            assert low < fill < high, (name, fill)
