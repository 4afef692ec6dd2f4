"""Read a run folder at any moment, also while it is written or after its writer was killed."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from engine.metrics import MetricsHistory
from engine.run_folder.event_tail import MAX_PROBLEMS, EventTail
from engine.run_folder.layout import EVENTS, RunFolderError
from engine.run_folder.folder_lock import writer_alive
from engine.run_folder.records import (SnapshotRecord, batch_event, compact_line, epoch_event, snapshot_record,
                                       writer_process)
from engine.run_folder.sidecar import snapshot_tensors
from models import architecture_file
from models.architecture import Architecture
from models.architecture_file import ArchitectureFileError
from models.safe_text import clean

_CURVE_LINES = {"batch": batch_event, "epoch": epoch_event}  # a line's check: the event it must read as


@dataclass
class RunLog:
    """The events read so far: `started` (architecture, settings, ...), then batch/epoch/snapshot lines, `finished`.

    Snapshot, batch and epoch lines are checked as they are added (records): `snapshots` holds the snapshots typed,
    and a damaged line is left out of `snapshots` and `events`, its reason kept in `problems` (the newest few), so
    `history()` and the views downstream never meet a step that is not a count."""

    started: dict[str, Any] | None = None
    events: list[Mapping[str, Any]] = field(default_factory=list)  # batch lines as records.BatchLine
    finished: dict[str, Any] | None = None
    snapshots: list[SnapshotRecord] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    damaged: int = 0  # lines left out so far (problems keeps only the newest reasons)
    # False: the lines are checked and counted but not kept in `events` (nor history()), for a follower that keeps
    # its own curves (engine/run_folder/run_curves.py): an hour-long run's lines would be held for nothing.
    keep_events: bool = True

    def add(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            kind = record["kind"]
            if kind == "started":  # first, or a new run in the same folder: start over
                self.started, self.events, self.finished, self.snapshots = record, [], None, []
            elif kind == "finished":
                self.finished = record
            elif kind == "snapshot":
                try:
                    self.snapshots.append(snapshot_record(record))
                except RunFolderError as exc:
                    self._damaged(exc)
                    continue
                if self.keep_events:
                    self.events.append(record)
            else:
                if kind in _CURVE_LINES:  # checked here, once: history() and every view downstream trust them
                    try:
                        _CURVE_LINES[kind](record)
                    except RunFolderError as exc:
                        self._damaged(exc)
                        continue
                if self.keep_events:
                    self.events.append(compact_line(record))

    def _damaged(self, exc: RunFolderError) -> None:
        self.problems = [*self.problems[-(MAX_PROBLEMS - 1):], str(exc)]
        self.damaged += 1

    @property
    def architecture(self) -> Architecture | None:
        """The run's architecture as its started line gives it; None if it gives none that reads (a recorded
        run's), so a reader falls back to the generic limits."""
        data = self.started.get("architecture") if self.started else None
        try:
            return architecture_file.from_dict(data) if data is not None else None
        except ArchitectureFileError:
            return None

    @property
    def newest_snapshot(self) -> SnapshotRecord | None:
        return self.snapshots[-1] if self.snapshots else None

    def of_kind(self, kind: str) -> list[Mapping[str, Any]]:
        return [e for e in self.events if e["kind"] == kind]

    def history(self) -> MetricsHistory:
        """The curves as metrics.csv would hold them (null values read back as NaN)."""
        history = MetricsHistory()
        for e in self.events:
            if e["kind"] == "batch":
                history.record_batch(batch_event(e))
            elif e["kind"] == "epoch":
                history.record_epoch(epoch_event(e))
        return history


def read_run_log(folder: str | os.PathLike) -> RunLog:
    """Every complete line of the folder's events.jsonl (none if there is no log yet), read as the follower reads
    it: chunk by chunk, each chunk's lines added before the next is read."""
    log = RunLog()
    tail = EventTail(Path(folder) / EVENTS)
    for events in tail.chunks():
        log.add(events)
    if tail.problems:  # a finished folder read whole: damage is an error, as for any other file
        raise RunFolderError(tail.problems[0])
    return log


def newest_snapshot(folder: str | os.PathLike, log: RunLog | None = None
                    ) -> tuple[SnapshotRecord, dict[str, torch.Tensor]] | None:
    """(the snapshot, its weights) for the newest snapshot the log names, or None if it names none; its file is
    opened as engine/run_folder/sidecar.py allows (a regular file in the folder's own snapshots/, no link)."""
    folder = Path(folder)
    for attempt in range(3):  # a running writer may thin away the file the log named a moment ago
        log = log if log is not None and attempt == 0 else read_run_log(folder)
        snapshot = log.newest_snapshot
        if snapshot is None:
            if log.problems:
                raise RunFolderError(f"{clean(str(folder))}: {log.problems[-1]}")
            return None
        if os.path.lexists(folder / snapshot.file) or attempt == 2:  # lexists: never raises, follows nothing
            break
    try:
        # Weights only (not a recorded snapshot's activations): the architecture's limit applies.
        arch = log.architecture if snapshot.recorded is None else None
        return snapshot, snapshot_tensors(folder, snapshot.file, arch)
    except RunFolderError as exc:
        raise RunFolderError(f"{exc} (the newest snapshot the run log names)") from None


def recover_unfinished(folder: str | os.PathLike) -> tuple[dict[str, torch.Tensor] | None, MetricsHistory, str]:
    """A run folder without final weights (a killed or still running run): (the newest snapshot's weights or None,
    the curves from the log, a notice saying which snapshot stands in)."""
    folder = Path(folder)
    log = read_run_log(folder)
    found = newest_snapshot(folder, log)
    if found is None:
        return None, log.history(), f"{clean(str(folder))}: the run has no weights yet (it ended before a snapshot)"
    snapshot, weights = found
    state = "finished" if log.finished else _unfinished_state(log.started)
    # A damaged newer line is why an older snapshot stands in: say so, or the user takes it for the newest.
    damaged = (f"; {log.damaged} damaged line(s) left out, the newest: {log.problems[-1]}"
               if log.damaged else "")
    return weights, log.history(), (f"{clean(str(folder))}: the run {state}; using its last snapshot, "
                                    f"step {snapshot.step} (epoch {snapshot.epoch}){damaged}")


def _unfinished_state(started: Mapping[str, Any] | None) -> str:
    """A run without its finished line: still running or killed, where the started line's writer process says
    which (same host); otherwise both, as it cannot be told here."""
    writer = writer_process(started)
    alive = writer_alive(writer.pid, writer.host, writer.boot_id) if writer is not None else None
    return {True: "is still running", False: "did not finish (its process was killed)"}.get(
        alive, "did not finish (killed, or still running)")
