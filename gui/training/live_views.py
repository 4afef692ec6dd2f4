"""The "Training" tab: its live views (gui/training/live_view_kinds.py) in two rows, fed by run events."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from engine.events import BatchEnded, EpochEnded, SnapshotTaken
from engine.metrics import MetricsHistory
from gui.training.health_line import HealthLine
from gui.training.live_view import LiveView
from gui.training.receptive_field_link import ReceptiveFieldLink
from gui.training.live_view_kinds import (NEW_PANELS_PER_FRAME, ActivationsLiveView, CurvesLiveView,  # noqa: F401
                                         FiltersLiveView, PredictionLiveView, SamplesLiveView)
from gui.views.activation_view import ActivationView
from gui.views.curves import LossPlot
from gui.views.filter_grid import FilterGrid
from gui.views.probabilities import ProbabilityBars
from gui.views.sample_browser import SampleBrowser
from gui.workspace import Workspace
from models.architecture import Architecture
from models.network import Network

# The tab's views, in order within their row. A new view: one LiveView class, one entry here.
def frozen_filters_by_label(architecture: Architecture) -> dict[str, tuple[int, ...]]:
    """{'layer 2 (conv2d)': (0, 1)}: the frozen filters of each conv layer, keyed as the snapshots' labels
    (LayerAnalysis.label)."""
    frozen = {}
    for index, spec in enumerate(architecture.layers, start=1):
        filters = spec.frozen_filters() if hasattr(spec, "frozen_filters") else ()
        if filters:
            frozen[f"layer {index} ({spec.TYPE})"] = filters
    return frozen


VIEWS = (FiltersLiveView, ActivationsLiveView, CurvesLiveView, SamplesLiveView, PredictionLiveView)
ROW_SIZES = {"top": 560, "bottom": 440}  # initial heights (a splitter scales them): the maps get the most room
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
    """Holds the live views (`views`, each a LiveView) and routes run events into every one of them.

    Data in: `set_dataset(dataset)` (the validation split feeds the sample browser; class names
    and labels name the prediction), and the @Slots `show_snapshot(SnapshotTaken)`,
    `add_batch(BatchEnded)`, `add_epoch(EpochEnded)`; `set_history(MetricsHistory)` redraws saved
    curves; `begin_run()` resets the curves for a new run, `clear()` empties every view. Nothing is
    cleared when a run ends, so the views keep its final state. The probe sample is the workspace's
    `probe_index`: picking a sample sets it, and the browser follows it when anything else does. Each
    view's widget is also an attribute named after it (`filters`, `activations`, `curves`, `samples`,
    `probabilities`).
    """

    filters: FilterGrid
    activations: ActivationView
    curves: LossPlot
    samples: SampleBrowser
    probabilities: ProbabilityBars

    def __init__(self, workspace: Workspace | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace if workspace is not None else Workspace()
        self.setObjectName("liveViews")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.views: list[LiveView] = [kind(self) for kind in VIEWS]
        self._labels = np.zeros(0, dtype=np.int64)
        self._class_names: list[str] = []
        self._step: tuple[int, int] | None = None  # (step, epoch) of the newest snapshot
        self._continued_from: int | None = None  # the step the current run's weights start at, when it continues
        self._origin: str | None = None  # where shown weights come from when no run of this window made them
        self._snapshot_probe = 0
        self._nothing: str | None = None  # why no snapshot can be shown now (show_nothing), until the next one
        self._recorded = None  # RecordedRun: the snapshots are a user's script's recordings (show_recorded)

        self.caption = QLabel(_IDLE_CAPTION)
        self.caption.setObjectName("liveCaption")
        self.health = HealthLine(self.workspace)  # the followed run's health warnings (hidden when there are none)
        rows = QSplitter(Qt.Orientation.Vertical)
        row_splitters = {}
        for row, height in ROW_SIZES.items():
            row_splitters[row] = QSplitter(Qt.Orientation.Horizontal)
            rows.addWidget(row_splitters[row])
            rows.setStretchFactor(rows.count() - 1, height)
        for view in self.views:
            setattr(self, view.name, view.widget)
            splitter = row_splitters[view.row]
            splitter.addWidget(_titled(view.title, view.widget))
            splitter.setStretchFactor(splitter.count() - 1, view.size)
        rows.setSizes(list(ROW_SIZES.values()))
        for row, splitter in row_splitters.items():
            splitter.setSizes([v.size for v in self.views if v.row == row])
        for splitter in (*row_splitters.values(), rows):
            splitter.setChildrenCollapsible(False)
            splitter.setHandleWidth(3)
        self.splitters = (rows, row_splitters["top"], row_splitters["bottom"])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.caption)
        layout.addWidget(self.health)
        layout.addWidget(rows, 1)
        self.samples.sample_selected.connect(self._on_sample_selected)
        self.workspace.events.probe_index.connect(self._on_probe_changed)
        self.field_link = ReceptiveFieldLink(self.activations, self)  # the probe beside its maps, and unit fields

    # -- data in --------------------------------------------------------------------------------------------
    def set_dataset(self, dataset) -> None:
        """Every view gets `dataset`; the probe is picked again in its validation split."""
        self._class_names = [str(name) for name in dataset.class_names]
        self._labels = dataset.val.labels.numpy().astype(np.int64)
        for view in self.views:
            view.set_dataset(dataset)
        self.field_link.set_dataset(dataset)
        if len(self._labels):
            probe = self.workspace.probe_index
            self.samples.select(probe if probe < len(self._labels) else 0)
        self._update_caption()

    def show_recorded(self, recorded) -> None:
        """The run shown is a RecordedRun (or None: not any more): its probe is a sample of the script's own probe
        batch, not of the validation split, so no view pairs it with a validation image or its true class."""
        self._recorded = recorded
        self._update_caption()

    @Slot(object)
    def show_snapshot(self, event: SnapshotTaken) -> None:
        self._snapshot_probe = event.probe_index
        if self._recorded is not None:  # -1: no validation sample (the prediction shows no true class)
            event = replace(event, probe_index=-1)
        for view in self.views:
            view.show_snapshot(event)
        if event.activations:  # the maps' own sample (without maps, the view has cleared it)
            self.field_link.show_probe(event.probe_index)
        self._step = (event.step, event.epoch)
        self._nothing = None
        self._update_caption()

    @Slot(object)
    def add_batch(self, event: BatchEnded) -> None:
        for view in self.views:
            view.add_batch(event)

    @Slot(object)
    def add_epoch(self, event: EpochEnded) -> None:
        for view in self.views:
            view.add_epoch(event)

    def follow_network(self, network: Network) -> None:
        """Mark the frozen filters (conv2d `frozen_init`) of `network` as it is, now and after every edit."""
        def update(_architecture: object = None) -> None:
            filters = next(view for view in self.views if isinstance(view, FiltersLiveView))
            filters.frozen = frozen_filters_by_label(network.architecture)
            self.field_link.set_architecture(network.architecture, network.analysis)
        update()
        network.changed.connect(update)
        self.health.follow_network(network)

    def set_history(self, history: MetricsHistory) -> None:
        """Replace the curves with a saved run's (training per batch, validation per epoch)."""
        for view in self.views:
            view.set_history(history)

    def begin_run(self, continued_from: int | None = None) -> None:
        """A new run: the curves start afresh; the maps stay until its first snapshot (at step 0, or at
        `continued_from` for a run that continues from trained weights) replaces them, so a rerun of the same
        network reuses every panel instead of building them again."""
        self._origin = self._nothing = self._recorded = None
        self._continued_from = continued_from
        for view in self.views:
            view.begin_run()

    def clear(self) -> None:
        """Empty every view but the sample browser."""
        for view in self.views:
            view.clear()
        self._step = self._origin = self._nothing = self._continued_from = self._recorded = None
        self._update_caption()

    def show_nothing(self, reason: str) -> None:
        """No weights or probe can be shown for the network and dataset now in the window: the filters, maps and
        prediction go (the curves are the controller's to keep or drop) and the caption says why."""
        for view in self.views:
            view.clear_snapshot()
        self._step = self._origin = None
        self._nothing = reason
        self._update_caption()

    def set_weights_origin(self, text: str | None) -> None:
        """Caption the views with where their weights come from (an opened file, imported weights) instead of
        a snapshot step; None goes back to the step. A new run clears it."""
        self._origin = text
        self._update_caption()

    def flush(self) -> None:
        """Draw all pending data now (tests, screenshots)."""
        for view in self.views:
            view.flush()

    # -- probe ----------------------------------------------------------------------------------------------
    def _on_probe_changed(self, index: int) -> None:
        """The workspace's probe changed (a click here, the Evaluation tab, an opened project): show it picked;
        an index past this split waits for a dataset that holds it."""
        if 0 <= index < len(self._labels) and self.samples.current_index() != index:
            self.samples.select(index)
        self._update_caption()

    def redraw_counts(self) -> int:
        """Redraws done so far by the coalescing views (the benchmark measures the refresh rate with it)."""
        return sum(view.redraw_count for view in self.views)

    @Slot(int)
    def _on_sample_selected(self, index: int) -> None:
        self.workspace.probe_index = index
        self._update_caption()

    def _update_caption(self) -> None:
        """What the views show: the snapshot's step and probe; a newer pick waits for the next snapshot."""
        if self._nothing:
            self.caption.setText(f"Nothing to show yet: {self._nothing}")
            return
        probe = self.workspace.probe_index
        shown = probe if self._step is None else self._snapshot_probe
        parts = []
        if self._recorded is not None:
            recorded = self._recorded
            if self._step is not None:
                parts.append(f"Snapshot at step {self._step[0]:,} (epoch {self._step[1]})")
            parts.append(f"recorded by your own script's {recorded.model}: probe sample #{shown} of the batch "
                         f"it was given (ConvScope has not its network, so it shows what the script recorded)")
            self.caption.setText(" \u00b7 ".join(parts))
            return
        if self._origin:
            parts.append(self._origin)
        elif self._step:
            step = self._step[0]
            if self._continued_from is not None and step == self._continued_from:
                parts.append(f"Continuing from the trained weights (step {step:,})")
            else:
                parts.append(f"Snapshot at step {step:,} (epoch {self._step[1]})" if step else
                             "Before training: the initial weights (step 0)")
        if 0 <= shown < len(self._labels):
            parts.append(f"probe: validation sample #{shown} "
                         f"(true class: {self._class_names[self._labels[shown]]})")
        if shown != probe and 0 <= probe < len(self._labels):
            parts.append(f"sample #{probe} shows from the next snapshot")
        self.caption.setText(" \u00b7 ".join(parts) if parts else _IDLE_CAPTION)
