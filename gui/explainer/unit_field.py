"""The Explainer's output grids and their units' receptive fields: which cell the mouse is over, and the frame and
sentence for a cell of a network layer (models.unit_fields: the same arithmetic as the Training tab's)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QMouseEvent

from gui.views.number_grid import NumberGrid
from gui.views.sample_frame import Rect
from models.unit_fields import unit_sentence

if TYPE_CHECKING:  # it imports torch; the stepper (lessons) does without
    from gui.explainer.network_cases import NetworkCases


class CellHover(QObject):
    """`watch(grid)`: `hovered(i, j)` once per cell of the grid the mouse reaches, `left()` when it leaves the
    grid; `reset()` forgets the cell (the grid shows other values: the same cell is announced again)."""

    hovered = Signal(int, int)
    left = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cell: tuple[int, int] | None = None

    def watch(self, grid: NumberGrid) -> None:
        grid.setMouseTracking(True)  # move events without a button held
        grid.installEventFilter(self)

    def reset(self) -> None:
        self._cell = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if isinstance(watched, NumberGrid):
            if event.type() == QEvent.Type.MouseMove and isinstance(event, QMouseEvent):
                cell = watched.cell_at(event.position().toPoint())
                if cell is not None and cell != self._cell:
                    self._cell = cell
                    self.hovered.emit(*cell)
            elif event.type() == QEvent.Type.Leave:
                self._cell = None
                self.left.emit()
        return super().eventFilter(watched, event)


def unit_frame(cases: NetworkCases, layer: int | None, shape: tuple[int, ...], i: int, j: int,
               subject: str) -> tuple[Rect | None, str]:
    """Unit (i, j) of network layer `layer` (whose maps shown are of `shape`): its field on the input, unclipped
    (None without a grid), and the sentence naming the input rows and columns it sees ('' when unknown, or for
    maps the network as it is does not make). The same for every map of the layer: its units share windows."""
    if layer is None:
        return None, ""
    fields = cases.unit_fields()
    field = fields.field(layer, shape)
    if field is None:
        return None, ""
    return (field.unit_box(i, j) if field.on_grid else None,
            unit_sentence(field, i, j, fields.input_size, subject))
