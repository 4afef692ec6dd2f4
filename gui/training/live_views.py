"""The "Training" tab: filters, activations, curves, the probe sample and its prediction, fed by run events."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from engine.events import BatchEnded, EpochEnded, SnapshotTaken
from engine.metrics import MetricsHistory
from gui.views.activation_view import ActivationView
from gui.views.curves import LossPlot
from gui.views.filter_grid import FilterGrid
from gui.views.probabilities import ProbabilityBars
from gui.views.sample_browser import SampleBrowser

# The curves are the costliest view to repaint (two plots with axes and grids, ~10-15 ms here); training
# reports ~20 batches a second, so they are fed in bunches at this interval (bench/gui_responsiveness.py).
CURVE_INTERVAL_MS = 400
# Building one layer's panel costs ~25 ms here: a new network's panels are built a few per frame, so
# the event loop never stalls for the whole set at once (bench/gui_responsiveness.py measures stalls).
NEW_PANELS_PER_FRAME = 3
_IDLE_CAPTION = "Train the network to watch it learn: its filters, activations and curves appear here."


def _titled(title: str, view: QWidget) -> QWidget:
    box = QWidget()
    label = QLabel(title)
    label.setObjectName("viewTitle")
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    layout.addWidget(label)
    layout.addWidget(view, 1)
    return box


class LiveViews(QWidget):
    """Holds the live views and routes run events into them; the views coalesce their own redraws.

    Data in: `set_dataset(dataset)` (the validation split feeds the sample browser; class names
    and labels name the prediction), and the @Slots `show_snapshot(SnapshotTaken)`,
    `add_batch(BatchEnded)`, `add_epoch(EpochEnded)`; `set_history(MetricsHistory)` redraws saved
    curves; `begin_run()` resets the curves for a new run, `clear()` empties every view. Nothing is
    cleared when a run ends, so the views keep its final state. Picking a sample emits
    `probe_selected(index into the validation split)`.
    """

    probe_selected = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("liveViews")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.filters = FilterGrid()
        self.activations = ActivationView()
        self.curves = LossPlot()
        self.probabilities = ProbabilityBars()
        self.samples = SampleBrowser()
        self._class_names: list[str] = []
        self._labels = np.zeros(0, dtype=np.int64)
        self._probe = 0
        self._step: tuple[int, int] | None = None  # (step, epoch) of the newest snapshot
        self._snapshot_probe = 0
        self._pending_batches: list[BatchEnded] = []
        self._curve_timer = QTimer(self)
        self._curve_timer.setSingleShot(True)
        self._curve_timer.setInterval(CURVE_INTERVAL_MS)
        self._curve_timer.timeout.connect(self._feed_curves)
        self._staged: dict[str, np.ndarray] | None = None  # activations whose panels are still being built
        self._stage_timer = QTimer(self)
        self._stage_timer.setSingleShot(True)
        self._stage_timer.setInterval(15)
        self._stage_timer.timeout.connect(self._show_staged)

        self.caption = QLabel(_IDLE_CAPTION)
        self.caption.setObjectName("liveCaption")
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(_titled("Filters (weights of every convolution)", self.filters))
        top.addWidget(_titled("Activations of the probe sample (click a map to enlarge)", self.activations))
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 7)
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(_titled("Loss and accuracy", self.curves))
        bottom.addWidget(_titled("Probe sample (validation split)", self.samples))
        bottom.addWidget(_titled("Prediction for the probe sample", self.probabilities))
        bottom.setStretchFactor(0, 5)
        bottom.setStretchFactor(1, 3)
        bottom.setStretchFactor(2, 3)
        rows = QSplitter(Qt.Orientation.Vertical)
        rows.addWidget(top)
        rows.addWidget(bottom)
        rows.setStretchFactor(0, 11)
        rows.setStretchFactor(1, 9)
        # Initial proportions (a splitter scales them to its size): the maps get the most room.
        rows.setSizes([560, 440])
        top.setSizes([300, 700])
        bottom.setSizes([440, 280, 280])
        for splitter in (top, bottom, rows):
            splitter.setChildrenCollapsible(False)
            splitter.setHandleWidth(3)
        self.splitters = (rows, top, bottom)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.caption)
        layout.addWidget(rows, 1)
        self.samples.sample_selected.connect(self._on_sample_selected)

    # -- data in --------------------------------------------------------------------------------------------
    def set_dataset(self, dataset) -> None:
        """Show `dataset`'s validation split in the sample browser and keep its class names and labels."""
        self._class_names = [str(name) for name in dataset.class_names]
        self._labels = dataset.val.labels.numpy().astype(np.int64)
        self.samples.set_samples(dataset.to_uint8(dataset.val.images), self._labels, self._class_names)
        if len(self._labels):
            self.samples.select(self._probe if self._probe < len(self._labels) else 0)
        self._update_caption()

    @Slot(object)
    def show_snapshot(self, event: SnapshotTaken) -> None:
        """Filters of every conv layer (the first in colour when it sees RGB), activations, probabilities."""
        if list(event.weights) != self.filters.layer_names():  # another network: drop its old layers
            self.filters.clear()
        for position, (label, weights) in enumerate(event.weights.items()):
            self.filters.show_layer(label, weights, rgb=position == 0 and weights.shape[1] == 3)
        if event.activations:
            self._staged = dict(event.activations)
            self._show_staged()
        probs = np.asarray(event.probabilities)
        if probs.size and probs.size == len(self._class_names):
            true = int(self._labels[event.probe_index]) if 0 <= event.probe_index < len(self._labels) else None
            self.probabilities.show_probabilities(probs, self._class_names, true)
        self._step, self._snapshot_probe = (event.step, event.epoch), event.probe_index
        self._update_caption()

    @Slot(object)
    def add_batch(self, event: BatchEnded) -> None:
        """Queued for the curves, which get every batch CURVE_INTERVAL_MS later in one bunch."""
        self._pending_batches.append(event)
        if not self._curve_timer.isActive():
            self._curve_timer.start()

    @Slot(object)
    def add_epoch(self, event: EpochEnded) -> None:
        self._feed_curves()
        self.curves.append_epoch(event.step, event.val_loss, event.val_accuracy)

    @Slot()
    def _show_staged(self) -> None:
        """Show the newest activations; if that needs many new panels, build a few now and the rest later."""
        maps, self._staged = self._staged, None
        if not maps:
            return
        have = set(self.activations.layer_names())
        new = [name for name in maps if name not in have][:NEW_PANELS_PER_FRAME + 1]
        if len(new) > NEW_PANELS_PER_FRAME:
            self._staged = maps  # the rest next frame, unless a newer snapshot replaces it first
            chosen = set(new[:NEW_PANELS_PER_FRAME])
            self.activations.show_activations({n: a for n, a in maps.items() if n in have or n in chosen})
            self.activations.flush()
            self._stage_timer.start()
        else:
            self.activations.show_activations(maps)
        if self.activations.detail() is None:  # enlarge something from the start: the first map
            self.activations.select_map(next(iter(self.activations.layer_names())), 0)

    @Slot()
    def _feed_curves(self) -> None:
        self._curve_timer.stop()
        pending, self._pending_batches = self._pending_batches, []
        for event in pending:
            self.curves.append_batch(event.step, event.loss, event.accuracy)

    def set_history(self, history: MetricsHistory) -> None:
        """Replace the curves with a saved run's (training per batch, validation per epoch)."""
        self.curves.set_history([(step, loss, acc) for step, _epoch, loss, acc in history.batches],
                                [(step, vl, va) for _epoch, step, _tl, _ta, vl, va in history.epochs])

    def begin_run(self) -> None:
        """A new run: the curves start afresh; the maps stay until its first snapshot (at step 0) replaces
        them, so a rerun of the same network reuses every panel instead of building them again."""
        self._pending_batches.clear()
        self.curves.clear()
        self.probabilities.clear()

    def clear(self) -> None:
        """Empty every view but the sample browser."""
        self.filters.clear()
        self._staged = None
        self.activations.clear()
        self._pending_batches.clear()
        self.curves.clear()
        self.probabilities.clear()
        self._step = None
        self._update_caption()

    def flush(self) -> None:
        """Draw all pending data now (tests, screenshots)."""
        self._feed_curves()
        while self._staged:
            self._show_staged()
        for view in (self.filters, self.activations, self.curves, self.probabilities):
            view.flush()

    # -- probe ----------------------------------------------------------------------------------------------
    @property
    def probe_index(self) -> int:
        return self._probe

    def set_probe_index(self, index: int) -> None:
        """Pick validation sample `index` as the probe (as a click in the browser does); kept for a later
        dataset when none is loaded yet."""
        if 0 <= index < len(self._labels):
            self.samples.select(index)
        else:
            self._probe = max(0, int(index))

    def redraw_counts(self) -> int:
        """Redraws done so far by the coalescing views (the benchmark measures the refresh rate with it)."""
        return sum(v.redraw_count for v in (self.filters, self.activations, self.curves, self.probabilities))

    @Slot(int)
    def _on_sample_selected(self, index: int) -> None:
        self._probe = index
        self._update_caption()
        self.probe_selected.emit(index)

    def _update_caption(self) -> None:
        """What the views show: the snapshot's step and probe; a newer pick waits for the next snapshot."""
        shown = self._probe if self._step is None else self._snapshot_probe
        parts = []
        if self._step:
            parts.append(f"Snapshot at step {self._step[0]:,} (epoch {self._step[1]})" if self._step[0] else
                         "Before training: the initial weights (step 0)")
        if 0 <= shown < len(self._labels):
            parts.append(f"probe: validation sample #{shown} "
                         f"(true class: {self._class_names[self._labels[shown]]})")
        if shown != self._probe and 0 <= self._probe < len(self._labels):
            parts.append(f"sample #{self._probe} shows from the next snapshot")
        self.caption.setText(" \u00b7 ".join(parts) if parts else _IDLE_CAPTION)
