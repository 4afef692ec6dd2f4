"""The Explainer's numbers are readable (>= 11 px at the default size for a 28x28 input) and zoom with Ctrl+wheel
and Ctrl+= / Ctrl+- / Ctrl+0, which win over the window's builder zoom while the stepper shows."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from gui.document.document_io import DISCARD
from gui.views.number_grid import NumberGrid

WAIT_MS = 120_000  # the dataset loads off the GUI thread on a busy machine
CTRL = Qt.KeyboardModifier.ControlModifier


def _wheel(widget, up: bool, modifiers=CTRL) -> QWheelEvent:
    at = QPointF(10, 10)
    delta = QPoint(0, 120 if up else -120)
    event = QWheelEvent(at, widget.mapToGlobal(at), QPoint(0, 0), delta, Qt.MouseButton.NoButton, modifiers,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)
    return event


def _network_layer_one(qtbot, window):
    """The Explainer on the window's LeNet-5 first conv layer: a 28x28 (MNIST-shaped) input, padding 2."""
    window.document.ask_unsaved_changes = lambda: DISCARD
    with qtbot.waitSignal(window.training_panel.dataset_changed, timeout=WAIT_MS):
        window.training_panel.select_dataset("mnist")
    window.tabs.setCurrentWidget(window.explainer)
    explainer = window.explainer
    explainer.source_box.setCurrentIndex(explainer.source_box.findData("network"))
    explainer.layer_box.setCurrentIndex(explainer.layer_box.findText("layer 1 (conv2d)"))
    qtbot.waitUntil(lambda: explainer.case is not None and explainer.case.input.shape[1:] == (28, 28),
                    timeout=WAIT_MS)
    return explainer


def test_numbers_of_a_28x28_input_are_readable_at_the_default_size(qtbot, window):
    explainer = _network_layer_one(qtbot, window)
    for grid in [*explainer.input_grids, *explainer.kernel_grids, explainer.output_grid]:
        assert grid.font_pixel_size() >= 11
        assert grid.cell_size >= 22 + 1  # numbers are written, not only colours
    grid = explainer.input_grids[0]
    assert grid.width() > grid.visibleRegion().boundingRect().width()  # 32 cells of 40 px: the input scrolls


def test_ctrl_wheel_zooms_every_grid_and_a_plain_wheel_is_left_to_the_scroll_area(qtbot, window):
    explainer = _network_layer_one(qtbot, window)
    view, grid = explainer.view, explainer.input_grids[0]
    before, cell = grid.font_pixel_size(), grid.cell_size
    assert _wheel(grid, up=True).isAccepted()
    assert grid.font_pixel_size() > before and grid.cell_size > cell
    assert explainer.output_grid.cell_size == grid.cell_size and view.zoom > 1  # all grids together
    assert not _wheel(grid, up=True, modifiers=Qt.KeyboardModifier.NoModifier).isAccepted()
    _wheel(explainer.output_grid, up=False)
    _wheel(explainer.output_grid, up=False)
    assert grid.cell_size < cell and view.zoom < 1


def test_zoom_keys_win_over_the_builder_zoom_while_the_stepper_shows(qtbot, window):
    explainer = _network_layer_one(qtbot, window)
    window.activateWindow()
    explainer.next_button.setFocus()  # e.g. after clicking Next: the focus is in the tab, not on a grid
    qtbot.waitUntil(lambda: explainer.next_button.hasFocus())
    canvas_zoom, grid = window.canvas.zoom, explainer.input_grids[0]
    size = grid.font_pixel_size()
    qtbot.keyClick(explainer.next_button, Qt.Key.Key_Equal, CTRL)
    assert grid.font_pixel_size() > size and window.canvas.zoom == canvas_zoom
    qtbot.keyClick(explainer.next_button, Qt.Key.Key_Minus, CTRL)
    qtbot.keyClick(explainer.next_button, Qt.Key.Key_Minus, CTRL)
    assert grid.font_pixel_size() < size
    qtbot.keyClick(explainer.next_button, Qt.Key.Key_0, CTRL)
    assert grid.font_pixel_size() == size and explainer.view.zoom == 1.0
    assert window.canvas.zoom == canvas_zoom


def test_zoom_is_bounded_and_a_new_grid_takes_the_current_zoom(qtbot):
    grid = NumberGrid(cell=40)
    qtbot.addWidget(grid)
    grid.set_zoom(100.0)
    assert grid.zoom == 4.0 and grid.cell_size == 160
    grid.set_zoom(0.0)
    assert grid.zoom == 0.4 and grid.cell_size == 16 and grid.font_pixel_size() == 8
