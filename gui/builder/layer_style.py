"""How layers are named and coloured in the builder, and their hyperparameters in one short line."""

from __future__ import annotations

from models.layers import NODE_TYPES, LayerSpec
from models.plural import counted

# One accent per palette group (stripe on the canvas blocks, dot in the palette).
GROUP_COLORS = {
    "Convolution": "#3b82f6",
    "Pooling": "#14b8a6",
    "Dense": "#8b5cf6",
    "Activation": "#f59e0b",
    "Regularisation": "#64748b",
    "Reshape": "#ec4899",
    "Merge": "#0ea5e9",
    "Blocks": "#6366f1",
}
INPUT_COLOR = "#0f172a"


def display_name(key: str) -> str:
    """The spec's display name (PyTorch's spelling); the key itself for something that is not a layer type."""
    cls = NODE_TYPES.get(key)
    return (cls.DISPLAY_NAME or cls.__name__.removesuffix("Spec")) if cls else key


def group_color(key: str) -> str:
    cls = NODE_TYPES.get(key)
    return GROUP_COLORS.get(cls.GROUP, "#64748b") if cls else "#64748b"


def hyperparameter_text(spec: LayerSpec) -> str:
    """The key hyperparameters as on a textbook figure, e.g. '6 @ 5x5, s1, p2' (the spec says them)."""
    return spec.short_text()


def shape_text(shape: tuple[int, ...] | None) -> str:
    return "x".join(map(str, shape)) if shape else "?"


def parameters_text(params: int, frozen: int = 0) -> str:
    """"61,706 parameters", or with hand-set frozen filters "156 parameters (26 frozen)": training moves the rest."""
    return counted(params, "parameter") + (f" ({frozen:,} frozen)" if frozen else "")


def params_text(params: int) -> str:
    if params == 0:
        return "no params"
    return f"{params:,} param" + ("" if params == 1 else "s")
