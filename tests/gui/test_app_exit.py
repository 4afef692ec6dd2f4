"""The app's exit: the closed window's Qt objects are destroyed while the QApplication still lives (left to the
interpreter, a function's locals go in the order they were made, the QApplication first, and the fuzz driver's
exit crashed now and then)."""

from __future__ import annotations

import shiboken6
from PySide6.QtWidgets import QApplication

from gui.app import dispose
from gui.main_window import MainWindow


def test_dispose_destroys_the_window_and_its_children_before_the_application(qtbot, settings):
    window = MainWindow(settings=settings, rooms=False)
    window.show()
    qtbot.waitExposed(window)
    child = window.canvas
    assert window.close()
    dispose(window)
    assert not shiboken6.isValid(window) and not shiboken6.isValid(child)
    assert QApplication.instance() is not None
