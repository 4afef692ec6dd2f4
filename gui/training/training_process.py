"""TrainingProcess: the child process that trains (`main.py train-worker`), started ahead of time if wanted.

A worker imports torch while the user is still editing (prestart), then waits for its job on standard
input; `run(argv)` hands the next one over (starting a worker on the spot if none is ready). The pipe
to the child's stdin stays open while the window lives: closing it, or the window dying, stops the child
fast (engine/cli/parent_watch.py). QProcess reports the exit on the GUI thread; nothing here blocks it
except `wait()`, which shutdown paths use on purpose.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, Signal, Slot

log = logging.getLogger(__name__)
MAIN = Path(__file__).resolve().parents[2] / "main.py"
OUTPUT_TAIL = 8000  # characters of the child's output kept for the message when it fails


@dataclass(frozen=True)
class ProcessExit:
    """How the child ended: an exit code, or the signal that killed it; and the end of what it printed."""

    code: int | None
    signal: int | None
    output: str

    def describe(self) -> str:
        if self.signal is not None:
            try:
                name = signal.Signals(self.signal).name
            except ValueError:
                name = "unknown"
            return f"killed by signal {self.signal} ({name})"
        return f"exit status {self.code}"

    def last_error(self) -> str:
        """The child's last `error: ...` line (a refused input), else its last line, else ''."""
        lines = [line.strip() for line in self.output.replace("\r", "\n").splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("error:")]
        return (errors or lines or [""])[-1]


class TrainingProcess(QObject):
    """At most one child running a job (and one spare waiting for its job)."""

    exited = Signal(object)  # ProcessExit of the child that ran the job

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._job: QProcess | None = None
        self._spare: QProcess | None = None
        self._output = ""
        self._closed = False  # after shutdown() no spare is started again

    @property
    def is_running(self) -> bool:
        return self._job is not None

    def prestart(self) -> None:
        """Start a spare worker now (it imports torch in the background), unless one is ready."""
        if self._spare is None and not self._closed:
            self._spare = self._spawn()

    def run(self, argv: list[str]) -> None:
        """Hand `train` arguments to a worker (the spare, or a new one)."""
        if self._job is not None:
            raise RuntimeError("a training process is already running")
        spare, self._spare = self._spare, None
        if spare is not None and spare.state() == QProcess.ProcessState.NotRunning:  # it died while waiting
            spare.deleteLater()
            spare = None
        proc = spare or self._spawn()
        self._job, self._output = proc, ""
        proc.readyReadStandardOutput.connect(self._on_output)
        proc.finished.connect(self._on_finished)
        proc.errorOccurred.connect(self._on_error)
        proc.write((json.dumps({"argv": argv}) + "\n").encode("utf-8"))

    def stop_fast(self) -> None:
        """Close the child's stdin: it stops after the current batch, without a final validation pass."""
        if self._job is not None:
            self._job.closeWriteChannel()

    def kill(self) -> None:
        if self._job is not None:
            self._job.kill()

    def wait(self, timeout_ms: int) -> bool:
        """Block until the job's child has exited (its `exited` is emitted meanwhile); True if it has."""
        job = self._job
        return job is None or job.waitForFinished(timeout_ms) or job.state() == QProcess.ProcessState.NotRunning

    def pid(self) -> int | None:
        return int(self._job.processId()) if self._job is not None else None

    def spare_pid(self) -> int | None:
        return int(self._spare.processId()) if self._spare is not None else None

    def stop_job(self, timeout_ms: int) -> bool:
        """Stop the job's child fast and wait for it (killing it after `timeout_ms`); True once it has exited."""
        if self._job is None:
            return True
        self.stop_fast()
        if self.wait(timeout_ms):
            return True
        self.kill()
        return self.wait(1000)

    def shutdown(self, timeout_ms: int) -> bool:
        """Stop the job's child and the spare for good (window close); True when neither is left running."""
        self._closed = True
        ended = self.stop_job(timeout_ms)
        spare, self._spare = self._spare, None
        if spare is not None:
            spare.closeWriteChannel()  # a worker without a job exits at end of input
            if not spare.waitForFinished(timeout_ms):
                spare.kill()
                spare.waitForFinished(1000)
            spare.deleteLater()
        return ended

    def _spawn(self) -> QProcess:
        proc = QProcess(self)
        proc.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        proc.setProgram(sys.executable)
        proc.setArguments([str(MAIN), "train-worker"])
        proc.start()
        return proc

    @Slot()
    def _on_output(self) -> None:
        if self._job is not None:
            text = bytes(self._job.readAllStandardOutput()).decode("utf-8", "replace")
            self._output = (self._output + text)[-OUTPUT_TAIL:]

    @Slot(QProcess.ProcessError)
    def _on_error(self, error: QProcess.ProcessError) -> None:
        job = self._job
        if job is None or self.sender() is not job or error != QProcess.ProcessError.FailedToStart:
            return  # other errors (a crash) still end in `finished`
        self._job = None
        job.deleteLater()
        self.exited.emit(ProcessExit(None, None, f"error: cannot start {sys.executable} ({job.errorString()})"))

    @Slot(int, QProcess.ExitStatus)
    def _on_finished(self, code: int, status: QProcess.ExitStatus) -> None:
        job = self._job
        if job is None or self.sender() is not job:
            return
        self._on_output()
        self._job = None
        job.deleteLater()
        crashed = status == QProcess.ExitStatus.CrashExit
        # On Unix QProcess gives the signal number as the exit code of a crashed child.
        result = ProcessExit(None if crashed else code, code if crashed and code > 0 else None, self._output)
        if crashed and result.signal is None:
            result = ProcessExit(None, None, self._output + "\n(the process crashed)")
        self.exited.emit(result)
