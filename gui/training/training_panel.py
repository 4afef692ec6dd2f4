"""The training panel: settings form, dataset loading, Train/Pause/Step/Stop, progress and the run's outcome."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from engine.config import TrainConfig
from engine.events import BatchEnded, TrainingFinished
from gui.builder.form_widgets import section_heading
from gui.training.dataset_loader import DatasetLoader
from gui.training.run_status import UNTRAINED, RunStatus
from gui.dataset_inputs import dataset_title
from gui.training.training_form import TrainingForm
from gui.training.training_session import TrainingSession
from gui.views.redraw import RedrawScheduler
from gui.views.message_label import MessageLabel

SEED_RELOAD_DELAY_MS = 400  # the seed decides the validation split: reload once typing has settled


class TrainingPanel(QWidget):
    """Settings and controls of one run at a time, for the window's training dock.

    Train and Step (when idle) do not start the session themselves: starting needs the network
    and the probe sample, so they emit `train_requested(paused)` once the chosen dataset has
    loaded (a click while it loads waits for it). Pause/Resume, Step (while running) and Stop act
    on the session directly. `set_blocked(reason)` disables Train with the reason shown.
    """

    train_requested = Signal(bool)      # paused: Step from idle runs one batch, then waits paused
    dataset_changed = Signal(object)    # the newly loaded engine.datasets.Dataset
    blocked_changed = Signal(object)    # why Train is off (str), or None: the window flags the output block
    train_problem_changed = Signal(object)  # the same, or that the dataset did not load: the status bar says it

    def __init__(self, session: TrainingSession, loader: DatasetLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainingPanel")
        self._session, self._loader = session, loader
        self.dataset = None                    # the loaded Dataset matching the form, or None
        self._loaded_key: tuple | None = None  # (source, val_fraction, seed) of `dataset`
        self._loading_key: tuple | None = None
        self._load_error = ""
        self._blocked: str | None = None
        self._train_problem: str | None = None
        self._pending_start: bool | None = None  # paused flag of a Train/Step waiting for the dataset
        self._run_config = TrainConfig()
        self._last_batch: BatchEnded | None = None
        self._continued_from: tuple[int, int] | None = None  # (step, epoch) the next or current run continues from

        self.form = TrainingForm()
        self.train_button = self._button("\u25b6  Train", "primaryButton", "Train the network with these settings")
        self.pause_button = self._button("Pause", "flatButton", "Pause at the next batch; Resume goes on")
        self.step_button = self._button("Step", "flatButton", "Run one batch, then pause (starts a paused run "
                                                              "when idle)")
        self.stop_button = self._button("\u25a0  Stop", "flatButton", "Stop at the next batch; the trained "
                                                                      "weights are kept")
        self.blocked_label = self._label("problemLabel")
        self.status = RunStatus()
        self.progress_bar, self.progress_label, self.outcome_label = (self.status.bar, self.status.progress,
                                                                      self.status.outcome)

        buttons = QGridLayout()
        buttons.setSpacing(6)
        buttons.addWidget(self.train_button, 0, 0, 1, 3)
        buttons.addWidget(self.pause_button, 1, 0)
        buttons.addWidget(self.step_button, 1, 1)
        buttons.addWidget(self.stop_button, 1, 2)
        body = QWidget()  # the settings scroll ...
        body.setObjectName("trainingPanelBody")
        layout = QVBoxLayout(body)
        layout.setContentsMargins(14, 10, 14, 12)
        layout.setSpacing(8)
        layout.addWidget(self.form)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # the form fits the width
        scroll.setWidget(body)
        self.controls = QWidget()  # ... while the run's controls, progress and outcome stay in view below them
        self.controls.setObjectName("trainingPanelControls")
        self.controls.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)  # its top rule (style.qss)
        controls = QVBoxLayout(self.controls)
        controls.setContentsMargins(14, 6, 14, 10)
        controls.setSpacing(6)
        controls.addWidget(section_heading("Training"))
        controls.addLayout(buttons)
        controls.addWidget(self.blocked_label)
        controls.addWidget(self.status)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(scroll, 1)
        outer.addWidget(self.controls)

        self._seed_timer = QTimer(self)
        self._seed_timer.setSingleShot(True)
        self._seed_timer.setInterval(SEED_RELOAD_DELAY_MS)
        self._seed_timer.timeout.connect(self._load_if_needed)
        self._progress_redraw = RedrawScheduler(self._show_progress, self, interval_ms=100)

        self.train_button.clicked.connect(self._on_train_clicked)
        self.pause_button.clicked.connect(self._on_pause_clicked)
        self.step_button.clicked.connect(self._on_step_clicked)
        self.stop_button.clicked.connect(self._on_stop_clicked)
        self.form.source_changed.connect(self._on_source_changed)
        self.form.seed_changed.connect(self._on_seed_changed)
        loader.loaded.connect(self._on_dataset_loaded)
        loader.failed.connect(self._on_dataset_failed)
        session.started.connect(self._on_started)
        session.paused_changed.connect(self._on_paused_changed)
        session.batch_ended.connect(self._on_batch_ended)
        session.finished.connect(self._on_finished)
        self._update_controls()

    def _button(self, text: str, object_name: str, tip: str) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(object_name)
        button.setToolTip(tip)
        button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        return button

    @staticmethod
    def _label(object_name: str) -> QLabel:
        label = MessageLabel()
        label.setObjectName(object_name)
        return label

    # -- public ---------------------------------------------------------------------------------------------
    def config(self) -> TrainConfig:
        return self.form.config()

    def set_config(self, config: TrainConfig) -> None:
        """Show `config` (e.g. from a project file); loads its dataset if that is another one."""
        self.form.set_config(config)
        self._load_if_needed()

    def select_dataset(self, source: str) -> None:
        """Choose and load a dataset by name or path (the --dataset option does this)."""
        self.form.set_dataset_source(source)
        self._load_if_needed()

    @property
    def dataset_ready(self) -> bool:
        return self.dataset is not None and self._loaded_key == self._wanted_key()

    @property
    def dataset_error(self) -> str:
        """Why the chosen dataset could not be loaded ("" when it could, or while it loads)."""
        return self._load_error

    def set_blocked(self, reason: str | None) -> None:
        """Why training cannot start (None: it can); shown under the buttons while idle."""
        changed = reason != self._blocked
        self._blocked = reason
        self._update_controls()
        if changed:
            self.blocked_changed.emit(reason)

    def request_train(self, paused: bool = False) -> None:
        """Train (or with `paused`, one batch then pause) once the dataset is ready; ignored while running."""
        if self._session.is_running or self._blocked or self._load_error:
            return
        if self.dataset_ready:
            self._pending_start = None
            self.train_requested.emit(paused)
            return
        self._pending_start = paused
        self.status.set_outcome("running", "Loading the dataset; training starts when it is ready\u2026")
        self._load_if_needed()
        self._update_controls()

    # -- dataset --------------------------------------------------------------------------------------------
    def _wanted_key(self) -> tuple:
        config = self.form.config()
        return config.dataset, config.val_fraction, config.seed

    @Slot()
    def _load_if_needed(self) -> None:
        self._seed_timer.stop()
        key = self._wanted_key()
        if key == self._loaded_key and self.dataset is not None or key == self._loading_key:
            return
        self._loading_key, self._load_error = key, ""
        self.form.set_dataset_status("loading", f"Loading {dataset_title(key[0])}\u2026")
        self._loader.load(key[0], val_fraction=key[1], seed=key[2])
        self._update_controls()

    @Slot(str)
    def _on_source_changed(self, _source: str) -> None:
        self._load_if_needed()

    @Slot(int)
    def _on_seed_changed(self, _seed: int) -> None:
        if self._loaded_key is not None or self._loading_key is not None:
            self._seed_timer.start()

    @Slot(object)
    def _on_dataset_loaded(self, dataset) -> None:
        self.dataset, self._loaded_key, self._loading_key = dataset, self._loading_key, None
        c, h, w = dataset.input_shape
        self.form.set_dataset_status(
            "ready", f"{len(dataset.train):,} train \u00b7 {len(dataset.val):,} validation \u00b7 "
                     f"{dataset.num_classes} classes \u00b7 {c}\u00d7{h}\u00d7{w} images")
        self.form.set_preview_dataset(dataset)
        self._update_controls()
        self.dataset_changed.emit(dataset)
        if self._pending_start is not None and self.dataset_ready:
            paused, self._pending_start = self._pending_start, None
            self.outcome_label.hide()
            self.request_train(paused)

    @Slot(str)
    def _on_dataset_failed(self, message: str) -> None:
        self.dataset, self._loaded_key, self._loading_key = None, None, None
        self._load_error = message
        self.form.set_dataset_status("error", f"Cannot load this dataset: {message}")
        if self._pending_start is not None:
            self._pending_start = None
            self.outcome_label.hide()
        self._update_controls()

    # -- buttons --------------------------------------------------------------------------------------------
    def _on_train_clicked(self) -> None:
        self.request_train(paused=False)

    def _on_pause_clicked(self) -> None:
        if self._session.is_paused:
            self._session.resume()
        else:
            self._session.pause()

    def _on_step_clicked(self) -> None:
        if self._session.is_running:
            self._session.step()
        else:
            self.request_train(paused=True)

    def _on_stop_clicked(self) -> None:
        if self._pending_start is not None:
            self._pending_start = None
            self.outcome_label.hide()
            self._update_controls()
        self._session.stop()

    # -- session --------------------------------------------------------------------------------------------
    @Slot()
    def _on_started(self) -> None:
        self._run_config = self.config()
        self._last_batch = None
        if self._session.is_attached:
            self.status.started(f"Following the run in {self._session.run_folder}"
                                + ("" if self._session.can_control else " (read-only: its controls are off)"))
        else:
            self.status.started("Training\u2026 (the network is locked until the run ends)", self._continued_from)
        self._update_controls()

    @Slot(bool)
    def _on_paused_changed(self, paused: bool) -> None:
        self._update_controls()
        self._progress_redraw.request()

    @Slot(object)
    def _on_batch_ended(self, event: BatchEnded) -> None:
        self._last_batch = event
        self._progress_redraw.request()

    @Slot(object)
    def _on_finished(self, result: TrainingFinished) -> None:
        self._progress_redraw.flush()
        self.status.finished(result, self._last_batch, self._run_config, self._continued_from)
        self._update_controls()

    # -- display --------------------------------------------------------------------------------------------
    def _show_progress(self) -> None:
        self.status.show_progress(self._last_batch, self._run_config, paused=self._session.is_paused,
                                  waiting=self._session.is_waiting, continued_from=self._continued_from)

    def set_continued_from(self, position: tuple[int, int] | None) -> None:
        """The next run continues from trained weights at (step, epoch) of their history (None: it does not);
        its progress line then counts both this run's epochs and steps and the whole history's."""
        self._continued_from = position

    def show_loaded(self, text: str | None) -> None:
        """Between runs: say what the network holds (e.g. weights from an opened project); None: untrained.
        The outcome of an earlier run goes: it was about other weights."""
        if not self._session.is_running:
            self.status.show_loaded(text)

    def show_untrained(self, text: str = UNTRAINED, *, keep_outcome: bool = False) -> None:
        """Between runs: the network on screen has no trained weights; `text` says why. `keep_outcome`: the
        outcome line stays (it says why the last run ended, e.g. the network was replaced)."""
        if not self._session.is_running:
            self.status.show_untrained(text, keep_outcome=keep_outcome)

    def add_outcome_note(self, note: str) -> None:
        """Say why the run ended (e.g. the network was replaced) above the outcome."""
        self.status.add_note(note)

    def outcome(self) -> tuple[str, str]:
        """(state, text) of the status label: running/completed/stopped/diverged/failed, or ('', '') if hidden."""
        return self.status.outcome_state()

    def _update_controls(self) -> None:
        running, paused = self._session.is_running, self._session.is_paused
        control = self._session.can_control
        reason = self._blocked or ("the dataset could not be loaded" if self._load_error else None)
        if reason != self._train_problem:
            self._train_problem = reason
            self.train_problem_changed.emit(reason)
        can_start = not running and reason is None
        self.form.setEnabled(not running)
        self.train_button.setEnabled(can_start)
        self.step_button.setEnabled(control or can_start)
        self.pause_button.setEnabled(control)
        self.pause_button.setText("Resume" if paused else "Pause")
        self.stop_button.setEnabled(control or self._pending_start is not None)
        self.blocked_label.setVisible(not running and self._blocked is not None)
        self.blocked_label.setText(f"Cannot train: {self._blocked}" if self._blocked else "")
        self.train_button.setToolTip("Train the network with these settings" if can_start else
                                     "Training is running" if running else f"Cannot train: {reason}")
