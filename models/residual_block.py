"""The residual block of He et al. (2016) as layers and their wiring, ready for models.graph_edits.with_block."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class BlockType:
    """A palette entry that inserts several wired layers: its name, what it does, and how it is made from the
    channel count of what it reads."""

    DISPLAY_NAME: str
    SUMMARY: str
    stride: int
    widen: int  # output channels = input channels x widen

    def make(self, in_channels: int) -> tuple[tuple[LayerSpec, ...], tuple[tuple[int, ...], ...]]:
        return residual_block(in_channels, in_channels * self.widen, self.stride)


BLOCK_TYPES: dict[str, BlockType] = {
    "residual_block": BlockType(
        "Residual block", "conv-bn-relu-conv-bn plus a shortcut around them, added, then relu (He et al. 2016); "
        "keeps the shape, so the shortcut is the input itself.", 1, 1),
    "residual_block_down": BlockType(
        "Residual block /2", "A residual block that halves height and width (stride 2) and doubles the "
        "channels; its shortcut is a 1x1 conv with stride 2 and a batch norm (the projection shortcut).", 2, 2),
}
