"""The canvas's wiring state: output ports to drag a connection from, the connection being drawn, the selected
connector; geometry in content coordinates, painting, and nothing of the model (the canvas calls the editor)."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

from gui.builder.canvas_layout import INPUT, ChainLayout
from gui.builder.graph_edges import Connector

PORT_RADIUS = 5.0
PORT_HIT = 9.0  # content pixels around a port that still grab it
PORT_COLOR = QColor("#2563eb")


def source_number(block: int) -> int:
    """The models.graph number of a block that has an output: the input is 0, layer index i is i + 1."""
    return 0 if block == INPUT else block + 1


def port_point(rect: QRectF) -> QPointF:
    """A block's output port: the middle of its bottom edge, where its connectors leave."""
    return QPointF(rect.center().x(), rect.bottom())


class Wiring:
    """What the pointer is doing with connections. `drawing`: (source number, pointer) while a connection is
    dragged out of a port; `selected`: (source number, target block) of the chosen connector."""

    def __init__(self) -> None:
        self.drawing: tuple[int, QPointF] | None = None
        self.selected: tuple[int, int] | None = None

    @staticmethod
    def port_at(layout: ChainLayout, point: QPointF) -> int | None:
        """The source number of the output port under `point`, or None."""
        for placed in layout.placed:
            if placed.block >= 0 or placed.block == INPUT:
                port = port_point(placed.rect)
                if math.hypot(point.x() - port.x(), point.y() - port.y()) <= PORT_HIT:
                    return source_number(placed.block)
        return None

    @staticmethod
    def connector_at(layout: ChainLayout, point: QPointF) -> Connector | None:
        """The editable connector under `point` (the nearest drawn last wins), or None."""
        return next((c for c in reversed(layout.connectors) if c.editable and c.hit(point)), None)

    def keep_if_present(self, layout: ChainLayout) -> None:
        """After an edit: the selected connector stays selected only if it is still drawn."""
        if self.selected is not None and not any((c.source, c.target) == self.selected for c in layout.connectors):
            self.selected = None

    def paint(self, p: QPainter, layout: ChainLayout, shown_ports: set[int], target: QRectF | None) -> None:
        """Ports of the `shown_ports` blocks (hovered, selected), and while drawing the rubber band to the pointer
        with the block it would connect to outlined."""
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        for placed in layout.placed:
            if placed.block in shown_ports:
                p.setPen(QPen(QColor("#ffffff"), 1.5))
                p.setBrush(PORT_COLOR)
                p.drawEllipse(port_point(placed.rect), PORT_RADIUS, PORT_RADIUS)
        if self.drawing is not None:
            source, pointer = self.drawing
            start = next(port_point(pl.rect) for pl in layout.placed
                         if (pl.block >= 0 or pl.block == INPUT) and source_number(pl.block) == source)
            p.setPen(QPen(PORT_COLOR, 2, Qt.PenStyle.DashLine))
            p.drawLine(start, pointer)
            if target is not None:
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRoundedRect(target.adjusted(-4, -4, 4, 4), 10, 10)
        p.restore()
