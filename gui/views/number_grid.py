"""A grid of numbers drawn cell by cell (only the visible ones): padding, a window frame, marked cells, clicks."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QHelpEvent, QMouseEvent, QPainter, QPaintEvent, QPen, QWheelEvent
from PySide6.QtWidgets import QToolTip, QWidget

PADDING_FILL = QColor(225, 225, 225)
BLANK_FILL = QColor(250, 250, 250)
WINDOW_PEN = QColor(255, 140, 0)
MARK_PEN = QColor(200, 0, 0)
FLAG_PEN = QColor(220, 20, 60)  # a flagged cell's dashed outline (e.g. a misprint in the course)
MIN_TEXT_CELL = 22  # px: smaller cells show colour only
# The numbers' height in px is this share of the cell, within FONT_PX: 40 px cells write 12 px numbers, readable
# on any screen (points scaled with the cell gave 7 px at 28 px cells).
FONT_SHARE, FONT_PX = 0.3, (8, 24)
ZOOM_RANGE = (0.4, 4.0)


def cell_text(value: float) -> str:
    """Fits a cell: whole numbers exactly, others to two decimals (fewer for large values)."""
    if float(value).is_integer() and abs(value) < 1e6:
        return str(int(value))
    magnitude = abs(value)
    if magnitude < 10:
        return f"{value:.2f}"
    if magnitude < 100:
        return f"{value:.1f}"
    return f"{value:.3g}"


def diverging_fill(value: float, scale: float) -> QColor:
    """The cells' colour map: white at zero, blue below, red above, full at +-scale (clipped beyond)."""
    t = max(-1.0, min(1.0, value / scale))
    if t >= 0:
        return QColor(255, int(255 - 120 * t), int(255 - 120 * t))
    return QColor(int(255 + 120 * t), int(255 + 120 * t), 255)


class NumberGrid(QWidget):
    """`set_values(values, padding=None, shown=None)` with a 2-D array; `padding` (bool) marks grey padding
    cells, `shown` (bool) hides the others' numbers (an output filling in). `set_window(r, c, h, w)` frames a
    window, `set_marks(cells)` rings cells (the current output cell, a max-pool winner), `set_flags({cell: text})`
    outlines cells in dashed red with a tooltip (what the course printed there). Click: `cell_clicked`.
    `set_zoom(factor)` scales the cell size set; Ctrl+wheel over the grid asks its owner to zoom
    (`zoom_requested(+1 | -1)`), so that grids shown together zoom together; a plain wheel is left to the
    scroll area."""

    cell_clicked = Signal(int, int)
    zoom_requested = Signal(int)  # +1 in, -1 out

    def __init__(self, cell: int = 40, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._base_cell = cell
        self._zoom = 1.0
        self._cell = cell
        self._values = np.zeros((0, 0))
        self._padding: np.ndarray | None = None
        self._shown: np.ndarray | None = None
        self._window: tuple[int, int, int, int] | None = None
        self._marks: list[tuple[int, int]] = []
        self._flags: dict[tuple[int, int], str] = {}
        self._scale = 1.0
        self.painted_cells = 0  # cells drawn by the last paint: what a test reads to see only visible ones drawn

    # -- data in ---------------------------------------------------------------------------------------------
    def set_values(self, values: np.ndarray, padding: np.ndarray | None = None,
                   shown: np.ndarray | None = None) -> None:
        self._values = np.asarray(values, dtype=np.float64)
        self._padding, self._shown = padding, shown
        finite = self._values[np.isfinite(self._values)]
        self._scale = float(np.abs(finite).max()) if finite.size and np.abs(finite).max() > 0 else 1.0
        self.setFixedSize(self.sizeHint())
        self.update()

    def set_window(self, window: tuple[int, int, int, int] | None) -> None:
        self._window = window
        self.update()

    def set_marks(self, cells: list[tuple[int, int]]) -> None:
        self._marks = list(cells)
        self.update()

    def set_flags(self, flags: dict[tuple[int, int], str]) -> None:
        """Outline these cells (dashed red) and give each its tooltip text; {} removes them."""
        self._flags = dict(flags)
        self.update()

    @property
    def flags(self) -> dict[tuple[int, int], str]:
        return dict(self._flags)

    def tooltip_at(self, pos: QPoint) -> str:
        """The tooltip shown at widget point `pos` ('' for none)."""
        cell = self.cell_at(pos)
        return self._flags.get(cell, "") if cell is not None else ""

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            text = self.tooltip_at(event.pos())
            if text:
                QToolTip.showText(event.globalPos(), text, self, self.cell_rect(*self.cell_at(event.pos())))
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def set_cell_size(self, cell: int) -> None:
        """The cell size in px at zoom 1."""
        self._base_cell = cell
        self._resize_cells()

    def set_zoom(self, factor: float) -> None:
        self._zoom = max(ZOOM_RANGE[0], min(ZOOM_RANGE[1], factor))
        self._resize_cells()

    @property
    def zoom(self) -> float:
        return self._zoom

    @property
    def cell_size(self) -> int:
        return self._cell

    def font_pixel_size(self) -> int:
        """The numbers' height in px at the current cell size."""
        return max(FONT_PX[0], min(FONT_PX[1], round(self._cell * FONT_SHARE)))

    def _resize_cells(self) -> None:
        self._cell = max(4, round(self._base_cell * self._zoom))
        self.setFixedSize(self.sizeHint())
        self.update()

    @property
    def values(self) -> np.ndarray:
        return self._values

    @property
    def scale(self) -> float:
        """The colour scale's half-range: max |value| (1 for an empty or all-zero grid)."""
        return self._scale

    @property
    def window(self) -> tuple[int, int, int, int] | None:
        return self._window

    @property
    def marks(self) -> list[tuple[int, int]]:
        return list(self._marks)

    def cell_rect(self, row: int, col: int) -> QRect:
        return QRect(col * self._cell, row * self._cell, self._cell, self._cell)

    def cell_at(self, pos: QPoint) -> tuple[int, int] | None:
        row, col = pos.y() // self._cell, pos.x() // self._cell
        rows, cols = self._values.shape
        return (row, col) if 0 <= row < rows and 0 <= col < cols else None

    def text_at(self, row: int, col: int) -> str:
        """What the cell shows ('' when hidden)."""
        if self._shown is not None and not self._shown[row, col]:
            return ""
        return cell_text(self._values[row, col])

    # -- Qt --------------------------------------------------------------------------------------------------
    def sizeHint(self) -> QSize:  # noqa: N802
        rows, cols = self._values.shape
        return QSize(cols * self._cell + 1, rows * self._cell + 1)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        cell = self.cell_at(event.position().toPoint())
        if cell is not None and event.button() == Qt.MouseButton.LeftButton:
            self.cell_clicked.emit(*cell)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        steps = event.angleDelta().y()
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier and steps:
            self.zoom_requested.emit(1 if steps > 0 else -1)
            event.accept()
        else:
            event.ignore()  # the scroll area around the grid scrolls

    def _fill(self, value: float) -> QColor:
        return diverging_fill(value, self._scale)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        rows, cols = self._values.shape
        if not rows:
            return
        c = self._cell
        area = event.rect()
        r0, r1 = max(0, area.top() // c), min(rows, area.bottom() // c + 1)
        c0, c1 = max(0, area.left() // c), min(cols, area.right() // c + 1)
        painter = QPainter(self)
        font = QFont(self.font())
        font.setPixelSize(self.font_pixel_size())
        painter.setFont(font)
        grid_pen = QPen(QColor(190, 190, 190))
        count = 0
        for r in range(r0, r1):
            for k in range(c0, c1):
                rect = self.cell_rect(r, k)
                pad = self._padding is not None and self._padding[r, k]
                hidden = self._shown is not None and not self._shown[r, k]
                painter.fillRect(rect, PADDING_FILL if pad else BLANK_FILL if hidden else self._fill(
                    self._values[r, k]))
                if c >= MIN_TEXT_CELL:  # lines between tiny cells would hide the picture
                    painter.setPen(grid_pen)
                    painter.drawRect(rect)
                if c >= MIN_TEXT_CELL and not hidden:
                    painter.setPen(QColor(110, 110, 110) if pad else Qt.GlobalColor.black)
                    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, cell_text(self._values[r, k]))
                count += 1
        self.painted_cells = count
        for r, k in self._flags:
            painter.setPen(QPen(FLAG_PEN, 2, Qt.PenStyle.DashLine))
            painter.drawRect(self.cell_rect(r, k))
        for r, k in self._marks:
            painter.setPen(QPen(MARK_PEN, 3))
            painter.drawRect(self.cell_rect(r, k).adjusted(2, 2, -2, -2))
        if self._window is not None:
            r, k, h, w = self._window
            painter.setPen(QPen(WINDOW_PEN, 3))
            painter.drawRect(QRect(k * c, r * c, w * c, h * c).adjusted(1, 1, -1, -1))
        painter.end()
