"""The few torch modules a spec needs that torch.nn lacks: Keras-style "same" convolution, global pooling,
locally connected layers, and the merge layers of a graph (add, concat)."""

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


class LocallyConnected2d(nn.Module):
    """A window per output position with weights of its own: conv2d's arithmetic without weight sharing.

    weight: (out_channels, out_h, out_w, in_channels, kh, kw), one conv-style filter per output value;
    bias: (out_channels, out_h, out_w). The output size is fixed when the layer is built (the weights
    are per position), so an input of another size is refused. Padding is (top, bottom, left, right).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: tuple[int, int], stride: tuple[int, int],
                 pad: tuple[int, int, int, int], out_size: tuple[int, int]) -> None:
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.out_size = kernel_size, stride, out_size
        top, bottom, left, right = pad
        self.pad = (left, right, top, bottom)  # F.pad order: last dimension first
        kh, kw = kernel_size
        self.weight = nn.Parameter(torch.empty(out_channels, out_size[0], out_size[1], in_channels, kh, kw))
        self.bias = nn.Parameter(torch.empty(out_channels, out_size[0], out_size[1]))
        # nn.Conv2d's default start (uniform within 1/sqrt(fan in)), for every position's filter alike.
        bound = (in_channels * kh * kw) ** -0.5
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # unfold lists each window as (channel, row, column) values, the order of a filter's weights.
        patches = F.unfold(F.pad(x, self.pad), self.kernel_size, stride=self.stride)  # (N, C*kh*kw, out_h*out_w)
        out_h, out_w = self.out_size
        # Not while ONNX traces: the check would become a constant there (and warn); the shape is fixed anyway.
        if not torch.jit.is_tracing() and patches.shape[2] != out_h * out_w:
            raise ValueError(f"LocallyConnected2d has weights for {out_h}x{out_w} output positions; this input "
                             f"gives {patches.shape[2]} (its height and width differ from the network's input)")
        # One matrix product per position, batched over positions: (P, N, K) @ (P, K, O). Not einsum: with one
        # value per window it lowers to an element-wise product, which FlopCounterMode (the tests' oracle for
        # multiply-adds) does not count.
        n, k, positions = patches.shape
        weight = self.weight.reshape(self.out_channels, positions, k).permute(1, 2, 0)
        out = torch.bmm(patches.permute(2, 0, 1), weight)  # (P, N, O)
        return out.permute(1, 2, 0).reshape(n, self.out_channels, out_h, out_w) + self.bias

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"pad(l,r,t,b)={self.pad}, out_size={self.out_size}")


class Add(nn.Module):
    """The element-wise sum of two or more inputs of one shape (a residual shortcut's join)."""

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        # One input: a graph's children were run one after another as if a chain; say so, not a silent copy.
        if len(inputs) < 2:
            raise ValueError(f"Add joins two or more inputs but was given {len(inputs)}; run the network's forward")
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out


class Concat(nn.Module):
    """Two or more inputs stacked along the channels (or features): dimension 1 of (N, C, H, W) or (N, F)."""

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        if len(inputs) < 2:  # as in Add
            raise ValueError(f"Concat joins two or more inputs but was given {len(inputs)}; run the network's "
                             f"forward")
        return torch.cat(inputs, dim=1)
