"""The inspector sets conv filters from the kernel library or typed numbers, frozen or not; bad entries are named."""

import json


from models import architecture_file


def pick(qtbot, editor, name):
    editor.add.activated.emit(editor.add.findData(name))  # what choosing the combo item does


def test_library_kernels_per_filter_then_frozen_and_saved_as_version_2(qtbot, window, tmp_path):
    window.network.select(0)  # LeNet-5's first conv: 6 filters of 5x5
    inspector = window.inspector
    editor = inspector.editor_for("init")
    pick(qtbot, editor, "sobel_x")
    # one entry for six filters: a layer error, as for any value that does not fit, and Train says why
    assert window.network.layers[0].init == ("sobel_x",) and not window.train_action.isEnabled()
    assert "init has 1 entries for 6 filters" in inspector.error_label.text()
    pick(qtbot, editor, "sobel_y")
    for _ in range(4):
        pick(qtbot, editor, "null")
    assert window.network.layers[0].init == ("sobel_x", "sobel_y", None, None, None, None)
    assert window.train_action.isEnabled()
    inspector.editor_for("frozen_init").check.click()
    assert window.network.layers[0].frozen_init
    assert window.canvas.block_view(0).detail.endswith("2 frozen")
    path = tmp_path / "net.json"
    architecture_file.save(window.network.architecture, path)
    data = json.loads(path.read_text())
    assert data["version"] == 2 and data["layers"][0]["init"][:2] == ["sobel_x", "sobel_y"]
    assert data["layers"][0]["frozen_init"] is True and "init" not in data["layers"][3]


def test_typed_numbers_and_a_bad_entry(qtbot, window):
    window.network.select(0)
    editor = window.inspector.editor_for("init")
    editor.line.setText(json.dumps([[[0, 0, 0, 0, 0]] * 5] + [None] * 5))
    editor.line.editingFinished.emit()
    assert window.network.layers[0].init[0] == ((0.0,) * 5,) * 5
    editor.line.setText('["sobel_z", null, null, null, null, null]')
    editor.line.editingFinished.emit()
    problem = window.inspector.problem_label.text() + window.inspector.error_label.text()
    assert "unknown kernel 'sobel_z'" in problem
    editor.line.setText("")
    editor.line.editingFinished.emit()
    assert window.network.layers[0].init is None
