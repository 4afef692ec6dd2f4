"""Starts the window: QApplication, settings identity, style sheet, then MainWindow with its dataset.

Nothing here or in the window's shell imports torch (seconds on a cold disk): the window is on screen first,
and its engine rooms are built when their import, off the GUI thread, has finished (gui.engine_loader).
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QEvent, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from gui.dataset_inputs import BUNDLED_INPUTS, dataset_title  # models only: no torch before the window
from gui.gc_collector import GuiThreadCollector

if TYPE_CHECKING:
    from gui.main_window import MainWindow

STYLE_SHEET = Path(__file__).resolve().parent.parent / "resources" / "style.qss"

DEFAULT_DATASET = "mnist"
PRESTART_DELAY_MS = 500  # the training worker's torch import would compete with the rooms' first paint


def light_palette() -> QPalette:
    """Fusion's colours for the light theme (the style sheet styles the rest)."""
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#f8fafc", QPalette.ColorRole.WindowText: "#0f172a",
        QPalette.ColorRole.Base: "#ffffff", QPalette.ColorRole.AlternateBase: "#f8fafc",
        QPalette.ColorRole.Text: "#0f172a", QPalette.ColorRole.Button: "#ffffff",
        QPalette.ColorRole.ButtonText: "#1e293b", QPalette.ColorRole.Highlight: "#2563eb",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#ffffff",
        QPalette.ColorRole.ToolTipText: "#0f172a", QPalette.ColorRole.PlaceholderText: "#94a3b8",
        QPalette.ColorRole.Mid: "#cbd5e1", QPalette.ColorRole.Midlight: "#e2e8f0",
    }
    for role, color in roles.items():
        palette.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#94a3b8"))
    return palette


def configure_application(app: QApplication) -> GuiThreadCollector:
    """Names for QSettings, the Fusion style and the light style sheet; garbage collection on the GUI thread
    (gui/gc_collector.py: keep the returned collector while the application runs)."""
    QCoreApplication.setOrganizationName("ConvScope")
    QCoreApplication.setApplicationName("ConvScope")
    app.setStyle("Fusion")
    app.setPalette(light_palette())
    font = app.font()
    if font.pointSizeF() < 10:
        font.setPointSizeF(10)
    app.setFont(font)
    if STYLE_SHEET.is_file():
        app.setStyleSheet(STYLE_SHEET.read_text(encoding="utf-8"))
    return GuiThreadCollector(app)


def open_window(project: str | None = None, dataset: str | None = None, window: MainWindow | None = None, *,
                prestart: bool = False) -> MainWindow:
    """Show `window` on `dataset`, then open `project`: a .convscope project, an architecture .json or a run
    folder (a file that cannot be opened shows its error; the window stays).

    By default a new MainWindow is shown at once as its shell (network editor, menus) while its engine rooms
    import torch off the GUI thread; the dataset, the project and (with `prestart`) the warm training worker
    follow when they are built. A `window` whose rooms are built gets all of it at once.
    """
    from gui.main_window import MainWindow  # no torch: that loads behind the shown window

    window = window if window is not None else MainWindow(rooms=False)
    source = dataset or DEFAULT_DATASET
    if source.lower() in BUNDLED_INPUTS:
        source = source.lower()
        window.set_dataset_shape(dataset_title(source), BUNDLED_INPUTS[source])
    window.show()

    def with_rooms() -> None:
        window.training_panel.select_dataset(source)  # loads off the GUI thread; a bad path shows in the panel
        if project:
            window.document.open(Path(project))
        if prestart:
            QTimer.singleShot(PRESTART_DELAY_MS, window.session.prestart)  # after the rooms have drawn

    if window.rooms_built:
        with_rooms()
    else:
        window.rooms_ready.connect(with_rooms)
        window.load_rooms()
    return window


def run_app(project: str | None = None, dataset: str | None = None) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    collector = configure_application(app)  # type: ignore[arg-type]
    window = open_window(project, dataset, prestart=True)  # kept alive while the event loop runs
    window.rooms_ready.connect(collector.set_aside_what_lives_now)  # torch and the rooms are imported by then
    code = app.exec()
    collector.stop()
    dispose(window)
    return code


def dispose(window: MainWindow) -> None:
    """Destroy the closed window's Qt objects now, while the QApplication lives. Left to the interpreter's exit,
    the order is Python's: a function's locals are freed in the order they were made (the QApplication first),
    and signal connections keep the window's wrapper alive past its `del`; a widget destroyed after the
    QApplication may crash the exit."""
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
