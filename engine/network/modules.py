"""The few torch modules a spec needs that torch.nn lacks: Keras-style "same" convolution, global pooling."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class PaddedConv2d(nn.Conv2d):
    """Conv2d with explicit, possibly asymmetric zero padding (top, bottom, left, right).

    Keras-style "same" padding with stride > 1 or an even kernel needs one more zero after than
    before; torch's own padding="same" refuses stride > 1. The parameters (and so the state dict
    keys `weight`, `bias`) are exactly those of nn.Conv2d.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: tuple[int, int],
                 stride: tuple[int, int], pad: tuple[int, int, int, int], groups: int = 1,
                 bias: bool = True) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding=0, groups=groups, bias=bias)
        top, bottom, left, right = pad
        self.pad = (left, right, top, bottom)  # F.pad order: last dimension first

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(F.pad(x, self.pad), self.weight, self.bias)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", pad(l,r,t,b)={self.pad}"


class GlobalAvgPool2d(nn.Module):
    """Mean over height and width: (N, C, H, W) -> (N, C)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3))
