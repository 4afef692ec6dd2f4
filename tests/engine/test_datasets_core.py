"""Bundled sets, seeded splits, normalisation, to_uint8 and name resolution."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from engine.datasets import (
    DatasetError,
    available_datasets,
    default_cache_dir,
    load_dataset,
)

FASHION = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)


def _indexed_npz(path: Path, n: int = 300, channels: int = 3, seed: int = 1) -> np.ndarray:
    """An npz whose image i carries i in pixels (0,0) and (0,1), so splits can be traced."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 6, 5, channels), dtype=np.uint8)
    images[:, 0, 0, 0] = np.arange(n) % 256
    images[:, 0, 1, 0] = np.arange(n) // 256
    labels = rng.integers(0, 4, size=n).astype(np.int64)
    np.savez(path, images=images, labels=labels)
    return images


def _ids(dataset, split) -> np.ndarray:
    pixels = dataset.to_uint8(split.images).astype(np.int64)
    return pixels[:, 0, 0, 0] + 256 * pixels[:, 0, 1, 0]


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])  # shapes-rgb: test_datasets_shapes.py
def test_bundled_sets_split_8000_2000_with_ten_classes(name: str) -> None:
    dataset = load_dataset(name)
    assert dataset.name == name
    assert (len(dataset.train), len(dataset.val)) == (8000, 2000)
    assert dataset.test is None
    assert dataset.num_classes == 10
    assert dataset.input_shape == (1, 28, 28)
    assert dataset.train.images.dtype == torch.float32
    assert dataset.train.labels.dtype == torch.int64
    assert set(dataset.train.labels.tolist()) == set(range(10))
    # normalised with the train split's own statistics
    assert abs(dataset.train.images.mean().item()) < 1e-4
    assert dataset.train.images.std().item() == pytest.approx(1.0, abs=1e-3)
    expected = FASHION if name == "fashion-mnist" else tuple(str(i) for i in range(10))
    assert dataset.class_names == expected


def test_seeded_split_is_deterministic_and_a_partition(tmp_path: Path) -> None:
    path = tmp_path / "indexed.npz"
    _indexed_npz(path, n=300)
    first = load_dataset(str(path), seed=7, val_fraction=0.25)
    again = load_dataset(str(path), seed=7, val_fraction=0.25)
    other = load_dataset(str(path), seed=8, val_fraction=0.25)
    assert (len(first.train), len(first.val)) == (225, 75)
    assert torch.equal(first.train.images, again.train.images)
    assert torch.equal(first.val.labels, again.val.labels)
    train_ids, val_ids = _ids(first, first.train), _ids(first, first.val)
    assert sorted(np.concatenate([train_ids, val_ids]).tolist()) == list(range(300))
    assert not set(_ids(other, other.val).tolist()) == set(val_ids.tolist())
    # independent oracle: numpy's seeded permutation, first n_val indices are validation
    expected_val = np.sort(np.random.default_rng(7).permutation(300)[:75])
    assert val_ids.tolist() == expected_val.tolist()


def test_labels_follow_their_images_through_the_split(tmp_path: Path) -> None:
    path = tmp_path / "indexed.npz"
    _indexed_npz(path, n=120)
    labels = np.load(path)["labels"]
    dataset = load_dataset(str(path), seed=3)
    for split in (dataset.train, dataset.val):
        assert split.labels.tolist() == labels[_ids(dataset, split)].tolist()


def test_normalisation_uses_train_statistics_per_channel(tmp_path: Path) -> None:
    path = tmp_path / "rgb.npz"
    images = _indexed_npz(path, n=200, channels=3)
    images[..., 1] //= 4  # give the channels different statistics
    np.savez(path, images=images, labels=np.zeros(200, dtype=np.int64))
    dataset = load_dataset(str(path), seed=0)
    train_ids = _ids(dataset, dataset.train)
    pixels = images[train_ids].astype(np.float64) / 255.0
    assert dataset.mean == pytest.approx(tuple(pixels.mean(axis=(0, 1, 2))), abs=1e-9)
    assert dataset.std == pytest.approx(tuple(pixels.std(axis=(0, 1, 2))), abs=1e-9)
    per_channel = dataset.train.images.transpose(0, 1).reshape(3, -1)
    assert torch.allclose(per_channel.mean(dim=1), torch.zeros(3), atol=1e-4)
    assert torch.allclose(per_channel.std(dim=1, unbiased=False), torch.ones(3), atol=1e-4)
    # validation images use the train mean/std, not their own
    val_id = int(_ids(dataset, dataset.val)[0])
    raw = images[val_id, 2, 3, 1] / 255.0
    expected = (raw - dataset.mean[1]) / dataset.std[1]
    assert dataset.val.images[0, 1, 2, 3].item() == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("channels", [1, 3])
def test_to_uint8_undoes_normalisation_exactly(tmp_path: Path, channels: int) -> None:
    path = tmp_path / "img.npz"
    images = _indexed_npz(path, n=50, channels=channels)
    dataset = load_dataset(str(path), val_fraction=0.0)
    back = dataset.to_uint8(dataset.train.images)
    assert back.dtype == np.uint8 and back.shape == (50, 6, 5, channels)
    assert np.array_equal(back, images)
    single = dataset.to_uint8(dataset.train.images[4].numpy())
    assert np.array_equal(single, images[4])


def test_constant_images_do_not_divide_by_zero(tmp_path: Path) -> None:
    path = tmp_path / "flat.npz"
    np.savez(path, images=np.full((10, 4, 4), 77, np.uint8), labels=np.arange(10) % 2)
    dataset = load_dataset(str(path))
    assert dataset.std == (1.0,)
    assert torch.isfinite(dataset.train.images).all()
    assert dataset.class_names == ("0", "1")


def test_val_fraction_zero_gives_an_empty_validation_split(tmp_path: Path) -> None:
    path = tmp_path / "s.npz"
    _indexed_npz(path, n=20)
    dataset = load_dataset(str(path), val_fraction=0.0)
    assert (len(dataset.train), len(dataset.val)) == (20, 0)
    assert dataset.val.images.shape == (0, 3, 6, 5)


@pytest.mark.parametrize("fraction", [-0.1, 1.0, 1.5])
def test_bad_val_fraction_is_refused(tmp_path: Path, fraction: float) -> None:
    path = tmp_path / "s.npz"
    _indexed_npz(path, n=20)
    with pytest.raises(DatasetError, match="val_fraction"):
        load_dataset(str(path), val_fraction=fraction)


def test_available_datasets_lists_bundled_when_nothing_downloaded(tmp_path: Path) -> None:
    assert available_datasets(tmp_path) == ["mnist", "fashion-mnist", "shapes-rgb"]


def test_default_cache_dir_honours_the_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CONVSCOPE_DATA", str(tmp_path / "data"))
    assert default_cache_dir() == tmp_path / "data"
    monkeypatch.delenv("CONVSCOPE_DATA")
    assert default_cache_dir() == Path.home() / ".cache" / "convscope" / "datasets"


def test_unknown_source_names_itself_and_the_known_names(tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as info:
        load_dataset(str(tmp_path / "nope.npz"), cache_dir=tmp_path)
    assert "nope.npz" in str(info.value) and "mnist" in str(info.value)


def test_downloaded_name_not_yet_downloaded_says_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as info:
        load_dataset("cifar10", cache_dir=tmp_path)
    message = str(info.value)
    assert str(tmp_path / "cifar10") in message and "download" in message


def test_unsupported_file_and_unrecognised_folder(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(DatasetError, match="notes.txt.*unsupported"):
        load_dataset(str(text))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DatasetError, match="empty.*not a dataset folder"):
        load_dataset(str(empty))
