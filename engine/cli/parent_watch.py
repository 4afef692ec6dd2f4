"""ParentWatch: a child training process stops when the process that started it is gone.

The parent keeps the child's standard input open as a pipe and never writes to it. When the parent
exits, closes the pipe, or is killed (even with SIGKILL, which it cannot intercept), the kernel closes
its end and the child's read returns end-of-file: the one signal that works on every platform without
polling for a parent pid (PR_SET_PDEATHSIG is Linux-only and fires on the parent *thread's* exit).
"""

from __future__ import annotations

import os
import sys
import threading

from engine.training.control import TrainingControl


class ParentWatch:
    """Reads file descriptor `fd` (stdin) on a daemon thread; at end-of-file sets `gone` and stops the run.

    It reads the descriptor with os.read, never through sys.stdin: a daemon thread blocked inside a buffered
    reader holds its lock, and the interpreter aborts at exit (SIGABRT) when it cannot take that lock."""

    def __init__(self, control: TrainingControl, fd: int | None = None) -> None:
        self.control = control
        self._fd = fd if fd is not None else sys.stdin.fileno()
        self._gone = threading.Event()
        threading.Thread(target=self._watch, name="parent-watch", daemon=True).start()

    @property
    def gone(self) -> bool:
        return self._gone.is_set()

    def _watch(self) -> None:
        try:
            while os.read(self._fd, 4096):
                pass  # the parent writes nothing; anything it does write is ignored
        except (OSError, ValueError):
            pass  # a closed or broken stdin means the same: nobody is there
        self._gone.set()
        self.control.stop()
