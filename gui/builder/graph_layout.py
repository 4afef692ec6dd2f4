"""Where the canvas puts a graph's blocks: rows in the order the layers run, the main path in the first column,
side branches (a projection shortcut) beside it, and every input of a layer as a routed connector."""

from __future__ import annotations

from collections import defaultdict

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QFont

from gui.builder.canvas_layout import GAP, MARGIN, OUTPUT, INPUT, ChainLayout, Placed
from gui.builder.graph_edges import Connector, downward, dropped, laned, lanes
from gui.builder.layer_block import block_height, input_view, layer_view, merge_view, output_view
from models import graph
from models.layers import is_merge
from models.network import Network

COLUMN_GAP = 64.0  # room for the shortcut lanes between two columns
LANE_STEP = 11.0
MIN_COLUMN, MAX_COLUMN = 250.0, 440.0
MERGE_SHARE = 0.55  # of a column's width: merges are small blocks
MERGE_MIN = 210.0  # but room for '|| Concat', its number and '128x14x14' side by side


def _rows(count: int, order: tuple[int, ...], srcs: tuple[tuple[int, ...], ...]) -> dict[int, int]:
    """Layer number -> row: one below the lowest row it reads (the input is row 0), so parallel branches share
    rows. Layers that cannot run (a cycle, a missing source) follow at the bottom, one a row."""
    row = {graph.INPUT: 0}
    for n in order:
        row[n] = 1 + max((row[s] for s in srcs[n - 1] if s in row), default=0)
    for n in range(1, count + 1):
        if n not in row:
            row[n] = max(row.values()) + 1
    return row


def _main_path(count: int, row: dict[int, int], srcs: tuple[tuple[int, ...], ...]) -> set[int]:
    """From the last layer back to the input through the source on the latest row (the longest branch), as
    models.merge_shapes calls the latest branch the main one."""
    path, n = set(), count
    while n >= 1 and n not in path:
        path.add(n)
        readable = [s for s in srcs[n - 1] if s in row]
        n = max(readable, key=lambda s: (row[s], s), default=0)
    return path


def lay_out_graph(network: Network, caption: str, output_problem: str | None, room: float,
                  font: QFont) -> ChainLayout:
    arch, analysis = network.architecture, network.analysis
    count, srcs = len(arch.layers), graph.sources(arch)
    row = _rows(count, analysis.order, srcs)
    main = _main_path(count, row, srcs)
    members: dict[int, list[int]] = defaultdict(list)
    for n in sorted(row, key=lambda n: (row[n], n not in main, n)):
        members[row[n]].append(n)
    column = {n: members[row[n]].index(n) for n in row}
    columns = max(column.values()) + 1
    width = max(MIN_COLUMN, min(MAX_COLUMN, (room - 2 * MARGIN - (columns - 1) * COLUMN_GAP) / columns))
    total = columns * width + (columns - 1) * COLUMN_GAP
    left = max(MARGIN, (room - total) / 2)

    views = {graph.INPUT: input_view(analysis.input_shape, caption)}
    for n, (spec, la) in enumerate(zip(arch.layers, analysis.layers), start=1):
        views[n] = merge_view(spec, la) if is_merge(spec) else layer_view(spec, la)
    rects: dict[int, QRectF] = {}
    y = MARGIN
    for r in range(max(members) + 1):
        heights = []
        for n in members.get(r, ()):
            h = block_height(views[n], width, font)
            w = min(width, max(width * MERGE_SHARE, MERGE_MIN)) if views[n].kind == "merge" else width
            x = left + column[n] * (width + COLUMN_GAP)
            rects[n] = QRectF(x + (width - w) / 2, y, w, h)
            heights.append(h)
        y += max(heights, default=0) + GAP
    problem = output_problem if analysis.is_valid else None
    output = output_view(analysis.output_shape if analysis.is_valid else None, problem)
    out_rect = QRectF(left + width * 0.2, y, width * 0.6, block_height(output, width, font))

    placed = [Placed(INPUT if n == graph.INPUT else n - 1, rects[n], views[n]) for n in sorted(rects)]
    placed.append(Placed(OUTPUT, out_rect, output))
    rights = [left + c * (width + COLUMN_GAP) + width for c in range(columns)]
    connectors = _connectors(count, srcs, row, column, rects, rights)
    last = rects[count]
    tail = downward(QPointF(last.center().x(), last.bottom() + 3), QPointF(out_rect.center().x(), out_rect.top() - 2))
    connectors.append(Connector(count, OUTPUT, *tail, editable=False))
    gaps = {0: rects[graph.INPUT]} | {n: rects[n] for n in range(1, count + 1)}
    return ChainLayout(placed, max(room, left + total + MARGIN), out_rect.bottom() + MARGIN,
                       tuple(connectors), {gap: (rect.left() - 6, rect.bottom() + GAP / 2, rect.width() + 12)
                                           for gap, rect in gaps.items()})


def _connectors(count: int, srcs: tuple[tuple[int, ...], ...], row: dict[int, int], column: dict[int, int],
                rects: dict[int, QRectF], rights: list[float]) -> list[Connector]:
    """Each layer's inputs: a curve from the row above; straight down through a column that is empty in the rows
    skipped; else along a lane beside the source's column (the identity shortcut beside the blocks it skips)."""
    occupied = {(row[n], column[n]) for n in row}
    edges = [(s, n) for n in range(1, count + 1) for s in dict.fromkeys(srcs[n - 1]) if s in rects]
    laned_edges, plain = [], []
    for s, n in edges:
        skipped = range(row[s] + 1, row[n])
        if not skipped or all((r, column[s]) not in occupied for r in skipped):
            plain.append((s, n))
        else:
            laned_edges.append((s, n))
    out: list[Connector] = []
    entering: dict[int, list[int]] = defaultdict(list)  # reader -> its sources entering from the top, left to right
    for s, n in sorted(plain, key=lambda e: rects[e[0]].center().x()):
        entering[n].append(s)
    for s, n in plain:
        target, source = rects[n], rects[s]
        slot, slots = entering[n].index(s), len(entering[n])
        tip = QPointF(target.left() + target.width() * (slot + 1) / (slots + 1), target.top() - 2)
        port = QPointF(source.center().x(), source.bottom() + 3)
        route = downward(port, tip) if row[n] == row[s] + 1 else dropped(port, tip)
        out.append(Connector(s, n - 1, *route))
    for c in sorted({column[s] for s, _ in laned_edges}):  # each gutter numbers its own lanes
        in_gutter = [(s, n) for s, n in laned_edges if column[s] == c]
        numbers = lanes([(rects[s].center().y(), rects[n].center().y()) for s, n in in_gutter])
        for (s, n), lane in zip(in_gutter, numbers):
            lane_x = rights[c] + 14 + lane * LANE_STEP
            out.append(Connector(s, n - 1, *laned(rects[s], rects[n], lane_x), lane=True))
    return out
