"""TimelineTab: scrub a run folder's snapshot timeline: filters and health at a step, weight distributions,
gradient norms.

The tab never reads a whole log on the GUI thread. While the window trains or follows a run, the session's one
follower (TrainingSession.records_read) hands it each poll's new lines, and a TimelineIndex takes them at a
cost of the new lines only. A folder opened here (its Open button, File > Open) is read to its end on a
TaskRunner thread, then followed with the same EventTail, a bounded chunk per poll. Snapshot files are read and
binned on another TaskRunner. A hidden tab only appends lines to its index; it catches up when shown.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QSlider,
                               QSpinBox, QSplitter, QVBoxLayout, QWidget)

from engine.run_folder.timeline import TimelineEntry
from engine.run_folder.timeline_index import TimelineIndex
from engine.inspection.timeline_histograms import LayerDistribution
from gui.task_runner import TaskRunner
from gui.timeline.gif_export import ACTIVATIONS, FILTERS, GifExport
from gui.timeline.health_panel import HealthPanel
from gui.timeline.folder_follower import FolderFollower
from gui.timeline.timeline_loader import LoadedSnapshots, OpenedFolder, load_snapshots
from gui.timeline.timeline_plots import TimelinePlots
from gui.views.filter_grid import FilterGrid
from models import architecture_file
from models.architecture import Architecture
from models.layers import has_filters

PLAY_MS = 200     # one snapshot per tick while playing
UPDATE_MS = 250   # new lines arriving in bursts are drawn at most this often
EMPTY = "No run folder yet: train (the window writes one), or Open a run folder written by `train --out`."
NO_FILTERS = "No snapshot shown: the filters of each conv layer appear here once a run folder is open."
PROJECT = ("This project holds trained weights, not a snapshot timeline (a project file keeps the final weights "
           "only): the filters below are those weights. Open the run folder it was trained in to scrub its "
           "snapshots.")
NO_PROJECT_PLOTS = ("A project keeps no snapshots, so there is nothing to plot over training: open its run folder "
                    "to see the distributions and gradient norms.")


def tensor_title(name: str, architecture: Architecture | None) -> str:
    """A state-dict key as the summary numbers layers: "0.weight" is "layer 1 (conv2d) weights"."""
    module, _, kind = name.partition(".")
    if not module.isdigit():
        return name
    index = int(module) + 1
    layers = architecture.layers if architecture is not None else ()
    what = f"layer {index} ({layers[index - 1].TYPE})" if index <= len(layers) else f"layer {index}"
    return f"{what} {'weights' if kind == 'weight' else 'biases' if kind == 'bias' else kind}"


def _is_recorded(started) -> bool:
    """The started line of a RunWriter folder whose model ConvScope cannot rebuild (engine/run_folder/recording.py)."""
    inspection = started.get("inspection") if isinstance(started, dict) else None
    return isinstance(inspection, dict) and inspection.get("kind") == "recorded" and not started.get("architecture")


def _tensor_order(name: str) -> tuple[int, int, str]:
    """Layers in the summary's order, each one's weights before its biases."""
    module, _, kind = name.partition(".")
    return (int(module) if module.isdigit() else 1 << 30, 0 if kind == "weight" else 1, name)


class TimelineTab(QWidget):
    """Moving the slider shows that snapshot everywhere in the tab; `step_changed(step)` tells the rest, and
    `scrubbed_to(step)` too, but -1 at the newest snapshot (the live end, where no marker is wanted: a marker
    trailing a running run's curves by a snapshot would only confuse). `updated` says the views have caught up
    with the lines read so far. `workspace` (optional) gives a reopened project's trained weights to show."""

    step_changed = Signal(int)
    scrubbed_to = Signal(int)
    updated = Signal()

    def __init__(self, workspace=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._workspace = workspace
        self.folder: Path | None = None
        self.architecture: Architecture | None = None
        self.index = TimelineIndex()
        self.entries: list[TimelineEntry] = []
        self._states: dict[str, dict[str, torch.Tensor]] = {}   # by file: each snapshot read once
        self._distributions: dict[str, LayerDistribution] = {}
        self._index = -1
        self._drawn = -1          # the index version the views show (or were last asked to)
        self._refused = False     # the started line names no usable network: nothing of this folder is drawn
        self._recorded = False    # RunWriter recorded the run (a model it cannot rebuild): filters by module path
        self.redraw_count = 0     # updates started (tests: a hidden tab starts none)

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
        self.gif = GifExport(self)
        self.controls = QHBoxLayout()
        for widget in (self.open_button, self.play_button, self.live, self.slider, self.jump, self.tensor,
                       self.gif.button, self.gif.progress):
            self.controls.addWidget(widget, 1 if widget is self.slider else 0)

        self.filters = FilterGrid(empty_text=NO_FILTERS)
        self.plots = TimelinePlots()
        self.health = HealthPanel()
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.filters)
        left.addWidget(self.health)
        left.setSizes([500, 300])
        body = QSplitter(Qt.Orientation.Horizontal)
        body.addWidget(left)
        body.addWidget(self.plots)
        body.setSizes([400, 600])
        layout = QVBoxLayout(self)
        layout.addLayout(self.controls)
        layout.addWidget(self.status)
        layout.addWidget(body, 1)

        self._follower = FolderFollower(self)  # a folder opened here; the window's run comes by add_records
        self._follower.opened.connect(self._on_read)
        self._follower.records_read.connect(self.add_records)
        self._follower.failed.connect(self._on_failed)
        self._loader = TaskRunner(self, name="ConvScope timeline snapshots")
        self._loader.finished.connect(self._on_loaded)
        self._loader.failed.connect(self._on_failed)
        self._play = QTimer(self)
        self._play.setInterval(PLAY_MS)
        self._play.timeout.connect(self._advance)
        self._update_timer = QTimer(self)
        self._update_timer.setSingleShot(True)
        self._update_timer.setInterval(UPDATE_MS)
        self._update_timer.timeout.connect(self._update)
        self.slider.valueChanged.connect(self.show_index)
        self.play_button.toggled.connect(self._on_play)
        self.jump.valueChanged.connect(self.jump_to_step)
        self.tensor.currentIndexChanged.connect(self._draw_distribution)
        self.open_button.clicked.connect(self._choose_folder)
        self.gif.filters_action.triggered.connect(self._export_filters)
        self.gif.activations_action.triggered.connect(self._export_activations)
        self.gif.written.connect(self._on_gif_written)
        self.gif.failed.connect(self._on_gif_failed)

    # -- data in --------------------------------------------------------------------------------------------
    def follow(self, folder: str | os.PathLike | None, architecture: Architecture | None) -> None:
        """The window's run in `folder`: its lines will come through add_records (the session's follower)."""
        self._reset(folder, architecture)
        if self.folder is not None:
            self.status.setText(f"Following the run in {self.folder}: its snapshots appear as it writes them.")

    def set_run(self, folder: str | os.PathLike | None, architecture: Architecture | None) -> None:
        """Scrub `folder` (a run folder; None clears), whose network is `architecture` (None: the one its log
        names). Its log is read on a TaskRunner thread, then followed here while it grows."""
        self._reset(folder, architecture)
        if self.folder is None:
            self._show_trained()
            return
        self.status.setText(f"Reading {self.folder}…")
        self._follower.open(self.folder)

    def show_opened(self, path: str | os.PathLike) -> None:
        """File > Open took `path`: a run folder is scrubbed; a project shows what it holds (its trained weights)."""
        path = Path(path)
        self.set_run(path if path.is_dir() else None, None)

    @Slot(object)
    def add_records(self, records: list) -> None:
        """New lines of the followed run's log (dicts, as EventTail reads them)."""
        if self.folder is not None and records and self.index.add(records):
            self._changed()

    @Slot()
    def refresh(self) -> None:
        """Read a folder opened here further now, and bring the views up to date if the tab is shown."""
        self._follower.poll()
        if self.isVisible():
            self._update()

    def _reset(self, folder, architecture: Architecture | None) -> None:
        self._follower.stop()
        self._update_timer.stop()
        self._loader.cancel()
        self.play_button.setChecked(False)
        self.folder = Path(folder) if folder else None
        self.architecture = architecture
        self.index, self._drawn, self._refused, self._recorded = TimelineIndex(), -1, False, False
        self.entries, self._states, self._distributions, self._index = [], {}, {}, -1
        self.tensor.clear()
        self.health.clear()
        self.filters.clear()
        self.plots.clear()
        self.plots.forget_norms()
        self.slider.setEnabled(False)
        self.gif.set_available(False)
        self.status.setText(EMPTY)

    def _show_trained(self) -> None:
        """No run on the timeline: a reopened project's weights, if any, are what it can show."""
        trained = self._workspace.trained if self._workspace is not None else None
        if trained is None:
            return
        self.status.setText(PROJECT)
        self.plots.clear(NO_PROJECT_PLOTS)
        for i, spec in enumerate(trained.architecture.layers, start=1):
            weight = trained.state.get(f"{i - 1}.weight")
            if has_filters(spec.TYPE) and weight is not None:
                self.filters.show_layer(f"layer {i} ({spec.TYPE})", weight.detach().float().numpy(),
                                        rgb=weight.shape[1] == 3)

    def _changed(self) -> None:
        if not self._recorded and _is_recorded(self.index.started):
            # No network of its own: the window's (follow) is not the run's, and none is needed to scrub it.
            self._recorded, self.architecture = True, None
        if self.architecture is None and self.index.started is not None and not self._refused and not self._recorded:
            try:
                self.architecture = self.index.architecture
            except architecture_file.ArchitectureFileError as exc:  # a stranger's folder: nothing usable
                self._refused = True
                self._follower.stop()  # the started line never changes: reading again would only repeat this
                self.status.setText(f"Cannot show {self.folder}: the started line of its events.jsonl holds no "
                                    f"usable architecture ({exc})")
        if self._refused:
            return
        if self.index.finished is not None:
            self._follower.stop()
        if self.isVisible() and not self._update_timer.isActive():
            self._update_timer.start()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's override
        super().showEvent(event)
        if self.folder is not None and self.index.version != self._drawn and not self._refused:
            self._update_timer.start()  # hidden, it only kept the lines: catch up now

    @Slot()
    def _update(self) -> None:
        """Redraw what the new lines changed: the norms here, the snapshots' weights and bins on the loader."""
        if self.folder is None or self._refused or self.index.version == self._drawn:
            return
        self._drawn = self.index.version
        self.redraw_count += 1
        self.plots.show_norms(self.index.norms)
        entries = self.index.entries()
        if entries:
            self._loader.submit(load_snapshots, self.folder, entries, dict(self._states))
        else:
            self.updated.emit()

    @Slot(object)
    def _on_read(self, opened: OpenedFolder) -> None:
        if opened.folder != self.folder:
            return
        self.index = opened.index
        if self.index.started is None:
            self.status.setText(f"{self.folder}: no run log yet; its snapshots appear here as it is written.")
        self._changed()  # a finished (or refused) log stops the follower here

    @Slot(object)
    def _on_failed(self, exc: object) -> None:
        self.status.setText(f"Cannot read the run folder: {exc}")

    @Slot(object)
    def _on_loaded(self, loaded: LoadedSnapshots) -> None:
        if loaded.folder != self.folder:
            return
        # Every snapshot is binned again (the bins span all of them): on a long live run that takes a while, so
        # the next update waits at least as long as this one took (at most half a core, never all of it).
        self._update_timer.setInterval(max(UPDATE_MS, round(1000 * loaded.seconds)))
        at_end = self._index < 0 or self._index >= len(self.entries) - 1
        self.entries, self._states, self._distributions = loaded.entries, loaded.states, loaded.distributions
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
        self._draw_distribution()
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(self.entries) - 1))
        self.slider.setEnabled(bool(self.entries))
        self.slider.blockSignals(False)
        self.gif.set_available(bool(self.entries) and self.architecture is not None)
        if self.entries:
            self.show_index(len(self.entries) - 1 if (at_end and self.live.isChecked()) else
                            min(max(self._index, 0), len(self.entries) - 1))
        self.updated.emit()

    def _first_conv_weights(self) -> str | None:
        if self._recorded:
            return next(iter(self._recorded_filters(self._states.get(self.entries[-1].file, {}))), None) \
                if self.entries else None
        layers = self.architecture.layers if self.architecture is not None else ()
        return next((f"{i}.weight" for i, spec in enumerate(layers) if has_filters(spec.TYPE)), None)

    def _recorded_filters(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """A recorded run's kernels, by state-dict name: every 4-d weight of the model (its convolutions), in the
        model's order as its snapshot lines list the gradient norms (a file's tensors come sorted by name)."""
        order = {path: i for i, path in enumerate(self.index.norms)}
        kernels = [name for name, w in state.items() if name.endswith(".weight") and w.ndim == 4 and w.numel()]
        kernels.sort(key=lambda name: (order.get(name.removesuffix(".weight"), len(order)), name))
        return {name: state[name] for name in kernels}

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
        state = self._states.get(entry.file)
        if state is not None and self._recorded:
            for position, (name, weight) in enumerate(self._recorded_filters(state).items()):
                self.filters.show_layer(name.removesuffix(".weight"), weight.numpy(),
                                        rgb=position == 0 and weight.shape[1] == 3)
        elif state is not None and self.architecture is not None:
            for i, spec in enumerate(self.architecture.layers, start=1):
                weight = state.get(f"{i - 1}.weight")
                # A stranger's snapshot may hold anything under a conv layer's name: only kernels are drawn.
                if has_filters(spec.TYPE) and weight is not None and weight.ndim == 4 and weight.numel():
                    self.filters.show_layer(f"layer {i} ({spec.TYPE})", weight.numpy(), rgb=weight.shape[1] == 3)
        self.plots.show_step(index, entry.step)
        self.health.show_entry(self.folder, entry)
        self.step_changed.emit(entry.step)
        self.scrubbed_to.emit(entry.step if index < len(self.entries) - 1 else -1)

    @Slot(int)
    def jump_to_step(self, step: int) -> None:
        """Show the kept snapshot nearest `step`."""
        if self.entries:
            self.show_index(int(np.argmin([abs(e.step - step) for e in self.entries])))

    def export_gif(self, kind: str) -> bool:
        """Export GIF…: the filters of the chosen layer (the shown tensor's, if it has filters; else the first
        conv layer's), or the probe's activations at that layer, one frame per snapshot."""
        if self.folder is None or self.architecture is None or not self.entries:
            return False
        name = self.shown_tensor() or ""
        module = name.partition(".")[0]
        index = int(module) if module.isdigit() and int(module) < len(self.architecture.layers) else None
        if kind == FILTERS:
            layer = index + 1 if index is not None and has_filters(self.architecture.layers[index].TYPE) else 0
        else:
            layer = index + 1 if index is not None else 1
        return self.gif.start(kind, self.architecture, self.folder, layer)

    @Slot()
    def _export_filters(self) -> None:
        self.export_gif(FILTERS)

    @Slot()
    def _export_activations(self) -> None:
        self.export_gif(ACTIVATIONS)

    @Slot(object, int)
    def _on_gif_written(self, path: Path, frames: int) -> None:
        self.status.setText(f"Wrote {path} ({frames} frames)")

    @Slot(str)
    def _on_gif_failed(self, message: str) -> None:
        self.status.setText(f"Cannot export the GIF: {message}")

    def shutdown(self) -> None:
        """Stop following the folder and every computation of the tab (the window closes)."""
        self._follower.shutdown()
        self._play.stop()
        self._update_timer.stop()
        self._loader.shutdown()
        self.gif.shutdown()
        self.health.shutdown()

    def shown_entry(self) -> TimelineEntry | None:
        return self.entries[self._index] if 0 <= self._index < len(self.entries) else None

    def shown_filters(self, label: str) -> np.ndarray | None:
        """The weights the filter view shows for `label` (tests compare them with the stored snapshot)."""
        entry = self.shown_entry()
        if entry is not None and self._recorded:  # labelled by module path
            weight = self._states[entry.file].get(f"{label}.weight")
            return None if weight is None else weight.numpy()
        if entry is None or self.architecture is None:
            return None
        index = int(label.split()[1]) - 1
        return self._states[entry.file][f"{index}.weight"].numpy()

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

    @Slot()
    def _draw_distribution(self) -> None:
        name = self.tensor.currentData()
        self.plots.show_distribution(self._distributions.get(name),
                                     tensor_title(name, self.architecture) if name else "")
        entry = self.shown_entry()
        if entry is not None:
            self.plots.show_step(self._index, entry.step)

    @Slot()
    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a run folder")
        if folder:
            self.set_run(folder, None)
