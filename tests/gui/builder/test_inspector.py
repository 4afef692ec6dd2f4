"""The inspector: one editor per field, each change validated and applied as an undoable replace."""

from __future__ import annotations

from models.layers import Conv2dSpec, LeakyReluSpec, TanhSpec
from models.presets import load_preset

LENET = load_preset("lenet5").layers


def select(window, index: int):
    window.network.select(index)
    return window.inspector


def test_editors_follow_the_field_kinds(window):
    inspector = select(window, 0)
    assert inspector.fields == ["out_channels", "kernel_size", "stride", "padding", "bias", "groups", "init",
                                "frozen_init"]
    filters = inspector.editor_for("out_channels").spin
    assert (filters.minimum(), filters.maximum(), filters.value()) == (1, 4096, 6)
    kernel = inspector.editor_for("kernel_size")
    assert kernel.square.value() == 5 and not kernel.non_square.isChecked() and kernel.height.isHidden()
    padding = inspector.editor_for("padding")
    assert padding.mode.currentText() == "zeros" and padding.size.square.value() == 2
    assert inspector.editor_for("bias").check.isChecked()
    pool = select(window, 2)
    assert pool.editor_for("stride").same_as_kernel.isChecked()


def test_shows_the_formula_and_the_params_breakdown(window):
    inspector = select(window, 0)
    assert "(28 + 2*2 - 5)/1 + 1 = 28" in inspector.formula_label.text()
    assert "params: 6*(1*5*5 + 1) = 156" in inspector.formula_label.text()
    assert "Weights 150" in inspector.params_label.text() and "biases 6" in inspector.params_label.text()
    assert "1x28x28" in inspector.shape_label.text() and "6x28x28" in inspector.shape_label.text()


def test_an_edit_that_breaks_the_network_disables_train_and_undo_restores(window):
    inspector = select(window, 0)
    inspector.editor_for("padding").mode.setCurrentText("valid")
    inspector.editor_for("kernel_size").square.setValue(29)  # 29x29 kernel on a 28x28 input

    assert window.network.layers[0] == Conv2dSpec(out_channels=6, kernel_size=29, padding="valid")
    assert window.canvas.block_view(0).error
    assert not window.train_action.isEnabled()
    assert "29x29 kernel is larger than its 28x28 input" in window.train_action.toolTip()
    assert "29x29 kernel" in window.validity_label.text()
    assert inspector.error_label.isVisible() and "29x29" in inspector.error_label.text()

    window.undo_stack.undo()
    assert window.network.layers[0].kernel_size == 5
    assert window.train_action.isEnabled() and not window.canvas.block_view(0).error
    assert inspector.editor_for("kernel_size").square.value() == 5  # the editor follows the undo
    assert not inspector.error_label.isVisible()


def test_consecutive_edits_of_one_field_are_one_undo_step(window):
    spin = select(window, 0).editor_for("out_channels").spin
    for value in (7, 8, 9, 10):
        spin.setValue(value)
    assert window.network.layers[0].out_channels == 10
    assert window.undo_stack.count() == 1
    window.undo_stack.undo()
    assert window.network.layers[0].out_channels == 6
    window.undo_stack.redo()
    assert window.network.layers[0].out_channels == 10


def test_edits_do_not_merge_across_fields_or_visits(window):
    inspector = select(window, 0)
    inspector.editor_for("out_channels").spin.setValue(7)
    inspector.editor_for("kernel_size").square.setValue(3)
    assert window.undo_stack.count() == 2
    select(window, 3)
    select(window, 0).editor_for("kernel_size").square.setValue(7)
    assert window.undo_stack.count() == 3


def test_non_square_toggle_reveals_height_and_width(window):
    kernel = select(window, 0).editor_for("kernel_size")
    kernel.non_square.setChecked(True)
    assert window.undo_stack.count() == 0  # 5 and 5x5 are the same kernel
    assert kernel.height.isVisibleTo(kernel) and not kernel.square.isVisibleTo(kernel)
    kernel.height.setValue(3)
    assert window.network.layers[0].kernel_size == (3, 5)
    assert window.canvas.block_view(0).detail.startswith("6 @ 3x5")
    window.undo_stack.undo()
    assert window.network.layers[0].kernel_size == 5


def test_padding_modes(window):
    padding = select(window, 3).editor_for("padding")
    padding.mode.setCurrentText("same")
    assert window.network.layers[3].padding == "same"
    assert window.network.analysis.layers[3].output_shape == (16, 14, 14)
    assert padding.size.isHidden()
    padding.mode.setCurrentText("zeros")
    padding.size.square.setValue(1)
    assert window.network.layers[3].padding == 1


def test_optional_stride_follows_the_kernel_until_unticked(window):
    stride = select(window, 2).editor_for("stride")
    assert not stride.size.isEnabled()
    stride.same_as_kernel.setChecked(False)
    assert window.network.layers[2].stride == 2  # starts from the kernel size
    stride.size.square.setValue(1)
    assert window.network.analysis.layers[2].output_shape == (6, 27, 27)
    stride.same_as_kernel.setChecked(True)
    assert window.network.layers[2].stride is None


def test_bool_and_float_fields(window):
    select(window, 0).editor_for("bias").check.setChecked(False)
    assert window.network.analysis.layers[0].params == 150
    window.editor.insert_new(1, "dropout")
    dropout = select(window, 1).editor_for("p")
    dropout.spin.setValue(0.25)
    assert window.network.layers[1].p == 0.25


def test_activation_type_can_be_changed(window):
    inspector = select(window, 1)
    assert inspector.type_combo is not None and inspector.type_combo.currentText() == "ReLU"
    inspector.type_combo.setCurrentText("Tanh")
    assert window.network.layers[1] == TanhSpec()
    inspector.type_combo.setCurrentText("LeakyReLU")
    assert window.network.layers[1] == LeakyReluSpec()
    assert inspector.fields == ["negative_slope"]
    window.undo_stack.undo()
    window.undo_stack.undo()
    assert window.network.layers == LENET


def test_an_invalid_value_is_reported_and_not_applied(window):
    inspector = select(window, 0)
    inspector.editor_for("out_channels").edited.emit(0)  # below FieldInfo.minimum
    assert "out of range" in inspector.problem_label.text() and not inspector.problem_label.isHidden()
    assert window.network.layers == LENET and window.undo_stack.count() == 0


def test_the_input_page_explains_that_the_shape_follows_the_dataset(window):
    inspector = window.inspector
    window.network.select(None)
    assert "MNIST (bundled)" in inspector.title_label.text()
    assert "follows the dataset" in inspector.summary_label.text()
    assert "1x28x28" in inspector.shape_label.text()
    assert inspector.fields == []
    assert "61,706" in inspector.params_label.text()


def test_delete_key_in_a_spin_box_edits_the_text_not_the_network(window, qtbot):
    from PySide6.QtCore import Qt

    spin = select(window, 0).editor_for("out_channels").spin
    window.activateWindow()
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus)
    qtbot.keyClick(spin, Qt.Key.Key_Delete)
    assert window.network.layers == LENET


def test_shows_the_receptive_field_formula_with_the_numbers_of_the_selected_layer(window):
    """Issue 29 item 1: LeNet-5's second conv (layer 4) sees 6 + (5 - 1)*2 = 14 pixels, centred at 0.5 + 2*2 = 4.5."""
    inspector = select(window, 3)
    text = inspector.field_label.text()
    assert inspector.field_label.isVisibleTo(inspector) and "<b>14x14</b>" in text
    assert "r = r_prev + (k - 1)*d*j_prev" in text
    assert "receptive field: 6 + (5 - 1)*2 = 14" in text and "start: 0.5 + ((5 - 1)/2 - 0)*2 = 4.5" in text
    assert "neighbours are 2 pixel(s) apart" in text and "(4.5, 4.5)" in text
    window.network.replace(3, LENET[3].replace(kernel_size=3))  # the numbers follow an edit
    assert "receptive field: 6 + (3 - 1)*2 = 10" in inspector.field_label.text()
    dense = select(window, 7).field_label.text()
    assert "<b>28x28 (all)</b>" in dense and "every unit sees the whole 28x28 input" in dense and "j_prev" not in dense
    select(window, None)
    assert not inspector.field_label.isVisibleTo(inspector)
