"""Cyclic garbage is collected on the GUI thread only: a Qt object in a cycle never dies on a job thread."""

import gc
import threading
import weakref

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QTimer

from gui.gc_collector import GuiThreadCollector


@pytest.fixture
def collector(qapp):
    enabled = gc.isenabled()
    gc.enable()  # as Python starts: the suite's own collector (tests/gui/conftest.py) steps aside meanwhile
    c = GuiThreadCollector(interval_ms=50)
    yield c
    c.stop()
    c.deleteLater()
    (gc.enable if enabled else gc.disable)()


def _plot_in_a_cycle(qtbot) -> weakref.ref:
    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    item = plot.plot([1.0, 2.0, 3.0])
    item.cycle = item  # only the cyclic collector can free it
    plot.removeItem(item)
    return weakref.ref(item)


@pytest.fixture
def collecting_threads():
    """The ident of the thread that ran each collection (gc.callbacks run on the collecting thread)."""
    idents: list[int] = []

    def record(phase, _info):
        if phase == "start":
            idents.append(threading.get_ident())
    gc.callbacks.append(record)
    yield idents
    gc.callbacks.remove(record)


class _Cycle:
    """A reference cycle holding a Qt object: only the cyclic collector frees it, and it must die on its thread."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.me = self


@pytest.mark.builds_qt_cycles
def test_a_job_thread_that_allocates_never_runs_the_collection(qtbot, collector, collecting_threads):
    assert not gc.isenabled()
    plot = _plot_in_a_cycle(qtbot)
    cycle = weakref.ref(_Cycle())

    def allocate():  # far past every generation's threshold: Python would collect here, on this thread
        for _ in range(50):
            junk = [[] for _ in range(10_000)]
            del junk
    thread = threading.Thread(target=allocate)
    thread.start()
    thread.join()
    assert thread.ident not in collecting_threads, "a collection ran on the job thread"
    assert plot() is not None and cycle() is not None, "a cycle was collected off the GUI thread"

    qtbot.waitUntil(lambda: cycle() is None, timeout=5000)  # the collector's timer, on this thread
    assert set(collecting_threads) == {threading.main_thread().ident}


def test_check_collects_young_cycles_even_when_frees_brought_the_count_back_down(collector):
    collector._timer.stop()  # checks by hand from here
    gc.collect()
    cycle = weakref.ref(_Cycle())
    churn = [[] for _ in range(gc.get_threshold()[0] + 1)]
    del churn  # allocations minus frees: generation 0's count is back under its threshold
    assert gc.get_count()[0] <= gc.get_threshold()[0] and cycle() is not None
    assert collector.check() > 0 and cycle() is None


def test_an_older_generation_is_collected_once_the_younger_passed_its_threshold(collector):
    collector._timer.stop()
    gc.collect()
    survivor = _Cycle()
    cycle = weakref.ref(survivor)
    gc.collect(0)  # still referenced: it moves on to generation 1, which a young collection does not visit
    del survivor
    checks = 0
    while cycle() is not None:
        collector.check()
        checks += 1
        assert checks <= gc.get_threshold()[1] + 1, "generation 1 was never collected"
    assert checks > 1, "a full collection at every check: the GUI would stall on a large heap"


def test_stop_hands_collection_back_to_python(collector):
    collector.stop()
    assert gc.isenabled()


def test_what_lives_at_start_up_is_set_aside_and_new_cycles_are_still_collected(collector):
    collector._timer.stop()
    long_lived = [_Cycle() for _ in range(3)]  # as the window's start-up state
    try:
        collector.set_aside_what_lives_now()
        assert gc.get_freeze_count() >= len(long_lived)
        young = gc.get_objects()  # only what is not set aside
        assert not any(obj is long_lived[0] for obj in young)
        cycle = weakref.ref(_Cycle())
        collector.check()
        assert cycle() is None
    finally:  # unfreeze hands back all that was set aside, the suite's own (tests/gui/conftest.py) too
        gc.unfreeze()
        del long_lived
        gc.collect()
        gc.freeze()  # set the suite's aside again
