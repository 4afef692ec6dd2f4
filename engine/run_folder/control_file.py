"""control.json: pause / resume / step / stop / snapshot for a training process, from any process.

Anyone writes {"command": ..., "seq": N} atomically (write_command does). The training process stats the
file at most every `interval` seconds on a thread of its own (no per-batch cost, and it still hears
commands while paused) and hands each new command to its TrainingControl, which applies it at the next
batch boundary. A command is new when its seq is higher than the last one seen; the file's seq when
training started counts as seen, so a stale "stop" left in a reused folder is not obeyed.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
from pathlib import Path

from engine.run_folder.layout import COMMANDS, CONTROL, RunFolderError
from engine.training.control import TrainingControl
from models import strict_json
from models.atomic_file import write_atomically
from models.regular_file import open_regular, read_at_most
from models.safe_text import clean, excerpt

log = logging.getLogger(__name__)
INTERVAL = 0.2  # seconds between stats of control.json
MAX_BYTES = 4096  # a command is about 30 bytes; a larger control.json is not one


def _read(path: Path) -> dict | None:
    """The command record, or None: missing, half-written (written by hand, not atomically: read it next time),
    too large, or not a regular file (a link, FIFO or device is never opened in a way that could block)."""
    try:
        with open_regular(path, follow_links=False) as f:
            data = read_at_most(f, MAX_BYTES + 1)
        record = strict_json.loads(data.decode("utf-8")) if len(data) <= MAX_BYTES else None
    except (OSError, UnicodeDecodeError, strict_json.StrictJSONError):
        return None
    return record if isinstance(record, dict) else None


def _seq(record: dict | None) -> int:
    seq = record.get("seq") if record else None
    return seq if isinstance(seq, int) and not isinstance(seq, bool) else 0


def write_command(folder: str | os.PathLike, command: str) -> int:
    """Send `command` to the run training into `folder`; returns the seq written (one more than the last).
    RunFolderError if control.json is there but not a regular file: a link would be written through to its
    target, anywhere (the folder may be a stranger's)."""
    if command not in COMMANDS:
        raise RunFolderError(f"unknown control command {excerpt(command)}; use one of {', '.join(COMMANDS)}")
    path = Path(folder) / CONTROL
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = stat.S_IFREG
    if not stat.S_ISREG(mode):
        raise RunFolderError(f"{clean(str(path))}: not a regular file (a link, FIFO or device); commands are "
                             f"written only to a plain {CONTROL} in the run folder: remove it and try again")
    seq = _seq(_read(path)) + 1
    write_atomically(path, (json.dumps({"command": command, "seq": seq}) + "\n").encode("utf-8"))
    return seq


class ControlFileWatcher:
    """Watches `folder`/control.json for the training run that `control` steers; start() then stop()."""

    def __init__(self, folder: str | os.PathLike, control: TrainingControl, interval: float = INTERVAL) -> None:
        self.path = Path(folder) / CONTROL
        self.control, self.interval = control, interval
        self._seen_seq = _seq(_read(self.path))
        self._seen_stat: tuple[int, int, int] | None = self._stat()
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="control-file", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._halt.set()
        if self._thread.is_alive():
            self._thread.join()

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size  # an atomic rewrite is a new inode

    def _watch(self) -> None:
        while not self._halt.wait(self.interval):
            self.check()

    def check(self) -> None:
        """Apply the file's command if it changed and is new (the watcher thread calls this)."""
        stat = self._stat()
        if stat is None or stat == self._seen_stat:
            return
        record = _read(self.path)
        if record is None:
            return  # unreadable now: leave the stat unseen so the next check tries again
        self._seen_stat = stat
        seq = _seq(record)
        if seq <= self._seen_seq:
            return
        self._seen_seq = seq
        command = record.get("command")
        if command not in COMMANDS:
            log.warning("%s: unknown command %s ignored; use one of %s", clean(str(self.path)), excerpt(command),
                        ", ".join(COMMANDS))
            return
        {"pause": self.control.pause, "resume": self.control.resume, "step": self.control.step,
         "stop": self.control.stop, "snapshot": self.control.request_snapshot}[command]()
