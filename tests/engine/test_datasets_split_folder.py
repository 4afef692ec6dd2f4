"""An image folder split into train/ and test/: the test split is read, kept apart and checked for the same classes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.datasets import DatasetError, load_dataset

Image = pytest.importorskip("PIL.Image")
RNG = np.random.default_rng(4)


def _folder(root: Path, classes=("cat", "dog"), counts=(4, 3), rgb=False) -> dict[str, list[np.ndarray]]:
    made = {}
    for name, count in zip(classes, counts):
        made[name] = []
        for i in range(count):
            shape = (6, 6, 3) if rgb else (6, 6)
            pixels = RNG.integers(0, 256, shape, dtype=np.uint8)
            (root / name).mkdir(parents=True, exist_ok=True)
            Image.fromarray(pixels).save(root / name / f"{i}.png")
            made[name].append(pixels)
    return made


def test_train_and_test_folders_give_a_test_split(tmp_path):
    _folder(tmp_path / "set" / "train")
    test = _folder(tmp_path / "set" / "test", counts=(2, 1))
    dataset = load_dataset(str(tmp_path / "set"), val_fraction=0.25)
    assert dataset.class_names == ("cat", "dog") and dataset.input_shape == (1, 6, 6)
    assert len(dataset.train) + len(dataset.val) == 7 and dataset.test.labels.tolist() == [0, 0, 1]
    pixels = dataset.to_uint8(dataset.test.images)[..., 0]
    assert np.array_equal(pixels, np.stack(test["cat"] + test["dog"]))


def test_a_grayscale_test_split_beside_a_colour_train_split_becomes_colour(tmp_path):
    _folder(tmp_path / "set" / "train", rgb=True)
    _folder(tmp_path / "set" / "test", counts=(1, 1))
    dataset = load_dataset(str(tmp_path / "set"))
    assert dataset.input_shape == (3, 6, 6) and dataset.test.images.shape == (2, 3, 6, 6)


def test_different_classes_in_train_and_test_are_refused_by_name(tmp_path):
    _folder(tmp_path / "set" / "train")
    _folder(tmp_path / "set" / "test", classes=("cat", "owl"))
    with pytest.raises(DatasetError, match="must hold the same class folders; they differ in dog, owl"):
        load_dataset(str(tmp_path / "set"))
