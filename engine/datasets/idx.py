"""Read MNIST-style IDX files (optionally gzipped) and IDX dataset directories."""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from engine.datasets.dataset import DatasetError
from engine.datasets.limits import read_bounded
from engine.datasets.raw import RawImages, check_same_image_shape, checked_raw

# IDX type byte -> big-endian numpy dtype (yann.lecun.com/exdb/mnist file format).
IDX_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

# Image sets use 3 (N, H, W), labels 1; numpy allows 64. More means a corrupt header.
MAX_DIMS = 8

# Base names of the four files; each may be .gz, and Windows unpackers often write
# "train-images.idx3-ubyte" (a dot for the second dash).
IDX_PARTS = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def _read_bytes(path: Path) -> bytearray:
    """The file's bytes (un-gzipped when it ends in .gz), refused as soon as they pass the size limit."""
    try:
        with open(path, "rb") as raw:
            if path.suffix != ".gz":
                return read_bounded(raw, path)
            with gzip.GzipFile(fileobj=raw) as stream:
                return read_bounded(stream, path)
    except EOFError:
        raise DatasetError(
            f"{path}: the gzip stream ends early (truncated download?); fetch the file again"
        ) from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise DatasetError(f"{path}: not a valid gzip file ({exc}); fetch the file again") from None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read it ({exc})") from None


def parse_idx(data: bytes | bytearray, source: Path | str) -> np.ndarray:
    """Decode an IDX buffer: magic 00 00 <type> <ndim>, ndim big-endian uint32 dims, data."""
    if len(data) < 4:
        raise DatasetError(f"{source}: only {len(data)} bytes, too short for an IDX header")
    zero0, zero1, type_code, ndim = data[0], data[1], data[2], data[3]
    if zero0 != 0 or zero1 != 0 or type_code not in IDX_TYPES or ndim == 0:
        raise DatasetError(
            f"{source}: bad IDX magic number 0x{data[:4].hex()} (expected 0x0000TTDD with a "
            "known type TT such as 08 for uint8 and DD dimensions); is this an IDX file?"
        )
    if ndim > MAX_DIMS:
        raise DatasetError(
            f"{source}: IDX header claims {ndim} dimensions (at most {MAX_DIMS} supported); "
            "the file is corrupt or not an IDX file"
        )
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise DatasetError(
            f"{source}: truncated IDX header: {ndim} dimensions need {header_len} bytes, "
            f"file has {len(data)}"
        )
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_TYPES[type_code]
    expected = math.prod(dims) * dtype.itemsize  # Python ints: a hostile header cannot overflow
    actual = len(data) - header_len
    if actual < expected:
        raise DatasetError(
            f"{source}: truncated: header says shape {dims} ({expected} data bytes) but only "
            f"{actual} follow; the file is incomplete, fetch it again"
        )
    if actual > expected:
        raise DatasetError(
            f"{source}: {actual - expected} unexpected bytes after the {expected} data bytes "
            f"of shape {dims}; the file is corrupt or not an IDX file"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_len).reshape(dims)
    # Native order and writable; for uint8 (and a writable buffer) a view, so the file's bytes are held once.
    return array.astype(dtype.newbyteorder("="), copy=not isinstance(data, bytearray))


def read_idx_file(path: Path) -> np.ndarray:
    """Read one IDX file (gzipped when its name ends in .gz)."""
    return parse_idx(_read_bytes(path), path)


def find_idx_file(folder: Path, base: str) -> Path | None:
    """The file for `base` in `folder`, in any of its accepted spellings, or None."""
    dotted = base.replace("-idx", ".idx")
    for name in (base, base + ".gz", dotted, dotted + ".gz"):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def is_idx_dir(folder: Path) -> bool:
    return find_idx_file(folder, IDX_PARTS["train_images"]) is not None


def _pair(folder: Path, images_key: str, labels_key: str, required: bool) -> RawImages | None:
    images_path = find_idx_file(folder, IDX_PARTS[images_key])
    labels_path = find_idx_file(folder, IDX_PARTS[labels_key])
    if images_path is None and labels_path is None and not required:
        return None
    if images_path is None or labels_path is None:
        missing = IDX_PARTS[images_key] if images_path is None else IDX_PARTS[labels_key]
        raise DatasetError(
            f"{folder}: {missing} (or {missing}.gz) is missing; an IDX dataset folder needs "
            f"{', '.join(IDX_PARTS.values())}"
        )
    images = read_idx_file(images_path)
    labels = read_idx_file(labels_path)
    if images.ndim != 3:
        raise DatasetError(
            f"{images_path}: image file must have 3 dimensions (N, H, W), got shape {images.shape}"
        )
    if labels.ndim != 1:
        raise DatasetError(
            f"{labels_path}: label file must have 1 dimension (N,), got shape {labels.shape}"
        )
    if images.shape[0] != labels.shape[0]:
        raise DatasetError(
            f"{labels_path}: {labels.shape[0]} labels but {images_path.name} has "
            f"{images.shape[0]} images; the two files do not belong together"
        )
    return checked_raw(images, labels, images_path, labels_path)


def read_idx_dir(folder: Path) -> tuple[RawImages, RawImages | None]:
    """(train, test or None) from a folder of MNIST-style IDX files."""
    train = _pair(folder, "train_images", "train_labels", required=True)
    assert train is not None
    test = _pair(folder, "test_images", "test_labels", required=False)
    if test is not None:
        check_same_image_shape(train, test, folder / IDX_PARTS["test_images"])
    return train, test
