"""The canvas: drops from the palette and block moves land in the gap under the pointer, undoably."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent
from PySide6.QtWidgets import QApplication

from gui.builder.canvas import INPUT, OUTPUT
from gui.builder.mime import LAYER_MIME, layer_mime_data, move_mime_data
from models.layers import Conv2dSpec, DropoutSpec, MaxPool2dSpec
from models.presets import load_preset

LENET = load_preset("lenet5").layers


def gap_point(canvas, gap: int) -> QPoint:
    """The viewport point in the middle of the gap before layer `gap`."""
    above = canvas.block_rect(gap - 1 if gap > 0 else INPUT)
    below = canvas.block_rect(gap if gap < len(canvas._network) else OUTPUT)
    return QPoint(above.center().x(), (above.bottom() + below.top()) // 2)


def test_palette_drop_inserts_at_the_drop_position(window, drag_and_drop):
    canvas, network = window.canvas, window.network
    pos = gap_point(canvas, 2)  # between ReLU (1) and MaxPool2d (2)
    assert canvas.index_at(pos) == 2

    moved, dropped = drag_and_drop(canvas.viewport(), layer_mime_data("dropout"), pos)

    assert moved and dropped
    assert len(network) == len(LENET) + 1
    assert network.layers[2] == DropoutSpec()
    assert network.layers[:2] == LENET[:2] and network.layers[3:] == LENET[2:]
    assert network.selected == 2
    assert canvas.drop_gap is None  # the marker goes away after the drop
    window.undo_stack.undo()
    assert network.layers == LENET
    window.undo_stack.redo()
    assert network.layers[2] == DropoutSpec()


def test_drag_move_shows_the_insertion_marker_at_the_gap(window):
    canvas = window.canvas
    data, pos = layer_mime_data("relu"), gap_point(canvas, 3)
    args = (Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(canvas.viewport(), QDragEnterEvent(pos, *args))
    move = QDragMoveEvent(pos, *args)
    QApplication.sendEvent(canvas.viewport(), move)
    assert move.isAccepted() and canvas.drop_gap == 3
    QApplication.sendEvent(canvas.viewport(), QDragMoveEvent(gap_point(canvas, 1), *args))
    assert canvas.drop_gap == 1
    assert window.network.layers == LENET  # hovering changes nothing


def test_index_at_splits_each_block_at_its_middle(window):
    canvas = window.canvas
    first = canvas.block_rect(0)
    assert canvas.index_at(canvas.block_rect(INPUT).center()) == 0
    assert canvas.index_at(QPoint(first.center().x(), first.top() + 3)) == 0
    assert canvas.index_at(QPoint(first.center().x(), first.bottom() - 3)) == 1
    assert canvas.index_at(QPoint(first.center().x(), first.bottom() + 10)) == 1


def test_drop_above_the_first_layer_inserts_at_the_top(window, drag_and_drop):
    drag_and_drop(window.canvas.viewport(), layer_mime_data("batchnorm2d"), gap_point(window.canvas, 0))
    assert window.network.layers[0].TYPE == "batchnorm2d"
    assert window.network.layers[1:] == LENET


def test_drop_on_an_empty_network_goes_in_the_placeholder(window, drag_and_drop):
    window.editor.set_architecture(load_preset("lenet5").with_layers(()), "clear")
    canvas = window.canvas
    assert canvas.block_view(OUTPUT - 1).kind == "placeholder"
    assert not window.train_action.isEnabled()
    drag_and_drop(canvas.viewport(), layer_mime_data("conv2d"), canvas.block_rect(OUTPUT - 1).center())
    assert window.network.layers == (Conv2dSpec(),)


def test_moving_a_block_by_drop_reorders_and_undoes(window, drag_and_drop):
    canvas, network = window.canvas, window.network
    # Move the first MaxPool2d (index 2) to just before Flatten (index 6).
    moved, dropped = drag_and_drop(canvas.viewport(), move_mime_data(2), gap_point(canvas, 6),
                                   Qt.DropAction.MoveAction)
    assert moved and dropped
    expected = LENET[:2] + LENET[3:6] + (LENET[2],) + LENET[6:]
    assert network.layers == expected
    assert network.selected == 5 and isinstance(network.layers[5], MaxPool2dSpec)
    window.undo_stack.undo()
    assert network.layers == LENET
    window.undo_stack.redo()
    assert network.layers == expected


def test_moving_a_block_onto_its_own_place_changes_nothing(window, drag_and_drop):
    drag_and_drop(window.canvas.viewport(), move_mime_data(2), gap_point(window.canvas, 3), Qt.DropAction.MoveAction)
    assert window.network.layers == LENET
    assert window.undo_stack.count() == 0


def test_foreign_and_malformed_drops_are_refused(window, drag_and_drop):
    text = QMimeData()
    text.setText("conv2d")
    unknown = QMimeData()
    unknown.setData(LAYER_MIME, b"transformer")
    for data in (text, unknown, move_mime_data(99)):
        moved, dropped = drag_and_drop(window.canvas.viewport(), data, gap_point(window.canvas, 1))
        assert not moved and not dropped
    assert window.network.layers == LENET


def test_click_selects_and_follows_the_document_selection(window, qtbot):
    canvas = window.canvas
    qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=canvas.block_rect(3).center())
    assert window.network.selected == 3
    assert window.inspector.title_label.text().startswith("Conv2d")
    qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=canvas.block_rect(INPUT).center())
    assert window.network.selected is None and canvas.input_selected
    assert "MNIST (bundled)" in window.inspector.title_label.text()
    window.network.select(0)
    assert not canvas.input_selected


def test_arrow_keys_walk_the_chain(window, qtbot):
    window.network.select(0)
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Down)
    qtbot.keyClick(window.canvas, Qt.Key.Key_Down)
    assert window.network.selected == 2
    qtbot.keyClick(window.canvas, Qt.Key.Key_Up)
    assert window.network.selected == 1


def test_blocks_show_type_hyperparameters_shape_and_params(window):
    canvas = window.canvas
    conv = canvas.block_view(0)
    assert (conv.title, conv.detail, conv.shape, conv.footer_right) == ("Conv2d", "6 @ 5x5, s1, p2", "6x28x28",
                                                                        "156 params")
    assert canvas.block_view(2).detail == "2x2, s2"
    assert canvas.block_view(7).detail == "120 units"
    assert canvas.block_view(INPUT).shape == "1x28x28" and canvas.block_view(INPUT).detail == "MNIST (bundled)"
    assert canvas.block_view(OUTPUT).shape == "10"


def test_an_error_marks_its_block_and_later_blocks_have_unknown_shapes(window):
    window.editor.replace(3, LENET[3].replace(kernel_size=15))  # 15x15 kernel on a 14x14 input
    canvas = window.canvas
    bad = canvas.block_view(3)
    assert bad.error and "larger than its 14x14 input" in bad.error
    assert bad.shape == "error"
    later = canvas.block_view(4)
    assert later.unknown and later.shape == "?"
    assert canvas.block_rect(3).height() > canvas.block_rect(4).height()  # room for the reason text
    assert canvas.block_view(OUTPUT).shape == "?"


def test_a_warning_is_shown_on_its_block(window):
    window.editor.replace(2, MaxPool2dSpec(kernel_size=3, stride=3))  # 28 is not a multiple of 3
    view = window.canvas.block_view(2)
    assert view.warnings and "never reach" in view.warnings[0]
    assert not view.error and window.train_action.isEnabled()  # a warning does not block training


def test_tooltip_explains_the_block_with_its_formula_and_warnings(window):
    window.editor.replace(2, MaxPool2dSpec(kernel_size=3, stride=3))
    text = window.canvas.tooltip_text(2)
    assert "MaxPool2d" in text and "floor((28 + 2*0 - 3)/3) + 1 = 9" in text and "never reach" in text
    window.editor.replace(3, LENET[3].replace(kernel_size=15))
    assert "larger than its 9x9 input" in window.canvas.tooltip_text(3)


def test_delete_key_on_the_canvas_deletes_the_selected_layer(window, qtbot):
    window.network.select(1)
    window.activateWindow()
    window.canvas.setFocus()
    qtbot.waitUntil(window.canvas.hasFocus)
    qtbot.keyClick(window.canvas, Qt.Key.Key_Delete)
    assert window.network.layers == LENET[:1] + LENET[2:]


def test_the_input_and_output_blocks_explain_themselves_too(window):
    canvas = window.canvas
    assert "Input" in canvas.tooltip_text(INPUT) and "1 channel of 28\u00d728 pixels" in canvas.tooltip_text(INPUT)
    assert "10 scores" in canvas.tooltip_text(OUTPUT) and "one per class" in canvas.tooltip_text(OUTPUT)
    assert "Drag to move it" in canvas.tooltip_text(0)
    canvas.set_output_problem("the dataset has 2 classes, the network 10 scores")
    assert canvas.tooltip_text(OUTPUT) == "Cannot train: the dataset has 2 classes, the network 10 scores"
