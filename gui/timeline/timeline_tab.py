"""TimelineTab: scrub a run folder's snapshot timeline: filters and health at a step, weight distributions,
gradient norms."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QSlider,
                               QSpinBox, QSplitter, QVBoxLayout, QWidget)

from engine.run_folder import RunFolderError, read_run_log
from engine.run_folder.timeline import TimelineEntry, load_timeline_weights, timeline
from engine.inspection.timeline_histograms import LayerDistribution, distributions, gradient_norm_curves
from gui.timeline.health_panel import HealthPanel
from gui.views.filter_grid import FilterGrid
from models import architecture_file
from models.architecture import Architecture
from models.layers import has_filters

PLAY_MS = 200   # one snapshot per tick while playing
POLL_MS = 1000  # how often a live run folder is read again
EMPTY = "No run folder yet: train (the window writes one), or Open a run folder written by `train --out`."
NO_FILTERS = "No snapshot shown: the filters of each conv layer appear here once a run folder is open."


def tensor_title(name: str, architecture: Architecture | None) -> str:
    """A state-dict key as the summary numbers layers: "0.weight" is "layer 1 (conv2d) weights"."""
    module, _, kind = name.partition(".")
    if not module.isdigit():
        return name
    index = int(module) + 1
    layers = architecture.layers if architecture is not None else ()
    what = f"layer {index} ({layers[index - 1].TYPE})" if index <= len(layers) else f"layer {index}"
    return f"{what} {'weights' if kind == 'weight' else 'biases' if kind == 'bias' else kind}"


def _tensor_order(name: str) -> tuple[int, int, str]:
    """Layers in the summary's order, each one's weights before its biases."""
    module, _, kind = name.partition(".")
    return (int(module) if module.isdigit() else 1 << 30, 0 if kind == "weight" else 1, name)


class TimelineTab(QWidget):
    """Moving the slider shows that snapshot everywhere in the tab; `step_changed(step)` tells the rest, and
    `scrubbed_to(step)` too, but -1 at the newest snapshot (the live end, where no marker is wanted: a marker
    trailing a running run's curves by a snapshot would only confuse)."""

    step_changed = Signal(int)
    scrubbed_to = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder: Path | None = None
        self.architecture: Architecture | None = None
        self.entries: list[TimelineEntry] = []
        self._states: dict[str, dict[str, torch.Tensor]] = {}   # by file: each snapshot read once
        self._distributions: dict[str, LayerDistribution] = {}
        self._index = -1

        self.status = QLabel(EMPTY)
        self.status.setWordWrap(True)  # a long status wraps rather than widening the room
        self.open_button = QPushButton("Open run folder…")
        self.play_button = QPushButton("Play")
        self.play_button.setCheckable(True)
        self.live = QCheckBox("Follow live")
        self.live.setChecked(True)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setEnabled(False)
        self.jump = QSpinBox()  # follows the slider; typing a step jumps to the kept snapshot nearest it
        self.jump.setPrefix("jump to step ")
        self.jump.setKeyboardTracking(False)
        self.jump.setMaximum(10**9)
        self.tensor = QComboBox()
        controls = QHBoxLayout()
        for widget in (self.open_button, self.play_button, self.live, self.slider, self.jump, self.tensor):
            controls.addWidget(widget, 1 if widget is self.slider else 0)

        self.filters = FilterGrid(empty_text=NO_FILTERS)
        self.heatmap = pg.PlotWidget(title="distribution over training (snapshot x value, brighter = more)")
        self.heatmap.setLabel("bottom", "snapshot")
        self.heatmap.setLabel("left", "value")
        self._heat = pg.ImageItem()
        self._heat.setColorMap(pg.colormap.get("viridis"))
        self.heatmap.addItem(self._heat)
        self._heat_line = pg.InfiniteLine(angle=90, pen=pg.mkPen("#ff5050", width=2))
        self.heatmap.addItem(self._heat_line)
        self.histogram = pg.PlotWidget(title="at this step")
        self._bars = pg.BarGraphItem(x=[], height=[], width=1.0, brush="#4a90d9")
        self.histogram.addItem(self._bars)
        self.norms = pg.PlotWidget(title="gradient norm per layer")
        self.norms.addLegend(offset=(-10, 10))
        self.norms.setLogMode(y=True)
        self._norm_line = pg.InfiniteLine(angle=90, pen=pg.mkPen("#ff5050", width=2))
        self.norms.addItem(self._norm_line)

        plots = QSplitter(Qt.Orientation.Vertical)
        for widget in (self.heatmap, self.histogram, self.norms):
            for side in ("left", "bottom"):  # weights of 0.05 read as 0.05, not "value (x0.001)" with ticks 50
                widget.getPlotItem().getAxis(side).enableAutoSIPrefix(False)
            plots.addWidget(widget)
        self.health = HealthPanel()
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.filters)
        left.addWidget(self.health)
        left.setSizes([500, 300])
        body = QSplitter(Qt.Orientation.Horizontal)
        body.addWidget(left)
        body.addWidget(plots)
        body.setSizes([400, 600])
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        layout.addWidget(body, 1)

        self._play = QTimer(self)
        self._play.setInterval(PLAY_MS)
        self._play.timeout.connect(self._advance)
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self.refresh)
        self.slider.valueChanged.connect(self.show_index)
        self.play_button.toggled.connect(self._on_play)
        self.jump.valueChanged.connect(self.jump_to_step)
        self.tensor.currentIndexChanged.connect(self._draw_distribution)
        self.open_button.clicked.connect(self._choose_folder)

    # -- data in --------------------------------------------------------------------------------------------
    def set_run(self, folder: str | os.PathLike | None, architecture: Architecture | None) -> None:
        """Scrub `folder` (a run folder; None clears), whose network is `architecture`; follows it while live."""
        self.folder = Path(folder) if folder else None
        self.architecture = architecture
        self.entries, self._states, self._index = [], {}, -1
        self.tensor.clear()
        self.health.clear()
        if self.folder is None:
            self._poll.stop()
            self.status.setText(EMPTY)
            return
        self.refresh()
        self._poll.start()

    @Slot()
    def refresh(self) -> None:
        """Read the folder's timeline again; new snapshots extend the slider (and the live end follows them)."""
        if self.folder is None:
            return
        try:
            log = read_run_log(self.folder)
            entries = timeline(self.folder, log)
        except RunFolderError as exc:
            self.status.setText(f"Cannot read the run folder: {exc}")
            return
        if self.architecture is None and log.started:
            try:
                self.architecture = architecture_file.from_dict(log.started.get("architecture"))
            except architecture_file.ArchitectureFileError as exc:  # a stranger's folder: the log says nothing usable
                self._poll.stop()  # the started line never changes: reading again would only repeat this
                self.status.setText(f"Cannot show {self.folder}: the started line of its events.jsonl holds no "
                                    f"usable architecture ({exc})")
                return
        if log.finished is not None:
            self._poll.stop()
        if [e.file for e in entries] == [e.file for e in self.entries] and entries == self.entries:
            return
        at_end = self._index < 0 or self._index >= len(self.entries) - 1
        self.entries = entries
        live = {e.file for e in entries}
        self._states = {k: v for k, v in self._states.items() if k in live}
        self._recompute(log)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(entries) - 1))
        self.slider.setEnabled(bool(entries))
        self.slider.blockSignals(False)
        if entries:
            self.show_index(len(entries) - 1 if (at_end and self.live.isChecked()) else
                            min(max(self._index, 0), len(entries) - 1))

    def _state(self, entry: TimelineEntry) -> dict[str, torch.Tensor] | None:
        if entry.file not in self._states:
            try:
                self._states[entry.file] = load_timeline_weights(self.folder, entry)
            except RunFolderError:
                return None  # thinned away since the listing; the next refresh drops it
        return self._states[entry.file]

    def _recompute(self, log) -> None:
        loaded = [(e.step, self._state(e)) for e in self.entries]
        loaded = [(s, st) for s, st in loaded if st is not None]
        self._distributions = distributions([s for s, _ in loaded], [st for _, st in loaded])
        current = self.tensor.currentData()
        self.tensor.blockSignals(True)
        self.tensor.clear()
        for name in sorted(self._distributions, key=_tensor_order):
            self.tensor.addItem(tensor_title(name, self.architecture), name)
        if current in self._distributions:
            self.tensor.setCurrentIndex(self.tensor.findData(current))
        else:  # the first conv layer's weights: the filters shown beside
            self.tensor.setCurrentIndex(max(0, self.tensor.findData(self._first_conv_weights())))
        self.tensor.blockSignals(False)
        self.norms.clear()
        self.norms.addItem(self._norm_line)
        for i, (label, (steps, values)) in enumerate(gradient_norm_curves(log).items()):
            positive = values > 0
            self.norms.plot(steps[positive], values[positive], pen=pg.intColor(i), name=label)
        self._draw_distribution()

    def _first_conv_weights(self) -> str | None:
        layers = self.architecture.layers if self.architecture is not None else ()
        return next((f"{i}.weight" for i, spec in enumerate(layers) if has_filters(spec.TYPE)), None)

    def shown_tensor(self) -> str | None:
        """The state-dict key of the tensor whose distribution is shown ("0.weight")."""
        return self.tensor.currentData()

    # -- scrubbing ------------------------------------------------------------------------------------------
    @Slot(int)
    def show_index(self, index: int) -> None:
        """Show snapshot `index` (0 = oldest) in every view of the tab."""
        if not 0 <= index < len(self.entries):
            return
        self._index = index
        if self.slider.value() != index:
            self.slider.blockSignals(True)
            self.slider.setValue(index)
            self.slider.blockSignals(False)
        entry = self.entries[index]
        self.jump.blockSignals(True)
        self.jump.setValue(entry.step)
        self.jump.blockSignals(False)
        self.status.setText(f"step {entry.step:,}, epoch {entry.epoch} ({entry.dtype}), snapshot {index + 1} of "
                            f"{len(self.entries)}")
        state = self._state(entry)
        if state is not None and self.architecture is not None:
            for i, spec in enumerate(self.architecture.layers, start=1):
                weight = state.get(f"{i - 1}.weight")
                if has_filters(spec.TYPE) and weight is not None:
                    self.filters.show_layer(f"layer {i} ({spec.TYPE})", weight.numpy(), rgb=weight.shape[1] == 3)
        self._heat_line.setValue(index + 0.5)
        self._norm_line.setValue(entry.step)
        self._draw_step_histogram()
        self.health.show_entry(self.folder, entry)
        self.step_changed.emit(entry.step)
        self.scrubbed_to.emit(entry.step if index < len(self.entries) - 1 else -1)

    @Slot(int)
    def jump_to_step(self, step: int) -> None:
        """Show the kept snapshot nearest `step`."""
        if self.entries:
            self.show_index(int(np.argmin([abs(e.step - step) for e in self.entries])))

    def shutdown(self) -> None:
        """Stop following the folder and the health computation (the window closes)."""
        self._poll.stop()
        self._play.stop()
        self.health.shutdown()

    def shown_entry(self) -> TimelineEntry | None:
        return self.entries[self._index] if 0 <= self._index < len(self.entries) else None

    def shown_filters(self, label: str) -> np.ndarray | None:
        """The weights the filter view shows for `label` (tests compare them with the stored snapshot)."""
        entry = self.shown_entry()
        if entry is None or self.architecture is None:
            return None
        index = int(label.split()[1]) - 1
        return self._state(entry)[f"{index}.weight"].numpy()

    @Slot(bool)
    def _on_play(self, playing: bool) -> None:
        self.play_button.setText("Pause" if playing else "Play")
        if playing:
            if self._index >= len(self.entries) - 1:
                self.show_index(0)
            self._play.start()
        else:
            self._play.stop()

    @Slot()
    def _advance(self) -> None:
        if self._index >= len(self.entries) - 1:
            self.play_button.setChecked(False)
        else:
            self.show_index(self._index + 1)

    def _draw_distribution(self) -> None:
        dist = self._distributions.get(self.tensor.currentData())
        if dist is None:
            self._heat.clear()
            return
        image = np.log1p(dist.counts.astype(np.float64))  # (snapshot, bin); log: the tails stay visible
        row_major = pg.getConfigOption("imageAxisOrder") == "row-major"  # gui/views/pg_setup.py sets it
        self._heat.setImage(image.T if row_major else image, autoLevels=True)
        self._heat.setRect(0, dist.edges[0], len(dist.steps), dist.edges[-1] - dist.edges[0])
        self._draw_step_histogram()

    def _draw_step_histogram(self) -> None:
        dist = self._distributions.get(self.tensor.currentData())
        if dist is None or not 0 <= self._index < len(dist.counts):
            self._bars.setOpts(x=[], height=[])
            return
        centres = (dist.edges[:-1] + dist.edges[1:]) / 2
        self._bars.setOpts(x=centres, height=dist.counts[self._index], width=float(dist.edges[1] - dist.edges[0]))
        self.histogram.setTitle(f"{tensor_title(dist.tensor, self.architecture)} at step {dist.steps[self._index]:,}")

    @Slot()
    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a run folder")
        if folder:
            self.set_run(folder, None)
