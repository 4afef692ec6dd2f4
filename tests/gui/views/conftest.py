"""Fixtures for the live-view tests: offscreen Qt and deterministic random arrays."""
from __future__ import annotations

import os

# Before pytest-qt creates the QApplication: no display needed, same result in CI.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest


def show_window(qtbot, widget) -> None:
    """Show a top-level widget and wait until it is exposed.

    An explicit minimum size keeps the layout from setting the platform window's size
    limits, which the offscreen plugin would answer with the Qt warning "This plugin does
    not support propagateSizeHints()" (MainWindow does the same)."""
    widget.setMinimumSize(100, 100)
    widget.show()
    qtbot.waitExposed(widget)


@pytest.fixture
def shown(qtbot):
    """Show a widget (needed for real mouse events) and wait until it is exposed."""
    def show(widget):
        show_window(qtbot, widget)
        return widget
    return show


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


class PanelMouse:
    """Real mouse events on a MosaicPanel's image, addressed in image pixels (row, col)."""

    def __init__(self, qtbot) -> None:
        self._qtbot = qtbot

    def _point(self, panel, row: int, col: int):
        from PySide6.QtCore import QRect

        view = panel.graphics_view()
        window = view.window()
        if not window.isVisible():
            show_window(self._qtbot, window)
        height, width = panel.image_item.image.shape[:2]

        def laid_out() -> bool:  # pyqtgraph maps items to the view lazily, after layout
            corner = panel.pixel_position(height, width)
            return QRect(view.viewport().rect()).contains(corner) and corner.x() > 0

        self._qtbot.waitUntil(laid_out, timeout=3000)
        return view.viewport(), panel.pixel_position(row + 0.5, col + 0.5)

    def click(self, panel, row: int, col: int) -> None:
        from PySide6.QtCore import Qt

        viewport, point = self._point(panel, row, col)
        self._qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=point)

    def hover(self, panel, row: int, col: int) -> None:
        from PySide6.QtCore import QPoint

        viewport, point = self._point(panel, row, col)
        # pyqtgraph sends hover events on moves; two moves inside the pixel make one for sure.
        self._qtbot.mouseMove(viewport, pos=point)
        self._qtbot.mouseMove(viewport, pos=point + QPoint(1, 0))


@pytest.fixture
def panel_mouse(qtbot) -> PanelMouse:
    return PanelMouse(qtbot)
