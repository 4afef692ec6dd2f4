"""The stepper's drawing: the padded input with the window, the kernel and its products, the output filling in,
and the sum written out, for one `Case` and one step at a time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPlainTextEdit, QScrollArea,
                               QVBoxLayout, QWidget)

from gui.explainer.grid_zoom import zoomed
from gui.explainer.unit_field import CellHover
from gui.views.number_grid import ZOOM_RANGE, NumberGrid
from gui.views.sample_frame import Rect, SamplePanel
from models import convolution_steps as cs
from models.lesson import Lesson
from models.printed_output import PrintedDifference, printed_differences
from models.step_text import step_lines

RGB = ("R", "G", "B")
DEFAULT_CELL = 40  # px at zoom 1


@dataclass(frozen=True)
class Case:
    """What the Explainer steps through: an op on an input, the output it gives, and a line saying where it is
    from. `rgb`: the three input channels are R, G and B (a lesson's colour image). `printed_differs`: the output
    cells a lesson's course printed otherwise (errata)."""

    op: cs.WindowOp
    input: np.ndarray   # (C, H, W)
    output: np.ndarray  # (M, H', W'), computed by models.convolution_steps
    about: str
    notes: str = ""
    rgb: bool = False
    printed_differs: tuple[PrintedDifference, ...] = ()

    def channel_name(self, k: int) -> str:
        return f"channel {k}" + (f" ({RGB[k]})" if self.rgb else "")

    def short_name(self, k: int) -> str:
        return RGB[k] if self.rgb else f"ch {k}"


def lesson_case(lesson: Lesson) -> Case:
    output = cs.output(lesson.op, lesson.input)
    return Case(lesson.op, lesson.input, output, f"Lesson: {lesson.title}", lesson.notes,
                rgb=lesson.input.shape[0] == 3, printed_differs=tuple(printed_differences(lesson, output)))


def _scroll(widget: QWidget, resizable: bool = False) -> QScrollArea:
    scroll = QScrollArea()
    scroll.setWidget(widget)
    scroll.setWidgetResizable(resizable)
    scroll.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return scroll


class StepView(QWidget):
    """`show_case(case, channels)` lays out one input grid per shown channel (with its padding) and the kernel
    grids; `show_step(case, m, index)` draws step `index` (raster order) of map m and returns it; `clear()`.
    Clicking an output cell emits `cell_clicked(i, j)`, hovering one `cell_hovered(i, j)` (once per cell reached)
    and leaving the grid `hover_left`. `show_sample(image)` shows the network's input beside the output (None
    hides it) and `show_field(rect, text)` frames input pixels on it (a unit's receptive field, clipped) with a
    note under the output; `field_rect()` is the frame drawn. Only visible cells are drawn (NumberGrid).
    `zoom_by(IN | OUT | RESET)` (grid_zoom) scales every grid together; Ctrl+wheel over a grid does the same.
    Default cells are 40 px (12 px numbers; a 28x28 input scrolls)."""

    cell_clicked = Signal(int, int)
    cell_hovered = Signal(int, int)
    hover_left = Signal()
    zoom_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.input_grids: list[NumberGrid] = []
        self.kernel_grids: list[NumberGrid] = []
        self._kernel_titles: list[QLabel] = []
        self._shown: list[int] = []
        self._scroll_target: tuple[int, int, int, int] | None = None
        self._kernel: tuple[int, int] = (1, 1)
        self._zoom = 1.0
        self._input_box, self._input_row, self._input_scroll = self._grid_box(
            "Input (grey: padding zeros; orange: the window)")
        self._kernel_box, self._kernel_row, _ = self._grid_box("Kernel and products")
        self.output_grid = NumberGrid()
        self._output_box = QGroupBox("Output map (click a cell to jump there)")
        self._output_scroll = _scroll(self.output_grid)
        self.sample_panel = SamplePanel("Network input: the frame is what the output cell sees")
        self.sample_panel.set_plot_height(160)
        self.field_label = QLabel()
        self.field_label.setWordWrap(True)
        self.field_label.setObjectName("explainerField")
        self.field_label.hide()
        output_layout = QVBoxLayout(self._output_box)
        output_layout.addWidget(self._output_scroll, 1)
        output_layout.addWidget(self.sample_panel)
        output_layout.addWidget(self.field_label)
        self._hover = CellHover(self)
        self._hover.watch(self.output_grid)
        self._hover.hovered.connect(self.cell_hovered)
        self._hover.left.connect(self.hover_left)
        self.arithmetic = QPlainTextEdit()
        self.arithmetic.setReadOnly(True)
        self.arithmetic.setObjectName("explainerArithmetic")
        self.arithmetic.setMaximumHeight(110)
        grids = QHBoxLayout()
        grids.addWidget(self._input_box, 5)
        grids.addWidget(self._kernel_box, 3)
        grids.addWidget(self._output_box, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(grids, 1)
        layout.addWidget(self.arithmetic)
        self.output_grid.cell_clicked.connect(self.cell_clicked)
        self.output_grid.zoom_requested.connect(self.zoom_by)

    @staticmethod
    def _grid_box(title: str) -> tuple[QGroupBox, QGridLayout, QScrollArea]:
        box = QGroupBox(title)
        inner = QWidget()
        row = QGridLayout(inner)
        row.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        scroll = _scroll(inner, resizable=True)
        QVBoxLayout(box).addWidget(scroll)
        return box, row, scroll

    @property
    def zoom(self) -> float:
        return self._zoom

    def grids(self) -> list[NumberGrid]:
        return [*self.input_grids, *self.kernel_grids, self.output_grid]

    @Slot(int)
    def zoom_by(self, key: int) -> None:
        """Zoom every grid in (+1), out (-1) or back to the default size (0)."""
        self._zoom = max(ZOOM_RANGE[0], min(ZOOM_RANGE[1], zoomed(self._zoom, key)))
        for grid in self.grids():
            grid.set_zoom(self._zoom)
        self.zoom_changed.emit(self._zoom)
        if self._scroll_target is not None:
            QTimer.singleShot(0, self._scroll_to_step)

    def _set_grids(self, row: QGridLayout, grids: list[NumberGrid], count: int, titles: list[str] = (),
                   columns: int = 2) -> list[QLabel]:
        """Make `row` hold `count` titled grids (reusing those it has), `columns` to a line; returns the titles."""
        while row.count():
            item = row.takeAt(0)
            if item.widget() is not None:
                item.widget().setParent(None)
        del grids[count:]
        while len(grids) < count:
            grid = NumberGrid()
            grid.set_zoom(self._zoom)
            grid.zoom_requested.connect(self.zoom_by)
            grids.append(grid)
        labels = []
        for n, grid in enumerate(grids):
            line, col = divmod(n, max(1, columns))
            title = QLabel(titles[n] if n < len(titles) else "")
            title.setWordWrap(True)
            labels.append(title)
            row.addWidget(title, 2 * line, col)
            row.addWidget(grid, 2 * line + 1, col, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        return labels

    # -- the receptive field on the network's input -----------------------------------------------------------
    def show_sample(self, image: np.ndarray | None) -> None:
        self.sample_panel.show_image(image)

    def show_field(self, rect: Rect | None, text: str = "") -> None:
        self.sample_panel.show_frame(rect)
        self.field_label.setText(text)
        self.field_label.setVisible(bool(text))

    def field_rect(self) -> Rect | None:
        """The frame drawn on the network's input (top, left, height, width), clipped; None when none is."""
        return self.sample_panel.frame() if self.sample_panel.isVisibleTo(self) else None

    def clear(self) -> None:
        self.show_sample(None)
        self.show_field(None)
        self.arithmetic.setPlainText("")
        self._set_grids(self._input_row, self.input_grids, 0)
        self._kernel_titles = self._set_grids(self._kernel_row, self.kernel_grids, 0)
        self.output_grid.set_values(np.zeros((0, 0)))
        self.output_grid.set_flags({})

    def show_case(self, case: Case, shown: list[int]) -> None:
        """Grids for the input channels `shown` (absolute indices) and, for conv, their weights and products."""
        op, conv = case.op, case.op.kind == cs.CONV
        self._shown, self._kernel = list(shown), op.kernel
        self._hover.reset()  # a cell of the grid shown before: the same cell now is announced again
        self._set_grids(self._input_row, self.input_grids, len(shown), [case.channel_name(k) for k in shown])
        names = ([f"{case.short_name(k)}: {what}" for k in shown for what in ("weights", "products")] if conv
                 else ["window"])
        wide = max(op.kernel) > 3  # weights and products side by side only while they fit
        self._kernel_titles = self._set_grids(self._kernel_row, self.kernel_grids, len(names), names,
                                              columns=1 if wide else 2)
        self._kernel_box.setTitle("Kernel and products" if conv else "Window")
        padded_x = cs.padded(op, case.input)
        mask = cs.padding_mask(op, *case.input.shape[1:])
        # 40 px cells write 12 px numbers: a real layer's input (28x28 and more) scrolls rather than shrink them
        # to unreadable; Ctrl+wheel or Ctrl+- zooms out for the picture
        for grid, k in zip(self.input_grids, shown):
            grid.set_cell_size(DEFAULT_CELL)
            grid.set_values(padded_x[k], padding=mask)
        for grid in self.kernel_grids:
            grid.set_cell_size(DEFAULT_CELL)
        self.output_grid.set_cell_size(DEFAULT_CELL)

    def show_step(self, case: Case, m: int, index: int) -> cs.Step:
        oh, ow = case.output.shape[1:]
        i, j = divmod(index, ow)
        step = cs.step(case.op, case.input, m, i, j)
        kh, kw = case.op.kernel
        for grid in self.input_grids:
            grid.set_window((step.origin[0], step.origin[1], kh, kw))
            grid.set_marks([])
        offsets = [k - step.channels[0] for k in self._shown]
        if case.op.kind == cs.CONV:
            for n, k in enumerate(offsets):
                self.kernel_grids[2 * n].set_values(step.weights[k])
                self.kernel_grids[2 * n + 1].set_values(step.products[k])
                self._kernel_titles[2 * n + 1].setText(f"{case.short_name(step.channels[k])}: products, sum "
                                                       f"{cs.number_text(step.channel_sums[k], 3)}")
        else:
            k = offsets[0] if offsets else 0
            self.kernel_grids[0].set_values(step.window[k], padding=step.in_padding[k])
            self._kernel_titles[0].setText("window: the largest wins" if step.winner is not None
                                           else f"window: mean {cs.number_text(step.value)}")
            if step.winner is not None:
                self.kernel_grids[0].set_marks([step.winner[1:]])
                self.input_grids[0].set_marks([(step.origin[0] + step.winner[1], step.origin[1] + step.winner[2])])
        self.output_grid.set_values(case.output[m], shown=(np.arange(oh * ow) <= index).reshape(oh, ow))
        self.output_grid.set_marks([(i, j)])
        self.output_grid.set_flags({d.position: d.text() for d in case.printed_differs if d.map == m})
        self._scroll_target = (i, j, step.origin[0] + kh // 2, step.origin[1] + kw // 2)
        QTimer.singleShot(0, self._scroll_to_step)
        names = [case.channel_name(k) for k in step.channels]
        self.arithmetic.setPlainText(f"output[{m}][{i}][{j}] = " + "\n".join(step_lines(step, names)))
        return step

    @Slot()
    def _scroll_to_step(self) -> None:
        """Keep the current output cell and the window in view (after the layout has placed the grids)."""
        if self._scroll_target is None or not self.output_grid.values.size:
            return
        i, j, row, col = self._scroll_target
        cell = self.output_grid.cell_rect(i, j)
        self._output_scroll.ensureVisible(cell.center().x(), cell.center().y(), 2 * cell.width(), 2 * cell.height())
        if self.input_grids:
            grid, scroll = self.input_grids[0], self._input_scroll
            scroll.widget().layout().activate()  # grids made just now have no place yet
            scroll.widget().adjustSize()
            rect = grid.cell_rect(row, col)
            at = grid.mapTo(scroll.widget(), rect.center())
            kh, kw = self._kernel
            scroll.ensureVisible(at.x(), at.y(), rect.width() * (kw // 2 + 2), rect.height() * (kh // 2 + 2))
