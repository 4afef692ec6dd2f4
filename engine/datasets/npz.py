"""Read a user's .npz archive: `images`, `labels`, optional `class_names` and test arrays."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from engine.datasets.dataset import DatasetError
from engine.datasets.limits import max_bytes, too_large
from engine.datasets.raw import RawImages, check_same_image_shape, checked_raw
from models.safe_text import shorten

# Optional keys: a test split the file brings with it.
TEST_KEYS = ("test_images", "test_labels")


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every array in the archive, read now so corrupt members fail here, not later."""
    if not path.is_file():
        raise DatasetError(f"{path}: no such file")
    try:
        is_zip = zipfile.is_zipfile(path)
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read it ({exc})") from None
    if not is_zip:
        raise DatasetError(
            f"{path}: not an .npz archive (no zip structure; truncated or another format); "
            "save the arrays with numpy.savez_compressed(path, images=..., labels=...)"
        )
    _check_sizes(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except ValueError as exc:
        if "pickle" in str(exc):  # object arrays need unpickling, which we never allow
            raise DatasetError(
                f"{path}: cannot read it without unpickling ({shorten(str(exc), 120)}); store images and labels "
                "as plain numeric arrays and class_names as a str array (np.array([...], "
                "dtype=str))"
            ) from None
        raise DatasetError(f"{path}: an array in the archive is corrupt ({shorten(str(exc), 120)})") from None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read it ({exc})") from None
    except Exception as exc:  # noqa: BLE001 - zipfile/zlib/numpy raise many types on damage
        raise DatasetError(
            f"{path}: not a readable .npz archive, it may be truncated or corrupt "
            f"({type(exc).__name__}: {shorten(str(exc), 120)}); save it again with numpy.savez_compressed"
        ) from None


def _check_sizes(path: Path) -> None:
    """Refuse an archive whose members unpack past the limit, before numpy allocates for them.

    zipfile stops each member at the size its central directory declares, so the declared sizes bound
    what np.load can unpack; numpy then checks each array's bytes against its header.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            total = sum(info.file_size for info in zf.infolist())
    except Exception as exc:  # noqa: BLE001 - a damaged directory raises many types
        raise DatasetError(
            f"{path}: not a readable .npz archive, it may be truncated or corrupt "
            f"({type(exc).__name__}: {shorten(str(exc), 120)}); save it again with numpy.savez_compressed"
        ) from None
    if total > max_bytes():
        raise too_large(path, total)


def _class_names(arrays: dict[str, np.ndarray], path: Path) -> tuple[str, ...] | None:
    if "class_names" not in arrays:
        return None
    names = arrays["class_names"]
    if names.ndim != 1 or names.dtype.kind not in "US" or names.size == 0:
        raise DatasetError(
            f"{path}: class_names must be a non-empty 1-D array of strings, got dtype "
            f"{names.dtype} shape {names.shape}"
        )
    if names.dtype.kind == "S":
        return tuple(n.decode("utf-8", "replace") for n in names)
    return tuple(str(n) for n in names)


def read_npz(path: Path) -> tuple[RawImages, RawImages | None, tuple[str, ...] | None]:
    """(train, test or None, class names or None) from an .npz file."""
    arrays = _read_arrays(path)
    missing = [key for key in ("images", "labels") if key not in arrays]
    if missing:
        found = ", ".join(sorted(arrays)) or "nothing"
        raise DatasetError(
            f"{path}: missing array(s) {', '.join(missing)} (found: {found}); an .npz dataset "
            "needs `images` (N, H, W) or (N, H, W, C) uint8 and `labels` (N,) integers"
        )
    train = checked_raw(arrays["images"], arrays["labels"], path)
    test = None
    present = [key for key in TEST_KEYS if key in arrays]
    if len(present) == 1:
        raise DatasetError(
            f"{path}: has {present[0]} without its partner; a test split needs both "
            f"{TEST_KEYS[0]} and {TEST_KEYS[1]}"
        )
    if present:
        source = f"{path} (test_images/test_labels)"
        test = checked_raw(arrays["test_images"], arrays["test_labels"], source)
        check_same_image_shape(train, test, source)
    return train, test, _class_names(arrays, path)
