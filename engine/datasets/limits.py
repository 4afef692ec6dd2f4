"""Size limits for dataset files from strangers, checked while reading (so a bomb is refused before it grows)."""

from __future__ import annotations

import os

from engine.datasets.dataset import DatasetError

MAX_CLASSES = 10_000  # labels are class indices 0..MAX_CLASSES-1
DEFAULT_MAX_BYTES = 512 << 20  # decompressed bytes of one dataset file (CIFAR-10's train set is 150 MB)
MAX_BYTES_VARIABLE = "CONVSCOPE_MAX_DATASET_BYTES"


def max_bytes() -> int:
    """The decompressed-size limit of one dataset file; $CONVSCOPE_MAX_DATASET_BYTES raises or lowers it."""
    text = os.environ.get(MAX_BYTES_VARIABLE, "")
    if text.strip().isdigit() and len(text.strip()) < 19:
        return int(text)
    return DEFAULT_MAX_BYTES


def too_large(source: object, size: int | None = None) -> DatasetError:
    """The error for a file over the limit, saying which limit and how to raise it."""
    what = f"{size:,} bytes" if size is not None else "more bytes"
    return DatasetError(
        f"{source}: unpacks to {what}, over the {max_bytes():,}-byte limit for one dataset file "
        f"(a damaged file or a decompression bomb); if the data is genuine, raise the limit with "
        f"{MAX_BYTES_VARIABLE}=BYTES"
    )


def read_bounded(stream, source: object) -> bytearray:
    """All of `stream` (a file or decompressor) in one growing buffer, refused as soon as it passes max_bytes()."""
    limit = max_bytes()
    buf = bytearray()
    while True:
        chunk = stream.read(min(1 << 20, limit + 1 - len(buf)))
        if not chunk:
            return buf
        buf += chunk
        if len(buf) > limit:
            raise too_large(source)
