"""Start-up: the window's shell is on screen before torch is imported; its engine rooms follow from a
background import, and only then do the actions that need them come on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QSettings

from engine.project.project_file import SUFFIX
from gui.app import open_window
from gui.document.document_io import PROJECT_SUFFIX
from gui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[2]
ROOMS_MS = 120_000  # the rooms' import: a second or two here, much more on a loaded machine

SHELL_WITHOUT_TORCH = """
import json, sys
from PySide6.QtWidgets import QApplication
from gui.app import configure_application
from gui.main_window import MainWindow
app = QApplication([])
configure_application(app)
window = MainWindow(rooms=False)
window.show()
app.processEvents()
print(json.dumps({"torch": "torch" in sys.modules, "layers": len(window.network.architecture.layers),
                  "open": window.window_actions.open.isEnabled(), "train": window.train_action.isEnabled(),
                  "tabs": [window.tabs.tabText(i) for i in range(window.tabs.count())]}))
window.close()
"""


def test_the_shell_is_shown_without_importing_torch(tmp_path):
    # A fresh interpreter, as `main.py` starts: the test process itself has torch loaded already.
    env = {"PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path),
           "XDG_CONFIG_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", SHELL_WITHOUT_TORCH], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout.strip().splitlines()[-1])
    assert shown["torch"] is False
    assert shown["layers"] > 0  # the default network is there to look at and edit
    assert shown["open"] is False and shown["train"] is False  # they need the rooms
    assert shown["tabs"] == ["Network"]


def test_the_rooms_arrive_and_turn_the_actions_on(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, rooms=False)
    qtbot.addWidget(window)
    actions = window.window_actions
    assert not window.rooms_built and not actions.open.isEnabled() and not actions.presets[0].isEnabled()
    assert "training engine" in actions.open.toolTip()
    with qtbot.waitSignal(window.rooms_ready, timeout=ROOMS_MS):
        window.load_rooms()
    assert window.rooms_built
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())][:2] == ["Network", "Training"]
    assert actions.open.isEnabled() and actions.save.isEnabled() and actions.presets[0].isEnabled()
    assert "training engine" not in actions.open.toolTip()
    assert window.document.state.config() == window.training_panel.config()  # projects reach the training room
    window.load_rooms()  # a second call builds nothing twice
    assert window.tabs.count() == len({window.tabs.tabText(i) for i in range(window.tabs.count())})


def test_open_window_opens_the_project_once_the_rooms_are_built(qtbot, tmp_path):
    from models import architecture_file
    from models.presets import load_preset

    path = tmp_path / "net.json"
    architecture_file.save(load_preset("keras_mnist"), path)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, rooms=False)
    qtbot.addWidget(window)
    assert open_window(str(path), "mnist", window=window) is window
    assert window.document.path is None  # not yet: opening needs the rooms
    qtbot.waitUntil(lambda: window.document.path == path, timeout=ROOMS_MS)
    assert window.network.architecture.name == load_preset("keras_mnist").name
    qtbot.waitUntil(lambda: window.training_panel.dataset is not None, timeout=ROOMS_MS)


def test_closing_while_the_rooms_load_builds_nothing_after(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, rooms=False)
    qtbot.addWidget(window)
    window.show()
    window.load_rooms()
    assert window.close()  # waits for the import thread, so the interpreter never exits mid-import
    qtbot.wait(50)  # a `loaded` queued before the close is delivered now
    assert not window.rooms_built


def test_project_suffix_is_the_engines():
    assert PROJECT_SUFFIX == SUFFIX
