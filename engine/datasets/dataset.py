"""The loaded dataset: frozen train/val/test splits of normalised image tensors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from engine.normalization import Normalization


class DatasetError(Exception):
    """A dataset could not be found or read; the message names the file, the problem and the fix."""


class DownloadError(DatasetError):
    """A download or its unpacking failed; the message names the URL or file and what to do."""


@dataclass(frozen=True, eq=False)
class Split:
    """One split: float32 images (N, C, H, W), normalised, and int64 labels (N,)."""

    images: torch.Tensor
    labels: torch.Tensor

    def __post_init__(self) -> None:
        if self.images.dtype != torch.float32 or self.images.ndim != 4:
            raise ValueError(
                f"Split images must be float32 (N, C, H, W), got {self.images.dtype} "
                f"{tuple(self.images.shape)}"
            )
        if self.labels.dtype != torch.int64 or self.labels.ndim != 1:
            raise ValueError(f"Split labels must be int64 (N,), got {self.labels.dtype}")
        if self.labels.shape[0] != self.images.shape[0]:
            raise ValueError(
                f"Split has {self.images.shape[0]} images but {self.labels.shape[0]} labels"
            )

    def __len__(self) -> int:
        return int(self.labels.shape[0])


@dataclass(frozen=True, eq=False)
class Dataset:
    """A dataset ready for training; mean/std are per channel in [0, 1] pixel units."""

    name: str
    class_names: tuple[str, ...]
    train: Split
    val: Split
    test: Split | None
    mean: tuple[float, ...]
    std: tuple[float, ...]

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        _, c, h, w = self.train.images.shape
        return (int(c), int(h), int(w))

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def normalization(self) -> Normalization:
        """The statistics every split was normalised with (what a network trained here expects)."""
        return Normalization(self.mean, self.std)

    def to_uint8(self, images: torch.Tensor | np.ndarray) -> np.ndarray:
        """Undo the normalisation: (N, C, H, W) -> uint8 (N, H, W, C); (C, H, W) -> (H, W, C)."""
        if isinstance(images, torch.Tensor):
            array = images.detach().cpu().numpy()
        else:
            array = np.asarray(images)
        single = array.ndim == 3
        if single:
            array = array[np.newaxis]
        if array.ndim != 4 or array.shape[1] != len(self.mean):
            raise ValueError(
                f"to_uint8 expects (N, {len(self.mean)}, H, W) or ({len(self.mean)}, H, W), "
                f"got {array.shape}"
            )
        mean = np.asarray(self.mean, dtype=np.float32).reshape(1, -1, 1, 1)
        std = np.asarray(self.std, dtype=np.float32).reshape(1, -1, 1, 1)
        pixels = (array.astype(np.float32) * std + mean) * 255.0
        out = np.clip(np.rint(pixels), 0, 255).astype(np.uint8).transpose(0, 2, 3, 1)
        out = np.ascontiguousarray(out)
        return out[0] if single else out
