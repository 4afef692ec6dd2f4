"""Builder fixtures: a shown main window on LeNet-5 with MNIST's shape, and event helpers for drag and drop."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, QPoint, QSettings, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget

from gui.document.document_io import DISCARD
from gui.main_window import MainWindow
from models.architecture import InputShape
from models.network import Network
from models.presets import load_preset


class UnexpectedDialog(AssertionError):
    """A test reached a modal dialog it did not arrange an answer for."""


def _refuse(*_args: object) -> None:
    raise UnexpectedDialog("a dialog would have opened; patch the DocumentController seam in the test")


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
    win.show()
    qtbot.waitExposed(win)
    try:
        yield win
    finally:
        win.document.ask_unsaved_changes = lambda: DISCARD
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
