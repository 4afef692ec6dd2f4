"""Help menu: the guide lists the window's real shortcuts and the arithmetic; About names the version."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox, QTextBrowser

from engine.project.project_file import app_version


def _help_action(window, text: str):
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    return next(a for a in menu.actions() if text in a.text())


def test_the_guide_shows_the_arithmetic_and_every_shortcut_of_the_window(window, qtbot):
    _help_action(window, "guide").trigger()
    qtbot.waitUntil(lambda: window.findChild(QTextBrowser) is not None)
    text = window.findChild(QTextBrowser).toPlainText()
    assert "floor((n + 2p" in text and "out × in + out" in text
    for action in (window.window_actions.train, window.window_actions.save, window.window_actions.undo):
        assert action.shortcut().toString() in text
    assert "Train" in text


@pytest.mark.qt_log_ignore("propagateSizeHints")  # QMessageBox fixes its size; the offscreen plugin warns
def test_about_names_the_version(window, qtbot):
    _help_action(window, "About").trigger()
    qtbot.waitUntil(lambda: window.findChild(QMessageBox) is not None)
    box = window.findChild(QMessageBox)
    assert f"ConvScope {app_version()}" in box.text() and app_version() != "unknown"
    assert "PyTorch" in box.text()
    box.close()
