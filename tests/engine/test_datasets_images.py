"""The image-folder loader on PNG/JPEG files written with Pillow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.datasets import DatasetError, load_dataset

Image = pytest.importorskip("PIL.Image")
RNG = np.random.default_rng(9)


def _save(path: Path, pixels: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


def _gray_folder(root: Path, counts=(3, 2, 4), size=(6, 5)) -> dict[str, list[np.ndarray]]:
    made: dict[str, list[np.ndarray]] = {}
    for name, count in zip(("b_dog", "a_cat", "c_owl"), counts):
        made[name] = []
        for i in range(count):
            pixels = RNG.integers(0, 256, size, dtype=np.uint8)
            _save(root / name / f"{i:03d}.png", pixels)
            made[name].append(pixels)
    return made


def test_grayscale_folder_classes_sorted_pixels_exact(tmp_path: Path) -> None:
    made = _gray_folder(tmp_path / "set")
    (tmp_path / "set" / "a_cat" / "notes.txt").write_text("ignored")
    (tmp_path / "set" / ".hidden").mkdir()
    dataset = load_dataset(str(tmp_path / "set"), val_fraction=0.0)
    assert dataset.class_names == ("a_cat", "b_dog", "c_owl")
    assert dataset.input_shape == (1, 6, 5)
    assert dataset.train.labels.tolist() == [0, 0, 1, 1, 1, 2, 2, 2, 2]
    expected = np.stack(made["a_cat"] + made["b_dog"] + made["c_owl"])
    assert np.array_equal(dataset.to_uint8(dataset.train.images)[..., 0], expected)


def test_rgb_files_with_grey_content_load_as_one_channel(tmp_path: Path) -> None:
    for cls in ("x", "y"):
        grey = RNG.integers(0, 256, (4, 4), dtype=np.uint8)
        _save(tmp_path / "s" / cls / "1.png", np.stack([grey] * 3, axis=-1))
    assert load_dataset(str(tmp_path / "s")).input_shape == (1, 4, 4)


def test_one_colour_image_makes_the_set_rgb(tmp_path: Path) -> None:
    _gray_folder(tmp_path / "s", counts=(2, 2, 2), size=(4, 4))
    colour = RNG.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    _save(tmp_path / "s" / "a_cat" / "z.png", colour)
    dataset = load_dataset(str(tmp_path / "s"), val_fraction=0.0)
    assert dataset.input_shape == (3, 4, 4)
    back = dataset.to_uint8(dataset.train.images)
    assert np.array_equal(back[2], colour)  # a_cat's third file in sorted order
    assert np.array_equal(back[0][..., 0], back[0][..., 2])  # greys became R = G = B


def test_jpeg_files_are_read(tmp_path: Path) -> None:
    for cls in ("p", "q"):
        path = tmp_path / "j" / cls / "a.JPG"
        path.parent.mkdir(parents=True)
        Image.fromarray(RNG.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(path, "JPEG")
    dataset = load_dataset(str(tmp_path / "j"))
    assert dataset.input_shape == (3, 8, 8) and dataset.class_names == ("p", "q")


def test_size_mismatch_names_both_files_and_sizes(tmp_path: Path) -> None:
    _gray_folder(tmp_path / "s", size=(6, 5))
    odd = _save(tmp_path / "s" / "b_dog" / "001.png", np.zeros((7, 5), np.uint8))
    with pytest.raises(DatasetError) as info:
        load_dataset(str(tmp_path / "s"))
    message = str(info.value)
    assert str(odd) in message and "5x7" in message and "5x6" in message
    assert str(tmp_path / "s" / "a_cat" / "000.png") in message


def test_corrupt_image_is_named(tmp_path: Path) -> None:
    _gray_folder(tmp_path / "s")
    bad = tmp_path / "s" / "c_owl" / "002.png"
    bad.write_bytes(bad.read_bytes()[:30])
    with pytest.raises(DatasetError) as info:
        load_dataset(str(tmp_path / "s"))
    assert str(bad) in str(info.value)
    bad.write_bytes(b"this is text, not a png")
    with pytest.raises(DatasetError, match="not a readable PNG or JPEG") as info:
        load_dataset(str(tmp_path / "s"))
    assert str(bad) in str(info.value)


def test_empty_class_folder_is_named(tmp_path: Path) -> None:
    _gray_folder(tmp_path / "s")
    (tmp_path / "s" / "d_empty").mkdir()
    with pytest.raises(DatasetError, match="d_empty.*no .png") as info:
        load_dataset(str(tmp_path / "s"))
    assert str(tmp_path / "s" / "d_empty") in str(info.value)


def test_folder_of_empty_class_folders_is_not_a_dataset(tmp_path: Path) -> None:
    (tmp_path / "s" / "a").mkdir(parents=True)
    with pytest.raises(DatasetError, match="not a dataset folder"):
        load_dataset(str(tmp_path / "s"))


@pytest.mark.parametrize("suffix", [".bmp", ".gif", ".webp"])
def test_bmp_gif_and_webp_files_are_read_pixel_exact(tmp_path: Path, suffix: str) -> None:
    if suffix == ".webp":
        features = pytest.importorskip("PIL.features")
        if not features.check("webp"):
            pytest.skip("this Pillow has no WebP")
    made = {}
    for name in ("a", "b"):
        pixels = RNG.integers(0, 256, (5, 6), dtype=np.uint8)
        path = tmp_path / "s" / name / f"1{suffix}"
        path.parent.mkdir(parents=True)
        # Lossless everywhere: GIF of a grey palette, WebP in its lossless mode.
        Image.fromarray(pixels).save(path, **({"lossless": True} if suffix == ".webp" else {}))
        made[name] = pixels
    dataset = load_dataset(str(tmp_path / "s"), val_fraction=0.5)
    pixels = np.concatenate([dataset.to_uint8(s.images) for s in (dataset.train, dataset.val)])
    labels = np.concatenate([s.labels.numpy() for s in (dataset.train, dataset.val)])
    assert dataset.class_names == ("a", "b") and dataset.input_shape == (1, 5, 6)
    for image, label in zip(pixels, labels):
        assert np.array_equal(image[..., 0], made["ab"[label]])  # (H, W, 1)


def test_hidden_files_and_folders_are_skipped(tmp_path: Path) -> None:
    _gray_folder(tmp_path / "s")
    _save(tmp_path / "s" / ".thumbnails" / "x.png", np.zeros((6, 5), np.uint8))
    _save(tmp_path / "s" / "a_cat" / ".hidden.png", np.zeros((9, 9), np.uint8))  # another size: would fail
    dataset = load_dataset(str(tmp_path / "s"))
    assert dataset.class_names == ("a_cat", "b_dog", "c_owl")
    assert len(dataset.train) + len(dataset.val) == 9


def test_nothing_found_says_the_rules_and_names_a_nested_folder(tmp_path: Path) -> None:
    _gray_folder(tmp_path / "data" / "train")  # one level too deep: data/train/<class>/*.png
    with pytest.raises(DatasetError) as info:
        load_dataset(str(tmp_path / "data"))
    message = str(info.value)
    assert f"open {tmp_path / 'data' / 'train'} instead" in message
    assert ".bmp" in message and ".gif" in message and "'.' are skipped" in message
    assert "not searched" in message
    (tmp_path / "empty" / "a").mkdir(parents=True)
    (tmp_path / "empty" / "a" / "notes.txt").write_text("not an image")
    with pytest.raises(DatasetError, match="no images found.*'.' are skipped.*not searched"):
        load_dataset(str(tmp_path / "empty"))
