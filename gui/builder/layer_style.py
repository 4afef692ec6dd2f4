"""How layers are named and coloured in the builder, and their hyperparameters in one short line."""

from __future__ import annotations

from models.layers import (Conv2dSpec, DropoutSpec, EluSpec, LAYER_TYPES, LayerSpec, LeakyReluSpec, LinearSpec,
                           MaxPool2dSpec, pair)

# PyTorch's spelling, which is what users search for.
_DISPLAY_NAMES = {
    "conv2d": "Conv2d", "maxpool2d": "MaxPool2d", "avgpool2d": "AvgPool2d",
    "global_avgpool2d": "GlobalAvgPool2d", "flatten": "Flatten", "linear": "Linear", "dropout": "Dropout",
    "batchnorm2d": "BatchNorm2d", "relu": "ReLU", "leaky_relu": "LeakyReLU", "elu": "ELU",
    "sigmoid": "Sigmoid", "tanh": "Tanh", "softmax": "Softmax",
}

# One accent per palette group (stripe on the canvas blocks, dot in the palette).
GROUP_COLORS = {
    "Convolution": "#3b82f6",
    "Pooling": "#14b8a6",
    "Dense": "#8b5cf6",
    "Activation": "#f59e0b",
    "Regularisation": "#64748b",
    "Reshape": "#ec4899",
}
INPUT_COLOR = "#0f172a"


def display_name(key: str) -> str:
    return _DISPLAY_NAMES.get(key, LAYER_TYPES[key].__name__.removesuffix("Spec") if key in LAYER_TYPES else key)


def group_color(key: str) -> str:
    cls = LAYER_TYPES.get(key)
    return GROUP_COLORS.get(cls.GROUP, "#64748b") if cls else "#64748b"


def size_text(value: object) -> str:
    """5 -> '5x5', (3, 5) -> '3x5'."""
    h, w = pair(value)  # type: ignore[arg-type]
    return f"{h}x{w}"


def _axis_text(value: object) -> str:
    """A stride or padding as one number when square: 2 -> '2', (1, 2) -> '1x2'."""
    if isinstance(value, str):
        return value
    h, w = pair(value)  # type: ignore[arg-type]
    return str(h) if h == w else f"{h}x{w}"


def hyperparameter_text(spec: LayerSpec) -> str:
    """The key hyperparameters as on a textbook figure, e.g. '6 @ 5x5, s1, p2'."""
    if isinstance(spec, Conv2dSpec):
        text = f"{spec.out_channels} @ {size_text(spec.kernel_size)}, s{_axis_text(spec.stride)}"
        padding = spec.padding
        text += f", p {padding}" if isinstance(padding, str) else f", p{_axis_text(padding)}"
        return text + ("" if spec.bias else ", no bias")
    if isinstance(spec, MaxPool2dSpec):  # also average pooling
        stride = spec.stride if spec.stride is not None else spec.kernel_size
        text = f"{size_text(spec.kernel_size)}, s{_axis_text(stride)}"
        return text + (f", p{_axis_text(spec.padding)}" if pair(spec.padding) != (0, 0) else "")
    if isinstance(spec, LinearSpec):
        return f"{spec.out_features} units" + ("" if spec.bias else ", no bias")
    if isinstance(spec, DropoutSpec):
        return f"p = {spec.p:g}"
    if isinstance(spec, LeakyReluSpec):
        return f"slope {spec.negative_slope:g}"
    if isinstance(spec, EluSpec):
        return f"alpha {spec.alpha:g}"
    return ""


def shape_text(shape: tuple[int, ...] | None) -> str:
    return "x".join(map(str, shape)) if shape else "?"


def params_text(params: int) -> str:
    if params == 0:
        return "no params"
    return f"{params:,} param" + ("" if params == 1 else "s")
