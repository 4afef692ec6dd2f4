"""The one bridge between the engine's Trainer and Qt: a worker on a QThread, its hooks re-emitted as signals.

Threading rules (DESIGN.md): the worker's hooks only `emit`; cross-thread signals connect to @Slot
methods of this GUI-thread object; stop/pause/step act on a thread-safe TrainingControl directly,
because a queued slot would never run while the worker sits inside `fit()`. The GUI never sees the
live model: when a run ends the worker leaves a CPU copy of the weights in `final_state`.
"""

from __future__ import annotations

import torch
from PySide6.QtCore import QObject, QThread, Signal, Slot

from engine.config import TrainConfig
from engine.events import FAILED, BatchEnded, EpochEnded, SnapshotTaken, TrainingFinished
from engine.metrics import MetricsHistory
from engine.trainer import Callback, Trainer, TrainingSetupError
from engine.training_control import TrainingControl
from gui.document.project_io import copy_weights
from models.architecture import Architecture

SHUTDOWN_WAIT_MS = 5000


class _Worker(QObject, Callback):
    """Lives on the training thread; `run` blocks in Trainer.fit()."""

    batch_ended = Signal(object)
    epoch_ended = Signal(object)
    snapshot_taken = Signal(object)
    run_finished = Signal(object)

    def __init__(self, arch: Architecture, dataset, config: TrainConfig, control: TrainingControl,
                 initial_weights: dict[str, torch.Tensor] | None) -> None:
        super().__init__()
        self._args = (arch, dataset, config, initial_weights)
        self._control = control
        self.history = MetricsHistory()
        self.final_state: dict[str, torch.Tensor] | None = None
        self.result: TrainingFinished | None = None

    @Slot()
    def run(self) -> None:
        arch, dataset, config, initial = self._args
        try:
            trainer = Trainer(arch, dataset, config, [self], alongside_gui=True, initial_weights=initial,
                              control=self._control)
        except TrainingSetupError as exc:
            self.result = TrainingFinished(FAILED, f"cannot start training: {exc}", 0, 0)
            self.run_finished.emit(self.result)
            return
        self.history = trainer.history
        finished = trainer.fit()
        self.final_state = copy_weights(trainer.model.state_dict())
        self.result = finished
        self.run_finished.emit(finished)

    def on_batch_end(self, event: BatchEnded) -> None:
        self.batch_ended.emit(event)

    def on_epoch_end(self, event: EpochEnded) -> None:
        self.epoch_ended.emit(event)

    def on_snapshot(self, event: SnapshotTaken) -> None:
        self.snapshot_taken.emit(event)


class TrainingSession(QObject):
    """Starts and controls one training run at a time; re-emits the engine's events on the GUI thread."""

    started = Signal()
    batch_ended = Signal(object)       # BatchEnded
    epoch_ended = Signal(object)       # EpochEnded
    snapshot_taken = Signal(object)    # SnapshotTaken
    finished = Signal(object)          # TrainingFinished; `final_state` and `history` are then set
    paused_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: _Worker | None = None
        self._control: TrainingControl | None = None
        self._paused = False
        self.final_state: dict[str, torch.Tensor] | None = None
        self.history = MetricsHistory()

    @property
    def is_running(self) -> bool:
        return self._thread is not None

    @property
    def is_paused(self) -> bool:
        return self.is_running and self._paused

    def start(self, arch: Architecture, dataset, config: TrainConfig, *, probe_index: int = 0,
              initial_weights: dict[str, torch.Tensor] | None = None, paused: bool = False) -> None:
        """Train a frozen copy of `arch` on a new thread. `paused` starts at the first batch boundary paused."""
        if self.is_running:
            raise RuntimeError("a training run is already going; stop it first")
        self._control = TrainingControl(probe_index)
        self._paused = paused
        if paused:
            self._control.pause()
        self._thread = QThread()
        self._thread.setObjectName("ConvScope training")
        self._worker = _Worker(arch, dataset, config, self._control, initial_weights)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.batch_ended.connect(self._on_batch_ended)
        self._worker.epoch_ended.connect(self._on_epoch_ended)
        self._worker.snapshot_taken.connect(self._on_snapshot_taken)
        self._worker.run_finished.connect(self._on_run_finished)
        self._thread.start()
        self.started.emit()

    # --- control: effective at the next batch boundary ------------------------------------------

    def pause(self) -> None:
        if self._control and not self._paused:
            self._control.pause()
            self._paused = True
            self.paused_changed.emit(True)

    def resume(self) -> None:
        if self._control and self._paused:
            self._control.resume()
            self._paused = False
            self.paused_changed.emit(False)

    def step(self) -> None:
        """One batch, then paused."""
        if self._control:
            self._control.step()
            if not self._paused:
                self._paused = True
                self.paused_changed.emit(True)

    def stop(self) -> None:
        if self._control:
            self._control.stop()

    def set_probe(self, index: int) -> None:
        """Which validation sample the next snapshots show (the caller keeps it within the split)."""
        if self._control:
            self._control.set_probe(index)

    def shutdown(self, timeout_ms: int = SHUTDOWN_WAIT_MS) -> bool:
        """Stop the run and wait for its thread to end (window close, new project). True if it ended."""
        if not self._thread:
            return True
        self._control.stop()
        self._thread.quit()
        if not self._thread.wait(timeout_ms):
            return False
        result = self._worker.result  # the queued run_finished is ignored from here on
        self._finish_run()
        if result is not None:
            self.finished.emit(result)
        return True

    # --- worker signals, delivered on the GUI thread --------------------------------------------

    @Slot(object)
    def _on_batch_ended(self, event: BatchEnded) -> None:
        self.batch_ended.emit(event)

    @Slot(object)
    def _on_epoch_ended(self, event: EpochEnded) -> None:
        self.epoch_ended.emit(event)

    @Slot(object)
    def _on_snapshot_taken(self, event: SnapshotTaken) -> None:
        self.snapshot_taken.emit(event)

    @Slot(object)
    def _on_run_finished(self, result: TrainingFinished) -> None:
        if self._thread is None:
            return
        self._thread.quit()
        self._thread.wait()
        self._finish_run()
        self.finished.emit(result)

    def _finish_run(self) -> None:
        worker, thread = self._worker, self._thread
        if worker is None:
            return
        self.final_state, self.history = worker.final_state, worker.history
        self._worker = self._thread = self._control = None
        self._paused = False
        worker.deleteLater()
        thread.deleteLater()
