"""The Training tab's views: filters, activations, curves, the probe sample and its prediction (one class each)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QTimer, Slot

from engine.events import BatchEnded, EpochEnded, SnapshotTaken
from engine.metrics import MetricsHistory
from gui.training.live_view import BaseLiveView
from gui.views.activation_view import ActivationView
from gui.views.curves import LossPlot
from gui.views.filter_grid import FilterGrid
from gui.views.probabilities import ProbabilityBars
from gui.views.sample_browser import SampleBrowser

# The curves are the costliest view to repaint (two plots with axes and grids, ~10-15 ms here); training
# reports ~20 batches a second, so they are fed in bunches at this interval (bench/gui_responsiveness.py).
CURVE_INTERVAL_MS = 400
# Building one layer's panel costs ~25 ms on an idle core, several times that beside a training process: a new
# network's panels are built one per frame, so the event loop never stalls for the whole set at once
# (bench/gui_responsiveness.py measured a 239 ms stall with three per frame, on the first snapshot).
NEW_PANELS_PER_FRAME = 1


class FiltersLiveView(BaseLiveView):
    name, title, row, size = "filters", "Filters (weights of every convolution)", "top", 300

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(FilterGrid(), parent)
        self.frozen: dict[str, tuple[int, ...]] = {}  # by layer label: hand-set filters training leaves alone

    def show_snapshot(self, event: SnapshotTaken) -> None:
        """Every conv layer's filters; the first in colour when it sees RGB; frozen ones framed."""
        grid: FilterGrid = self.widget
        if list(event.weights) != grid.layer_names():  # another network: drop its old layers
            grid.clear()
        for position, (label, weights) in enumerate(event.weights.items()):
            grid.show_layer(label, weights, rgb=position == 0 and weights.shape[1] == 3,
                            frozen=self.frozen.get(label, ()))

    def clear(self) -> None:
        self.widget.clear()

    clear_snapshot = clear


class ActivationsLiveView(BaseLiveView):
    name, title, row, size = "activations", "Activations of the probe sample (click a map to enlarge)", "top", 700

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(ActivationView(), parent)
        self._staged: dict[str, np.ndarray] | None = None  # activations whose panels are still being built
        self._stage_timer = QTimer(self)
        self._stage_timer.setSingleShot(True)
        self._stage_timer.setInterval(15)
        self._stage_timer.timeout.connect(self._show_staged)

    def show_snapshot(self, event: SnapshotTaken) -> None:
        if event.activations:
            self._staged = dict(event.activations)
            self._show_staged()
        else:  # weights without a probe (no dataset that fits): an older probe's maps would be stale
            self.clear()

    @Slot()
    def _show_staged(self) -> None:
        """Show the newest activations; if that needs many new panels, build a few now and the rest later."""
        view: ActivationView = self.widget
        maps, self._staged = self._staged, None
        if not maps:
            return
        have = set(view.layer_names())
        new = [name for name in maps if name not in have][:NEW_PANELS_PER_FRAME + 1]
        if len(new) > NEW_PANELS_PER_FRAME:
            self._staged = maps  # the rest next frame, unless a newer snapshot replaces it first
            chosen = set(new[:NEW_PANELS_PER_FRAME])
            view.show_activations({n: a for n, a in maps.items() if n in have or n in chosen})
            view.flush()
            self._stage_timer.start()
        else:
            view.show_activations(maps)
        if view.detail() is None:  # enlarge something from the start: the first map
            view.select_map(next(iter(view.layer_names())), 0)

    def clear(self) -> None:
        self._staged = None
        self.widget.clear()

    clear_snapshot = clear

    def flush(self) -> None:
        while self._staged:
            self._show_staged()
        self.widget.flush()


class CurvesLiveView(BaseLiveView):
    name, title, row, size = "curves", "Loss, accuracy and learning rate", "bottom", 440

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(LossPlot(), parent)
        self._pending: list[BatchEnded] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(CURVE_INTERVAL_MS)
        self._timer.timeout.connect(self._feed)

    def add_batch(self, event: BatchEnded) -> None:
        """Queued: the curves get every batch CURVE_INTERVAL_MS later in one bunch."""
        self._pending.append(event)
        if not self._timer.isActive():
            self._timer.start()

    def add_epoch(self, event: EpochEnded) -> None:
        self._feed()
        self.widget.append_epoch(event.step, event.val_loss, event.val_accuracy)

    def set_history(self, history: MetricsHistory) -> None:
        """A saved run's curves: training per batch, validation per epoch."""
        self.widget.set_history([(b.step, b.loss, b.accuracy, history.learning_rate(i))
                                 for i, b in enumerate(history.batches)],
                                [(e.step, e.val_loss, e.val_accuracy) for e in history.epochs])

    @Slot()
    def _feed(self) -> None:
        self._timer.stop()
        pending, self._pending = self._pending, []
        for event in pending:
            self.widget.append_batch(event.step, event.loss, event.accuracy, event.learning_rate)

    def begin_run(self) -> None:
        self.clear()

    def clear(self) -> None:
        self._pending.clear()
        self.widget.clear()

    def flush(self) -> None:
        self._feed()
        self.widget.flush()


class SamplesLiveView(BaseLiveView):
    """The validation split to pick the probe from (LiveViews wires its selection); kept when views clear."""

    name, title, row, size = "samples", "Probe sample (validation split)", "bottom", 280

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(SampleBrowser(), parent)

    def set_dataset(self, dataset) -> None:
        labels = dataset.val.labels.numpy().astype(np.int64)
        self.widget.set_samples(dataset.to_uint8(dataset.val.images), labels, [str(n) for n in dataset.class_names])

    def flush(self) -> None:
        pass  # the browser draws on demand


class PredictionLiveView(BaseLiveView):
    name, title, row, size = "probabilities", "Prediction for the probe sample", "bottom", 280

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(ProbabilityBars(), parent)
        self._class_names: list[str] = []
        self._labels = np.zeros(0, dtype=np.int64)

    def set_dataset(self, dataset) -> None:
        """Another dataset: the bars of the previous probe (and its class names) go until a snapshot of this one."""
        self._class_names = [str(name) for name in dataset.class_names]
        self._labels = dataset.val.labels.numpy().astype(np.int64)
        self.widget.clear()

    def show_snapshot(self, event: SnapshotTaken) -> None:
        probs = np.asarray(event.probabilities)
        if probs.size and probs.size == len(self._class_names):
            index = event.probe_index
            true = int(self._labels[index]) if 0 <= index < len(self._labels) else None
            self.widget.show_probabilities(probs, self._class_names, true)
        else:  # no probe, or scores that are not this dataset's classes: say so rather than keep old bars
            self.widget.clear()

    def begin_run(self) -> None:
        self.widget.clear()

    def clear(self) -> None:
        self.widget.clear()

    clear_snapshot = clear
