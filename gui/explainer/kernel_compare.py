"""Classical vs learned: a library kernel's activation map beside the most similar learned filter's, same input."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from engine.inspection.layer_cases import LayerCase
from gui.explainer.network_cases import CaseUnavailable, NetworkCases
from gui.explainer.unit_field import CellHover, unit_frame
from gui.views.number_grid import NumberGrid
from gui.views.number_scale_bar import NumberScaleBar
from gui.views.sample_frame import SamplePanel
from models import convolution_steps as cs
from models.kernel_library import KERNEL_NAMES, InitError
from models.kernel_similarity import classical_weights, ranking

MAP_PIXELS = 280  # an activation map is drawn about this wide, whatever its size
SHOWN_RANKS = 4


def _map_cell(side: int) -> int:
    return max(3, min(40, MAP_PIXELS // max(side, 1)))


class KernelCompare(QWidget):
    """Pick a conv layer of the network and a library kernel: the kernel and its activation map on the layer's
    input for the probe sample, beside the learned filter most similar to it (|cosine| of the weights), its
    map (bias included) and the next best filters. Frozen filters say so. Public for tests: `layer_box`,
    `kernel_box`, `classical_map`, `learned_map`, `classical_kernel`, `learned_kernel`, `verdict_label`,
    `ranking_label`, `classical_bar`, `learned_bar` (each map's colour scale), `padding_note` (why a padded map
    has a bright frame), `best` (filter, cosine) or None. Hovering (or clicking) a unit of either map frames its
    receptive field on the probe sample (`sample_panel`, `field_label`: the input rows and columns it sees)."""

    def __init__(self, cases: NetworkCases, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._cases = cases
        self._dirty = True
        self.best: tuple[int, float] | None = None
        self.layer_box = QComboBox()
        self.kernel_box = QComboBox()
        for name in KERNEL_NAMES:
            self.kernel_box.addItem(name, name)
        self.verdict_label = QLabel()
        self.verdict_label.setWordWrap(True)
        self.ranking_label = QLabel()
        self.ranking_label.setWordWrap(True)
        self.classical_kernel, self.learned_kernel = NumberGrid(34), NumberGrid(34)
        self.classical_map, self.learned_map = NumberGrid(8), NumberGrid(8)
        self.classical_bar, self.learned_bar = NumberScaleBar(), NumberScaleBar()
        self.padding_note = QLabel()
        self.padding_note.setWordWrap(True)
        self.padding_note.setObjectName("paddingNote")
        self._titles = [QLabel() for _ in range(4)]
        self._shown: LayerCase | None = None
        self.sample_panel = SamplePanel("Probe sample: the frame is what the map unit under the mouse sees")
        self.sample_panel.set_plot_height(160)
        self.field_label = QLabel()
        self.field_label.setWordWrap(True)
        self._hover = CellHover(self)
        for amap in (self.classical_map, self.learned_map):
            self._hover.watch(amap)
        self._hover.hovered.connect(self._on_unit_hovered)
        for amap in (self.classical_map, self.learned_map):
            amap.cell_clicked.connect(self._on_unit_hovered)  # a click frames it too (touch screens)
        pickers = QHBoxLayout()
        for label, widget in (("Conv layer", self.layer_box), ("Classical kernel", self.kernel_box)):
            pickers.addWidget(QLabel(label))
            pickers.addWidget(widget)
        pickers.addStretch(1)
        grid = QGridLayout()
        sides = ((self._titles[0], self.classical_kernel, self.classical_map, self.classical_bar),
                 (self._titles[1], self.learned_kernel, self.learned_map, self.learned_bar))
        for col, (title, kernel, amap, bar) in enumerate(sides):
            grid.addWidget(title, 0, 3 * col, 1, 3)
            grid.addWidget(kernel, 1, 3 * col, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(amap, 1, 3 * col + 1, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(bar, 1, 3 * col + 2, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.padding_note, 2, 0, 1, 6)
        grid.addWidget(self.sample_panel, 3, 0, 1, 3)
        grid.addWidget(self.field_label, 4, 0, 1, 3)
        grid.setColumnStretch(6, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(pickers)
        layout.addWidget(self.verdict_label)
        layout.addLayout(grid)
        layout.addWidget(self.ranking_label)
        layout.addStretch(1)
        self.layer_box.currentIndexChanged.connect(self.refresh)
        self.kernel_box.currentIndexChanged.connect(self.refresh)
        cases.changed.connect(self._on_network_changed)

    @Slot()
    def _on_network_changed(self) -> None:
        if self.isVisible():
            self._fill_layers()
            self.refresh()
        else:
            self._dirty = True

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        if self._dirty:
            self._fill_layers()
            self.refresh()

    def _fill_layers(self) -> None:
        self._dirty = False
        current = self.layer_box.currentData()
        self.layer_box.blockSignals(True)
        self.layer_box.clear()
        for index, label in self._cases.layers():
            if label.endswith("(conv2d)"):
                self.layer_box.addItem(label, index)
        found = self.layer_box.findData(current)
        self.layer_box.setCurrentIndex(max(found, 0))
        self.layer_box.blockSignals(False)

    def select(self, layer_label: str, kernel: str) -> None:
        self.layer_box.setCurrentIndex(self.layer_box.findText(layer_label))
        self.kernel_box.setCurrentIndex(self.kernel_box.findData(kernel))

    def _clear(self, message: str) -> None:
        self.best = None
        self._shown = None
        self._hover.reset()
        self.sample_panel.show_image(None)
        self._frame(None, "")
        self.verdict_label.setText(message)
        self.ranking_label.setText("")
        for widget in (self.classical_kernel, self.learned_kernel, self.classical_map, self.learned_map):
            widget.set_values(np.zeros((0, 0)))
        for bar in (self.classical_bar, self.learned_bar):
            bar.hide()
        self.padding_note.hide()
        for title in self._titles:
            title.setText("")

    @Slot()
    def refresh(self, *_args: object) -> None:
        index, name = self.layer_box.currentData(), self.kernel_box.currentData()
        if index is None:
            self._clear("The network has no conv layer to compare with.")
            return
        try:
            case = self._cases.case(index)
        except CaseUnavailable as exc:
            self._clear(f"Cannot compare: {exc}.")
            return
        self._show(case, index, name)

    def _show(self, case: LayerCase, index: int, name: str) -> None:
        op = case.op
        per_filter = op.weights.shape[1]
        try:
            classical = classical_weights(name, per_filter, *op.kernel)
        except InitError as exc:
            self._clear(f"Cannot compare: {exc}.")
            return
        ranks = ranking(classical[0], op.weights)
        best, cosine = ranks[0]
        self.best = (best, cosine)
        frozen = set(self._cases.frozen_filters(index))
        # the classical kernel on the same input, through the same padding and stride (its group's channels)
        read = op.input_channels(best, case.input.shape[0])
        classical_op = cs.WindowOp(cs.CONV, op.kernel, op.stride, op.padding, classical, None)
        classical_map = cs.output(classical_op, case.input[read.start:read.stop])[0]
        learned_map = case.output[best]
        cell = _map_cell(max(learned_map.shape))
        for grid, bar, values in ((self.classical_map, self.classical_bar, classical_map),
                                  (self.learned_map, self.learned_bar, learned_map)):
            grid.set_cell_size(cell)
            grid.set_values(values)
            bar.set_scale(grid.scale)
            bar.show()
        self._note_padding(op.padding, case.input[read.start:read.stop])
        self._shown = case
        self._hover.reset()
        self.sample_panel.show_image(self._cases.probe_image())
        self._frame(None, "Hover a unit of either map: its receptive field is framed on the probe sample.")
        self.classical_kernel.set_values(classical[0].mean(axis=0))
        self.learned_kernel.set_values(op.weights[best].mean(axis=0))
        channels = f" (mean over its {per_filter} input channels)" if per_filter > 1 else ""
        self._titles[0].setText(f"{name} and its activation map")
        self._titles[1].setText(f"{case.label} filter {best}{' (frozen)' if best in frozen else ''}{channels} "
                                f"and its map")
        sign = " (inverted: the same edges with the opposite sign)" if cosine < 0 else ""
        self.verdict_label.setText(
            f"Most similar learned filter: {best} of {case.label}, cosine similarity {cosine:.3f}{sign}; "
            f"{self._cases.weights_text()}, {self._cases.probe_text()}.")
        self.ranking_label.setText("Next: " + ", ".join(
            f"filter {m}{' (frozen)' if m in frozen else ''} {c:+.3f}" for m, c in ranks[1:SHOWN_RANKS]))

    @Slot(int, int)
    def _on_unit_hovered(self, i: int, j: int) -> None:
        """Both maps are of the layer's windows (the classical kernel has its size, stride and padding): the
        same field. The frame stays when the mouse leaves (it may go to the sample to look)."""
        case = self._shown
        if case is not None:
            self._frame(*unit_frame(self._cases, case.index, case.output.shape, i, j, f"Unit ({i}, {j})"))

    def _frame(self, rect, text: str) -> None:
        self.sample_panel.show_frame(rect)
        self.field_label.setText(text)

    def _note_padding(self, padding: tuple[int, int, int, int], x: np.ndarray) -> None:
        """A padded map's bright (or dark) frame is the padding, not the image: the network sees a normalised
        input, where the image's black is a negative number and the padding's zero is a mid grey."""
        if not any(padding):
            self.padding_note.hide()
            return
        black = float(np.nanmin(x)) if x.size else 0.0
        self.padding_note.setText(
            f"The frame along the maps' edges comes from the zero padding ({max(padding)} cell(s)) of the "
            f"normalised input: after normalisation zero is not black (black is {black:.3g} here), so windows "
            "over the border see an edge the image does not have.")
        self.padding_note.show()
