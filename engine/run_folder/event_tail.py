"""EventTail: follows a run's events.jsonl in bounded chunks, as a window attached to a live run does."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from engine.run_folder.layout import FORMAT, VERSION, RunFolderError
from models import strict_json
from models.regular_file import open_regular
from models.safe_text import clean, excerpt

MAX_LINE = 16 << 20  # bytes; a line longer than this is damage, not a line being written
MAX_PROBLEMS = 10  # damaged lines remembered (a log of damage must not grow the reader)
CHUNK = 1 << 20  # bytes read at a time: what a poll holds beyond its lines is one chunk and one unfinished line


class EventTail:
    """Follows events.jsonl: each poll() returns the complete lines added since the last one, as dicts.

    The file is read in chunks of CHUNK bytes, never whole: a log's size costs no memory, only its lines do.
    A last line without its newline is being written (or was torn by a kill): it is kept back, not parsed, and
    completed by the next polls. A line over MAX_LINE bytes (finished or not) is one damaged line: it is dropped
    up to its newline, never held whole. A missing file reads as no events yet; a link, FIFO or device where the
    log belongs is a RunFolderError (never opened in a way that could block). Lines are read as strict JSON
    (models/strict_json.py: nesting, huge numbers, NaN and duplicate keys refused). A complete line that is not a
    JSON object is left out and named in `problems` (the newest few; `damaged` counts them all): the good lines
    read with it are still returned. A first line that is not a ConvScope run log's is a RunFolderError. When a
    new run replaces the log, reading starts over: its "started" line comes again.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._offset = 0  # bytes taken from the file; those of an unfinished line are in _pending
        self._pending = bytearray()
        self._skipping = False  # inside an over-long line already reported: dropped up to its newline
        self._line = 0
        self._inode: int | None = None
        self.problems: list[str] = []
        self.damaged = 0

    def poll(self, max_bytes: int | None = None) -> list[dict[str, Any]]:
        """The complete lines added since the last poll; with `max_bytes`, only those within the next
        `max_bytes` bytes (the rest comes with the next polls), so a reader that is far behind (attaching
        to a long run) catches up in bounded steps instead of one long read and parse."""
        return [event for events in self.chunks(max_bytes) for event in events]

    def chunks(self, max_bytes: int | None = None) -> Iterator[list[dict[str, Any]]]:
        """poll()'s lines, one list per chunk read, so a reader of a whole log (read_run_log) never holds
        more than one chunk's dicts beyond what it keeps."""
        try:
            f = open_regular(self.path, follow_links=False)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise self._unreadable(exc) from None
        with f:
            try:
                st = os.fstat(f.fileno())
                if st.st_ino != self._inode or st.st_size < self._offset:  # a new run began in the folder
                    self._inode, self._offset, self._line = st.st_ino, 0, 0
                    self._pending, self._skipping = bytearray(), False
                f.seek(self._offset)
            except OSError as exc:
                raise self._unreadable(exc) from None
            # Up to the size seen now: a writer appending as fast as this reads cannot keep one poll going.
            left = st.st_size - self._offset if max_bytes is None else min(max(1, max_bytes),
                                                                           st.st_size - self._offset)
            while left > 0:
                try:
                    data = f.read(min(CHUNK, left))
                except OSError as exc:
                    raise self._unreadable(exc) from None
                if not data:
                    return
                self._offset += len(data)
                left -= len(data)
                yield self._lines(data)

    def _unreadable(self, exc: OSError) -> RunFolderError:
        return RunFolderError(f"{clean(str(self.path))}: cannot read ({exc.strerror or exc})")

    def _lines(self, data: bytes) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        start = 0
        while True:
            end = data.find(b"\n", start)
            piece = data[start:] if end < 0 else data[start:end]
            if self._skipping:
                self._skipping = end < 0
            elif len(self._pending) + len(piece) > MAX_LINE:
                self._pending = bytearray()
                self._skipping = end < 0
                self._damaged(RunFolderError(f"{clean(str(self.path))}: line {self._line + 1} is over "
                                             f"{MAX_LINE:,} bytes; the log is damaged"))
            elif end < 0:
                self._pending += piece
            else:
                raw = bytes(self._pending + piece) if self._pending else piece
                self._pending = bytearray()
                try:
                    events.append(self._parse(raw, self._line + 1))
                except RunFolderError as exc:
                    self._damaged(exc)
                else:
                    self._line += 1
            if end < 0:
                return events
            start = end + 1

    def _damaged(self, exc: RunFolderError) -> None:
        """Line self._line + 1 is left out: named in `problems`, unless it is the first (then nothing after it
        can be read as a run log, and the error is raised)."""
        self._line += 1
        if self._line == 1:
            raise exc
        self.problems = [*self.problems[-(MAX_PROBLEMS - 1):], str(exc)]
        self.damaged += 1

    def _parse(self, raw: bytes, line: int) -> dict[str, Any]:
        where = f"{clean(str(self.path))}: line {line}"
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
        if line == 1:
            if record.get("kind") != "started" or record.get("format") != FORMAT:
                raise RunFolderError(f'{where}: not a ConvScope run log (the first line must be kind "started", '
                                     f'format "{FORMAT}")')
            version = record.get("version")
            if not isinstance(version, int) or version > VERSION:
                raise RunFolderError(f"{where}: run log version {excerpt(version)}; this ConvScope reads "
                                     f"version {VERSION} and earlier, update ConvScope")
        return record
