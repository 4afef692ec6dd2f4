"""Where the main window and its docks go: the saved geometry and dock state, or on a first start the
default size with the docks at their default widths."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow

DEFAULT_SIZE = (1440, 900)  # the first start's window; every room fits beside the docks at this size
DEFAULT_DOCK_WIDTHS = (210, 340)  # the layer palette (left), the inspector and training docks (right)
SUMMARY_HEIGHT = 230


def restore_layout(window: QMainWindow, settings: QSettings, palette: QDockWidget, right: QDockWidget,
                   summary: QDockWidget) -> None:
    geometry, state = settings.value("window/geometry"), settings.value("window/state")
    if geometry is None or not window.restoreGeometry(geometry):
        window.resize(*DEFAULT_SIZE)
    if state is not None:
        window.restoreState(state)
    else:
        size_docks_when_shown(window, palette, right, summary)


def size_docks_when_shown(window: QMainWindow, palette: QDockWidget, right: QDockWidget,
                          summary: QDockWidget) -> None:
    """The docks' default sizes. resizeDocks only holds once the window is laid out (before show() the docks
    keep their minimum widths: a palette reading "Lay..."), so it waits for the event loop."""
    def size() -> None:
        window.resizeDocks([palette, right], list(DEFAULT_DOCK_WIDTHS), Qt.Orientation.Horizontal)
        window.resizeDocks([summary], [SUMMARY_HEIGHT], Qt.Orientation.Vertical)
    QTimer.singleShot(0, window, size)


def save_layout(window: QMainWindow, settings: QSettings) -> None:
    settings.setValue("window/geometry", window.saveGeometry())
    settings.setValue("window/state", window.saveState())
