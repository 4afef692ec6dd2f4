"""Imports the window's torch-backed rooms on a background thread, so that the window is on screen first.

Importing torch takes seconds on a cold disk (about 1.8 s of a 2.5 s start-up on the 2-core test machine).
The main window's shell (menus, palette, canvas, inspector, summary) needs only Qt and `models`; the rooms
(training, evaluation, explainer, experiments, timeline, export) import torch through the engine. Python's
import lock makes a second import of a module that is still loading wait for it, so the GUI thread never
sees a half-imported module: it only builds the rooms after `loaded` has fired.
"""

from __future__ import annotations

import importlib
import threading
import traceback

from PySide6.QtCore import QObject, Signal


class EngineLoader(QObject):
    """`start()` imports `modules` on a daemon thread; then `loaded` (or `failed` with the error) fires on the
    GUI thread (the signals cross threads queued, as the loader lives on the GUI thread)."""

    loaded = Signal()
    failed = Signal(str)

    def __init__(self, modules: tuple[str, ...], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._modules = modules
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._import, name="convscope-engine-import", daemon=True)
        self._thread.start()

    def wait(self) -> None:
        """Block until the imports end (closing the window mid-import: no interpreter exit under a half-loaded
        extension module)."""
        if self._thread is not None:
            self._thread.join()

    def _import(self) -> None:
        try:
            for name in self._modules:
                importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - a broken install: said in the window, which keeps its editor
            traceback.print_exc()
            self.failed.emit(f"{type(exc).__name__}: {exc}")
            return
        self.loaded.emit()
