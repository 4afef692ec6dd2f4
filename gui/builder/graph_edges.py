"""The connectors of a graph on the canvas: each input of a layer as a curve from its source, routed beside the
main path when it skips rows, hit-tested for selection and painted with an arrowhead."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPainterPathStroker, QPen

LINE_COLOR = QColor("#94a3b8")
LANE_COLOR = QColor("#6366f1")  # shortcuts stand out from the main path, as in the papers' figures
SELECTED_COLOR = QColor("#2563eb")
HIT_WIDTH = 10.0  # content pixels either side of a connector that still pick it
ARROW = 7.0
CORNER = 10.0


@dataclass(frozen=True)
class Connector:
    """One input of a layer. `source` is a layer number (0 = the network's input, as models.graph counts);
    `target` the reader's block id (its 0-based layer index, or the canvas's OUTPUT). `lane`: routed beside the
    blocks it skips (a shortcut). `editable`: a real input of a layer (not the last layer's line to the output)."""

    source: int
    target: int
    path: QPainterPath
    tip: QPointF
    direction: QPointF  # unit vector of the arrow at `tip`
    lane: bool = False
    editable: bool = True

    def hit(self, point: QPointF) -> bool:
        stroker = QPainterPathStroker()
        stroker.setWidth(2 * HIT_WIDTH)
        return stroker.createStroke(self.path).contains(point)


Route = tuple[QPainterPath, QPointF, QPointF]  # the line, the arrow's tip, its direction


def downward(source: QPointF, target: QPointF) -> Route:
    """An S-curve from a block's bottom port down to a point on another block's top edge."""
    path = QPainterPath(source)
    end = QPointF(target.x(), target.y() - ARROW + 1)
    bend = max(12.0, (end.y() - source.y()) / 2)
    path.cubicTo(QPointF(source.x(), source.y() + bend), QPointF(end.x(), end.y() - bend), end)
    return path, target, QPointF(0, 1)


def dropped(source: QPointF, target: QPointF, turn: float = 36.0) -> Route:
    """Straight down from `source` through empty rows, then a curve into `target` over its last `turn` pixels."""
    path = QPainterPath(source)
    end = QPointF(target.x(), target.y() - ARROW + 1)
    knee = QPointF(source.x(), max(source.y(), end.y() - turn))
    path.lineTo(knee)
    bend = (end.y() - knee.y()) / 2
    path.cubicTo(QPointF(knee.x(), knee.y() + bend), QPointF(end.x(), end.y() - bend), end)
    return path, target, QPointF(0, 1)


def laned(source: QRectF, target: QRectF, lane_x: float) -> Route:
    """Out of the source's right side, down a lane at `lane_x` beside the blocks in between, into the target's right
    side: the residual shortcut as drawn beside the main path."""
    start = QPointF(source.right(), source.center().y())
    end = QPointF(target.right() + ARROW - 1, target.center().y())
    r = min(CORNER, max(1.0, (lane_x - start.x()) / 2), max(1.0, (end.y() - start.y()) / 2))
    path = QPainterPath(start)
    path.lineTo(lane_x - r, start.y())
    path.quadTo(QPointF(lane_x, start.y()), QPointF(lane_x, start.y() + r))
    path.lineTo(lane_x, end.y() - r)
    path.quadTo(QPointF(lane_x, end.y()), QPointF(lane_x - r, end.y()))
    path.lineTo(end)
    return path, QPointF(target.right(), end.y()), QPointF(-1, 0)


def lanes(spans: list[tuple[float, float]]) -> list[int]:
    """A lane number per vertical span (top, bottom) so that overlapping spans get different lanes, greedily in
    order of their tops (interval colouring: as few lanes as the most spans that overlap at one height)."""
    ends: list[float] = []  # per lane, the bottom of its last span
    out = [0] * len(spans)
    for i in sorted(range(len(spans)), key=lambda k: spans[k]):
        top, bottom = spans[i]
        free = next((n for n, end in enumerate(ends) if end < top), None)
        if free is None:
            ends.append(bottom)
            free = len(ends) - 1
        else:
            ends[free] = bottom
        out[i] = free
    return out


def paint_connectors(p: QPainter, connectors: list[Connector], selected: tuple[int, int] | None) -> None:
    """Every connector, the selected one (source, target) last and thicker so that it reads on top."""
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    ordered = sorted(connectors, key=lambda c: (c.source, c.target) == selected)
    for c in ordered:
        chosen = (c.source, c.target) == selected
        color = SELECTED_COLOR if chosen else (LANE_COLOR if c.lane else LINE_COLOR)
        p.setPen(QPen(color, 3.0 if chosen else 1.6))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(c.path)
        _arrowhead(p, c.tip, c.direction, color)
    p.restore()


def _arrowhead(p: QPainter, tip: QPointF, direction: QPointF, color: QColor) -> None:
    back = QPointF(tip.x() - direction.x() * ARROW, tip.y() - direction.y() * ARROW)
    side = QPointF(-direction.y() * ARROW * 0.7, direction.x() * ARROW * 0.7)
    head = QPainterPath(tip)
    head.lineTo(back + side)
    head.lineTo(back - side)
    head.closeSubpath()
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(color)
    p.drawPath(head)
