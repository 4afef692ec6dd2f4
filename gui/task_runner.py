"""Runs one job at a time off the GUI thread; the newest submission's result wins (Orange3's TaskState idea).

Every background job of the window (dataset loading, export) goes through a TaskRunner, not a thread
mechanism of its own. Threading rules (DESIGN.md): the job gets frozen inputs and never touches a
widget; it reports through signals of this GUI-thread object, which Qt queues to the @Slot methods
below, so `finished`, `failed` and `progress` are always emitted on the GUI thread.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal, Slot

SHUTDOWN_WAIT_S = 10.0  # a large image folder can take a while to load; an export a few seconds


class TaskState:
    """What a running job may look at: whether it was superseded (then it can stop early) and a progress call."""

    def __init__(self, runner: TaskRunner, job: int) -> None:
        self._runner, self._job = runner, job
        self._cancelled = threading.Event()

    @property
    def is_cancelled(self) -> bool:
        """True once a newer job was submitted or the runner shut down: nobody will see this job's result."""
        return self._cancelled.is_set()

    def cancel(self) -> None:
        self._cancelled.set()

    def set_progress(self, fraction: float) -> None:
        """Report progress (0 to 1); dropped once cancelled. Callable from the job's thread."""
        if not self.is_cancelled:
            self._runner._emit(self._runner._job_progress, self._job, float(fraction))


class TaskRunner(QObject):
    """`submit(fn, *args, **kwargs)` runs `fn` off the GUI thread and returns at once.

    A newer submission supersedes the older one: the older job's TaskState is cancelled and whatever it
    returns or raises is dropped, so `finished` / `failed` / `progress` always describe the newest job
    (a job cannot be interrupted, but it can poll `state.is_cancelled` when submitted with
    `submit_with_state`). One job thread runs at a time: a submission made while one runs waits, and a
    newer one replaces it, so twenty quick clicks cost two jobs, not twenty threads competing for the
    cores. `shutdown()` cancels and waits for the job thread (window close).
    """

    finished = Signal(object)  # what the newest job returned
    failed = Signal(object)    # the exception the newest job raised
    progress = Signal(float)   # 0..1, from the newest job's TaskState.set_progress
    # Emitted on a job thread; queued to the slots below because this object lives on the GUI thread.
    _job_returned = Signal(int, object)
    _job_raised = Signal(int, object)
    _job_progress = Signal(int, float)

    def __init__(self, parent: QObject | None = None, *, name: str = "ConvScope task") -> None:
        super().__init__(parent)
        self._name = name
        self._job = 0
        self._state: TaskState | None = None  # the newest job's, until it reports
        self._threads: set[threading.Thread] = set()
        self._waiting: tuple | None = None  # (job, state, fn, args, kwargs): starts when the running job ends
        self._lock = threading.Lock()  # guards _threads and _waiting (a job thread starts the waiting one)
        self._job_returned.connect(self._on_job_returned)
        self._job_raised.connect(self._on_job_raised)
        self._job_progress.connect(self._on_job_progress)

    @property
    def is_busy(self) -> bool:
        """True from a submission until its result (or error) has been emitted."""
        return self._state is not None

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> TaskState:
        """Run `fn(*args, **kwargs)` off the GUI thread; any older job's result will be dropped."""
        return self._start(fn, args, kwargs, with_state=False)

    def submit_with_state(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> TaskState:
        """As `submit`, calling `fn(*args, state=<its TaskState>, **kwargs)`: for progress and early stops."""
        return self._start(fn, args, kwargs, with_state=True)

    def cancel(self) -> None:
        """Drop the pending job's result (a running thread still runs to the end; a waiting job never starts)."""
        if self._state is not None:
            self._state.cancel()
            self._state = None
        with self._lock:
            self._waiting = None

    def wait(self, timeout_s: float | None = SHUTDOWN_WAIT_S) -> bool:
        """Block until the job threads have ended, a waiting job's too (results still arrive as queued signals);
        True if all did."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while running := self._running():
            for thread in running:
                thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
            if deadline is not None and time.monotonic() >= deadline:
                break
        return not self._running()

    def shutdown(self, timeout_s: float | None = SHUTDOWN_WAIT_S) -> bool:
        """Cancel the pending job and wait for every job thread to end; True if none is left running."""
        self.cancel()
        return self.wait(timeout_s)

    # -- job threads --------------------------------------------------------------------------------------------
    def _start(self, fn: Callable[..., Any], args: tuple, kwargs: dict, with_state: bool) -> TaskState:
        self.cancel()
        self._job += 1
        job = self._job
        state = self._state = TaskState(self, job)
        if with_state:
            kwargs = {**kwargs, "state": state}
        with self._lock:
            if self._threads:  # one at a time: this one starts when the running job ends
                self._waiting = (job, state, fn, args, kwargs)
                return state
            self._launch(job, state, fn, args, kwargs)
        return state

    def _launch(self, job: int, state: TaskState, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
        """Start a job thread (the caller holds the lock)."""
        thread = threading.Thread(target=self._run, args=(job, state, fn, args, kwargs),
                                  name=f"{self._name} {job}", daemon=True)
        self._threads.add(thread)
        thread.start()

    def _run(self, job: int, state: TaskState, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - reported as `failed`; a job thread never dies silently
            self._emit(self._job_raised, job, exc)
        else:
            self._emit(self._job_returned, job, result)
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())
                waiting, self._waiting = self._waiting, None
                if waiting is not None and not waiting[1].is_cancelled:
                    self._launch(*waiting)

    @staticmethod
    def _emit(signal: Any, *args: Any) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the runner was deleted (only after a shutdown that timed out): nobody listens
            pass

    def _running(self) -> list[threading.Thread]:
        with self._lock:
            return list(self._threads)

    # -- results, on the GUI thread -----------------------------------------------------------------------------
    def _is_current(self, job: int) -> bool:
        return self._state is not None and job == self._job

    @Slot(int, object)
    def _on_job_returned(self, job: int, result: object) -> None:
        if self._is_current(job):
            self._state = None
            self.finished.emit(result)

    @Slot(int, object)
    def _on_job_raised(self, job: int, exc: object) -> None:
        if self._is_current(job):
            self._state = None
            self.failed.emit(exc)

    @Slot(int, float)
    def _on_job_progress(self, job: int, fraction: float) -> None:
        if self._is_current(job):
            self.progress.emit(fraction)
