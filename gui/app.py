"""Starts the window: QApplication, settings identity, style sheet, then MainWindow with its dataset."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from gui.main_window import MainWindow
from models.architecture import InputShape

STYLE_SHEET = Path(__file__).resolve().parent.parent / "resources" / "style.qss"

# The bundled sets the window can name before the training panel brings the full dataset selector.
BUNDLED_DATASETS = {
    "mnist": ("MNIST (bundled)", InputShape(1, 28, 28)),
    "fashion-mnist": ("Fashion-MNIST (bundled)", InputShape(1, 28, 28)),
}
DEFAULT_DATASET = "mnist"


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


def run_app(project: str | None = None, dataset: str | None = None) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    configure_application(app)  # type: ignore[arg-type]
    window = MainWindow()
    key = (dataset or DEFAULT_DATASET).lower()
    name, shape = BUNDLED_DATASETS.get(key, BUNDLED_DATASETS[DEFAULT_DATASET])
    window.set_dataset_shape(name, shape)
    window.show()
    if key not in BUNDLED_DATASETS:
        window.statusBar().showMessage(f"Dataset {dataset!r} is chosen in the training panel; showing {name}", 8000)
    if project:
        window.document.open(Path(project))
    return app.exec()
