"""Runs training for the window: starts the session, routes its events, locks editing, keeps the result."""

from __future__ import annotations

import torch
from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QTabWidget

from engine.network.builder import build_model
from engine.network.compatibility import check_compatibility
from engine.datasets.assembly import renormalized
from engine.events import BatchEnded, EpochEnded, SnapshotTaken, TrainingFinished
from engine.metrics import MetricsHistory
from engine.normalization import Normalization
from engine.inspection.inspection_copy import InspectionCopy
from engine.network.weights import apply_state_dict
from gui.training.continued_run import ContinuedRun, copy_history
from gui.training.dataset_loader import DatasetLoader
from gui.training.idle_snapshots import initial_on_probe, nothing_to_show, trained_on_probe
from gui.builder.edit_lock import EditLock
from gui.training.live_views import LiveViews
from gui.training.shown_run import ShownRun, recorded_on_probe, recorded_or_none
from gui.document.project_io import ProjectState, copy_weights
from gui.workspace import TrainedWeights, Workspace
from gui.dataset_inputs import dataset_title
from gui.training.training_panel import TrainingPanel
from gui.training.training_session import TrainingSession
from gui.task_runner import TaskRunner
from gui.training.weights_prompts import CANCEL, CONTINUE, ask_continue_training, loaded_text
from models.architecture import Architecture, InputShape
from models.network import Network

STOPPED_BY_CHANGE = "Training stopped: the network was replaced"
IDLE_REFRESH_MS = 150


class TrainingController(QObject):
    """Connects the training panel, the session and the live views to the network being edited.

    Starting takes a frozen copy of the network (the trainer never sees the editable one); any change
    of the network during a run (New, Open, a preset) stops the run first. After a run, or after
    `restore()`, a CPU copy of the trained model answers probe picks with fresh activations.
    It is the one owner of `train_action`'s enabled state and tip (network, dataset and run together).
    `tabs` holds `live` as a tab; the summary dock makes room while that tab shows.

    What it produces goes into the workspace (`live.workspace`): the loaded dataset, the trained weights
    (`trained`: set when a run ends or a project is restored, cleared when one starts), the curves
    (`history`) and the run folder followed. It follows the workspace's probe sample. A run that continues from
    trained weights is numbered after their history in the views, the panel and `history` (gui/training/
    continued_run.py); its run folder keeps its own steps. Besides:
      - `restore(history, weights, normalization=None)`: curves again, and for weights that fit the network its
        filters and the probe's activations (WeightsError if they do not fit);
      - `project_state()`: what the DocumentController saves and opens through;
      - `stop_training() -> bool`, `is_training`.
    """

    dataset_shape_changed = Signal(str, object)  # dataset title, InputShape: the network's input follows it
    idle_views_shown = Signal()                  # the idle views show what the last refresh asked for
    status_reported = Signal(str)                # a line for the status bar
    run_shown = Signal()                         # a run was requested: the window shows the training dock

    def __init__(self, network: Network, session: TrainingSession, loader: DatasetLoader, panel: TrainingPanel,
                 live: LiveViews, *, lock: EditLock, train_action: QAction, tabs: QTabWidget,
                 summary_dock: QDockWidget, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._network, self._session, self._loader, self._panel, self._live = network, session, loader, panel, live
        self.workspace: Workspace = live.workspace
        self._train_action, self._tabs, self._summary_dock = train_action, tabs, summary_dock
        self.lock = lock
        self._run_arch: Architecture | None = None
        self._run_normalization: Normalization | None = None
        self._copy: tuple[TrainedWeights, InspectionCopy] | None = None  # for workspace.trained, built lazily
        self._run_source = ""  # the dataset the current run trains on
        self._shown = ShownRun(panel, live)
        self._continued: ContinuedRun | None = None  # the current or last run continues from trained weights
        self._recorded = None  # RecordedRun: the run shown is a RunWriter folder of a model it cannot rebuild

        panel.train_requested.connect(self._on_train_requested)
        panel.dataset_changed.connect(self._on_dataset_changed)
        loader.failed.connect(self._on_dataset_failed)  # after the panel's own slot: it records the error
        self.workspace.events.probe_index.connect(self._on_probe_selected)
        session.started.connect(self._on_started)
        session.snapshot_taken.connect(self._on_snapshot_taken)  # the views get events numbered in the whole history
        session.batch_ended.connect(self._on_batch_ended)
        session.epoch_ended.connect(self._on_epoch_ended)
        session.finished.connect(self._on_finished)
        network.changed.connect(self._on_network_changed)
        tabs.currentChanged.connect(self._on_tab_changed)
        self._summary_was_visible: bool | None = None
        self._idle_timer = QTimer(self)  # coalesces the idle views' refresh after edits and dataset changes
        self._idle_timer.setSingleShot(True)
        self._idle_timer.setInterval(IDLE_REFRESH_MS)
        self._idle_timer.timeout.connect(self._refresh_idle_views)
        self._idle_job = TaskRunner(self, name="ConvScope idle views")  # model builds and forward passes
        self._idle_job.finished.connect(self._on_idle_snapshot)
        self._idle_job.failed.connect(self._on_idle_failed)
        self._update_blocked()

    # -- state API -------------------------------------------------------------------------------------------
    @property
    def is_training(self) -> bool:
        return self._session.is_running

    def _current_trained(self) -> TrainedWeights | None:
        return self.workspace.trained_for(self._network.architecture)

    def project_state(self) -> ProjectState:
        """What DocumentController saves and opens through: the workspace, the panel's settings, restore."""
        return ProjectState(self.workspace, config=self._panel.config, set_config=self._panel.set_config,
                            restore=self.restore)

    def restore(self, history: MetricsHistory | None, weights: dict[str, torch.Tensor] | None,
                normalization: Normalization | None = None) -> None:
        """Show a saved run: its curves and, with `weights` for the current network, its filters and the
        probe's activations. WeightsError (a ValueError naming the tensor) if they do not fit."""
        self.stop_training()
        self._recorded = None
        model = None
        if weights is not None:
            arch = self._network.architecture
            model = build_model(arch)
            apply_state_dict(model, weights, source="the project's weights")
            model.eval()
        history = history if history is not None else MetricsHistory()
        self.workspace.history = history
        origin = None if model is None else loaded_text(history)
        self._panel.show_loaded(origin)
        if model is None and not history.batches:
            self._shown.forget()
        else:  # a project's curves describe the network it holds, on the dataset its settings name
            self._shown.set_run(self._network.architecture, self._panel.config().dataset, history)
        if model is None:
            self.workspace.trained = self._copy = None
            self._live.clear()
            self._live.set_history(history)
            self._request_idle_refresh()  # the untrained network's initial weights, if the tab is shown
            return
        self._live.begin_run()  # the maps are replaced below; panels of the same layers are reused
        self._live.set_history(history)
        self._live.set_weights_origin(origin)
        self.workspace.trained = TrainedWeights(copy_weights(weights), self._network.architecture, normalization,
                                                origin)
        self._refresh_idle_views()

    def stop_training(self) -> bool:
        """Stop a run and wait for its process (at most a few seconds); True when none is left running."""
        return self._session.stop_and_wait()

    def shutdown(self) -> None:
        """Window close: stop the run and any dataset loading, leaving no thread or process behind."""
        self._session.shutdown()
        self._loader.shutdown()
        self._idle_job.shutdown()
        if self._summary_was_visible:  # the saved layout keeps the user's choice, not the tab's
            self._summary_dock.show()
            self._summary_was_visible = None

    # -- starting ------------------------------------------------------------------------------------------
    def ask_continue_training(self) -> str:
        """CONTINUE, FRESH or CANCEL before training over trained weights (a seam: tests answer it themselves)."""
        return ask_continue_training(self._panel.window())

    @Slot(bool)
    def _on_train_requested(self, paused: bool) -> None:
        dataset, arch = self._panel.dataset, self._network.architecture
        if self._session.is_running or dataset is None:
            return
        problems = check_compatibility(arch, dataset)
        if problems:
            self._panel.set_blocked(problems[0])
            return
        initial, continued = None, None
        trained = self._current_trained()
        if trained is not None:  # never throw trained weights away without asking
            answer = self.ask_continue_training()
            if answer == CANCEL:
                return
            if answer == CONTINUE:
                initial, continued = trained.state, ContinuedRun.after(self.workspace.history)
                if trained.normalization is not None and trained.normalization != dataset.normalization:
                    # The weights keep seeing inputs normalised as when they were trained.
                    dataset = renormalized(dataset, trained.normalization)
        probe = self.workspace.probe_in(dataset)
        self._recorded = None
        self._run_arch = arch  # frozen: edits replace the Network's architecture, never mutate this one
        self._run_normalization, self._run_source = dataset.normalization, self._panel.config().dataset
        self._set_continued(continued)  # before start: its `started` reads it
        self._session.start(arch, dataset, self._panel.config(), probe_index=probe, initial_weights=initial,
                            paused=paused)
        if paused:  # Step from idle: a paused run waits before its first batch; let exactly that one through
            self._session.step()
        self._tabs.setCurrentWidget(self._live)
        self.run_shown.emit()

    @Slot(object)
    def attach(self, folder) -> None:
        """Follow the run folder just opened (its network is now the window's): curves, filters, maps live."""
        if self._session.is_running:
            self._session.stop_and_wait()
        arch, dataset = self._network.architecture, self._panel.dataset
        fits = dataset is not None and tuple(dataset.input_shape) == arch.input.as_tuple()
        trained = self.workspace.trained
        self._run_arch, self._run_normalization = arch, trained.normalization if trained is not None else None
        self._run_source = self._panel.config().dataset
        probe = self.workspace.probe_in(dataset) if fits else 0
        self._set_continued(None)  # a folder's run is shown with its own steps
        self._recorded = recorded_or_none(folder)
        if self._recorded is not None:  # its own probe batch: the pick counts in it (the session keeps it in range)
            probe = self.workspace.probe_index
        self._session.attach(folder, arch, dataset if fits else None, probe_index=probe)
        self._live.show_recorded(self._recorded)  # after attach: the run's start cleared the views
        self._tabs.setCurrentWidget(self._live)
        self.run_shown.emit()

    def _set_continued(self, continued: ContinuedRun | None) -> None:
        self._continued = continued
        self._panel.set_continued_from(None if continued is None else (continued.step, continued.epoch))

    def _shifted(self, event):
        return event if self._continued is None else self._continued.shift(event)

    @Slot()
    def _on_started(self) -> None:
        self._idle_job.cancel()  # the run's snapshots own the views now
        self.workspace.trained = self._copy = None
        continued = self._continued
        self.workspace.history = MetricsHistory() if continued is None else copy_history(continued.earlier)
        self.workspace.followed_run = getattr(self._session, "run_folder", None)
        self._live.begin_run(None if continued is None else continued.step)
        if continued is not None:  # the earlier curves stay; the run's points follow them
            self._live.set_history(continued.earlier)
        self.lock.set_locked(True)
        self._update_blocked()

    @Slot(object)
    def _on_snapshot_taken(self, event: SnapshotTaken) -> None:
        self._live.show_snapshot(self._shifted(event))

    @Slot(object)
    def _on_batch_ended(self, event: BatchEnded) -> None:
        event = self._shifted(event)
        self._live.add_batch(event)
        self.workspace.history.record_batch(event)

    @Slot(object)
    def _on_epoch_ended(self, event: EpochEnded) -> None:
        event = self._shifted(event)
        self._live.add_epoch(event)
        self.workspace.history.record_epoch(event)

    @Slot(object)
    def _on_finished(self, _result: TrainingFinished) -> None:
        self.lock.set_locked(False)
        history = self._session.history  # the run folder's own steps ...
        if self._continued is not None:  # ... after the earlier history's, as the curves showed them
            history = self._continued.combined(history)
        self.workspace.history = history
        if self._recorded is not None:  # its weights fit no network of the window's; its curves are nobody's
            self.workspace.history = MetricsHistory()  # shown, but not saved as the canvas network's curves
            self._panel.add_outcome_note(f"Continue training is not offered: {self._recorded.cannot_rebuild}. "
                                         f"Train trains the network on the canvas from its first step")
            self._shown.forget()
            self._refresh_idle_views()  # a snapshot read as the run ended is dropped by the session
        elif self._session.final_state is not None and self._run_arch is not None:
            self.workspace.trained = TrainedWeights(self._session.final_state, self._run_arch,
                                                    self._run_normalization)
        if self._run_arch is not None and self._recorded is None:
            self._shown.set_run(self._run_arch, self._run_source, history)
        self._update_blocked()

    # -- dataset, network, probe ------------------------------------------------------------------------------
    @Slot(object)
    def _on_dataset_changed(self, dataset) -> None:
        self.dataset_shape_changed.emit(dataset_title(self._panel.config().dataset), InputShape(*dataset.input_shape))
        self._shown.follow(self._network.architecture, self._panel.config().dataset)
        self.workspace.dataset = dataset
        self._live.set_dataset(dataset)  # selects the probe, which refreshes the idle views
        self._update_blocked()

    @Slot(str)
    def _on_dataset_failed(self, _message: str) -> None:
        self.workspace.dataset = None
        self._update_blocked()

    @Slot(object)
    def _on_network_changed(self, _architecture: object) -> None:
        stopped = self._session.is_running
        if stopped:
            self._session.stop_and_wait()
            self._panel.add_outcome_note(STOPPED_BY_CHANGE)
            self.status_reported.emit(STOPPED_BY_CHANGE)
        if self._recorded is not None and not self._session.is_running:  # the views go back to the user's network
            self._recorded = None
            self._live.show_recorded(None)
            self.workspace.followed_run = None  # the Explainer and Evaluation too: no run of theirs is shown now
        self._shown.follow(self._network.architecture, self._panel.config().dataset, keep_outcome=stopped)
        self._update_blocked()
        self._request_idle_refresh()

    @Slot(int)
    def _on_tab_changed(self, _index: int) -> None:
        """The summary table belongs to the Network tab (the first): every other tab gets its height."""
        dock, current = self._summary_dock, self._tabs.currentWidget()
        if current is not self._tabs.widget(0):
            if self._summary_was_visible is None:  # leaving the Network tab: remember the user's choice
                self._summary_was_visible = not dock.isHidden()
            dock.hide()
            if current is self._live:
                self._request_idle_refresh()
        elif self._summary_was_visible is not None:
            dock.setVisible(self._summary_was_visible)
            self._summary_was_visible = None

    def _on_probe_selected(self, index: int) -> None:
        if self._session.is_running:
            self._session.set_probe(index)
        else:
            self._refresh_idle_views()

    def _update_blocked(self) -> None:
        """Why Train is off (shown in the panel and on the Train action), or None."""
        analysis, dataset = self._network.analysis, self._panel.dataset
        reason = None
        if not analysis.is_valid:
            reason = analysis.first_error or "the network has no layers: add some from the palette"
        elif dataset is not None:
            problems = check_compatibility(self._network.architecture, dataset, analysis)
            reason = problems[0] if problems else None
        self._panel.set_blocked(reason)
        if reason is None and self._panel.dataset_error:
            reason = "the dataset could not be loaded (see the training panel)"
        action, running = self._train_action, self._session.is_running
        action.setEnabled(reason is None and not running)
        tip = "Training is running" if running else f"Cannot train: {reason}" if reason else "Train the network"
        action.setToolTip(tip)
        action.setStatusTip(tip)

    # -- the trained model, when idle ----------------------------------------------------------------------
    def _trained_copy(self) -> tuple[TrainedWeights, InspectionCopy] | None:
        """A model of the window's own for the trained weights, while they still belong to the network."""
        trained = self._current_trained()
        if trained is None:
            return None
        if self._copy is None or self._copy[0] is not trained:
            self._copy = (trained, InspectionCopy(trained.architecture))
        return self._copy

    def _request_idle_refresh(self) -> None:
        """Refresh the idle views soon, if they are on screen (an edit elsewhere costs nothing here)."""
        if not self._session.is_running and self._tabs.currentWidget() is self._live:
            self._idle_timer.start()

    @Slot()
    def _refresh_idle_views(self) -> None:
        """Idle, the Training tab shows the trained model if the network is still the one trained, else the
        network's initial weights (the very ones the next run starts from: same seed) on the probe sample.
        The model is built and run on a job thread; the newest request wins. A recorded run (no model to build)
        shows its newest snapshot's recordings."""
        if self._session.is_running:
            return
        if self._recorded is not None:
            self._idle_job.submit(recorded_on_probe, self._recorded.folder, self.workspace.probe_index)
            return
        dataset, probe = self._panel.dataset, self.workspace.probe_index
        copied = self._trained_copy()
        if copied is not None:
            trained, copy = copied
            last = self.workspace.history.batches[-1] if self.workspace.history.batches else None
            step, epoch = (last.step, last.epoch) if last else (0, 0)
            self._idle_job.submit(trained_on_probe, copy, trained, step, epoch, dataset, probe)
            return
        reason = nothing_to_show(self._network, dataset, probe)
        if reason is not None:  # an older network's maps would be stale: nothing, and why
            self._idle_job.cancel()
            self._live.show_nothing(reason)
            self.idle_views_shown.emit()
            return
        self._idle_job.submit(initial_on_probe, self._network.architecture, self._panel.config().seed, dataset,
                              probe)

    @Slot(object)
    def _on_idle_snapshot(self, result: tuple) -> None:
        if self._session.is_running:  # a run started since: its snapshots own the views
            return
        origin, snapshot = result
        self._live.set_weights_origin(origin)
        self._live.show_snapshot(snapshot)
        self.idle_views_shown.emit()

    @Slot(object)
    def _on_idle_failed(self, exc: object) -> None:
        """Weights that no longer load (an edit raced the job) or a model too large for memory: say so."""
        if self._recorded is not None:  # no model was run: the snapshot's recordings did not read
            self._live.show_nothing(f"the run's recorded snapshot could not be read ({exc})")
        else:
            self._live.show_nothing(f"the model could not be run ({exc})")
        self.idle_views_shown.emit()
