"""Thread-safe run control: stop, pause, resume, single-step, snapshot requests and the probe choice.

Any thread may call the commands; the training thread calls `wait_at_boundary()` between batches,
where every command takes effect. Pausing blocks on a Condition (no polling) and `stop()` wakes it.
"""

from __future__ import annotations

import threading
from typing import Callable


class TrainingControl:
    def __init__(self, probe_index: int = 0) -> None:
        self._cond = threading.Condition()
        self._stop = False
        self._paused = False
        self._steps_allowed = 0       # batches a paused run may still take (step())
        self._snapshot_requested = False
        self._probe_index = probe_index
        self._blocked = False         # the training thread is waiting in wait_at_boundary
        self.on_wait: Callable[[bool], None] | None = None  # e.g. the run log's "paused" / "resumed" lines
        self._announced = False       # on_wait(True) was called for the pause going on

    # --- commands, from any thread -------------------------------------------------------------

    def stop(self) -> None:
        """Finish at the next batch boundary (reason STOPPED); wakes a paused run."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()

    def pause(self) -> None:
        """Block at the next batch boundary until resume(), step() or stop()."""
        with self._cond:
            self._paused = True
            self._steps_allowed = 0
            self._cond.notify_all()

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._steps_allowed = 0
            self._blocked = False  # released: wait_until_blocked() now waits for the next pause
            self._cond.notify_all()

    def step(self) -> None:
        """Run exactly one more batch, then pause (pauses first if the run was going)."""
        with self._cond:
            self._paused = True
            self._steps_allowed += 1
            self._blocked = False
            self._cond.notify_all()

    def request_snapshot(self) -> None:
        with self._cond:
            self._snapshot_requested = True

    def set_probe(self, index: int) -> None:
        with self._cond:
            self._probe_index = int(index)
            self._snapshot_requested = True  # so the views show the new probe without waiting

    # --- state, for the training thread ------------------------------------------------------------

    @property
    def stop_requested(self) -> bool:
        with self._cond:
            return self._stop

    @property
    def probe_index(self) -> int:
        with self._cond:
            return self._probe_index

    @property
    def pause_pending(self) -> bool:
        """True when the next boundary will block (paused with no step allowed, not stopping)."""
        with self._cond:
            return self._paused and self._steps_allowed == 0 and not self._stop

    @property
    def blocked(self) -> bool:
        """True while the training thread sits paused at a batch boundary."""
        with self._cond:
            return self._blocked

    def wait_until_blocked(self, timeout: float) -> bool:
        """Wait (at most `timeout` seconds) until the training thread is paused at a boundary."""
        with self._cond:
            return self._cond.wait_for(lambda: self._blocked, timeout)

    def take_snapshot_request(self) -> bool:
        """True once per request_snapshot()/set_probe() call (clears the request)."""
        with self._cond:
            requested, self._snapshot_requested = self._snapshot_requested, False
            return requested

    def wait_at_boundary(self, timeout: float | None = None) -> bool | None:
        """Block while paused; False if the run must stop. Consumes one step() allowance if paused.

        With a `timeout` (seconds), None when the run is still paused after it (nothing consumed; call again):
        rank 0 of a torchrun job tells the other ranks it is still paused in between (engine/training/distributed.py).
        `on_wait(True)` is called (on this thread, outside the lock) once when a pause begins, `on_wait(False)`
        once when it ends, however many timed calls it spans."""
        with self._cond:
            go = lambda: self._stop or not self._paused or self._steps_allowed > 0  # noqa: E731
            announce = not go() and not self._announced
        if announce and self.on_wait is not None:
            self.on_wait(True)
        with self._cond:
            self._announced = self._announced or announce
            if not go():
                self._blocked = True
                self._cond.notify_all()
                if not self._cond.wait_for(go, timeout):
                    return None
            self._blocked = False
            stop = self._stop
            if not stop and self._paused:
                self._steps_allowed -= 1
            released, self._announced = self._announced, False
        if released and self.on_wait is not None:
            self.on_wait(False)
        return not stop
