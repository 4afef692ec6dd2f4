"""ParentWatch: a child training process stops when the process that started it is gone.

The parent keeps the child's standard input open as a pipe and never writes to it. When the parent
exits, closes the pipe, or is killed (even with SIGKILL, which it cannot intercept), the kernel closes
its end and the child's read returns end-of-file: the one signal that works on every platform without
polling for a parent pid (PR_SET_PDEATHSIG is Linux-only and fires on the parent *thread's* exit).
"""

from __future__ import annotations

import sys
import threading
from typing import BinaryIO

from engine.training_control import TrainingControl


class ParentWatch:
    """Reads `stream` (stdin) on a daemon thread; at end-of-file sets `gone` and stops the run."""

    def __init__(self, control: TrainingControl, stream: BinaryIO | None = None) -> None:
        self.control = control
        self._stream = stream if stream is not None else sys.stdin.buffer
        self._gone = threading.Event()
        threading.Thread(target=self._watch, name="parent-watch", daemon=True).start()

    @property
    def gone(self) -> bool:
        return self._gone.is_set()

    def _watch(self) -> None:
        try:
            while self._stream.read(4096):
                pass  # the parent writes nothing; anything it does write is ignored
        except (OSError, ValueError):
            pass  # a closed or broken stdin means the same: nobody is there
        self._gone.set()
        self.control.stop()
