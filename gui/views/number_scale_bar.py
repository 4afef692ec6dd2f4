"""A small vertical colour bar for a NumberGrid: its diverging colours from -scale to +scale, labelled."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

from gui.views.colour_bar_ticks import tick_label
from gui.views.number_grid import diverging_fill

BAR_WIDTH = 12
LABEL_WIDTH = 52


class NumberScaleBar(QWidget):
    """`set_scale(scale)`: the bar spans (-scale, +scale) as NumberGrid colours them; `labels()` are the three
    texts it writes (top, middle, bottom)."""

    def __init__(self, height: int = 160, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._scale = 1.0
        self.setFixedSize(QSize(BAR_WIDTH + LABEL_WIDTH, height))

    def set_scale(self, scale: float) -> None:
        self._scale = scale if scale > 0 else 1.0
        self.update()

    def levels(self) -> tuple[float, float]:
        return -self._scale, self._scale

    def labels(self) -> list[str]:
        return [tick_label(v, self._scale / 100) for v in (self._scale, 0.0, -self._scale)]  # 3 digits

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        top, height = 6, self.height() - 12  # room for the end labels' halves
        for y in range(height):
            value = self._scale * (1 - 2 * y / max(height - 1, 1))
            painter.fillRect(QRect(0, top + y, BAR_WIDTH, 1), diverging_fill(value, self._scale))
        painter.setPen(QColor(120, 120, 120))
        painter.drawRect(QRect(0, top, BAR_WIDTH - 1, height - 1))
        painter.setPen(self.palette().windowText().color())
        for text, y in zip(self.labels(), (top, top + height // 2, top + height - 1)):
            painter.drawText(QRect(BAR_WIDTH + 4, y - 8, LABEL_WIDTH - 4, 16),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
        painter.end()
