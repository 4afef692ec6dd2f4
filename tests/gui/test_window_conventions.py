"""What a desktop app is expected to do: keys for the run controls (listed in the guide), the Inspector coming
forward for a selected layer, and the summary's Copy saying it copied even before the engine has loaded."""

from __future__ import annotations

from collections import Counter

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QTabBar

from engine.events import STOPPED
from gui.document.document_io import DISCARD
from gui.help_dialog import shortcut_rows
from gui.main_window import MainWindow
from models.network import Network
from models.presets import load_preset

WAIT_MS = 120_000  # a training child may start cold (a torch import) on a busy machine
CTRL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier


def press(qtbot, window, key: Qt.Key, modifiers) -> None:
    """A key press as the user makes it: through the window's shortcut map (the window must be active)."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window.canvas, key, modifiers)


def test_the_run_controls_have_keys_of_their_own_in_the_menu_and_the_guide(window):
    actions = window.window_actions
    keys = {action: action.shortcut().toString() for action in (actions.pause, actions.step, actions.stop)}
    assert keys == {actions.pause: "Ctrl+P", actions.step: "Ctrl+Shift+T", actions.stop: "Ctrl+Shift+X"}
    every = Counter(seq.toString() for a in window.findChildren(QAction) for seq in a.shortcuts() if not seq.isEmpty())
    assert [seq for seq, n in every.items() if n > 1] == []  # no key does two things
    edit = [a for a in window.menuBar().actions() if a.text() == "&Edit"][0].menu().actions()
    assert {actions.pause, actions.step, actions.stop} <= set(edit)
    rows = shortcut_rows(window)
    native = QKeySequence.SequenceFormat.NativeText
    for action in keys:
        assert (action.shortcut().toString(native), action.text().replace("&", "")) in rows


def test_the_run_keys_follow_the_buttons_and_drive_a_run(qtbot, window):
    panel, actions, session = window.training_panel, window.window_actions, window.session
    with qtbot.waitSignal(panel.dataset_changed, timeout=WAIT_MS):
        panel.select_dataset("mnist")
    # 50 epochs: the run cannot end by itself between Resume and Stop
    panel.set_config(panel.config().replace(epochs=50, batch_size=256, snapshot_interval=0.0))
    window.document.ask_unsaved_changes = lambda: DISCARD
    mirrored = ((actions.pause, panel.pause_button), (actions.step, panel.step_button),
                (actions.stop, panel.stop_button))
    assert [a.isEnabled() for a, _ in mirrored] == [b.isEnabled() for _, b in mirrored] == [False, True, False]
    with qtbot.waitSignal(session.batch_ended, timeout=WAIT_MS):
        press(qtbot, window, Qt.Key.Key_T, CTRL | SHIFT)  # Step from idle: one batch, then paused
    qtbot.waitUntil(lambda: session.is_waiting, timeout=WAIT_MS)
    assert session.is_paused and all(a.isEnabled() for a, _ in mirrored)
    with qtbot.waitSignal(session.paused_changed, timeout=WAIT_MS) as resumed:
        press(qtbot, window, Qt.Key.Key_P, CTRL)
    assert resumed.args == [False]
    with qtbot.waitSignal(session.finished, timeout=WAIT_MS) as finished:
        press(qtbot, window, Qt.Key.Key_X, CTRL | SHIFT)
    assert finished.args[0].reason == STOPPED
    assert [a.isEnabled() for a, _ in mirrored] == [b.isEnabled() for _, b in mirrored] == [False, True, False]


def front_of_the_inspector_tabs(window) -> str:
    """The title of the dock in front in the Inspector's tab group (the other one is behind it, not hidden)."""
    bar = next(bar for bar in window.findChildren(QTabBar)
               if "Inspector" in [bar.tabText(i) for i in range(bar.count())])
    return bar.tabText(bar.currentIndex())


def test_selecting_a_layer_brings_the_inspector_forward(window, qtbot):
    window.training_dock.raise_()
    assert front_of_the_inspector_tabs(window) == "Training"
    qtbot.mouseClick(window.canvas.viewport(), Qt.MouseButton.LeftButton, pos=window.canvas.block_rect(3).center())
    assert window.network.selected == 3
    assert front_of_the_inspector_tabs(window) == "Inspector"
    window.training_dock.raise_()
    window.network.select(None)  # clearing the selection leaves the dock the user chose
    assert front_of_the_inspector_tabs(window) == "Training"
    window.network.select(0)  # the arrow keys and Undo select too
    assert front_of_the_inspector_tabs(window) == "Inspector"


@pytest.fixture
def shell(qtbot, settings):
    """The window as it first appears, before the training engine (torch) has loaded."""
    win = MainWindow(Network(load_preset("lenet5")), settings=settings, rooms=False)
    qtbot.addWidget(win)
    win.show()
    return win


@pytest.mark.parametrize("copy, kind", [("copy_markdown_action", "Markdown"), ("copy_csv_action", "CSV")])
def test_copy_says_it_copied_even_before_the_engine_has_loaded(shell, copy, kind):
    getattr(shell.summary, copy).trigger()
    assert QGuiApplication.clipboard().text()
    assert shell.statusBar().currentMessage() == f"Copied the summary table as {kind} (14 rows)"
