"""TaskRunner: jobs run off the GUI thread, report on it, the newest submission wins, and shutdown leaves no thread."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QCoreApplication

from gui.task_runner import TaskRunner

WAIT_MS = 10_000


@pytest.fixture
def runner(qtbot):
    runner = TaskRunner(name="test task")
    yield runner
    assert runner.shutdown(10.0)


def test_a_job_runs_off_the_gui_thread_and_reports_on_it(qtbot, runner):
    threads = {}

    def job(a, b, *, scale):
        threads["job"] = threading.current_thread()
        return (a + b) * scale

    runner.finished.connect(lambda _result: threads.setdefault("report", threading.current_thread()))
    with qtbot.waitSignal(runner.finished, timeout=WAIT_MS) as blocker:
        runner.submit(job, 2, 3, scale=10)
        assert runner.is_busy
    assert blocker.args == [50] and not runner.is_busy
    assert threads["job"] is not threading.main_thread() and threads["report"] is threading.main_thread()


def test_an_exception_is_reported_as_failed(qtbot, runner):
    def job():
        raise ZeroDivisionError("boom")

    with qtbot.waitSignal(runner.failed, timeout=WAIT_MS) as blocker:
        runner.submit(job)
    (exc,) = blocker.args
    assert isinstance(exc, ZeroDivisionError) and str(exc) == "boom" and not runner.is_busy


def test_a_newer_submit_wins_over_an_older_slower_one(qtbot, runner):
    results, errors, progress = [], [], []
    runner.finished.connect(results.append)
    runner.failed.connect(errors.append)
    runner.progress.connect(progress.append)
    started = threading.Event()

    def slow(*, state):
        started.set()
        state._cancelled.wait(WAIT_MS / 1000)  # superseded: it stops early, as a cooperative job does
        state.set_progress(0.5)  # dropped: it was superseded
        return "old"

    def fast(*, state):
        state.set_progress(1.0)
        return "new"

    old = runner.submit_with_state(slow)
    assert started.wait(WAIT_MS / 1000)
    with qtbot.waitSignal(runner.finished, timeout=WAIT_MS) as blocker:
        new = runner.submit_with_state(fast)
    assert blocker.args == ["new"] and old.is_cancelled and not new.is_cancelled
    assert runner.wait(WAIT_MS / 1000)
    QCoreApplication.processEvents()  # deliver whatever the old job queued before it ended
    assert results == ["new"] and errors == [] and progress == [1.0]


def test_one_job_thread_at_a_time_and_only_the_newest_waiting_job_runs(qtbot, runner):
    """Twenty quick probe clicks while a model runs: the running job ends, then the newest runs; the eighteen
    in between never start (each would have been a thread competing for the cores)."""
    release, ran, concurrent, live = threading.Event(), [], [], []
    lock = threading.Lock()

    def job(n):
        with lock:
            live.append(n)
            concurrent.append(len(live))
        if n == 0:
            release.wait(WAIT_MS / 1000)
        ran.append(n)
        with lock:
            live.remove(n)
        return n

    runner.submit(job, 0)
    states = [runner.submit(job, n) for n in range(1, 20)]
    assert sum(not state.is_cancelled for state in states) == 1
    with qtbot.waitSignal(runner.finished, timeout=WAIT_MS) as blocker:
        release.set()
    assert blocker.args == [19] and ran == [0, 19] and max(concurrent) == 1


def test_shutdown_cancels_the_pending_job_and_waits_for_its_thread(qtbot, runner):
    started, seen_cancel = threading.Event(), threading.Event()
    results = []
    runner.finished.connect(results.append)

    def cooperative(*, state):
        started.set()
        idle = threading.Event()
        while not state.is_cancelled:  # a long job that polls, as a loader of many files would
            idle.wait(0.01)
        seen_cancel.set()
        return "too late"

    runner.submit_with_state(cooperative)
    assert started.wait(WAIT_MS / 1000)
    threads = [t for t in threading.enumerate() if t.name.startswith("test task")]
    assert runner.shutdown(10.0)
    assert seen_cancel.is_set() and not any(t.is_alive() for t in threads) and not runner.is_busy
    QCoreApplication.processEvents()
    assert results == []
    with qtbot.waitSignal(runner.finished, timeout=WAIT_MS) as blocker:  # still usable after a shutdown
        runner.submit(lambda: "again")
    assert blocker.args == ["again"]
