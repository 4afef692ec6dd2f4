"""Qt objects are freed where their owner drops them (the GUI thread), never by a collection on a worker thread.

Every QObject class of gui/ that can be built without arguments is built, dropped, and then a collection runs on
a worker thread in saveall mode (tests/gui/qt_lifetime.py): a class in a reference cycle shows up there instead of
crashing the run. Put the strong bound method back into gui/views/redraw.py and LossPlot, FilterGrid,
ActivationView, ProbabilityBars and the live views fail here.
"""

from __future__ import annotations

import gc
import importlib
import inspect
import pkgutil
import weakref

import pytest
from PySide6.QtCore import QObject, QTimer

import gui
from tests.gui.qt_lifetime import qt_objects_a_worker_collection_would_free, release_garbage

# Composes and wires everything and lives as long as the application; closed and deleted explicitly
# (gui/app.py, the window fixture), and collected on the GUI thread (gui/gc_collector.py).
LONG_LIVED = {"gui.main_window.MainWindow"}
SKIPPED_MODULES = {"gui.app"}  # would configure the test's QApplication


def _qobject_classes_built_without_arguments() -> list[type[QObject]]:
    classes = []
    for info in pkgutil.walk_packages(gui.__path__, "gui."):
        if info.name in SKIPPED_MODULES:
            continue
        module = importlib.import_module(info.name)
        for cls in vars(module).values():
            if not (inspect.isclass(cls) and issubclass(cls, QObject) and cls.__module__ == module.__name__):
                continue
            if f"{cls.__module__}.{cls.__qualname__}" in LONG_LIVED or inspect.isabstract(cls):
                continue
            parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
            if all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters):
                classes.append(cls)
    return sorted(classes, key=lambda c: (c.__module__, c.__qualname__))


CLASSES = _qobject_classes_built_without_arguments()


def test_the_scan_finds_the_views_that_schedule_redraws():
    names = {cls.__name__ for cls in CLASSES}
    assert {"LossPlot", "FilterGrid", "ActivationView", "ProbabilityBars", "CurvesLiveView"} <= names


@pytest.fixture
def no_automatic_collection():
    """Only reference counting frees anything meanwhile; the suite's collector (conftest) does not tick here."""
    release_garbage()
    enabled = gc.isenabled()
    gc.disable()
    yield
    (gc.enable if enabled else gc.disable)()


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_a_dropped_object_is_freed_at_once_and_not_by_a_worker_collection(qapp, no_automatic_collection, cls):
    obj = cls()
    ref = weakref.ref(obj)
    del obj
    kept_alive = ref() is not None  # reference counting alone did not free it
    found = qt_objects_a_worker_collection_would_free()
    assert not kept_alive and not found, (
        f"{cls.__qualname__} sits in a reference cycle: a collection on a worker thread would destroy "
        f"{len(found)} Qt objects there ({', '.join(found[:4])}, ...): hold the owner's bound methods weakly, "
        "connect signals to bound @Slot methods rather than lambdas that capture self")


@pytest.mark.builds_qt_cycles
def test_the_detector_finds_a_qt_object_in_a_cycle(qapp, no_automatic_collection):
    """The check above can fail: a timer in a cycle is reported, and then freed on this thread."""
    class Cycle:
        def __init__(self) -> None:
            self.timer = QTimer()
            self.timer.setObjectName("timer in a cycle")
            self.me = self

    cycle = Cycle()
    timer = weakref.ref(cycle.timer)
    del cycle
    found = qt_objects_a_worker_collection_would_free()
    assert found == ["PySide6.QtCore.QTimer ('timer in a cycle')"]
    assert timer() is None  # released on this thread, after the report
