"""The canvas scrolls like the other panels, zooms (Ctrl+wheel, View menu, keys) within bounds, and hit-tests zoomed."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QKeySequence, QWheelEvent
from PySide6.QtWidgets import QApplication, QScrollArea, QWidget

from gui.builder.canvas import INPUT, OUTPUT
from gui.builder.canvas_zoom import MAX_ZOOM, MIN_ZOOM, WheelSteps, zoomed_in, zoomed_out
from gui.builder.mime import layer_mime_data
from models.architecture import Architecture
from models.layers import DropoutSpec, ReluSpec

NOTCH = 120


def wheel(target: QWidget, delta: int, ctrl: bool = False, at: QPoint | None = None) -> None:
    pos = QPointF(at if at is not None else target.rect().center())
    modifiers = Qt.KeyboardModifier.ControlModifier if ctrl else Qt.KeyboardModifier.NoModifier
    event = QWheelEvent(pos, QPointF(target.mapToGlobal(pos.toPoint())), QPoint(0, 0), QPoint(0, delta),
                        Qt.MouseButton.NoButton, modifiers, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(target, event)


def long_network(window, layers: int = 40) -> None:
    arch = window.network.architecture
    window.network.set_architecture(Architecture(arch.name, arch.input, arch.layers + (ReluSpec(),) * layers))


def test_a_wheel_notch_scrolls_the_canvas_as_far_as_it_scrolls_a_scroll_area(window, qtbot):
    long_network(window)
    bar = window.canvas.verticalScrollBar()
    assert bar.value() == 0 and bar.maximum() > 500
    area = QScrollArea()  # how the training dock and the rooms scroll
    tall = QWidget()
    tall.setMinimumSize(300, 5000)
    area.setWidget(tall)
    area.resize(300, 400)
    qtbot.addWidget(area)
    area.show()
    wheel(area.viewport(), -NOTCH)
    wheel(window.canvas.viewport(), -NOTCH)
    assert area.verticalScrollBar().value() >= 40  # 3 lines of 20 px with Qt's default settings
    assert bar.value() == area.verticalScrollBar().value()
    assert window.canvas.zoom == 1.0


def test_ctrl_wheel_zooms_and_keeps_the_block_under_the_pointer(window):
    canvas = window.canvas
    long_network(window)
    before = canvas.block_rect(5)
    under = QPoint(before.center().x(), before.top() + 5)
    wheel(canvas.viewport(), NOTCH, ctrl=True, at=under)
    assert canvas.zoom == zoomed_in(1.0)
    after = canvas.block_rect(5)
    assert after.height() == pytest.approx(before.height() * canvas.zoom, abs=2)
    assert canvas.block_at(under) == 5  # the point stays on the block it was on
    wheel(canvas.viewport(), -NOTCH, ctrl=True)
    wheel(canvas.viewport(), -NOTCH, ctrl=True)
    assert canvas.zoom == zoomed_out(1.0)


def test_view_menu_zoom_actions_and_their_keys_stay_within_bounds(window):
    actions, canvas = window.window_actions, window.canvas
    view = [a.text() for a in window.view_menu.actions()]
    assert {"Zoom &In", "Zoom &Out", "&Fit Network", "&Actual Size (100%)"} <= set(view)
    assert QKeySequence(QKeySequence.StandardKey.ZoomIn) in actions.zoom_in.shortcuts()
    assert QKeySequence("Ctrl+=") in actions.zoom_in.shortcuts()
    assert actions.zoom_out.shortcut() == QKeySequence(QKeySequence.StandardKey.ZoomOut)
    actions.zoom_in.trigger()
    assert canvas.zoom == zoomed_in(1.0)
    assert window.statusBar().currentMessage() == f"Zoom {round(canvas.zoom * 100)}%"
    for _ in range(30):
        actions.zoom_in.trigger()
    assert canvas.zoom == MAX_ZOOM
    assert canvas.horizontalScrollBar().maximum() > 0  # blocks wider than the canvas scroll sideways
    for _ in range(30):
        actions.zoom_out.trigger()
    assert canvas.zoom == MIN_ZOOM
    actions.zoom_reset.trigger()
    assert canvas.zoom == 1.0 and canvas.horizontalScrollBar().maximum() == 0


def test_fit_shows_the_whole_network_and_never_enlarges_a_short_one(window):
    canvas, actions, network = window.canvas, window.window_actions, window.network
    long_network(window, layers=4)
    actions.zoom_fit.trigger()
    assert MIN_ZOOM < canvas.zoom < 1.0
    assert canvas.verticalScrollBar().maximum() <= 1
    height = canvas.viewport().height()
    assert canvas.block_rect(INPUT).top() >= 0 and canvas.block_rect(OUTPUT).bottom() <= height + 1
    long_network(window, layers=200)
    actions.zoom_fit.trigger()
    assert canvas.zoom == MIN_ZOOM and canvas.verticalScrollBar().maximum() > 0  # too long: the bound holds
    network.set_architecture(Architecture("short", network.architecture.input, (ReluSpec(),)))
    actions.zoom_fit.trigger()
    assert canvas.zoom == 1.0


def test_zoomed_drops_land_in_the_gap_under_the_pointer(window, drag_and_drop):
    canvas, network = window.canvas, window.network
    canvas.set_zoom(2.0)
    canvas.verticalScrollBar().setValue(0)
    above, below = canvas.block_rect(0), canvas.block_rect(1)
    pos = QPoint(above.center().x(), (above.bottom() + below.top()) // 2)
    assert canvas.index_at(pos) == 1 and canvas.block_at(above.center()) == 0
    moved, dropped = drag_and_drop(canvas.viewport(), layer_mime_data("dropout"), pos)
    assert moved and dropped and network.layers[1] == DropoutSpec()


def test_the_ladder_and_touchpad_deltas():
    assert zoomed_in(0.9) == 1.0 and zoomed_out(0.9) == 0.8  # a fit level between rungs
    assert zoomed_in(MAX_ZOOM) == MAX_ZOOM and zoomed_out(MIN_ZOOM) == MIN_ZOOM
    steps = WheelSteps()
    assert [steps.steps(30) for _ in range(4)] == [0, 0, 0, 1]  # four touchpad quarters make a notch
    assert steps.steps(-240) == -2
    assert steps.steps(60) == 0 and steps.steps(-60) == 0  # a change of direction starts afresh
