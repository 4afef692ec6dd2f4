"""The loaded dataset: frozen train/val/test splits of normalised image tensors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from engine.normalization import Normalization


class DatasetError(Exception):
    """A dataset could not be found or read; the message names the file, the problem and the fix."""


class DownloadError(DatasetError):
    """A download or its unpacking failed; the message names the URL or file and what to do."""


@dataclass(frozen=True, eq=False)
class Split:
    """One split: images (N, C, H, W) and int64 labels (N,).

    Held either as the float32 normalised images (`Split(images, labels)`) or, four times smaller, as the
    uint8 pixels they come from with the statistics to normalise them (`Split(pixels, labels, normalization)`).
    Either way `images` gives the float32 normalised images, (p / 255 - mean) / std, computed at each access
    from pixels (no cached copy: that would undo the saving); `pixels` is the uint8 storage or None, which
    the trainer moves to the device and normalises a batch at a time (`normalize_pixels`).
    """

    data: torch.Tensor
    labels: torch.Tensor
    normalization: Normalization | None = None  # given: `data` is uint8 pixels

    def __post_init__(self) -> None:
        kind = torch.float32 if self.normalization is None else torch.uint8
        if self.data.dtype != kind or self.data.ndim != 4:
            raise ValueError(
                f"Split images must be {'float32' if kind == torch.float32 else 'uint8 pixels'} (N, C, H, W), "
                f"got {self.data.dtype} {tuple(self.data.shape)}"
            )
        if self.normalization is not None and self.normalization.channels != self.data.shape[1]:
            raise ValueError(f"Split has {self.data.shape[1]} channels but statistics for "
                             f"{self.normalization.channels}")
        if self.labels.dtype != torch.int64 or self.labels.ndim != 1:
            raise ValueError(f"Split labels must be int64 (N,), got {self.labels.dtype}")
        if self.labels.shape[0] != self.data.shape[0]:
            raise ValueError(
                f"Split has {self.data.shape[0]} images but {self.labels.shape[0]} labels"
            )

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def pixels(self) -> torch.Tensor | None:
        return self.data if self.normalization is not None else None

    @property
    def images(self) -> torch.Tensor:
        if self.normalization is None:
            return self.data
        return normalize_pixels(self.data, self.normalization)

    @property
    def shape(self) -> tuple[int, ...]:
        """(N, C, H, W), without computing the float images."""
        return tuple(self.data.shape)

    def on_device(self, device: torch.device) -> tuple[torch.Tensor, Callable[[torch.Tensor], torch.Tensor]]:
        """The storage moved to `device` (uint8 pixels when held so), and what turns a batch of it (rows picked
        from that storage) into float32 normalised images there."""
        if self.normalization is None:
            return self.data.to(device), _unchanged
        normalization = self.normalization
        return self.data.to(device), lambda batch: normalize_pixels(batch, normalization)

    def images_at(self, index) -> torch.Tensor:
        """The float32 normalised images at `index` (an int, slice or index tensor), computing no others."""
        picked = self.data[index]
        if self.normalization is None:
            return picked
        return normalize_pixels(picked if picked.ndim == 4 else picked.unsqueeze(0), self.normalization
                                ).reshape(picked.shape)


def _unchanged(batch: torch.Tensor) -> torch.Tensor:
    return batch


def normalize_pixels(pixels: torch.Tensor, normalization: Normalization) -> torch.Tensor:
    """uint8 (N, C, H, W) -> float32 (p / 255 - mean) / std, on the pixels' device: the very operations the
    loaders always used, so the numbers are the same as normalising the whole set up front."""
    mean = torch.tensor(normalization.mean, dtype=torch.float32, device=pixels.device).view(1, -1, 1, 1)
    std = torch.tensor(normalization.std, dtype=torch.float32, device=pixels.device).view(1, -1, 1, 1)
    return (pixels.to(torch.float32) / 255.0 - mean) / std


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
        _, c, h, w = self.train.shape
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
