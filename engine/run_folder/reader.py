"""Read a run folder at any moment, also while it is written or after its writer was killed."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from engine.metrics import MetricsHistory
from engine.run_folder.layout import EVENTS, FORMAT, VERSION, RunFolderError
from engine.run_folder.records import SnapshotRecord, batch_event, epoch_event, snapshot_record
from engine.run_folder.sidecar import snapshot_tensors
from models import strict_json
from models.regular_file import open_regular
from models.safe_text import clean, excerpt

MAX_LINE = 16 << 20  # bytes; a line longer than this without a newline is damage, not a line being written
MAX_PROBLEMS = 10  # damaged lines remembered (a log of damage must not grow the reader)


class EventTail:
    """Follows events.jsonl: each poll() returns the complete lines added since the last one, as dicts.

    A last line without its newline is being written (or was torn by a kill): it is kept back, not parsed.
    A missing file reads as no events yet; a link, FIFO or device where the log belongs is a RunFolderError
    (never opened in a way that could block). Lines are read as strict JSON (models/strict_json.py: nesting,
    huge numbers, NaN and duplicate keys refused). A complete line that is not a JSON object is left out and named in
    `problems` (the newest few; `damaged` counts them all): the good lines read with it are still returned. A
    first line that is not a ConvScope run log's is a RunFolderError. When a new run replaces the log, reading
    starts over: its "started" line comes again.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._offset = 0
        self._pending = b""
        self._line = 0
        self._inode: int | None = None
        self.problems: list[str] = []
        self.damaged = 0

    def poll(self, max_bytes: int | None = None) -> list[dict[str, Any]]:
        """The complete lines added since the last poll; with `max_bytes`, only those within the next
        `max_bytes` bytes (the rest comes with the next polls), so a reader that is far behind (attaching
        to a long run) catches up in bounded steps instead of one long read and parse."""
        try:
            with open_regular(self.path, follow_links=False) as f:
                st = os.fstat(f.fileno())
                if st.st_ino != self._inode or st.st_size < self._offset:  # a new run began in the folder
                    self._inode, self._offset, self._pending, self._line = st.st_ino, 0, b"", 0
                f.seek(self._offset)
                data = f.read(-1 if max_bytes is None else max(1, max_bytes))
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise RunFolderError(f"{clean(str(self.path))}: cannot read ({exc.strerror or exc})") from None
        self._offset += len(data)
        lines = (self._pending + data).split(b"\n")
        self._pending = lines.pop()  # b"" after a final newline, else the unfinished line
        if len(self._pending) > MAX_LINE:
            raise RunFolderError(f"{clean(str(self.path))}: line {self._line + len(lines) + 1} is over "
                                 f"{MAX_LINE:,} bytes; the log is damaged")
        events = []
        for raw in lines:
            self._line += 1
            try:
                events.append(self._parse(raw))
            except RunFolderError as exc:
                if self._line == 1:  # not a run log at all: nothing after it can be read as one
                    raise
                self.problems = [*self.problems[-(MAX_PROBLEMS - 1):], str(exc)]
                self.damaged += 1
        return events

    def _parse(self, raw: bytes) -> dict[str, Any]:
        where = f"{clean(str(self.path))}: line {self._line}"
        try:
            record = strict_json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise RunFolderError(f"{where}: not a JSON line (not UTF-8 text: byte {exc.start}); the log is "
                                 f"damaged") from None
        except strict_json.StrictJSONError as exc:
            detail = str(exc).removeprefix("not valid JSON: ")
            raise RunFolderError(f"{where}: not a JSON line ({detail}); the log is damaged") from None
        if not isinstance(record, dict) or not isinstance(record.get("kind"), str):
            raise RunFolderError(f'{where}: expected an object with a "kind"; the log is damaged')
        if self._line == 1:
            if record.get("kind") != "started" or record.get("format") != FORMAT:
                raise RunFolderError(f'{where}: not a ConvScope run log (the first line must be kind "started", '
                                     f'format "{FORMAT}")')
            version = record.get("version")
            if not isinstance(version, int) or version > VERSION:
                raise RunFolderError(f"{where}: run log version {excerpt(version)}; this ConvScope reads "
                                     f"version {VERSION} and earlier, update ConvScope")
        return record


@dataclass
class RunLog:
    """The events read so far: `started` (architecture, settings, ...), then batch/epoch/snapshot lines, `finished`.

    Snapshot lines are checked as they are added (records.snapshot_record): `snapshots` holds them typed, and a
    damaged one is left out of both `snapshots` and `events`, its reason kept in `problems` (the newest few)."""

    started: dict[str, Any] | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    finished: dict[str, Any] | None = None
    snapshots: list[SnapshotRecord] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    damaged: int = 0  # lines left out so far (problems keeps only the newest reasons)

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
                    self.problems = [*self.problems[-(MAX_PROBLEMS - 1):], str(exc)]
                    self.damaged += 1
                    continue
                self.events.append(record)
            else:
                self.events.append(record)

    @property
    def newest_snapshot(self) -> SnapshotRecord | None:
        return self.snapshots[-1] if self.snapshots else None

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
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
    """Every complete line of the folder's events.jsonl (none if there is no log yet)."""
    log = RunLog()
    tail = EventTail(Path(folder) / EVENTS)
    log.add(tail.poll())
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
        return snapshot, snapshot_tensors(folder, snapshot.file)
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
    state = "finished" if log.finished else "did not finish (killed, or still running)"
    # A damaged newer line is why an older snapshot stands in: say so, or the user takes it for the newest.
    damaged = (f"; {log.damaged} damaged snapshot line(s) left out, the newest: {log.problems[-1]}"
               if log.damaged else "")
    return weights, log.history(), (f"{clean(str(folder))}: the run {state}; using its last snapshot, "
                                    f"step {snapshot.step} (epoch {snapshot.epoch}){damaged}")
