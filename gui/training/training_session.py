"""The one bridge between training and Qt: a child process trains into a run folder; this follows the folder.

Start writes the job (network, settings, starting weights) into a fresh run folder and hands it to a
child `main.py train` process (gui/training/training_process.py). A poll timer reads the folder's
event log as it grows (engine.run_folder.EventTail: a torn last line waits for the next poll) and
re-emits its lines as the engine's events; snapshot lines are turned into views on an inspection copy
of the model, rebuilt from the snapshot's weights on a TaskRunner thread, so any probe can be shown at
any time. Pause / resume / step / stop go through the folder's control file. The child's exit, whether
after its "finished" line or not (a crash, kill -9), ends the run: `final_state` and `history` are then
what the folder holds, and `finished` says how it ended.
"""

from __future__ import annotations

import logging
import os
import time
from itertools import count
from pathlib import Path

import torch
from PySide6.QtCore import QObject, QTimer, Signal, Slot

from engine.config import TrainConfig
from engine.training.device import choose_threads
from engine.events import FAILED, BatchEnded, TrainingFinished
from engine.inspection.inspection_copy import InspectionCopy
from engine.metrics import MetricsHistory
from engine.project.project_file import Project, ProjectError, save_project
from engine.run_folder import EVENTS, EventTail, RunFolderError, RunLog, snapshot_tensors, write_command
from engine.run_folder.folder_lock import writer_alive
from engine.run_folder.recording import recorded_snapshot
from engine.run_folder.records import SnapshotRecord, finished_event, writer_process
from engine.run_folder.run_curves import RunCurves
from gui.task_runner import TaskRunner
from gui.training.run_outcome import final_weights, newest_snapshot_or_none, unexpected_end
from gui.training.run_store import INPUT, default_runs_dir, new_run_folder
from gui.training.training_process import ProcessExit, TrainingProcess
from models.architecture import Architecture
from models.safe_text import clean

log = logging.getLogger(__name__)
SHUTDOWN_WAIT_MS = 3000
POLL_MS = 100          # how often the run log is read while a run goes
POLL_BYTES = 256 * 1024  # the most of the log one poll reads: attaching to a long run catches up over a few
                         # polls (about 1,000 lines each) instead of stalling the GUI thread on one big read
LIVENESS_S = 1.0  # how often an attached run's writer is asked after (a syscall on its pid, no file read)
# A writer on another host cannot be asked: it is taken as gone once its log was silent this many of its
# heartbeats (the writer adds an "alive" line every heartbeat while otherwise quiet; a slow disk or a busy
# machine can delay one or two).
STALE_HEARTBEATS = 6


class TrainingSession(QObject):
    """Starts and controls one training run at a time in a child process; its events arrive as signals."""

    started = Signal()
    batch_ended = Signal(object)       # BatchEnded
    epoch_ended = Signal(object)       # EpochEnded
    snapshot_taken = Signal(object)    # SnapshotTaken, computed on the inspection copy
    finished = Signal(object)          # TrainingFinished; `final_state` and `history` are then set
    paused_changed = Signal(bool)
    records_read = Signal(object)      # list of each poll's new log lines (dicts): the one follower feeds every tab

    def __init__(self, parent: QObject | None = None, *, runs_dir: str | os.PathLike | None = None) -> None:
        super().__init__(parent)
        self._runs_dir = Path(runs_dir) if runs_dir is not None else None
        self._prestart = False  # keep a warm worker ready (prestart() turns it on)
        self._process = TrainingProcess(self)
        self._process.exited.connect(self._on_process_exited)
        self._inspector = TaskRunner(self, name="ConvScope inspection")
        self._inspector.finished.connect(self._on_inspected)
        self._inspector.failed.connect(self._on_inspection_failed)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        self._runs = count(1)
        self._folder: Path | None = None
        self._tail: EventTail | None = None
        # The lines are checked and dropped (RunCurves keeps the curves as they arrive): nothing held grows with every
        # line of a long run, and a run's end reads nothing again.
        self._log = RunLog(keep_events=False)
        self._curves = RunCurves()
        self._pending: list[str] = []      # commands given before the child wrote its "started" line
        self._copy: InspectionCopy | None = None
        self._dataset = None
        self._probe = 0
        self._shown: tuple[SnapshotRecord, dict[str, torch.Tensor]] | None = None  # (snapshot, weights) on screen
        self._newest: SnapshotRecord | None = None  # the newest snapshot read
        self._paused = False
        self._waiting = False
        self._attached = False
        self._checked_at = 0.0   # monotonic time the attached run's writer was last asked after
        self._heard_at = 0.0     # monotonic time the attached run's log last grew
        self._stopping = False  # shutdown() is stopping the child: an end without "finished" is no crash
        self.final_state: dict[str, torch.Tensor] | None = None
        self.history = MetricsHistory()

    @property
    def is_running(self) -> bool:
        return self._folder is not None

    def prestart(self) -> None:
        """From now on keep a worker process ready (torch imported), so Train starts in a moment."""
        self._prestart = True
        if not self.is_running:
            self._process.prestart()

    @property
    def is_paused(self) -> bool:
        return self.is_running and self._paused

    @property
    def is_waiting(self) -> bool:
        """True while the child sits paused at a batch boundary (its log said so)."""
        return self.is_running and self._waiting

    @property
    def run_folder(self) -> Path | None:
        """The folder of the run going now (None between runs)."""
        return self._folder

    @property
    def child_pid(self) -> int | None:
        return self._process.pid()

    def start(self, arch: Architecture, dataset, config: TrainConfig, *, probe_index: int = 0,
              initial_weights: dict[str, torch.Tensor] | None = None, paused: bool = False) -> None:
        """Train `arch` in a child process on the dataset `config` names (`dataset` is the window's copy of it,
        for the probe sample). With `initial_weights` the child keeps `dataset.normalization`. `paused` waits
        before the first batch."""
        if self.is_running:
            raise RuntimeError("a training run is already going; stop it first")
        folder = new_run_folder(self._runs_dir or default_runs_dir(), next(self._runs))
        job = Project(arch, config, weights=initial_weights,
                      normalization=dataset.normalization if initial_weights is not None else None)
        try:
            save_project(job, folder / INPUT)
        except ProjectError as exc:
            self._folder = folder
            self._end(TrainingFinished(FAILED, f"cannot start training: {exc}", 0, 0))
            return
        argv = [str(folder / INPUT), "--out", str(folder)] + (["--paused"] if paused else [])
        if config.threads == 0:  # automatic: leave the window a core (bench/gui_responsiveness.py, docs/benchmarks.md)
            argv += ["--threads", str(choose_threads(0))]
        self._folder, self._tail = folder, EventTail(folder / EVENTS)
        self._log, self._curves = RunLog(keep_events=False), RunCurves()
        self._dataset, self._probe, self._shown, self._newest, self._pending = dataset, probe_index, None, None, []
        self._copy = InspectionCopy(arch)
        self._attached, self._paused, self._waiting = False, paused, False
        self.final_state, self.history = None, MetricsHistory()
        self._process.run(argv)
        self._timer.start()
        self.started.emit()

    def attach(self, folder: str | os.PathLike, arch: Architecture, dataset=None, *, probe_index: int = 0) -> None:
        """Follow a run folder someone else writes (a `train` in a terminal, a torchrun job, another machine),
        from its first line. `dataset` (or None) gives the probe samples. Control works where the folder is
        writable; stopping to follow (stop_and_wait, shutdown) never stops that run."""
        if self.is_running:
            raise RuntimeError("a training run is already going; stop it first")
        folder = Path(folder)
        self._folder, self._tail = folder, EventTail(folder / EVENTS)
        self._log, self._curves = RunLog(keep_events=False), RunCurves()
        self._dataset, self._probe, self._shown, self._newest, self._pending = dataset, probe_index, None, None, []
        self._copy = InspectionCopy(arch)
        self._attached, self._paused, self._waiting = True, False, False
        self._checked_at = self._heard_at = time.monotonic()
        self.final_state, self.history = None, MetricsHistory()
        self._timer.start()
        self.started.emit()
        self._poll()

    @property
    def followed_a_folder(self) -> bool:
        """The current or last run was followed in a folder written by another process (Attach, or a run
        folder opened), not started here: its weights and curves are on disk already."""
        return self._attached

    @property
    def is_attached(self) -> bool:
        """True while following a run this window did not start."""
        return self.is_running and self._attached

    @property
    def can_control(self) -> bool:
        """Pause / step / stop reach the run: always for our child; for an attached run if its folder is writable."""
        return self.is_running and (not self._attached or os.access(self._folder, os.W_OK))

    # --- control: through the run folder's control file ---------------------------------------------------

    def pause(self) -> None:
        if self.is_running and not self._paused:
            self._send("pause")
            self._paused = True
            self.paused_changed.emit(True)

    def resume(self) -> None:
        if self.is_running and self._paused:
            self._send("resume")
            self._paused = False
            self.paused_changed.emit(False)

    def step(self) -> None:
        """One batch, then paused."""
        if self.is_running:
            self._send("step")
            if not self._paused:
                self._paused = True
                self.paused_changed.emit(True)

    def stop(self) -> None:
        """Stop after the current batch; the child still scores the validation split and writes its folder."""
        if self.is_running:
            self._send("stop")

    def set_probe(self, index: int) -> None:
        """Show validation sample `index` (the caller keeps it within the split): recomputed on the copy now."""
        self._probe = index
        if self._newest is not None:
            shown = self._shown
            self._inspect(self._newest, shown[1] if shown and shown[0] is self._newest else None)

    def stop_and_wait(self, timeout_ms: int = SHUTDOWN_WAIT_MS) -> bool:
        """Stop the run fast and wait for the child (New, Open, a preset); True if none is left running.
        `finished` is emitted before this returns. An attached run goes on: the window only stops following it."""
        if self.is_attached:
            self._detach()
            return True
        self._stopping = True
        try:
            ended = self._process.stop_job(timeout_ms)  # delivers the child's exit to _on_process_exited
        finally:
            self._stopping = False
        self._inspector.cancel()
        return ended

    def shutdown(self, timeout_ms: int = SHUTDOWN_WAIT_MS) -> bool:
        """Window close: stop the run as stop_and_wait() does, end the spare worker and every inspection thread."""
        if self.is_attached:
            self._detach()
        self._stopping = True
        try:
            ended = self._process.shutdown(timeout_ms)
        finally:
            self._stopping = False
        return self._inspector.shutdown() and ended

    # --- following the folder -----------------------------------------------------------------------------

    def _send(self, command: str) -> None:
        if self._log.started is None:
            self._pending.append(command)  # the child is not listening yet
            return
        try:
            write_command(self._folder, command)
        except (OSError, RunFolderError) as exc:  # RunFolderError: control.json is a link, FIFO or device
            log.warning("cannot write the control file in %s: %s", self._folder, exc)

    @Slot()
    def _poll(self, *, everything: bool = False) -> None:
        if self._tail is None:
            return
        damaged_lines, damaged_snapshots = self._tail.damaged, self._log.damaged
        try:
            records = self._tail.poll(None if everything else POLL_BYTES)
        except RunFolderError as exc:
            log.warning("%s", exc)
            return
        was_started = self._log.started is not None
        newest_before = self._log.newest_snapshot
        self._log.add(records)
        if records:  # the Timeline keeps its own index from these, so nothing re-reads the log
            self.records_read.emit(records)
        # A damaged line is left out and named; the good lines read with it count, and the run goes on being followed.
        if self._tail.damaged > damaged_lines:
            log.warning("%s", self._tail.problems[-1])
        if self._log.damaged > damaged_snapshots:
            log.warning("%s: %s", self._folder, self._log.problems[-1])
        if not was_started and self._log.started is not None:
            pending, self._pending = self._pending, []
            for command in pending:
                self._send(command)
        paused_before = self._paused
        for record in records:
            kind = record["kind"]
            try:
                event = self._curves.read(record)
            except RunFolderError as exc:
                log.warning("%s", exc)
                event = None
            if event is not None:
                (self.batch_ended if isinstance(event, BatchEnded) else self.epoch_ended).emit(event)
            if kind in ("paused", "resumed"):
                self._waiting = kind == "paused"
                if self._attached:  # the run's own word: it was paused (maybe before we came) or resumed
                    self._paused = self._waiting
        newest = self._log.newest_snapshot
        if newest is not None and newest is not newest_before:  # only the newest of a burst is worth drawing
            self._newest = newest
            self._inspect(newest, None)
        if self._paused != paused_before:
            self.paused_changed.emit(self._paused)
        if self._attached and self._log.finished is not None:
            self._finish(None)
        elif self._attached:
            self._check_writer(bool(records))

    def _check_writer(self, heard: bool) -> None:
        """An attached run whose writer is gone (killed, its machine down) writes no "finished" line: end it
        once its process is known to be dead (same host: its pid), or its log stayed silent for too many
        heartbeats (another host). A log without the writer's `process` (an older ConvScope) is followed
        as before, until its finished line or the user leaves."""
        now = time.monotonic()
        if heard:
            self._heard_at = now
        if now - self._checked_at < LIVENESS_S:
            return
        self._checked_at = now
        writer = writer_process(self._log.started)
        if writer is None:
            return
        alive = writer_alive(writer.pid, writer.host, writer.boot_id)
        if alive is None and writer.heartbeat is not None:
            alive = now - self._heard_at < STALE_HEARTBEATS * writer.heartbeat
        if alive is False:
            self._poll(everything=True)  # the lines written just before it died (maybe its "finished" line)
            if self.is_running:
                self._writer_gone(writer)

    def _writer_gone(self, writer) -> None:
        found = newest_snapshot_or_none(self._folder, self._log)
        keeps = (f"the curves and the last snapshot (step {found[0].step:,}) are kept" if found is not None
                 else "the curves are kept")
        who = f"pid {writer.pid} on {clean(writer.host[:100])}"
        self.final_state, self.history = (found[1] if found else None), self._curves.history
        self._end(TrainingFinished(FAILED, f"the run in {self._folder} ended without finishing: its process "
                                           f"({who}) is gone. The network, {keeps}.",
                                   self._curves.epochs, self._curves.last_step))

    def _inspect(self, snapshot: SnapshotRecord, weights: dict[str, torch.Tensor] | None) -> None:
        val = self._dataset.val if self._dataset is not None else None
        probe = val.images_at(self._probe) if val is not None and 0 <= self._probe < len(val) else None
        self._inspector.submit(_inspect, self._copy, self._folder, snapshot, weights, probe, self._probe)

    @Slot(object)
    def _on_inspected(self, result) -> None:
        snapshot, weights, event = result
        if not self.is_running:
            return  # a late view of a run that has ended: the controller shows the final weights instead
        self._shown = (snapshot, weights)
        self.snapshot_taken.emit(event)

    @Slot(object)
    def _on_inspection_failed(self, exc: BaseException) -> None:
        # The writer thins old snapshots: a file named a moment ago can be gone; the next one will do.
        log.debug("snapshot not shown: %s", exc)

    @Slot(object)
    def _on_process_exited(self, exit_: ProcessExit) -> None:
        if self.is_running:
            self._finish(exit_)

    def _detach(self) -> None:
        # What was read so far, not the log read again: an hour-long log took hundreds of ms on the GUI thread.
        found = newest_snapshot_or_none(self._folder, self._log)
        self.final_state, self.history = (found[1] if found else None), self._curves.history
        self._end(TrainingFinished("stopped", f"stopped following the run in {self._folder} (it goes on there)",
                                   self._curves.epochs, self._newest.step if self._newest else 0))

    def _finish(self, exit_: ProcessExit | None) -> None:
        """The run ended: the child exited (`exit_`), or an attached run's log has its "finished" line (None)."""
        if exit_ is not None:
            self._poll(everything=True)  # every line not read yet, including those written just before the exit
        folder, finished_line = self._folder, self._log.finished
        if finished_line is not None:
            try:
                result = finished_event(finished_line)
            except RunFolderError as exc:  # the run ended all the same: end once, saying why, not every poll
                result = TrainingFinished(FAILED, f"the run ended, but its last line is damaged: {exc}",
                                          self._curves.epochs, self._curves.last_step)
            weights = final_weights(folder, self._log)
        else:
            found = newest_snapshot_or_none(folder, self._log)
            weights = found[1] if found else None
            result = unexpected_end(exit_, self._log.started is not None, self._curves.epochs,
                                    self._curves.last_step, found[0] if found else None, self._stopping)
        # Kept as the lines arrived (RunCurves): nothing here grows with the length of the log.
        self.final_state, self.history = weights, self._curves.history
        self._end(result)

    def _end(self, result: TrainingFinished) -> None:
        self._timer.stop()
        self._folder = self._tail = self._copy = self._dataset = self._shown = self._newest = None
        self._paused = False
        self._pending = []
        if self._prestart:
            QTimer.singleShot(1000, self._process.prestart)  # the next Train starts without the torch import
        self.finished.emit(result)


def _inspect(copy: InspectionCopy, folder: Path, snapshot: SnapshotRecord, weights, probe, probe_index: int):
    """On a TaskRunner thread: the snapshot's weights (read from its file unless given: a regular file in the
    folder's own snapshots/, never a link) on the probe; a recorded snapshot (RunWriter, a model ConvScope cannot
    rebuild) shows what it recorded instead, for sample `probe_index` of its own probe batch (else its first)."""
    if snapshot.recorded is not None:
        samples = snapshot.recorded.get("samples")
        index = probe_index if isinstance(samples, int) and 0 <= probe_index < samples else 0
        return snapshot, None, recorded_snapshot(folder, snapshot, index)
    if weights is None:
        weights = snapshot_tensors(folder, snapshot.file)
    event = copy.show(weights, probe, step=snapshot.step, epoch=snapshot.epoch, probe_index=probe_index,
                      gradient_norms=dict(snapshot.gradient_norms))
    return snapshot, weights, event


