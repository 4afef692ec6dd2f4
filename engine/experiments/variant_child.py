"""One experiment variant trained by a child `main.py train JOB --out FOLDER`, as the window's Train trains.

The child is the ordinary `train` command with --stop-with-parent: its standard input is a pipe this process holds,
so if this process dies the child stops after its current batch (engine/cli/parent_watch.py). It writes a full run
folder (events.jsonl, snapshots, architecture, weights, settings, summary). `follow` reads that folder's log as it
grows (EventTail, in bounded chunks) on the calling thread and hands on what it reads; a stop goes through the
folder's control file, as Train's Stop does, once the child has written its "started" line (a command written
before it is taken as stale).
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from engine.events import BatchEnded, EpochEnded
from engine.run_folder import EVENTS, EventTail, RunFolderError, write_command
from engine.run_folder.records import batch_event, epoch_event

log = logging.getLogger(__name__)
MAIN = Path(__file__).resolve().parents[2] / "main.py"
POLL_S = 0.1               # how often the child's log is read
POLL_BYTES = 256 * 1024    # the most of the log one poll reads
KILL_AFTER_S = 5.0         # an aborted child that has not exited by then is killed
OUTPUT_TAIL = 8000         # bytes of the child's output kept for the message when it fails


class ExperimentControl:
    """Stop an experiment from any thread: `stop()` lets the running variant stop after its current batch (still
    scored and written) and starts no further variant; `abort()` also ends the child fast (window close)."""

    def __init__(self) -> None:
        self._stopped = threading.Event()
        self._aborted = threading.Event()
        self._wake = threading.Event()  # set by each stop / abort, cleared by the follower that woke

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()

    def abort(self) -> None:
        self._aborted.set()
        self.stop()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    @property
    def aborted(self) -> bool:
        return self._aborted.is_set()

    def wait(self, seconds: float) -> None:
        """Sleep up to `seconds`, waking at once on a stop or abort (so Stop is heard within a moment)."""
        self._wake.wait(seconds)
        self._wake.clear()


@dataclass(frozen=True)
class ChildExit:
    """How the child ended: its exit status (negative: killed by that signal) and the end of what it printed."""

    code: int
    output: str

    def describe(self) -> str:
        if self.code < 0:
            try:
                name = signal.Signals(-self.code).name
            except ValueError:
                name = "unknown"
            return f"killed by signal {-self.code} ({name})"
        return f"exit status {self.code}"

    def last_error(self) -> str:
        """The child's last `error: ...` line (a refused input), else its last line, else ''."""
        lines = [line.strip() for line in self.output.replace("\r", "\n").splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("error:")]
        return (errors or lines or [""])[-1]


def train_argv(job: Path, folder: Path) -> list[str]:
    """The child's command line: the same `train` the window's Train hands its worker."""
    return [sys.executable, str(MAIN), "train", str(job), "--out", str(folder), "--stop-with-parent"]


def follow(job: Path, folder: Path, control: ExperimentControl, *, echo: bool = False,
           on_started: Callable[[int], None] | None = None,
           on_batch: Callable[[BatchEnded], None] | None = None,
           on_epoch: Callable[[EpochEnded], None] | None = None) -> ChildExit:
    """Train `job` into `folder` in a child and follow it until it exits. `echo`: the child's output goes to this
    process's standard error (the terminal); else it is kept, its end given in the ChildExit. `on_started(pid)`
    once the child runs; `on_batch` with the newest batch of each poll (progress, at most one per poll);
    `on_epoch` with every epoch."""
    with tempfile.TemporaryFile() as output:
        out = 2 if echo else output  # stdout to stderr too: the caller's standard output stays its own
        child = subprocess.Popen(train_argv(job, folder), stdin=subprocess.PIPE, stdout=out,
                                 stderr=None if echo else subprocess.STDOUT)
        try:
            if on_started is not None:
                on_started(child.pid)
            _follow(child, folder, control, on_batch, on_epoch)
        finally:
            _end(child)
        output.seek(0, 2)
        output.seek(max(0, output.tell() - OUTPUT_TAIL))
        return ChildExit(child.returncode, output.read().decode("utf-8", "replace"))


def _follow(child: subprocess.Popen, folder: Path, control: ExperimentControl, on_batch, on_epoch) -> None:
    tail = EventTail(folder / EVENTS)
    started = stop_sent = closed = False
    aborted_at = None
    while True:
        exited = child.poll() is not None
        try:
            records = tail.poll(None if exited else POLL_BYTES)  # after the exit: every line left
        except RunFolderError as exc:  # a damaged first line: nothing of this log reads; the exit still ends it
            log.warning("%s", exc)
            records = []
        newest_batch = None
        for record in records:
            kind = record["kind"]
            try:
                if kind == "started":
                    started = True
                elif kind == "batch":
                    newest_batch = batch_event(record)
                elif kind == "epoch" and on_epoch is not None:
                    on_epoch(epoch_event(record))
            except RunFolderError as exc:  # a damaged line is left out; the run goes on being followed
                log.warning("%s", exc)
        if newest_batch is not None and on_batch is not None:
            on_batch(newest_batch)
        if exited:
            return
        if control.stopped and started and not stop_sent:
            stop_sent = _send_stop(folder)
        if control.aborted and not closed:
            closed, aborted_at = True, time.monotonic()
            _close(child)  # --stop-with-parent: it stops after its batch, without the final validation pass
        if aborted_at is not None and time.monotonic() - aborted_at > KILL_AFTER_S:
            child.kill()
        control.wait(POLL_S)


def _send_stop(folder: Path) -> bool:
    try:
        write_command(folder, "stop")
    except (OSError, RunFolderError) as exc:
        log.warning("cannot write the control file in %s: %s", folder, exc)
    return True


def _close(child: subprocess.Popen) -> None:
    try:
        child.stdin.close()
    except OSError:
        pass  # it has gone already


def _end(child: subprocess.Popen) -> None:
    """No child outlives its follower: one still running here (an exception while following) stops fast, and is
    killed if it does not."""
    if child.poll() is None:
        _close(child)
        try:
            child.wait(KILL_AFTER_S)
        except subprocess.TimeoutExpired:
            child.kill()
    child.wait()
    if child.stdin is not None and not child.stdin.closed:
        _close(child)
