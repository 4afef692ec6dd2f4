"""Starts the window: QApplication, settings identity, style sheet, a splash, then MainWindow with its dataset.

Only PySide6 is imported up front: the main window pulls in torch (seconds on a cold disk), so a splash
is on screen before that import starts.
"""

from __future__ import annotations

import sys
from pathlib import Path

from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication, QSplashScreen

from gui.dataset_inputs import BUNDLED_INPUTS  # models only: no torch before the splash

if TYPE_CHECKING:
    from gui.main_window import MainWindow

STYLE_SHEET = Path(__file__).resolve().parent.parent / "resources" / "style.qss"

DEFAULT_DATASET = "mnist"
PRESTART_DELAY_MS = 500  # the training worker's torch import competes with the first paint otherwise


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


def configure_application(app: QApplication) -> None:
    """Names for QSettings, the Fusion style and the light style sheet."""
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


def splash_screen() -> QSplashScreen:
    """A plain card with the name, shown while the engine (torch) is imported."""
    pixmap = QPixmap(440, 160)
    pixmap.fill(QColor("#f8fafc"))
    painter = QPainter(pixmap)
    painter.setPen(QColor("#cbd5e1"))
    painter.drawRect(0, 0, pixmap.width() - 1, pixmap.height() - 1)
    painter.setPen(QColor("#0f172a"))
    painter.setFont(QFont(painter.font().family(), 26, QFont.Weight.Bold))
    painter.drawText(pixmap.rect().adjusted(0, -24, 0, -24), Qt.AlignmentFlag.AlignCenter, "ConvScope")
    painter.setPen(QColor("#475569"))
    painter.setFont(QFont(painter.font().family(), 11))
    painter.drawText(pixmap.rect().adjusted(0, 44, 0, 44), Qt.AlignmentFlag.AlignCenter,
                     "Loading the training engine\u2026")
    painter.end()
    return QSplashScreen(pixmap)


def open_window(project: str | None = None, dataset: str | None = None, window: MainWindow | None = None) -> MainWindow:
    """Show `window` (a new MainWindow by default) on `dataset`, then open `project`: a .convscope project, an
    architecture .json or a run folder (a file that cannot be opened shows its error; the window stays)."""
    from gui.main_window import MainWindow  # torch comes with it
    from gui.training.training_form import dataset_title

    window = window if window is not None else MainWindow()
    source = dataset or DEFAULT_DATASET
    if source.lower() in BUNDLED_INPUTS:
        source = source.lower()
        window.set_dataset_shape(dataset_title(source), BUNDLED_INPUTS[source])
    window.training_panel.select_dataset(source)  # loads off the GUI thread; a bad path shows in the panel
    window.show()
    if project:
        window.document.open(Path(project))
    return window


def run_app(project: str | None = None, dataset: str | None = None) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    configure_application(app)  # type: ignore[arg-type]
    splash = splash_screen()
    splash.show()
    app.processEvents()  # paint it before the long import
    window = open_window(project, dataset)  # kept alive while the event loop runs
    splash.finish(window)
    QTimer.singleShot(PRESTART_DELAY_MS, window.session.prestart)  # after the window has drawn itself
    return app.exec()
