"""The CIFAR-10 batch loader and its restricted unpickler, on generated pickles."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.datasets import DatasetError, load_dataset
from engine.datasets.cifar import read_batch

RNG = np.random.default_rng(5)
NAMES = [b"plane", b"car", b"bird"]


def _batch(path: Path, images_hwc: np.ndarray, labels: list[int], protocol: int = 2) -> None:
    """Write a batch the way CIFAR does: rows of 1024 R, then G, then B values."""
    data = images_hwc.transpose(0, 3, 1, 2).reshape(len(images_hwc), -1)
    entry = {b"batch_label": b"test batch", b"labels": labels, b"data": data,
             b"filenames": [b"x.png"] * len(labels)}
    path.write_bytes(pickle.dumps(entry, protocol=protocol))


def _cifar_dir(folder: Path, batches=2, per_batch=8, test=6, meta=True) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    made = {}
    for i in range(1, batches + 1):
        images = RNG.integers(0, 256, (per_batch, 32, 32, 3), dtype=np.uint8)
        labels = RNG.integers(0, 3, per_batch).tolist()
        _batch(folder / f"data_batch_{i}", images, labels)
        made[f"data_batch_{i}"] = (images, labels)
    if test:
        images = RNG.integers(0, 256, (test, 32, 32, 3), dtype=np.uint8)
        labels = RNG.integers(0, 3, test).tolist()
        _batch(folder / "test_batch", images, labels, protocol=4)
        made["test_batch"] = (images, labels)
    if meta:
        (folder / "batches.meta").write_bytes(
            pickle.dumps({b"label_names": NAMES, b"num_vis": 3072}, protocol=2))
    return made


def test_cifar_folder_pixels_labels_and_names(tmp_path: Path) -> None:
    made = _cifar_dir(tmp_path / "c")
    dataset = load_dataset(str(tmp_path / "c"), val_fraction=0.0)
    assert dataset.input_shape == (3, 32, 32)
    assert dataset.class_names == ("plane", "car", "bird")
    assert (len(dataset.train), len(dataset.test)) == (16, 6)
    train_images = np.concatenate([made["data_batch_1"][0], made["data_batch_2"][0]])
    assert np.array_equal(dataset.to_uint8(dataset.train.images), train_images)
    assert dataset.train.labels.tolist() == made["data_batch_1"][1] + made["data_batch_2"][1]
    assert np.array_equal(dataset.to_uint8(dataset.test.images), made["test_batch"][0])


def test_extracted_parent_folder_and_downloaded_name(tmp_path: Path) -> None:
    _cifar_dir(tmp_path / "cifar10" / "cifar-10-batches-py", meta=False)
    by_path = load_dataset(str(tmp_path / "cifar10"))
    assert by_path.class_names[:3] == ("airplane", "automobile", "bird")  # standard names
    by_name = load_dataset("cifar10", cache_dir=tmp_path)
    assert by_name.name == "cifar10" and len(by_name.test) == 6


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


@pytest.mark.parametrize("payload", ["exploit", "eval"])
def test_a_pickle_that_names_other_globals_is_refused_unrun(tmp_path: Path, payload) -> None:
    folder = tmp_path / "c"
    _cifar_dir(folder)
    marker = tmp_path / "pwned"
    evil = _Exploit(marker) if payload == "exploit" else eval  # pickled, not run
    bad = folder / "data_batch_2"
    bad.write_bytes(pickle.dumps({b"data": evil, b"labels": [0]}, protocol=2))
    with pytest.raises(DatasetError, match="refused to load") as info:
        load_dataset(str(folder))
    assert str(bad) in str(info.value)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("truncated", "truncated"),
        ("garbage", "not a valid CIFAR batch"),
        ("list", "expected a dict"),
        ("no-labels", "missing `data` or `labels`"),
        ("wrong-width", r"\(N, 3072\)"),
        ("count", "8 images but 7 labels"),
    ],
)
def test_corrupt_batches_name_the_file(tmp_path: Path, content: str, problem: str) -> None:
    folder = tmp_path / "c"
    _cifar_dir(folder)
    bad = folder / "data_batch_1"
    data = bad.read_bytes()
    images = np.zeros((8, 3072), np.uint8)
    replacement = {
        "truncated": data[: len(data) // 2],
        "garbage": b"\x80\x02garbage that is not a pickle",
        "list": pickle.dumps([1, 2, 3], protocol=2),
        "no-labels": pickle.dumps({b"data": images}, protocol=2),
        "wrong-width": pickle.dumps({b"data": np.zeros((8, 100), np.uint8), b"labels": [0] * 8}),
        "count": pickle.dumps({b"data": images, b"labels": [0] * 7}),
    }[content]
    bad.write_bytes(replacement)
    with pytest.raises(DatasetError, match=problem) as info:
        load_dataset(str(folder))
    assert str(bad) in str(info.value)


def test_labels_beyond_the_meta_names(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    _cifar_dir(folder)
    _batch(folder / "test_batch", np.zeros((2, 32, 32, 3), np.uint8), [0, 5])
    with pytest.raises(DatasetError, match="label 5 is out of range for 3 classes") as info:
        load_dataset(str(folder))
    assert str(folder / "test_batch") in str(info.value)


_VALID = pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 1]}, protocol=2)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=48), st.integers(0, len(_VALID) - 1), st.integers(1, 255))
def test_damaged_pickles_only_ever_raise_dataset_error(tmp_path_factory, noise, at, flip) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "data_batch_1"
    flipped = bytearray(_VALID)
    flipped[at] ^= flip
    for data in (noise, b"\x80\x02" + noise, bytes(flipped)):
        path.write_bytes(data)
        try:
            read_batch(path)
        except DatasetError as exc:
            assert str(path) in str(exc)
