"""The inspector edits conv2d groups like any whole-number field: formula, validation and undo follow."""

from models.layers import Conv2dSpec


def test_editing_groups_updates_the_formula_and_a_bad_value_disables_train(window):
    window.network.select(3)  # LeNet-5's second conv: 6 -> 16 channels
    inspector = window.inspector
    spin = inspector.editor_for("groups").spin
    assert (spin.minimum(), spin.value()) == (1, 1)
    spin.setValue(2)
    assert window.network.layers[3] == Conv2dSpec(16, 5, groups=2)
    assert "params: 16*(6/2*5*5 + 1) = 1216" in inspector.formula_label.text()
    assert window.canvas.block_view(3).detail == "16 @ 5x5, s1, p0, g2" and window.train_action.isEnabled()
    spin.setValue(4)
    assert not window.train_action.isEnabled()
    assert "groups 4 must divide both the 6 input channels and the 16 filters" in inspector.error_label.text()
    window.undo_stack.undo()  # consecutive edits of one field are one undo step: back to 1
    assert window.network.layers[3].groups == 1 and window.train_action.isEnabled()
    assert spin.value() == 1
