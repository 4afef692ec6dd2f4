"""The input normalisation a network was trained with, stored beside its weights and applied inside exports.

A network sees `(pixel - mean) / std` per channel, where pixel is in [0, 1] and mean/std are those of the
training split. Those figures belong to the trained weights as much as the weights do: they are written to
the run's and the project's settings.json as `"normalization": {"mean": [...], "std": [...]}`, used by
`evaluate` for any other dataset, and folded into TorchScript / ONNX / Python exports so that those take
plain [0, 1] pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

KEY = "normalization"
MAX_CHANNELS = 64  # far more than any image has; a longer list is a damaged file


class NormalizationError(ValueError):
    """Stored statistics that cannot be used; the message says which value is wrong."""


@dataclass(frozen=True)
class Normalization:
    """Per-channel mean and std on the [0, 1] pixel scale."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    def __post_init__(self) -> None:
        if not 1 <= len(self.mean) <= MAX_CHANNELS or len(self.std) != len(self.mean):
            raise NormalizationError(f"mean and std need one value per channel (1 to {MAX_CHANNELS}), got "
                                     f"{len(self.mean)} and {len(self.std)}")
        for name, values in (("mean", self.mean), ("std", self.std)):
            for value in values:
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                    raise NormalizationError(f"{name} values must be finite numbers, got {value!r}")
        if any(s <= 0 for s in self.std):
            raise NormalizationError(f"std values must be positive, got {list(self.std)}")

    @property
    def channels(self) -> int:
        return len(self.mean)

    def to_json(self) -> dict[str, list[float]]:
        return {"mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_json(cls, data: Any) -> "Normalization":
        if not isinstance(data, dict) or set(data) != {"mean", "std"}:
            raise NormalizationError('"normalization" must be {"mean": [...], "std": [...]}')
        mean, std = data["mean"], data["std"]
        if not isinstance(mean, list) or not isinstance(std, list):
            raise NormalizationError('"normalization" mean and std must be lists of numbers')
        try:
            return cls(tuple(float(v) if _number(v) else v for v in mean),
                       tuple(float(v) if _number(v) else v for v in std))
        except OverflowError:  # an integer too large for a float
            raise NormalizationError("normalization values must be finite numbers") from None

    def apply(self, pixels: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) pixels in [0, 1] -> what the network was trained on."""
        mean, std = self._tensors(pixels.device)
        return (pixels - mean) / std

    def undo(self, images: torch.Tensor) -> torch.Tensor:
        """The inverse of `apply`: normalised images back to [0, 1] pixels (not clamped)."""
        mean, std = self._tensors(images.device)
        return images * std + mean

    def _tensors(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        shape = (1, self.channels, 1, 1)
        return (torch.tensor(self.mean, dtype=torch.float32, device=device).view(shape),
                torch.tensor(self.std, dtype=torch.float32, device=device).view(shape))

    def metadata(self) -> dict[str, str]:
        """`convscope.mean` / `convscope.std` for ONNX and safetensors metadata (string values, JSON lists)."""
        return {"convscope.mean": _list_text(self.mean), "convscope.std": _list_text(self.std)}


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _list_text(values: tuple[float, ...]) -> str:
    return "[" + ", ".join(repr(float(v)) for v in values) + "]"


class PixelInput(nn.Module):
    """A network that takes [0, 1] pixels: normalises with the training statistics, then runs `network`.

    mean/std are non-persistent buffers: they travel inside TorchScript and ONNX, but add no state-dict
    keys, so the network's weights files stay exactly as they are.
    """

    def __init__(self, network: nn.Module, normalization: Normalization) -> None:
        super().__init__()
        self.network = network
        mean, std = normalization._tensors(torch.device("cpu"))
        self.register_buffer("mean", mean, persistent=False)
        self.register_buffer("std", std, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network((x - self.mean) / self.std)


def split_settings(data: Any) -> tuple[Any, Normalization | None]:
    """A settings.json object -> (the training settings without the statistics, the statistics or None)."""
    if not isinstance(data, dict) or KEY not in data:
        return data, None
    rest = {k: v for k, v in data.items() if k != KEY}
    return rest, Normalization.from_json(data[KEY])


def join_settings(settings: dict[str, Any], normalization: Normalization | None) -> dict[str, Any]:
    """The training settings with the statistics added (when known), as settings.json holds them."""
    return settings if normalization is None else {**settings, KEY: normalization.to_json()}
