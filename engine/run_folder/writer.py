"""RunFolderWriter: a trainer Callback that writes events.jsonl and snapshot sidecars as training goes."""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from engine.config import TrainConfig
from engine.normalization import Normalization, join_settings
from engine.events import BatchEnded, EpochEnded, SnapshotTaken, TrainingFinished
from engine.run_folder import folder_lock
from engine.run_folder.layout import ARCHITECTURE, SETTINGS
from engine.run_folder.log_file import RunLogFile, full_precision, jsonable, started_record  # noqa: F401 (jsonable)
from engine.run_folder.run_output import remove_stale_run_temporaries
from engine.training.trainer import Callback
from models import architecture_file
from models.architecture import Architecture
from models.atomic_file import write_atomically

# While the log is otherwise quiet (paused, a long batch, validation, a torchrun rank waiting) the writer adds
# {"kind": "alive"} every HEARTBEAT_S seconds, so a follower on another host, which cannot ask about the pid,
# can tell a quiet live run from a dead one. Seconds apart: a handful of lines an hour even while paused.
HEARTBEAT_S = 5.0


class RunFolderWriter(Callback):
    """Writes the live part of a run folder for the model being trained (the trainer's `model`).

    start() begins a fresh log (an earlier run's log and snapshots in the folder are removed) and writes
    architecture.json and settings.json at once, so a killed run's folder names its network. Each event is
    one line, flushed as it comes (the trainer already spaces batch events by its log interval); snapshots and
    their thinning are RunLogFile's (its TimelineStore, within
    config.snapshot_budget_mb). finish() writes the last line, after the caller's final files.
    start() first takes the folder's writer lock (folder_lock.py; FolderInUseError while another process writes
    it), unless prepare_output_dir already did; close() gives it up.
    """

    reads_layer_tensors = False  # it saves the model's state dict; the probe's activations are the window's to compute

    def __init__(self, folder: str | os.PathLike, model: nn.Module, arch: Architecture, config: TrainConfig,
                 normalization: Normalization | None = None, **details: Any) -> None:
        self.folder, self.model, self.arch, self.config = Path(folder), model, arch, config
        self.normalization = normalization  # the inputs' statistics: settings.json carries them from the start
        self.details = details  # extra fields for the started line, e.g. device, threads
        self._file = RunLogFile(self.folder, budget_mb=config.snapshot_budget_mb, older_dtype=torch.bfloat16)
        self._step = 0  # of the weights now: the last batch line or snapshot (batch lines are sampled)
        # The heartbeat thread writes too: one lock keeps each line (and a snapshot's file, then its line) whole.
        self._lock = threading.Lock()
        self._last_write = time.monotonic()
        self._closed = threading.Event()
        self._heartbeat: threading.Thread | None = None

    @property
    def timeline(self):
        """The TimelineStore keeping this run's snapshots (engine/run_folder/timeline.py)."""
        return self._file.timeline

    def start(self) -> None:
        folder_lock.acquire(self.folder)
        remove_stale_run_temporaries(self.folder)  # a killed earlier run's leftovers, before this run's files
        architecture_file.save(self.arch, self.folder / ARCHITECTURE)
        settings = join_settings(self.config.to_dict(), self.normalization)
        write_atomically(self.folder / SETTINGS, (json.dumps(settings, indent=2) + "\n").encode())
        # `process` names the writer so a follower can tell it is gone without waiting for a line (records.py
        # writer_process, folder_lock.writer_alive); `heartbeat` tells one on another host how quiet is too quiet.
        process = {**folder_lock.this_process(), "heartbeat": HEARTBEAT_S}
        with self._lock:
            self._file.begin(started_record(architecture=architecture_file.to_dict(self.arch), settings=settings,
                                            process=process, **self.details))
            self._last_write = time.monotonic()
        self._closed.clear()
        self._heartbeat = threading.Thread(target=self._beat, name="ConvScope run heartbeat", daemon=True)
        self._heartbeat.start()

    def _beat(self) -> None:
        """On its own thread: an "alive" line whenever nothing was written for HEARTBEAT_S."""
        while not self._closed.wait(max(0.1, self._last_write + HEARTBEAT_S - time.monotonic())):
            with self._lock:
                if self._closed.is_set() or time.monotonic() - self._last_write < HEARTBEAT_S:
                    continue
                self._file.write({"kind": "alive", "step": self._step})
                self._last_write = time.monotonic()

    def on_batch_end(self, event: BatchEnded) -> None:
        self._step = event.step
        self._write({"kind": "batch", **dataclasses.asdict(event)})

    def on_wait(self, waiting: bool) -> None:
        """TrainingControl.on_wait: the run sits paused at a batch boundary (True) or goes on (False)."""
        self._write({"kind": "paused" if waiting else "resumed", "step": self._step})

    def on_epoch_end(self, event: EpochEnded) -> None:
        self._write({"kind": "epoch", **dataclasses.asdict(event)})

    def on_snapshot(self, event: SnapshotTaken) -> None:
        # A pause asked for just after a batch's log decision skips that batch's line but not its snapshot:
        # the "paused" line must name the snapshot's step (the weights a follower shows), not the last logged one.
        self._step = max(self._step, event.step)
        tensors = full_precision(self.model.state_dict())
        with self._lock:
            self._file.write_snapshot(event.step, event.epoch, tensors, probe_index=event.probe_index,
                                      gradient_norms=event.gradient_norms, probabilities=event.probabilities)
            self._last_write = time.monotonic()

    def finish(self, finished: TrainingFinished, summary: dict[str, Any] | None = None) -> None:
        """The last line (after the final files are written, so a follower that sees it can open them)."""
        self._write({"kind": "finished", **dataclasses.asdict(finished), "summary": summary})
        self.close()

    def close(self) -> None:
        self._closed.set()
        beat, self._heartbeat = self._heartbeat, None
        if beat is not None and beat is not threading.current_thread():
            beat.join()  # ended before the interpreter's exit: no thread of ours is left running into it
        try:
            with self._lock:
                self._file.close()
        finally:
            folder_lock.release(self.folder)

    def _write(self, record: dict[str, Any]) -> None:
        with self._lock:
            self._file.write(record)
            self._last_write = time.monotonic()
