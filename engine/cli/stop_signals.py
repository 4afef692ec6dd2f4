"""Ctrl-C, `kill` and a closed terminal stop `train` the same way in every phase of the command.

`StopSignals` is installed first thing in `train` (before torch loads) and stays until the run folder is written:
- starting (torch importing, the dataset loading, the ranks joining, the model building): the signal is kept and
  handed to the run's TrainingControl once it exists, so the run stops at its first boundary, before any batch;
- training: the run stops after the current batch, then scores the validation split and writes the folder;
- the final validation: it is cut short (a BaseException raised from the handler) and the folder is written
  without its scores: someone who sends a signal then wants the process gone, not the numbers;
- writing the folder: the writing finishes, so the folder is never left half written.
The exit status is the shell's 128 + the first signal (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP). While training, a
second Ctrl-C aborts at once (KeyboardInterrupt), as in any program.

Without the early install a signal before the first batch took Python's default action: SIGTERM / SIGHUP ended
the process with no folder, and under torchrun the other ranks then waited in a collective until torchrun killed
them 30 s later.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Callable

# Ctrl-C, `kill` and a closed terminal all stop a run the same way.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
STARTING, TRAINING, VALIDATING, WRITING = "starting", "training", "validating", "writing"


class ValidationCut(BaseException):
    """Raised by the handler inside `StopSignals.cutting()`; a BaseException so that no `except Exception` on the
    way (the final validation's own failure handling) takes it for a failure."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class StopSignals:
    """Install with `with StopSignals() as signals:`; the previous handlers come back at exit.

    `note` prints one line (the progress bar's note once there is one); torchrun's ranks other than 0 stay quiet,
    since every rank gets the signal and rank 0 speaks for the run."""

    def __init__(self, environ=os.environ) -> None:
        self.received: list[int] = []
        self.phase = STARTING
        follower = environ.get("RANK", "0") not in ("", "0")
        self.note: Callable[[str], None] = (lambda message: None) if follower else _print
        self._stops: list[Callable[[], None]] = []
        self._previous: dict[int, object] = {}

    def __enter__(self) -> StopSignals:
        for signum in STOP_SIGNALS:
            try:
                self._previous[signum] = signal.signal(signum, self._handle)
            except ValueError:  # handlers can only be set from the main thread (a test calling main() on a thread)
                break
        return self

    def __exit__(self, *exc_info) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    @property
    def exit_status(self) -> int | None:
        """128 + the first signal received, or None when none came."""
        return 128 + self.received[0] if self.received else None

    @property
    def name(self) -> str:
        return signal.Signals(self.received[0]).name if self.received else ""

    def on_stop(self, stop: Callable[[], None]) -> None:
        """Call `stop` (e.g. TrainingControl.stop) on a stop signal; at once if one came already (while starting)."""
        self._stops.append(stop)
        if self.received:
            stop()

    def cutting(self) -> _Cutting:
        """A context in which a stop signal raises ValidationCut (the final validation)."""
        return _Cutting(self)

    def _handle(self, signum, frame) -> None:
        self.received.append(signum)
        name = signal.Signals(signum).name
        if self.phase == VALIDATING:
            self.note(f"{name} received: final validation skipped, writing the run folder")
            raise ValidationCut(signum)
        if self.phase == WRITING:
            self.note(f"{name} received: finishing the run folder")
            return
        if self.phase == STARTING:
            self.note(f"{name} received: the run stops before its first batch and writes its folder")
        elif signum == signal.SIGINT:
            self.note("stopping after this batch (Ctrl-C again to abort)")
        else:
            self.note(f"{name} received: stopping after this batch")
        if signum == signal.SIGINT and self.phase == TRAINING:
            signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C aborts
        for stop in self._stops:
            stop()


class _Cutting:
    def __init__(self, signals: StopSignals) -> None:
        self.signals = signals

    def __enter__(self) -> None:
        if self.signals._previous:  # a first Ctrl-C made the next one abort; here a Ctrl-C cuts, quickly
            signal.signal(signal.SIGINT, self.signals._handle)
        self.signals.phase = VALIDATING

    def __exit__(self, *exc_info) -> None:
        self.signals.phase = WRITING


def _print(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
