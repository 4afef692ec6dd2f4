"""Images held as uint8 pixels and normalised per batch on the device: the same numbers as float32 up front."""

from __future__ import annotations

import numpy as np
import torch

from engine.datasets import load_dataset
from engine.datasets.assembly import renormalized
from engine.normalization import Normalization
from tests.engine.training_data import write_tiny_npz


def _old_float_path(pixels_nhwc: np.ndarray, mean, std) -> torch.Tensor:
    """How every split was normalised before (the whole set to float32 at load), written out again."""
    block = torch.from_numpy(pixels_nhwc).permute(0, 3, 1, 2).to(torch.float32)
    c = block.shape[1]
    return (block / 255.0 - torch.tensor(mean, dtype=torch.float32).view(1, c, 1, 1)) / \
        torch.tensor(std, dtype=torch.float32).view(1, c, 1, 1)


def test_bundled_mnist_is_held_as_uint8_and_normalises_as_before():
    dataset = load_dataset("mnist", seed=3)
    train = dataset.train
    assert train.pixels is not None and train.pixels.dtype == torch.uint8
    assert train.data.nbytes == len(train) * 28 * 28  # a quarter of float32's 4 bytes a pixel
    pixels = train.pixels.permute(0, 2, 3, 1).numpy()
    expected = _old_float_path(pixels, dataset.mean, dataset.std)
    assert torch.allclose(train.images, expected, atol=1e-6, rtol=0)
    # a batch as the trainer builds it: rows of the device storage, normalised there
    storage, as_input = train.on_device(torch.device("cpu"))
    idx = torch.randperm(len(train), generator=torch.Generator().manual_seed(0))[:64]
    assert torch.allclose(as_input(storage.index_select(0, idx)), expected[idx], atol=1e-6, rtol=0)
    assert torch.allclose(train.images_at(5), expected[5], atol=1e-6, rtol=0)
    assert torch.allclose(train.images_at(idx), expected[idx], atol=1e-6, rtol=0)


def test_colour_npz_and_renormalising_keep_the_pixels(tmp_path):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (40, 5, 6, 3), dtype=np.uint8)
    path = tmp_path / "rgb.npz"
    np.savez(path, images=images, labels=rng.integers(0, 2, 40), test_images=images[:7],
             test_labels=np.zeros(7, np.int64))
    dataset = load_dataset(str(path), val_fraction=0.25)
    assert dataset.test.pixels.shape == (7, 3, 5, 6)
    assert torch.allclose(dataset.test.images, _old_float_path(images[:7], dataset.mean, dataset.std), atol=1e-6)
    other = Normalization((0.5, 0.4, 0.3), (0.2, 0.25, 0.3))
    moved = renormalized(dataset, other)
    assert moved.test.pixels is dataset.test.pixels  # no copy: the same pixels read with other statistics
    assert torch.allclose(moved.test.images, _old_float_path(images[:7], other.mean, other.std), atol=1e-6)


def test_a_float_split_still_works_as_it_did(tmp_path):
    dataset = load_dataset(str(write_tiny_npz(tmp_path / "t.npz")))
    from engine.datasets import Split

    split = Split(dataset.val.images, dataset.val.labels)
    assert split.pixels is None and split.images is split.data and split.shape == dataset.val.shape
    storage, as_input = split.on_device(torch.device("cpu"))
    assert as_input(storage) is storage
