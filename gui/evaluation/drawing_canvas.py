"""DrawingCanvas: a square to draw on with the mouse or a pen; its ink comes out as a numpy plane."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

SIZE = 280        # ten canvas pixels per pixel of the 28x28 field the drawing becomes
PEN_WIDTH = 22.0  # a digit drawn across most of the canvas gets strokes about 2 field pixels wide, as MNIST's


class DrawingCanvas(QWidget):
    """Bright ink on black, as MNIST stores its digits (so the canvas and the network's input look alike).

    Press and drag draws (a pen's events arrive as mouse events: Qt synthesises them from tablet events the
    widget does not take); `stroke(points)` draws a polyline for scripts and tests. `changed` is emitted after
    every piece of ink and after `clear()`; `ink()` returns the amounts of ink, (height, width) in [0, 1]
    (SIZE x SIZE unless given). `set_picture` puts an image under further strokes; `set_guides` draws faint
    vertical lines (not ink) at the given x positions.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None, *, width: int = SIZE, height: int = SIZE) -> None:
        super().__init__(parent)
        self.setObjectName("drawingCanvas")
        self.setFixedSize(width, height)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Draw with the mouse or a pen; the network sees it as a 28x28 image")
        self._image = QImage(width, height, QImage.Format.Format_Grayscale8)
        self._image.fill(0)
        self._last: QPointF | None = None  # where the stroke in progress is, while the button is down
        self._guides: list[int] = []

    # -- data out ---------------------------------------------------------------------------------------------
    def ink(self) -> np.ndarray:
        """(height, width) float32, 0 = paper, 1 = full ink (a copy)."""
        width, height = self._image.width(), self._image.height()
        bits = np.frombuffer(self._image.constBits(), dtype=np.uint8)
        rows = bits.reshape(height, self._image.bytesPerLine())[:, :width]  # lines are padded to 4 bytes
        return rows.astype(np.float32) / 255.0

    def is_blank(self) -> bool:
        return not self.ink().any()

    # -- drawing ----------------------------------------------------------------------------------------------
    def stroke(self, points: Sequence[tuple[float, float]]) -> None:
        """Draw a polyline through `points` (canvas pixels, x then y); one point draws a dot."""
        points = [QPointF(float(x), float(y)) for x, y in points]
        if not points:
            return
        self._draw(points)
        self.changed.emit()

    def set_picture(self, grey: np.ndarray) -> None:
        """Replace the ink by `grey` ((h, w) in [0, 1], the canvas a whole multiple of it), each pixel a block."""
        grey = np.clip(np.asarray(grey, dtype=np.float32), 0.0, 1.0)
        width, height = self._image.width(), self._image.height()
        scale_h, scale_w = height // grey.shape[0], width // grey.shape[1]
        if (scale_h * grey.shape[0], scale_w * grey.shape[1]) != (height, width):
            raise ValueError(f"a {grey.shape[1]}x{grey.shape[0]} picture does not tile a {width}x{height} canvas")
        blocks = np.repeat(np.repeat(np.round(grey * 255).astype(np.uint8), scale_h, 0), scale_w, 1)
        bits = np.frombuffer(self._image.bits(), dtype=np.uint8).reshape(height, self._image.bytesPerLine())
        bits[:, :width] = blocks
        self._last = None
        self.update()
        self.changed.emit()

    def set_guides(self, xs: Sequence[int]) -> None:
        self._guides = [int(x) for x in xs]
        self.update()

    def clear(self) -> None:
        self._image.fill(0)
        self._last = None
        self.update()
        self.changed.emit()

    def _draw(self, points: list[QPointF]) -> None:
        painter = QPainter(self._image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)  # grey edges, as MNIST's anti-aliased strokes
        painter.setPen(QPen(QColor(255, 255, 255), PEN_WIDTH, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                            Qt.PenJoinStyle.RoundJoin))
        if len(points) == 1:
            painter.drawPoint(points[0])
        else:
            painter.drawPolyline(points)
        painter.end()
        self.update()

    # -- Qt events --------------------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        self._last = event.position()
        self.stroke([(self._last.x(), self._last.y())])

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if self._last is None:
            return super().mouseMoveEvent(event)
        start, self._last = self._last, event.position()
        self.stroke([(start.x(), start.y()), (self._last.x(), self._last.y())])

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if event.button() == Qt.MouseButton.LeftButton and self._last is not None:
            self._last = None
            return
        super().mouseReleaseEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.drawImage(0, 0, self._image)
        if self._guides:  # where one window of the network's input size ends and the next begins
            painter.setPen(QPen(QColor(90, 90, 90), 1, Qt.PenStyle.DashLine))
            for x in self._guides:
                painter.drawLine(x, 0, x, self.height())
        painter.end()
