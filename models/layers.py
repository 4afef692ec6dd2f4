"""One frozen dataclass per layer type and the registry that every other part reads."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar, Union

from models.fields import (BOOL, FLOAT, INT, OPTIONAL_SIZE, PADDING, POOL_PADDING, SIZE,
                           FieldInfo, field_info, spec_field)

Size = Union[int, tuple[int, int]]
Padding = Union[int, tuple[int, int], str]

_KERNEL = FieldInfo(SIZE, "Kernel size", "Height and width of the window (f).", 1, 64, required=True)
_STRIDE = FieldInfo(SIZE, "Stride", "Step between windows (s).", 1, 64)


@dataclass(frozen=True)
class LayerSpec:
    """Base of all layer specs: `TYPE` is the file-format name, `GROUP` the palette group."""

    TYPE: ClassVar[str] = ""
    GROUP: ClassVar[str] = ""
    SUMMARY: ClassVar[str] = ""

    def fields(self) -> dict[str, FieldInfo]:
        return {f.name: field_info(f) for f in dataclasses.fields(self)}

    def values(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def replace(self, **changes: object) -> "LayerSpec":
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Conv2dSpec(LayerSpec):
    TYPE: ClassVar[str] = "conv2d"
    GROUP: ClassVar[str] = "Convolution"
    SUMMARY: ClassVar[str] = "Slides learned filters over the input; each filter makes one output channel."
    out_channels: int = spec_field(8, FieldInfo(INT, "Filters", "Number of filters = output channels.", 1, 4096,
                                                required=True))
    kernel_size: Size = spec_field(3, _KERNEL)
    stride: Size = spec_field(1, _STRIDE)
    padding: Padding = spec_field(0, FieldInfo(PADDING, "Padding", "Zeros added on each side (p): a number, "
                                               "'valid' (none) or 'same' (output = ceil(n / s)).", 0, 64))
    bias: bool = spec_field(True, FieldInfo(BOOL, "Bias", "Add one learned bias per filter."))


@dataclass(frozen=True)
class MaxPool2dSpec(LayerSpec):
    TYPE: ClassVar[str] = "maxpool2d"
    GROUP: ClassVar[str] = "Pooling"
    SUMMARY: ClassVar[str] = "Keeps the largest value of each window, shrinking height and width."
    kernel_size: Size = spec_field(2, _KERNEL)
    stride: Union[Size, None] = spec_field(None, FieldInfo(OPTIONAL_SIZE, "Stride",
                                                           "Step between windows; empty = kernel size.", 1, 64))
    padding: Size = spec_field(0, FieldInfo(POOL_PADDING, "Padding", "Padding on each side; at most half the "
                                            "kernel.", 0, 32))


@dataclass(frozen=True)
class AvgPool2dSpec(MaxPool2dSpec):
    TYPE: ClassVar[str] = "avgpool2d"
    SUMMARY: ClassVar[str] = "Averages each window, shrinking height and width."


@dataclass(frozen=True)
class GlobalAvgPool2dSpec(LayerSpec):
    TYPE: ClassVar[str] = "global_avgpool2d"
    GROUP: ClassVar[str] = "Pooling"
    SUMMARY: ClassVar[str] = "Averages each whole channel to one number: (C, H, W) becomes (C)."


@dataclass(frozen=True)
class FlattenSpec(LayerSpec):
    TYPE: ClassVar[str] = "flatten"
    GROUP: ClassVar[str] = "Reshape"
    SUMMARY: ClassVar[str] = "Unrolls (C, H, W) into one vector of C*H*W numbers for dense layers."


@dataclass(frozen=True)
class LinearSpec(LayerSpec):
    TYPE: ClassVar[str] = "linear"
    GROUP: ClassVar[str] = "Dense"
    SUMMARY: ClassVar[str] = "Fully connected: every output is a weighted sum of every input."
    out_features: int = spec_field(10, FieldInfo(INT, "Units", "Number of outputs.", 1, 65536, required=True))
    bias: bool = spec_field(True, FieldInfo(BOOL, "Bias", "Add one learned bias per output."))


@dataclass(frozen=True)
class DropoutSpec(LayerSpec):
    TYPE: ClassVar[str] = "dropout"
    GROUP: ClassVar[str] = "Regularisation"
    SUMMARY: ClassVar[str] = "During training, zeroes each value with probability p (and rescales the rest)."
    p: float = spec_field(0.5, FieldInfo(FLOAT, "Drop probability", "Chance that a value is zeroed.", 0, 1))


@dataclass(frozen=True)
class BatchNorm2dSpec(LayerSpec):
    TYPE: ClassVar[str] = "batchnorm2d"
    GROUP: ClassVar[str] = "Regularisation"
    SUMMARY: ClassVar[str] = "Normalises each channel over the batch, then scales and shifts it (2 params per channel)."


@dataclass(frozen=True)
class ReluSpec(LayerSpec):
    TYPE: ClassVar[str] = "relu"
    GROUP: ClassVar[str] = "Activation"
    SUMMARY: ClassVar[str] = "max(0, x): keeps positives, zeroes negatives."


@dataclass(frozen=True)
class LeakyReluSpec(LayerSpec):
    TYPE: ClassVar[str] = "leaky_relu"
    GROUP: ClassVar[str] = "Activation"
    SUMMARY: ClassVar[str] = "Like ReLU, but negatives are multiplied by a small slope instead of zeroed."
    negative_slope: float = spec_field(0.01, FieldInfo(FLOAT, "Negative slope", "Slope for x < 0.", 0, 1))


@dataclass(frozen=True)
class EluSpec(LayerSpec):
    TYPE: ClassVar[str] = "elu"
    GROUP: ClassVar[str] = "Activation"
    SUMMARY: ClassVar[str] = "x for x > 0, alpha*(exp(x) - 1) below: a smooth ReLU."
    alpha: float = spec_field(1.0, FieldInfo(FLOAT, "Alpha", "Value approached for large negative x.", 0, 10))


@dataclass(frozen=True)
class SigmoidSpec(LayerSpec):
    TYPE: ClassVar[str] = "sigmoid"
    GROUP: ClassVar[str] = "Activation"
    SUMMARY: ClassVar[str] = "Squashes each value into (0, 1)."


@dataclass(frozen=True)
class TanhSpec(LayerSpec):
    TYPE: ClassVar[str] = "tanh"
    GROUP: ClassVar[str] = "Activation"
    SUMMARY: ClassVar[str] = "Squashes each value into (-1, 1)."


@dataclass(frozen=True)
class SoftmaxSpec(LayerSpec):
    TYPE: ClassVar[str] = "softmax"
    GROUP: ClassVar[str] = "Activation"
    SUMMARY: ClassVar[str] = "Turns the last layer's scores into class probabilities that sum to 1."


LAYER_TYPES: dict[str, type[LayerSpec]] = {cls.TYPE: cls for cls in (
    Conv2dSpec, MaxPool2dSpec, AvgPool2dSpec, GlobalAvgPool2dSpec, FlattenSpec, LinearSpec,
    DropoutSpec, BatchNorm2dSpec, ReluSpec, LeakyReluSpec, EluSpec, SigmoidSpec, TanhSpec, SoftmaxSpec)}

# Palette order.
GROUPS: tuple[str, ...] = ("Convolution", "Pooling", "Dense", "Activation", "Regularisation", "Reshape")
ACTIVATIONS: tuple[str, ...] = tuple(t for t, c in LAYER_TYPES.items() if c.GROUP == "Activation")


def pair(value: Size) -> tuple[int, int]:
    """(h, w) from an int or a pair."""
    if isinstance(value, (tuple, list)):
        return int(value[0]), int(value[1])
    return int(value), int(value)
