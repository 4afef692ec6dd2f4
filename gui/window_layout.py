"""Where the main window and its docks go: the saved geometry and dock state, or on a first start the
default size with the docks at their default widths."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSettings, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDockWidget, QMainWindow

DEFAULT_SIZE = (1440, 900)  # the first start's window; every room fits beside the docks at this size
DEFAULT_DOCK_WIDTHS = (210, 340)  # the layer palette (left), the inspector and training docks (right)
SUMMARY_HEIGHT = 230
# What a window manager adds around the client area (title bar, borders): geometry() leaves it out, and before
# the first show Qt cannot know it, so a window sized to the whole available area would lose its bottom edge.
FRAME_ALLOWANCE = (16, 40)


def fitted_geometry(available: QRect, wanted: tuple[int, int] = DEFAULT_SIZE) -> QRect:
    """`wanted` shrunk to fit `available` (a screen's area less its panels) with the frame, centred in it.
    On a 1366x768 laptop the 1440x900 default put Train and the status bar off screen."""
    border = FRAME_ALLOWANCE[0] // 2                 # left, right and bottom
    title = FRAME_ALLOWANCE[1] - border              # the title bar above the client area
    width = min(wanted[0], available.width() - FRAME_ALLOWANCE[0])
    height = min(wanted[1], available.height() - FRAME_ALLOWANCE[1])
    left = available.left() + border + (available.width() - FRAME_ALLOWANCE[0] - width) // 2
    top = available.top() + title + (available.height() - FRAME_ALLOWANCE[1] - height) // 2
    return QRect(left, top, width, height)


def available_area(window: QMainWindow) -> QRect:
    screen = window.screen() or QGuiApplication.primaryScreen()
    return screen.availableGeometry()


def restore_layout(window: QMainWindow, settings: QSettings, palette: QDockWidget, right: QDockWidget,
                   summary: QDockWidget) -> None:
    geometry, state = settings.value("window/geometry"), settings.value("window/state")
    available = available_area(window)
    if geometry is None or not window.restoreGeometry(geometry):
        window.setGeometry(fitted_geometry(available))
    elif not available.contains(window.geometry()):  # saved on a larger screen than this one
        window.setGeometry(fitted_geometry(available, (window.width(), window.height())))
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
        # A quarter of the window at most: on a 768-pixel screen 230 px left the canvas four blocks.
        window.resizeDocks([summary], [min(SUMMARY_HEIGHT, window.height() // 4)], Qt.Orientation.Vertical)
    QTimer.singleShot(0, window, size)


def save_layout(window: QMainWindow, settings: QSettings) -> None:
    settings.setValue("window/geometry", window.saveGeometry())
    settings.setValue("window/state", window.saveState())
