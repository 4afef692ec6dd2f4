"""Builder fixtures: a shown main window on LeNet-5 with MNIST's shape, and event helpers for drag and drop."""

from __future__ import annotations

import gc
import importlib
import threading

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QMimeData, QPoint, QSettings, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QDialog, QMainWindow, QWidget

from gui.document.document_io import DISCARD
from gui.gc_collector import GuiThreadCollector
from gui.main_window import ROOMS_MODULE, MainWindow
from models.architecture import InputShape
from models.network import Network
from models.presets import load_preset
from tests.gui.qt_lifetime import release_garbage, saveall_collection


class UnexpectedDialog(AssertionError):
    """A test reached a modal dialog it did not arrange an answer for."""


def _refuse(*_args: object) -> None:
    raise UnexpectedDialog("a dialog would have opened; patch the DocumentController seam in the test")


@pytest.fixture(autouse=True, scope="package")
def _gui_thread_collector(qapp):
    """As the app does (gui/app.py): cyclic garbage, such as an earlier test's plots, is collected on this
    thread only, never on a job thread (a Qt object must die on its own thread: CI saw timer warnings)."""
    collector = GuiThreadCollector(qapp)
    # The imported modules (torch, Qt, pyqtgraph: 200,000 objects) stay alive: import the window's rooms as it
    # would and set all of that aside, so the collections around every test (below) visit only what tests made.
    importlib.import_module(ROOMS_MODULE)
    gc.collect()
    gc.freeze()
    yield collector
    gc.unfreeze()
    collector.stop()


@pytest.fixture(autouse=True)
def _clean_up_on_the_gui_thread(qapp, _gui_thread_collector):
    """Whatever top-level widget a test left behind is closed and deleted here, on the GUI thread, and the garbage
    collected, so nothing of one test dies during the next (on one of its job threads, or mid-assertion).

    Collected again as the next test starts: pytest keeps a test's fixture values (item.funcargs) until its last
    teardown has run, so a window fixture's cycles become garbage only after this fixture's teardown."""
    _delete_and_collect()
    before = set(QApplication.topLevelWidgets())
    yield
    for widget in QApplication.topLevelWidgets():
        if widget in before or widget.parent() is not None:  # a window's menus and dialogs go with it
            continue
        widget.close()
        if _ours_to_delete(widget):
            widget.deleteLater()
    _delete_and_collect()


def _ours_to_delete(widget: QWidget) -> bool:
    """ConvScope's windows and panels, and Qt's dialogs and main windows. Not pyqtgraph's parentless menus and
    control widgets: pyqtgraph owns them from Python and they go with their plot (deleted under it, a plot's
    scene crashes in QGraphicsScene::clear); nor a plain QWidget, which may be one of them."""
    package = type(widget).__module__.split(".")[0]
    if package == "pyqtgraph":
        return False
    return package in ("gui", "tests") or isinstance(widget, (QMainWindow, QDialog))


def _delete_and_collect() -> None:
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


@pytest.fixture(autouse=True)
def _gc_on_job_threads(request, monkeypatch):
    """With --gc-on-job-threads: every thread a test starts collects first, as Python's automatic collection
    would whenever that thread allocates past a threshold; Qt objects found there fail the test (they would have
    died on that thread). The objects are kept and freed on the GUI thread at the end of the test."""
    if not request.config.getoption("--gc-on-job-threads") or request.node.get_closest_marker("builds_qt_cycles"):
        yield
        return
    found: list[str] = []
    lock = threading.Lock()
    run = threading.Thread.run

    def collecting_run(thread: threading.Thread) -> None:
        qt_objects = saveall_collection()
        with lock:
            found.extend(f"{name} on thread {thread.name!r}" for name in qt_objects)
        run(thread)

    monkeypatch.setattr(threading.Thread, "run", collecting_run)
    yield
    monkeypatch.undo()
    release_garbage()
    assert not found, f"a collection on a worker thread would have destroyed Qt objects: {found}"


@pytest.fixture
def settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, settings):
    """LeNet-5 with the bundled MNIST named; every dialog seam fails the test unless the test patches it."""
    win = MainWindow(Network(load_preset("lenet5")), settings=settings)
    win.set_dataset_shape("MNIST (bundled)", InputShape(1, 28, 28))
    for seam in ("ask_unsaved_changes", "ask_open_path", "ask_open_folder", "ask_save_path", "ask_weights_path",
                 "show_error"):
        setattr(win.document, seam, _refuse)
    win.training.ask_continue_training = _refuse
    win.ask_stop_run_to_quit = _refuse
    win.show()
    qtbot.waitExposed(win)
    try:
        yield win
    finally:
        win.document.ask_unsaved_changes = lambda: DISCARD
        win.ask_stop_run_to_quit = lambda: True
        win.close()
        win.deleteLater()


@pytest.fixture
def drag_and_drop():
    """The function below, as a fixture (helpers are not imported from conftest)."""
    return deliver_drag_and_drop


def deliver_drag_and_drop(target: QWidget, data: QMimeData, pos: QPoint,
                  action: Qt.DropAction = Qt.DropAction.CopyAction) -> tuple[bool, bool]:
    """Deliver DragEnter, DragMove and Drop at `pos` to `target`; returns (move accepted, drop accepted)."""
    buttons, modifiers = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(pos, action, data, buttons, modifiers)
    QApplication.sendEvent(target, enter)
    move = QDragMoveEvent(pos, action, data, buttons, modifiers)
    QApplication.sendEvent(target, move)
    drop = QDropEvent(pos.toPointF(), action, data, buttons, modifiers)
    QApplication.sendEvent(target, drop)
    return move.isAccepted(), drop.isAccepted()
