"""TimelineIndex: a run's snapshot timeline kept up to date from new log lines only (no re-read of the log)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from engine.run_folder.layout import RunFolderError
from engine.run_folder.records import snapshot_record
from engine.run_folder.timeline import FLOAT16, TimelineEntry
from models import architecture_file
from models.architecture import Architecture

_KINDS = frozenset(("started", "snapshot", "compressed", "dropped", "finished"))  # the lines a timeline reads
_STORED = ("float32", "float16", "bfloat16")  # what a compressed line may name (timeline() accepts the same)


class TimelineIndex:
    """What timeline() replays from a whole log, built one batch of new lines at a time.

    `add(records)` costs the new lines only: batch lines (nearly all of a long log) are passed over at one
    dict look-up each. The entries on disk are a dict by file (the writer keeps at most a thousand or so,
    engine/run_folder/timeline.py), so `entries()` costs their number, never the log's length. The gradient
    norms of every snapshot line (thinned ones too) are appended to per-label lists.
    A "started" line (a new run in the folder) starts over.
    """

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self.started: dict[str, Any] | None = None
        self.finished: dict[str, Any] | None = None
        self.snapshot_lines = 0   # snapshot lines read (thinned ones included)
        self.version = getattr(self, "version", 0)  # bumped whenever entries() would answer differently
        self._entries: dict[str, TimelineEntry] = {}
        self._sorted: list[TimelineEntry] | None = []
        self.norms: dict[str, tuple[list[int], list[float]]] = {}

    def add(self, records: Iterable[Mapping[str, Any]]) -> bool:
        """Take the new lines; True when the entries or the norms changed (a redraw is worth it)."""
        changed = False
        for record in records:
            kind = record.get("kind")
            if kind not in _KINDS:
                continue
            if kind == "started":
                self._reset()
                self.started = dict(record)
                changed = True
            elif kind == "finished":
                self.finished = dict(record)
            elif kind == "snapshot":
                changed |= self._snapshot(record)
            else:
                changed |= self._retired(kind, record)
        if changed:
            self.version += 1
        return changed

    def _snapshot(self, record: Mapping[str, Any]) -> bool:
        try:  # checked as RunLog checks it: a damaged line is left out of the timeline as it is of the log
            snapshot = snapshot_record(dict(record))
        except RunFolderError:
            return False
        self.snapshot_lines += 1
        for label, value in snapshot.gradient_norms.items():
            steps, values = self.norms.setdefault(label, ([], []))
            steps.append(snapshot.step)
            values.append(value)
        self._entries.pop(snapshot.file, None)  # the same step again (a re-taken snapshot) moves to the end
        self._entries[snapshot.file] = TimelineEntry(snapshot.step, snapshot.epoch, snapshot.file, "float32")
        self._sorted = None
        return True

    def _retired(self, kind: str, record: Mapping[str, Any]) -> bool:
        name = record.get("file")
        if not isinstance(name, str) or name not in self._entries:
            return False
        if kind == "dropped":
            del self._entries[name]
        else:
            dtype = record.get("dtype", FLOAT16)
            if dtype not in _STORED:
                return False
            old = self._entries[name]
            self._entries[name] = TimelineEntry(old.step, old.epoch, name, dtype)
        self._sorted = None
        return True

    def entries(self) -> list[TimelineEntry]:
        """The snapshots on disk, oldest first (as timeline() gives them)."""
        if self._sorted is None:
            self._sorted = sorted(self._entries.values(), key=lambda e: e.step)
        return list(self._sorted)

    @property
    def architecture(self) -> Architecture | None:
        """The network the started line names; ArchitectureFileError if it names none that reads."""
        if self.started is None:
            return None
        return architecture_file.from_dict(self.started.get("architecture"))
