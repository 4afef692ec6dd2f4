"""The residual block of He et al. (2016) as layers and their wiring, ready for models.graph_edits.with_block."""

from __future__ import annotations

from models.layers import AddSpec, BatchNorm2dSpec, Conv2dSpec, LayerSpec, ReluSpec


def residual_block(in_channels: int, out_channels: int | None = None, stride: int = 1
                   ) -> tuple[tuple[LayerSpec, ...], tuple[tuple[int, ...], ...]]:
    """conv-bn-relu-conv-bn on the main path, the block's input on the shortcut, add, relu. When the shape changes
    (a stride or another channel count) the shortcut is a 1x1 conv with that stride and a batch norm (the
    projection shortcut, option B of the paper); the convolutions have no bias, as a batch norm follows each.

    Returns (layers, inputs): per layer the block layers it reads, 1-based, 0 = the block's input."""
    out = out_channels or in_channels
    main = (Conv2dSpec(out_channels=out, kernel_size=3, stride=stride, padding=1, bias=False), BatchNorm2dSpec(),
            ReluSpec(), Conv2dSpec(out_channels=out, kernel_size=3, stride=1, padding=1, bias=False), BatchNorm2dSpec())
    wiring: list[tuple[int, ...]] = [(0,), (1,), (2,), (3,), (4,)]
    shortcut = 0
    layers: list[LayerSpec] = list(main)
    if stride != 1 or out != in_channels:
        layers += [Conv2dSpec(out_channels=out, kernel_size=1, stride=stride, padding=0, bias=False), BatchNorm2dSpec()]
        wiring += [(0,), (6,)]
        shortcut = 7
    layers += [AddSpec(), ReluSpec()]
    wiring += [(5, shortcut), (len(layers) - 1,)]
    return tuple(layers), tuple(wiring)
