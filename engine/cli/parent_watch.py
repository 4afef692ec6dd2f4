"""ParentWatch: a child training process stops when the process that started it is gone.

The parent keeps the child's standard input open as a pipe and never writes to it. When the parent
exits, closes the pipe, or is killed (even with SIGKILL, which it cannot intercept), the kernel closes
its end and the child's read returns end-of-file: the one signal that works on every platform without
polling for a parent pid (PR_SET_PDEATHSIG is Linux-only and fires on the parent *thread's* exit).

The watching thread never outlives the interpreter's shutdown. A daemon thread still blocked in a read
when the process exits is woken by the parent closing the pipe at that very moment (a parent that waits
for the run's last line and then closes stdin does exactly that); CPython then ends the thread with
pthread_exit while it retakes the GIL, and that forced unwind aborts the process (SIGABRT, exit -6) seen
once in a hundred runs on a busy machine. So on POSIX the thread waits in select() on stdin and a wake-up
pipe, and `close()` (also registered with atexit, which runs before finalisation) wakes and joins it.
"""

from __future__ import annotations

import atexit
import os
import select
import sys
import threading

from engine.training.control import TrainingControl


class ParentWatch:
    """Watches file descriptor `fd` (stdin) on a thread; at end-of-file sets `gone` and stops the run.

    It reads the descriptor with os.read, never through sys.stdin: a thread blocked inside a buffered
    reader holds its lock, and the interpreter aborts at exit when it cannot take that lock."""

    def __init__(self, control: TrainingControl, fd: int | None = None) -> None:
        self.control = control
        self._fd = fd if fd is not None else sys.stdin.fileno()
        self._gone = threading.Event()
        # Windows' select() takes sockets only: there the thread blocks in os.read, as a daemon.
        self._wake = os.pipe() if os.name == "posix" else None
        self._thread = threading.Thread(target=self._watch, name="parent-watch", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    @property
    def gone(self) -> bool:
        return self._gone.is_set()

    def close(self) -> None:
        """Stop watching (the run is over): wake the thread and wait for it. Idempotent."""
        atexit.unregister(self.close)
        if self._wake is None:
            return
        wake_read, wake_write = self._wake
        self._wake = None
        os.write(wake_write, b"x")
        self._thread.join()
        os.close(wake_read)
        os.close(wake_write)

    def _watch(self) -> None:
        wake = self._wake[0] if self._wake is not None else None
        try:
            while True:
                if wake is not None and wake in select.select([self._fd, wake], [], [])[0]:
                    return  # closed by close(): nobody left, the run is simply over
                if not os.read(self._fd, 4096):
                    break  # end of file: the parent is gone
                # the parent writes nothing; anything it does write is ignored
        except (OSError, ValueError):
            pass  # a closed or broken stdin means the same: nobody is there
        self._gone.set()
        self.control.stop()
