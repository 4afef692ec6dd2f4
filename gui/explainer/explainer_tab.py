"""The Explainer tab: one conv or pooling layer (of the user's network or a lesson) stepped through window by window."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeyEvent, QShowEvent
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QSpinBox, QTabWidget,
                               QVBoxLayout, QWidget)

from gui.explainer.grid_zoom import zoom_key
from gui.explainer.kernel_compare import KernelCompare
from gui.explainer.network_cases import CaseUnavailable, NetworkCases
from gui.explainer.step_view import Case, StepView, lesson_case
from gui.explainer.unit_field import unit_frame
from gui.views.number_grid import NumberGrid
from models import convolution_steps as cs
from models.lesson import Lesson, LessonError, load
from models.lesson_library import LESSON_KEYS, lesson_path

NETWORK = "network"
OPEN_FILE = "open"
MAX_CHANNEL_GRIDS = 4  # more input channels than this: one at a time, picked with the channel box
PLAY_MS = 600


class ExplainerTab(QWidget):
    """Pickers (source: the user's network or a lesson; layer; output map; input channel), Previous / Next /
    Play, the padded input with the current window, the kernel and the products, the arithmetic written out,
    and the output map filling in. Public for tests: `source_box`, `layer_box`, `map_box`, `channel_box`,
    `next_button`, `previous_button`, `play_button`, `input_grids`, `kernel_grids`, `output_grid`,
    `arithmetic` (the text), `formula_label`, `step_label`, `notes_label`, `position` (i, j) and `case`.
    For the user's network the probe sample shows beside the output (`view.sample_panel`) with the receptive
    field of the current output cell, or of the cell under the mouse, framed on it (`view.field_rect()`) and
    written out under it (`view.field_label`: the rows and columns of the input it sees).
    A second page, `compare` (KernelCompare), puts a classical kernel beside the most similar learned filter.
    While the stepper shows, Ctrl+= / Ctrl+- / Ctrl+0 zoom its grids (`view.zoom_by`), wherever the focus is
    in the tab: they win over the window's same keys (the builder's zoom, off screen here)."""

    step_changed = Signal(int, int, int)  # map, i, j

    def __init__(self, cases: NetworkCases, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._cases = cases
        self.case: Case | None = None
        self._map, self._index = 0, 0
        self._dirty = True
        self._lessons: dict[str, Lesson] = {}
        self._source_index = 0
        self._field_layer: int | None = None  # the network layer stepped through, whose units' fields are framed
        self.input_grids: list[NumberGrid] = []
        self.kernel_grids: list[NumberGrid] = []
        self._build()
        cases.changed.connect(self._on_network_changed)
        cases.workspace.events.followed_run.connect(self._on_network_changed)
        self._recorded: tuple = (None, None)  # (folder, its RecordedRun or None): its first line read once

    # -- layout ----------------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.source_box = QComboBox()
        self.source_box.addItem("Your network: probe sample", NETWORK)
        for key in LESSON_KEYS:
            self.source_box.addItem(f"Lesson: {self._lesson(key).title}", key)
        self.source_box.addItem("Open lesson file\u2026", OPEN_FILE)
        self.source_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.source_box.setMinimumContentsLength(20)  # the longest lesson title elides: the room fits beside the docks
        self.layer_box = QComboBox()
        self.layer_box.setMinimumContentsLength(18)
        self.map_box = QSpinBox()
        self.channel_box = QSpinBox()
        self.channel_label = QLabel("Input channel")
        self.previous_button = QPushButton("\u25c0 Previous")
        self.next_button = QPushButton("Next \u25b6")
        self.play_button = QPushButton("Play")
        self.play_button.setCheckable(True)
        self.step_label = QLabel()
        self.formula_label = QLabel()
        self.formula_label.setObjectName("explainerFormula")
        self.formula_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notes_label = QLabel()
        self.notes_label.setWordWrap(True)
        pickers = QHBoxLayout()
        for label, widget in (("Source", self.source_box), ("Layer", self.layer_box), ("Output map", self.map_box)):
            pickers.addWidget(QLabel(label))
            pickers.addWidget(widget)
        pickers.addWidget(self.channel_label)
        pickers.addWidget(self.channel_box)
        pickers.addStretch(1)
        moves = QHBoxLayout()
        for widget in (self.previous_button, self.next_button, self.play_button, self.step_label):
            moves.addWidget(widget)
        moves.addStretch(1)

        self.view = StepView()
        self.input_grids, self.kernel_grids = self.view.input_grids, self.view.kernel_grids
        self.output_grid, self.arithmetic = self.view.output_grid, self.view.arithmetic
        stepper = QWidget()
        layout = QVBoxLayout(stepper)
        layout.addLayout(pickers)
        layout.addLayout(moves)
        layout.addWidget(self.formula_label)
        layout.addWidget(self.notes_label)
        layout.addWidget(self.view, 1)
        self.compare = KernelCompare(self._cases)
        self.pages = QTabWidget()
        self.pages.setDocumentMode(True)
        self.pages.addTab(stepper, "Step through")
        self.pages.addTab(self.compare, "Classical vs learned")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.pages)

        self._timer = QTimer(self)
        self._timer.setInterval(PLAY_MS)
        self._timer.timeout.connect(self._on_play_tick)
        self.source_box.currentIndexChanged.connect(self._on_source_changed)
        self.layer_box.currentIndexChanged.connect(self._on_layer_changed)
        self.map_box.valueChanged.connect(self._on_map_changed)
        self.channel_box.valueChanged.connect(self._on_channel_changed)
        self.next_button.clicked.connect(self.next_step)
        self.previous_button.clicked.connect(self.previous_step)
        self.play_button.toggled.connect(self._on_play_toggled)
        self.view.cell_clicked.connect(self.jump_to)
        self.view.cell_hovered.connect(self._on_cell_hovered)
        self.view.hover_left.connect(self._on_hover_left)

    # -- zoom keys -------------------------------------------------------------------------------------------
    def event(self, event: QEvent) -> bool:
        # A ShortcutOverride accepted here (Qt offers it to the focus widget, then its parents) turns the
        # window's shortcut for the same key into a key press for this tab.
        if (event.type() == QEvent.Type.ShortcutOverride and zoom_key(event) is not None
                and self.pages.currentIndex() == 0):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key = zoom_key(event)
        if key is not None and self.pages.currentIndex() == 0:
            self.view.zoom_by(key)
            event.accept()
            return
        super().keyPressEvent(event)

    # -- sources ---------------------------------------------------------------------------------------------
    def _lesson(self, key: str) -> Lesson:
        if key not in self._lessons:
            self._lessons[key] = load(lesson_path(key)) if key in LESSON_KEYS else load(key)
        return self._lessons[key]

    def ask_lesson_path(self) -> str:
        """The lesson file to open ('' for none); a seam tests replace."""
        path, _ = QFileDialog.getOpenFileName(self, "Open lesson", "", "Lessons (*.json);;All files (*)")
        return path

    def open_lesson_file(self, path: str) -> bool:
        """Load a teacher's lesson and show it; a bad file is reported under the pickers (False)."""
        try:
            lesson = load(path)
        except LessonError as exc:
            self.notes_label.setText(f"Cannot open the lesson: {exc}")
            return False
        self._lessons[path] = lesson
        self.source_box.blockSignals(True)
        self.source_box.insertItem(self.source_box.count() - 1, f"Lesson: {lesson.title}", path)
        self.source_box.setCurrentIndex(self.source_box.count() - 2)
        self._source_index = self.source_box.count() - 2
        self.source_box.blockSignals(False)
        self._load_source()
        return True

    @Slot(int)
    def _on_source_changed(self, index: int) -> None:
        if self.source_box.currentData() == OPEN_FILE:
            path = self.ask_lesson_path()
            self.source_box.blockSignals(True)
            self.source_box.setCurrentIndex(self._source_index)  # back to what was shown, unless it opens
            self.source_box.blockSignals(False)
            if path:
                self.open_lesson_file(path)
            return
        self._source_index = index
        self._load_source()

    def _load_source(self) -> None:
        key = self.source_box.currentData()
        self.play_button.setChecked(False)
        network = key == NETWORK
        self.layer_box.setEnabled(network)
        if network:
            self._fill_layers()
            self._on_layer_changed()
        else:
            self.layer_box.blockSignals(True)
            self.layer_box.clear()
            self.layer_box.blockSignals(False)
            self._show_case(lesson_case(self._lesson(key)))

    def _fill_layers(self) -> None:
        current = self.layer_box.currentData()
        self.layer_box.blockSignals(True)
        self.layer_box.clear()
        for index, label in self._cases.layers():
            self.layer_box.addItem(label, index)
        found = self.layer_box.findData(current)
        self.layer_box.setCurrentIndex(found if found >= 0 else 0)
        self.layer_box.blockSignals(False)

    @Slot()
    def _on_layer_changed(self, *_args: object) -> None:
        if self.source_box.currentData() != NETWORK:
            return
        recorded = self._recorded_run()
        if recorded is not None:
            self._show_case(None, f"Cannot step through the run shown: {recorded.cannot_rebuild}. Lessons step "
                                  f"through here as ever; your own network does again once you train it or open "
                                  f"a project.")
            return
        index = self.layer_box.currentData()
        if index is None:
            self._show_case(None, "The network has no conv or pooling layer to step through; pick a lesson.")
            return
        try:
            layer = self._cases.case(index)
        except CaseUnavailable as exc:
            self._show_case(None, f"Cannot step through the network: {exc}.")
            return
        about = f"{layer.label}, {self._cases.weights_text()}, {self._cases.probe_text()}"
        self._show_case(Case(layer.op, layer.input, cs.output(layer.op, layer.input), about), layer=layer.index)

    def _recorded_run(self):
        """The run the window shows, when it is a RunWriter folder of a model ConvScope cannot rebuild and no
        weights of the window's own have replaced it since (a project opened, a run of the window's)."""
        from engine.run_folder import RunFolderError
        from engine.run_folder.recording import recorded_run

        workspace = self._cases.workspace
        folder = workspace.followed_run
        if folder is None or workspace.trained is not None:
            return None
        if self._recorded[0] != folder:
            try:
                self._recorded = (folder, recorded_run(folder))
            except (RunFolderError, OSError):
                self._recorded = (folder, None)  # not readable as one: the network's own weights are what it shows
        return self._recorded[1]

    @Slot()
    def _on_network_changed(self, *_args: object) -> None:
        if self.source_box.currentData() != NETWORK:
            return
        if not self.isVisible():
            self._dirty = True  # recomputed when the tab is shown: edits elsewhere cost nothing here
            return
        self._refresh_network()

    def _refresh_network(self) -> None:
        self._dirty = False
        keep = (self._map, self._index)
        self._fill_layers()
        self._on_layer_changed()
        if self.case is not None:
            self._select(min(keep[0], self.map_box.maximum()), keep[1])

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        if self._dirty and self.source_box.currentData() == NETWORK:
            self._refresh_network()
        self._dirty = False

    # -- the case --------------------------------------------------------------------------------------------
    def _show_case(self, case: Case | None, message: str = "", layer: int | None = None) -> None:
        """Show `case` (None: `message` instead); `layer`: the network layer it is, whose units' fields show."""
        self.case = case
        self._field_layer = layer if case is not None else None
        enabled = case is not None
        for widget in (self.map_box, self.next_button, self.previous_button, self.play_button):
            widget.setEnabled(enabled)
        if case is None:
            self.notes_label.setText(message)
            self.formula_label.setText("")
            self.step_label.setText("")
            self.view.clear()
            return
        c, h, w = case.input.shape
        op = case.op
        self.notes_label.setText(case.about + (f"\n{case.notes}" if case.notes else "")
                                 + "".join(f"\nWarning: {text}" for text in cs.warnings(op, h, w))
                                 + _errata_text(case))
        top, bottom, left, right = op.padding
        pads = f"p = {top}" if len({top, bottom, left, right}) == 1 else f"p = {top},{bottom},{left},{right}"
        self.formula_label.setText(f"n = {h}x{w}, f = {op.kernel[0]}x{op.kernel[1]}, s = {op.stride[0]}x"
                                   f"{op.stride[1]}, {pads}:   " + ";  ".join(cs.formula(op, h, w)))
        self.map_box.blockSignals(True)
        self.map_box.setRange(0, case.output.shape[0] - 1)
        self.map_box.setValue(0)
        self.map_box.blockSignals(False)
        self._map, self._index = 0, 0
        self._configure_channels()
        self.view.show_sample(self._cases.probe_image() if layer is not None else None)
        self._update_step()

    def _read_channels(self) -> range:
        return self.case.op.input_channels(self._map, self.case.input.shape[0])

    def _configure_channels(self) -> None:
        read = self._read_channels()
        many = len(read) > MAX_CHANNEL_GRIDS
        self.channel_label.setVisible(many)
        self.channel_box.setVisible(many)
        self.channel_box.blockSignals(True)
        self.channel_box.setRange(read.start, read.stop - 1)
        self.channel_box.blockSignals(False)
        self.view.show_case(self.case, [self.channel_box.value()] if many else list(read))

    # -- moving ----------------------------------------------------------------------------------------------
    @property
    def position(self) -> tuple[int, int]:
        return divmod(self._index, self.case.output.shape[2])

    @property
    def step_count(self) -> int:
        return self.case.output.shape[1] * self.case.output.shape[2] if self.case else 0

    @Slot()
    def next_step(self) -> None:
        if self.case is not None and self._index + 1 < self.step_count:
            self._index += 1
            self._update_step()

    @Slot()
    def previous_step(self) -> None:
        if self.case is not None and self._index > 0:
            self._index -= 1
            self._update_step()

    @Slot(int, int)
    def jump_to(self, i: int, j: int) -> None:
        if self.case is not None:
            self._index = i * self.case.output.shape[2] + j
            self._update_step()

    def _select(self, m: int, index: int) -> None:
        self.map_box.setValue(m)
        self._index = min(index, self.step_count - 1)
        self._update_step()

    @Slot(int)
    def _on_map_changed(self, m: int) -> None:
        if self.case is None:
            return
        before = self._read_channels()
        self._map = m
        if self._read_channels() != before:  # a grouped conv: another group's channels
            self._configure_channels()
        self._update_step()

    @Slot(int)
    def _on_channel_changed(self, _value: int) -> None:
        if self.case is not None:
            self._configure_channels()
            self._update_step()

    @Slot(bool)
    def _on_play_toggled(self, playing: bool) -> None:
        self.play_button.setText("Pause" if playing else "Play")
        if playing:
            if self._index + 1 >= self.step_count:  # from the end, play starts over
                self._index = 0
                self._update_step()
            self._timer.start()
        else:
            self._timer.stop()

    @Slot()
    def _on_play_tick(self) -> None:
        if self.case is None or self._index + 1 >= self.step_count:
            self.play_button.setChecked(False)
            return
        self.next_step()
        if self._index + 1 >= self.step_count:
            self.play_button.setChecked(False)

    def set_play_interval(self, ms: int) -> None:
        self._timer.setInterval(ms)

    def _update_step(self) -> None:
        m, (i, j) = self._map, self.position
        step = self.view.show_step(self.case, m, self._index)
        self.step_label.setText(f"step {self._index + 1} of {self.step_count}: output map {m}, row {i}, "
                                f"column {j} = {cs.number_text(step.value)}")
        self.previous_button.setEnabled(self._index > 0)
        self.next_button.setEnabled(self._index + 1 < self.step_count)
        self._frame_unit(i, j)
        self.step_changed.emit(m, i, j)

    # -- receptive fields ------------------------------------------------------------------------------------
    @Slot(int, int)
    def _on_cell_hovered(self, i: int, j: int) -> None:
        self._frame_unit(i, j)

    @Slot()
    def _on_hover_left(self) -> None:
        if self.case is not None:
            self._frame_unit(*self.position)  # back to the current step's cell

    def _frame_unit(self, i: int, j: int) -> None:
        """Frame output cell (i, j)'s receptive field on the network's input and say which pixels it sees."""
        if self.case is None:
            self.view.show_field(None)
            return
        self.view.show_field(*unit_frame(self._cases, self._field_layer, self.case.output.shape, i, j,
                                         f"Output cell ({i}, {j})"))


def _errata_text(case: Case) -> str:
    """A line naming the cells the course printed otherwise (outlined in the output map), or ''."""
    if not case.printed_differs:
        return ""
    cells = "; ".join(f"map {d.map} ({d.position[0]}, {d.position[1]}): {d.text()}" for d in case.printed_differs)
    return f"\nErrata (dashed red in the output map): {cells}."
