"""The .npz and IDX loaders on small generated files, valid and corrupt."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
import pytest

from engine.datasets import DatasetError, load_dataset
from engine.datasets.idx import parse_idx

RNG = np.random.default_rng(42)


def _npz(path: Path, **arrays) -> Path:
    np.savez(path, **arrays)
    return path


def _images(n: int, *shape: int) -> np.ndarray:
    return RNG.integers(0, 256, size=(n, *shape), dtype=np.uint8)


def _idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    """IDX encoding written by hand from the format description: 00 00 type ndim, dims, data."""
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def _idx_dir(folder: Path, n_train=40, n_test=10, gz=False, side=7, dotted=False) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte": _images(n_train, side, side),
        "train-labels-idx1-ubyte": RNG.integers(0, 10, n_train).astype(np.uint8),
        "t10k-images-idx3-ubyte": _images(n_test, side, side),
        "t10k-labels-idx1-ubyte": RNG.integers(0, 10, n_test).astype(np.uint8),
    }
    for name, array in arrays.items():
        data = _idx_bytes(array)
        name = name.replace("-idx", ".idx") if dotted else name
        if gz:
            (folder / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return arrays


# ---- npz ---------------------------------------------------------------------------


def test_npz_grayscale_with_class_names(tmp_path: Path) -> None:
    images = _images(30, 8, 9)
    path = _npz(tmp_path / "set.npz", images=images, labels=np.arange(30) % 3,
                class_names=np.array(["cat", "dog", "bird"]))
    dataset = load_dataset(str(path), val_fraction=0.0)
    assert dataset.name == str(path)
    assert dataset.class_names == ("cat", "dog", "bird")
    assert dataset.input_shape == (1, 8, 9)
    assert np.array_equal(dataset.to_uint8(dataset.train.images)[..., 0], images)
    assert dataset.train.labels.tolist() == (np.arange(30) % 3).tolist()


def test_npz_colour_with_its_own_test_split(tmp_path: Path) -> None:
    path = _npz(tmp_path / "rgb.npz", images=_images(20, 5, 5, 3), labels=np.arange(20) % 2,
                test_images=_images(6, 5, 5, 3), test_labels=np.array([0, 1, 1, 0, 1, 0]))
    dataset = load_dataset(str(path))
    assert dataset.input_shape == (3, 5, 5)
    assert (len(dataset.train), len(dataset.val), len(dataset.test)) == (16, 4, 6)
    assert dataset.test.labels.tolist() == [0, 1, 1, 0, 1, 0]


def _valid(**changes) -> dict:
    arrays = {"images": _images(10, 4, 4), "labels": np.arange(10) % 2}
    arrays.update(changes)
    return {k: v for k, v in arrays.items() if v is not None}


@pytest.mark.parametrize(
    ("arrays", "problem"),
    [
        (_valid(labels=None), "missing array.*labels"),
        (_valid(images=np.zeros((10, 4, 4), np.float32)), "uint8"),
        (_valid(images=np.zeros((10, 16), np.uint8)), r"\(N, H, W\)"),
        (_valid(images=np.zeros((10, 4, 4, 4), np.uint8)), "4 channels"),
        (_valid(labels=np.zeros((10, 1), np.int64)), "1-D integer"),
        (_valid(labels=np.arange(9)), "10 images but 9 labels"),
        (_valid(labels=np.arange(10) - 1), "negative"),
        (_valid(class_names=np.array(["a"])), "label 1 is out of range for 1 classes"),
        (_valid(test_images=_images(3, 4, 4)), "test_images without"),
        (_valid(test_images=_images(2, 5, 5), test_labels=np.zeros(2, int)), "test images"),
    ],
)
def test_npz_problems_name_the_file(tmp_path: Path, arrays: dict, problem: str) -> None:
    path = _npz(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DatasetError, match=problem) as info:
        load_dataset(str(path))
    assert str(path) in str(info.value)


def test_npz_object_array_is_never_unpickled(tmp_path: Path) -> None:
    path = tmp_path / "obj.npz"
    np.savez(path, images=_images(4, 3, 3), labels=np.zeros(4, int),
             class_names=np.array(["a", None], dtype=object))
    with pytest.raises(DatasetError, match="unpickling") as info:
        load_dataset(str(path))
    assert str(path) in str(info.value)


@pytest.mark.parametrize("damage", ["truncate", "text", "flip"])
def test_npz_corrupt_archives(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "c.npz"
    np.savez_compressed(path, images=_images(50, 10, 10), labels=np.zeros(50, int))
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "text":
        path.write_text("not an archive")
    else:  # corrupt the compressed payload but keep the zip directory intact
        middle = len(data) // 2
        path.write_bytes(data[:middle] + bytes(b ^ 0xFF for b in data[middle:middle + 64])
                         + data[middle + 64:])
    with pytest.raises(DatasetError) as info:
        load_dataset(str(path))
    assert str(path) in str(info.value)


# ---- IDX -------------------------------------------------------------------------------


@pytest.mark.parametrize(("gz", "dotted"), [(False, False), (True, False), (True, True)])
def test_idx_folder_loads_train_and_test(tmp_path: Path, gz: bool, dotted: bool) -> None:
    arrays = _idx_dir(tmp_path / "mnist", gz=gz, dotted=dotted)
    dataset = load_dataset(str(tmp_path / "mnist"), val_fraction=0.0)
    assert dataset.input_shape == (1, 7, 7)
    assert (len(dataset.train), len(dataset.val), len(dataset.test)) == (40, 0, 10)
    back = dataset.to_uint8(dataset.test.images)[..., 0]
    assert np.array_equal(back, arrays["t10k-images-idx3-ubyte"])
    assert dataset.test.labels.tolist() == arrays["t10k-labels-idx1-ubyte"].tolist()
    top = max(arrays["train-labels-idx1-ubyte"].max(), arrays["t10k-labels-idx1-ubyte"].max())
    assert dataset.num_classes == top + 1


def test_idx_folder_without_test_files(tmp_path: Path) -> None:
    _idx_dir(tmp_path / "m")
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (tmp_path / "m" / name).unlink()
    assert load_dataset(str(tmp_path / "m")).test is None


def test_parse_idx_reads_other_element_types() -> None:
    values = np.array([[-5, 70000], [3, -1]], dtype=np.int32)
    parsed = parse_idx(_idx_bytes(values, 0x0C), "x")
    assert parsed.dtype == np.int32 and np.array_equal(parsed, values)
    floats = np.array([1.5, -2.25], dtype=np.float32)
    assert np.array_equal(parse_idx(_idx_bytes(floats, 0x0D), "x"), floats)


def _damage(folder: Path, name: str, how: str) -> Path:
    path = folder / name
    data = path.read_bytes()
    if how == "magic":
        data = b"\x12\x34" + data[2:]
    elif how == "truncate":
        data = data[:-5]
    elif how == "header":
        data = data[:6]
    elif how == "extra":
        data = data + b"\x00\x00"
    elif how == "gzip":
        path.unlink()
        path = folder / (name + ".gz")
        data = gzip.compress(data)[:-20]
    elif how == "garbage-gz":
        path.unlink()
        path = folder / (name + ".gz")
        data = b"definitely not gzip"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "how", "problem"),
    [
        ("train-images-idx3-ubyte", "magic", "bad IDX magic"),
        ("train-images-idx3-ubyte", "truncate", "truncated"),
        ("train-labels-idx1-ubyte", "header", "truncated IDX header"),
        ("t10k-labels-idx1-ubyte", "extra", "unexpected bytes"),
        ("train-images-idx3-ubyte", "gzip", "ends early"),
        ("t10k-images-idx3-ubyte", "garbage-gz", "not a valid gzip"),
    ],
)
def test_idx_corrupt_files_are_named(tmp_path: Path, name: str, how: str, problem: str) -> None:
    _idx_dir(tmp_path / "m")
    bad = _damage(tmp_path / "m", name, how)
    with pytest.raises(DatasetError, match=problem) as info:
        load_dataset(str(tmp_path / "m"))
    assert str(bad) in str(info.value)


def test_idx_inconsistent_folders(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    _idx_dir(folder)
    labels = folder / "train-labels-idx1-ubyte"
    labels.write_bytes(_idx_bytes(np.zeros(39, np.uint8)))
    with pytest.raises(DatasetError, match="39 labels but train-images-idx3-ubyte has 40"):
        load_dataset(str(folder))
    labels.write_bytes(_idx_bytes(_images(40, 7, 7)))  # images where labels belong
    with pytest.raises(DatasetError, match="1 dimension") as info:
        load_dataset(str(folder))
    assert str(labels) in str(info.value)
    labels.write_bytes(_idx_bytes(np.zeros(40, np.uint8)))
    (folder / "train-images-idx3-ubyte").write_bytes(
        _idx_bytes(np.zeros((40, 7, 7), np.int16), 0x0B))
    with pytest.raises(DatasetError, match="uint8"):
        load_dataset(str(folder))
    labels.unlink()
    with pytest.raises(DatasetError, match="train-labels-idx1-ubyte.*missing"):
        load_dataset(str(folder))


def test_idx_test_images_of_another_size(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    _idx_dir(folder)
    (folder / "t10k-images-idx3-ubyte").write_bytes(_idx_bytes(_images(10, 8, 8)))
    with pytest.raises(DatasetError, match="one image size") as info:
        load_dataset(str(folder))
    assert "t10k-images-idx3-ubyte" in str(info.value)


def test_mnist_full_labels_must_fit_ten_classes(tmp_path: Path) -> None:
    folder = tmp_path / "mnist-full"
    _idx_dir(folder, gz=True)
    bad = folder / "t10k-labels-idx1-ubyte.gz"
    bad.write_bytes(gzip.compress(_idx_bytes(np.full(10, 12, np.uint8))))
    with pytest.raises(DatasetError, match="label 12 is out of range for 10 classes") as info:
        load_dataset("mnist-full", cache_dir=tmp_path)
    assert str(bad) in str(info.value)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_parse_idx_never_raises_anything_but_dataset_error(data: bytes) -> None:
    for candidate in (data, b"\x00\x00" + data, bytes([0, 0, 0x08, 1, 0, 0, 0, 2]) + data):
        try:
            parse_idx(candidate, "fuzz.idx")
        except DatasetError as exc:
            assert "fuzz.idx" in str(exc)
