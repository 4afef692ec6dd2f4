"""Where the canvas puts its blocks: the input, every layer and the output stacked in one centred column."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRectF
from PySide6.QtGui import QFont

from gui.builder.layer_block import BlockView, block_height, input_view, layer_view, output_view
from models.network import Network

MARGIN, GAP = 28.0, 30.0
MIN_WIDTH, MAX_WIDTH = 320.0, 520.0
INPUT, OUTPUT = -1, -2  # block ids besides layer indices
PLACEHOLDER = OUTPUT - 1  # the empty network's "drag layers here" hint


@dataclass(frozen=True)
class Placed:
    block: int  # layer index, INPUT, OUTPUT or PLACEHOLDER
    rect: QRectF  # content coordinates: unzoomed pixels from the content's top left
    view: BlockView


@dataclass(frozen=True)
class ChainLayout:
    """A chain's blocks, or a graph's (gui/builder/graph_layout.py) with its `connectors` and the insertion
    line under each block (`gap_lines`: gap -> (left, y, width); gap n is after layer n, 0 after the input)."""

    placed: list[Placed]
    width: float   # of the content, margins included
    height: float
    connectors: tuple = ()
    gap_lines: dict[int, tuple[float, float, float]] | None = None

    @property
    def is_graph(self) -> bool:
        return self.gap_lines is not None

    def gap_y(self, gap: int) -> float:
        """Content y of the middle of the gap before layer `gap` (after the input for 0)."""
        if self.gap_lines is not None:
            return self.gap_lines[gap][1]
        chain = [p for p in self.placed if p.block != PLACEHOLDER]
        above, below = chain[gap], chain[gap + 1]  # chain[0] is the input block
        return (above.rect.bottom() + below.rect.top()) / 2


def lay_out(network: Network, caption: str, output_problem: str | None, room: float, font: QFont) -> ChainLayout:
    """The blocks for a viewport `room` content pixels wide; `output_problem` flags the output of a valid network."""
    analysis = network.analysis
    width = max(MIN_WIDTH, min(MAX_WIDTH, room - 2 * MARGIN))
    x = max(MARGIN, (room - width) / 2)
    views = [(INPUT, input_view(analysis.input_shape, caption))]
    views += [(i, layer_view(spec, la)) for i, (spec, la) in enumerate(zip(network.layers, analysis.layers))]
    if not network.layers:
        views.append((PLACEHOLDER, BlockView("placeholder", "Drag layers here from the palette")))
    problem = output_problem if analysis.is_valid else None
    views.append((OUTPUT, output_view(analysis.output_shape if analysis.is_valid else None, problem)))
    y, placed = MARGIN, []
    for block, view in views:
        h = block_height(view, width, font)
        w = width * 0.6 if view.kind == "output" else width
        placed.append(Placed(block, QRectF(x + (width - w) / 2, y, w, h), view))
        y += h + GAP
    return ChainLayout(placed, width + 2 * MARGIN, y - GAP + MARGIN)
