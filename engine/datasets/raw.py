"""Raw uint8 images and labels as read from disk, with the checks every loader shares."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.datasets.dataset import DatasetError
from engine.datasets.limits import MAX_CLASSES
from models.safe_text import clean, shorten

# Channels a loaded image may have: grayscale or RGB (an alpha channel has no meaning here).
ALLOWED_CHANNELS = (1, 3)


@dataclass(frozen=True, eq=False)
class RawImages:
    """uint8 images (N, H, W, C) and int64 labels (N,), not yet split or normalised."""

    images: np.ndarray
    labels: np.ndarray
    # Where the labels came from, for out-of-range messages.
    labels_source: Path | str = ""

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def checked_raw(
    images: object, labels: object, source: Path | str, labels_source: Path | str | None = None
) -> RawImages:
    """Validate arrays read from `source` and return them as RawImages (images NHWC)."""
    labels_source = source if labels_source is None else labels_source
    if not isinstance(images, np.ndarray) or not isinstance(labels, np.ndarray):
        raise DatasetError(f"{source}: images and labels must be arrays")
    if images.dtype != np.uint8:
        raise DatasetError(
            f"{source}: images must be uint8 pixels 0-255, got dtype {images.dtype}; "
            "convert them with images.astype(np.uint8) (scaling floats in [0, 1] by 255 first)"
        )
    if images.ndim == 3:
        images = images[..., np.newaxis]
    if images.ndim != 4:
        raise DatasetError(
            f"{source}: images must have shape (N, H, W) or (N, H, W, C), got {images.shape}"
        )
    if images.shape[3] not in ALLOWED_CHANNELS:
        raise DatasetError(
            f"{source}: images have {images.shape[3]} channels in the last axis "
            f"(shape {images.shape}); expected 1 (grayscale) or 3 (RGB), channels last"
        )
    if images.shape[1] == 0 or images.shape[2] == 0:
        raise DatasetError(f"{source}: images have an empty height or width {images.shape}")
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise DatasetError(
            f"{labels_source}: labels must be a 1-D integer array, got dtype {labels.dtype} "
            f"shape {labels.shape}"
        )
    if images.shape[0] != labels.shape[0]:
        raise DatasetError(
            f"{source}: {images.shape[0]} images but {labels.shape[0]} labels; "
            "each image needs exactly one label"
        )
    if images.shape[0] == 0:
        raise DatasetError(f"{source}: contains no images")
    if labels.min() < 0:
        raise DatasetError(
            f"{labels_source}: label {int(labels.min())} is negative; "
            "labels are class indices 0..K-1"
        )
    # Checked before the int64 cast: a uint64 label past 2**63 would wrap to a negative index.
    if int(labels.max()) >= MAX_CLASSES:
        raise DatasetError(
            f"{labels_source}: label {int(labels.max())} is out of range; labels are class "
            f"indices 0..K-1 with at most {MAX_CLASSES:,} classes"
        )
    return RawImages(np.ascontiguousarray(images), labels.astype(np.int64), labels_source)


def resolve_class_names(
    names: Sequence[str] | None, parts: Sequence[RawImages | None]
) -> tuple[str, ...]:
    """Class names for labelled parts: `names` checked against the labels, else "0".."K-1"."""
    present = [raw for raw in parts if raw is not None]
    if names is None:
        highest = max(int(raw.labels.max()) for raw in present)
        return tuple(str(i) for i in range(highest + 1))
    if not 0 < len(names) <= MAX_CLASSES:
        raise DatasetError(f"{present[0].labels_source}: {len(names):,} class names; a dataset has 1 to "
                           f"{MAX_CLASSES:,} classes")
    # Names are shown in the window and printed by the CLI: no terminal escapes or lone surrogates.
    names = tuple(clean(str(n)[:200]) for n in names)
    for raw in present:
        top = int(raw.labels.max())
        if top >= len(names):
            raise DatasetError(
                f"{raw.labels_source}: label {top} is out of range for {len(names)} classes "
                f"({', '.join(shorten(n, 20) for n in names[:12])}{', ...' if len(names) > 12 else ''}); "
                "labels must be 0..K-1"
            )
    return names


def check_same_image_shape(train: RawImages, test: RawImages, test_source: Path | str) -> None:
    """A test split must have the train split's (H, W, C)."""
    if train.images.shape[1:] != test.images.shape[1:]:
        raise DatasetError(
            f"{test_source}: test images are {test.images.shape[1:]} (H, W, C) but train "
            f"images are {train.images.shape[1:]}; both splits need one image size"
        )
