"""One frozen dataclass per layer type and the registry that every other part reads."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar, Union

from models.fields import (BOOL, FLOAT, INT, KERNEL_INIT, OPTIONAL_SIZE, PADDING, POOL_PADDING, SIZE,
                           FieldInfo, field_info, spec_field)

Size = Union[int, tuple[int, int]]
Padding = Union[int, tuple[int, int], str]

_KERNEL = FieldInfo(SIZE, "Kernel size", "Height and width of the window (f).", 1, 64, required=True)
_STRIDE = FieldInfo(SIZE, "Stride", "Step between windows (s).", 1, 64)


@dataclass(frozen=True)
class LayerSpec:
    """Base of all layer specs: `TYPE` is the file-format name, `GROUP` the palette group.

    `DISPLAY_NAME` is PyTorch's spelling (what users search for); `HAS_FILTERS` marks layers whose
    weight is a bank of image filters (drawn as kernels, exported as filter PNGs).
    """

    TYPE: ClassVar[str] = ""
    GROUP: ClassVar[str] = ""
    SUMMARY: ClassVar[str] = ""
    DISPLAY_NAME: ClassVar[str] = ""
    HAS_FILTERS: ClassVar[bool] = False

    def short_text(self) -> str:
        """The key hyperparameters in one line, as on a textbook figure ('' when there are none)."""
        return ""

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
    groups: int = spec_field(1, FieldInfo(INT, "Groups", "Split input and output channels into this many "
                                          "groups, each filter seeing only its group's input channels "
                                          "(1 = ordinary, input channels = depthwise).", 1, 4096))
    init: Union[tuple, None] = spec_field(None, FieldInfo(
        KERNEL_INIT, "Hand-set filters", "One entry per filter: a kernel name (sobel_x, sobel_y, scharr_x, "
        "scharr_y, prewitt_x, prewitt_y, laplacian, box_blur, gaussian_blur, sharpen, identity), numbers "
        "(k x k or in_channels x k x k), or null for the usual random start; filters after the list start "
        "random too.", since_version=2))
    frozen_init: bool = spec_field(False, FieldInfo(BOOL, "Freeze hand-set filters", "Hand-set filters are never "
                                                    "trained (their biases stay 0); off: they are starting values.",
                                                    since_version=2))
    DISPLAY_NAME: ClassVar[str] = "Conv2d"
    HAS_FILTERS: ClassVar[bool] = True

    def short_text(self) -> str:
        text = f"{self.out_channels} @ {size_text(self.kernel_size)}, s{axis_text(self.stride)}"
        padding = self.padding
        text += f", p {padding}" if isinstance(padding, str) else f", p{axis_text(padding)}"
        text += f", g{self.groups}" if self.groups != 1 else ""
        if self.init is not None:
            hand_set = sum(entry is not None for entry in self.init)
            text += f", {hand_set} {'frozen' if self.frozen_init else 'hand-set'}"
        return text + ("" if self.bias else ", no bias")

    def frozen_filters(self) -> tuple[int, ...]:
        """Indices of the filters that training must leave exactly as set."""
        if not self.frozen_init or self.init is None:
            return ()
        return tuple(n for n, entry in enumerate(self.init) if entry is not None)


@dataclass(frozen=True)
class LocallyConnected2dSpec(LayerSpec):
    """conv2d's windows without its weight sharing: every output position has a filter bank of its own."""

    TYPE: ClassVar[str] = "locally_connected2d"
    GROUP: ClassVar[str] = "Convolution"
    SUMMARY: ClassVar[str] = ("Like conv2d, but each output position has weights of its own (nothing is shared), so "
                              "its parameters grow with the output's height x width.")
    DISPLAY_NAME: ClassVar[str] = "LocallyConnected2d"
    out_channels: int = spec_field(1, FieldInfo(INT, "Maps", "Output channels; each position of each has its own "
                                                "weights and bias.", 1, 4096, required=True))
    kernel_size: Size = spec_field(3, _KERNEL)
    stride: Size = spec_field(1, _STRIDE)
    padding: Padding = spec_field(0, FieldInfo(PADDING, "Padding", "Zeros added on each side (p): a number, "
                                               "'valid' (none) or 'same' (output = ceil(n / s)).", 0, 64))

    def short_text(self) -> str:
        padding = self.padding
        pad = f", p {padding}" if isinstance(padding, str) else f", p{axis_text(padding)}"
        return f"{self.out_channels} @ {size_text(self.kernel_size)}, s{axis_text(self.stride)}{pad}, unshared"


@dataclass(frozen=True)
class Pool2dSpec(LayerSpec):
    """Shared fields of windowed pooling; not a layer type itself (max and average are siblings)."""

    GROUP: ClassVar[str] = "Pooling"
    kernel_size: Size = spec_field(2, _KERNEL)
    stride: Union[Size, None] = spec_field(None, FieldInfo(OPTIONAL_SIZE, "Stride",
                                                           "Step between windows; empty = kernel size.", 1, 64))
    padding: Size = spec_field(0, FieldInfo(POOL_PADDING, "Padding", "Padding on each side; at most half the "
                                            "kernel.", 0, 32))

    def short_text(self) -> str:
        stride = self.stride if self.stride is not None else self.kernel_size
        text = f"{size_text(self.kernel_size)}, s{axis_text(stride)}"
        return text + (f", p{axis_text(self.padding)}" if pair(self.padding) != (0, 0) else "")


@dataclass(frozen=True)
class MaxPool2dSpec(Pool2dSpec):
    TYPE: ClassVar[str] = "maxpool2d"
    SUMMARY: ClassVar[str] = "Keeps the largest value of each window, shrinking height and width."
    DISPLAY_NAME: ClassVar[str] = "MaxPool2d"


@dataclass(frozen=True)
class AvgPool2dSpec(Pool2dSpec):
    TYPE: ClassVar[str] = "avgpool2d"
    SUMMARY: ClassVar[str] = "Averages each window, shrinking height and width."
    DISPLAY_NAME: ClassVar[str] = "AvgPool2d"


@dataclass(frozen=True)
class GlobalAvgPool2dSpec(LayerSpec):
    TYPE: ClassVar[str] = "global_avgpool2d"
    GROUP: ClassVar[str] = "Pooling"
    SUMMARY: ClassVar[str] = "Averages each whole channel to one number: (C, H, W) becomes (C)."
    DISPLAY_NAME: ClassVar[str] = "GlobalAvgPool2d"


@dataclass(frozen=True)
class FlattenSpec(LayerSpec):
    TYPE: ClassVar[str] = "flatten"
    GROUP: ClassVar[str] = "Reshape"
    SUMMARY: ClassVar[str] = "Unrolls (C, H, W) into one vector of C*H*W numbers for dense layers."
    DISPLAY_NAME: ClassVar[str] = "Flatten"


@dataclass(frozen=True)
class LinearSpec(LayerSpec):
    TYPE: ClassVar[str] = "linear"
    GROUP: ClassVar[str] = "Dense"
    SUMMARY: ClassVar[str] = "Fully connected: every output is a weighted sum of every input."
    DISPLAY_NAME: ClassVar[str] = "Linear"
    out_features: int = spec_field(10, FieldInfo(INT, "Units", "Number of outputs.", 1, 65536, required=True))
    bias: bool = spec_field(True, FieldInfo(BOOL, "Bias", "Add one learned bias per output."))

    def short_text(self) -> str:
        return f"{self.out_features} units" + ("" if self.bias else ", no bias")


@dataclass(frozen=True)
class DropoutSpec(LayerSpec):
    TYPE: ClassVar[str] = "dropout"
    GROUP: ClassVar[str] = "Regularisation"
    SUMMARY: ClassVar[str] = "During training, zeroes each value with probability p (and rescales the rest)."
    DISPLAY_NAME: ClassVar[str] = "Dropout"
    p: float = spec_field(0.5, FieldInfo(FLOAT, "Drop probability", "Chance that a value is zeroed.", 0, 1))

    def short_text(self) -> str:
        return f"p = {self.p:g}"


@dataclass(frozen=True)
class BatchNorm2dSpec(LayerSpec):
    TYPE: ClassVar[str] = "batchnorm2d"
    GROUP: ClassVar[str] = "Regularisation"
    SUMMARY: ClassVar[str] = "Normalises each channel over the batch, then scales and shifts it (2 params per channel)."
    DISPLAY_NAME: ClassVar[str] = "BatchNorm2d"


@dataclass(frozen=True)
class ReluSpec(LayerSpec):
    TYPE: ClassVar[str] = "relu"
    GROUP: ClassVar[str] = "Activation"
    SUMMARY: ClassVar[str] = "max(0, x): keeps positives, zeroes negatives."
    DISPLAY_NAME: ClassVar[str] = "ReLU"


@dataclass(frozen=True)
class LeakyReluSpec(LayerSpec):
    TYPE: ClassVar[str] = "leaky_relu"
    GROUP: ClassVar[str] = "Activation"
    SUMMARY: ClassVar[str] = "Like ReLU, but negatives are multiplied by a small slope instead of zeroed."
    DISPLAY_NAME: ClassVar[str] = "LeakyReLU"
    negative_slope: float = spec_field(0.01, FieldInfo(FLOAT, "Negative slope", "Slope for x < 0.", 0, 1))

    def short_text(self) -> str:
        return f"slope {self.negative_slope:g}"


@dataclass(frozen=True)
class EluSpec(LayerSpec):
    TYPE: ClassVar[str] = "elu"
    GROUP: ClassVar[str] = "Activation"
    SUMMARY: ClassVar[str] = "x for x > 0, alpha*(exp(x) - 1) below: a smooth ReLU."
    DISPLAY_NAME: ClassVar[str] = "ELU"
    alpha: float = spec_field(1.0, FieldInfo(FLOAT, "Alpha", "Value approached for large negative x.", 0, 10))

    def short_text(self) -> str:
        return f"alpha {self.alpha:g}"


@dataclass(frozen=True)
class SigmoidSpec(LayerSpec):
    TYPE: ClassVar[str] = "sigmoid"
    GROUP: ClassVar[str] = "Activation"
    SUMMARY: ClassVar[str] = "Squashes each value into (0, 1)."
    DISPLAY_NAME: ClassVar[str] = "Sigmoid"


@dataclass(frozen=True)
class TanhSpec(LayerSpec):
    TYPE: ClassVar[str] = "tanh"
    GROUP: ClassVar[str] = "Activation"
    SUMMARY: ClassVar[str] = "Squashes each value into (-1, 1)."
    DISPLAY_NAME: ClassVar[str] = "Tanh"


@dataclass(frozen=True)
class SoftmaxSpec(LayerSpec):
    TYPE: ClassVar[str] = "softmax"
    GROUP: ClassVar[str] = "Activation"
    SUMMARY: ClassVar[str] = "Turns the last layer's scores into class probabilities that sum to 1."
    DISPLAY_NAME: ClassVar[str] = "Softmax"


@dataclass(frozen=True)
class MergeSpec(LayerSpec):
    """Shared base of the layers that join two or more inputs (a graph's merge points); not a type itself."""

    GROUP: ClassVar[str] = "Merge"


@dataclass(frozen=True)
class AddSpec(MergeSpec):
    TYPE: ClassVar[str] = "add"
    SUMMARY: ClassVar[str] = ("Adds its inputs element by element (a residual shortcut); their shapes must be "
                              "equal.")
    DISPLAY_NAME: ClassVar[str] = "Add"


@dataclass(frozen=True)
class ConcatSpec(MergeSpec):
    TYPE: ClassVar[str] = "concat"
    SUMMARY: ClassVar[str] = ("Stacks its inputs' channels (or features) one after another; heights and widths "
                              "must be equal.")
    DISPLAY_NAME: ClassVar[str] = "Concat"


LAYER_TYPES: dict[str, type[LayerSpec]] = {cls.TYPE: cls for cls in (
    Conv2dSpec, LocallyConnected2dSpec, MaxPool2dSpec, AvgPool2dSpec, GlobalAvgPool2dSpec, FlattenSpec, LinearSpec,
    DropoutSpec, BatchNorm2dSpec, ReluSpec, LeakyReluSpec, EluSpec, SigmoidSpec, TanhSpec, SoftmaxSpec)}

# Layers that read several inputs. Kept apart from LAYER_TYPES until the palette, the canvas and the receptive
# field rules handle graphs; the file format, the shape rules and the builder read both (NODE_TYPES).
MERGE_TYPES: dict[str, type[LayerSpec]] = {cls.TYPE: cls for cls in (AddSpec, ConcatSpec)}
NODE_TYPES: dict[str, type[LayerSpec]] = {**LAYER_TYPES, **MERGE_TYPES}

# Palette order.
GROUPS: tuple[str, ...] = ("Convolution", "Pooling", "Dense", "Activation", "Regularisation", "Reshape")
ACTIVATIONS: tuple[str, ...] = tuple(t for t, c in LAYER_TYPES.items() if c.GROUP == "Activation")


def pair(value: Size) -> tuple[int, int]:
    """(h, w) from an int or a pair."""
    if isinstance(value, (tuple, list)):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def size_text(value: Size) -> str:
    """5 -> '5x5', (3, 5) -> '3x5'."""
    h, w = pair(value)
    return f"{h}x{w}"


def axis_text(value: Padding) -> str:
    """A stride or padding as one number when square: 2 -> '2', (1, 2) -> '1x2'."""
    if isinstance(value, str):
        return value
    h, w = pair(value)
    return str(h) if h == w else f"{h}x{w}"


def is_merge(spec: LayerSpec) -> bool:
    """Whether `spec` joins several inputs (add, concat) rather than transforming one."""
    return isinstance(spec, MergeSpec)


def has_filters(layer_type: str) -> bool:
    """Whether a layer type's weight is a bank of image filters: the one place that decides "is a conv layer"."""
    cls = LAYER_TYPES.get(layer_type)
    return cls is not None and cls.HAS_FILTERS


class UnsupportedLayerError(TypeError):
    """A registry keyed by spec class has no entry for a layer type: a programming error, said plainly."""

    def __init__(self, what: str, cls: type, where: str) -> None:
        super().__init__(f"no {what} for layer type {getattr(cls, 'TYPE', '') or '?'!r} ({cls.__name__}); "
                         f"register one in {where}")


def registered(registry: dict, spec_class: type, what: str, where: str):
    """The entry of `registry` for exactly `spec_class` (no subclass fall-through), or UnsupportedLayerError."""
    try:
        return registry[spec_class]
    except KeyError:
        raise UnsupportedLayerError(what, spec_class, where) from None
