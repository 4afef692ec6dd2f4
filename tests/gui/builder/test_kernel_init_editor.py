"""The inspector sets conv filters from the kernel library or typed numbers, frozen or not; bad entries are named."""

import json
from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument


from models import architecture_file


def pick(qtbot, editor, name):
    editor.add.activated.emit(editor.add.findData(name))  # what choosing the combo item does


def test_library_kernels_per_filter_then_frozen_and_saved_as_version_2(qtbot, window, tmp_path):
    window.network.select(0)  # LeNet-5's first conv: 6 filters of 5x5
    inspector = window.inspector
    editor = inspector.editor_for("init")
    pick(qtbot, editor, "sobel_x")
    # one pick on six filters is a working layer (issue 28 item 13): the other five keep their random start
    assert window.network.layers[0].init == ("sobel_x",) and window.train_action.isEnabled()
    assert inspector.error_label.text() == "" and "Valid" in window.validity_label.text()
    pick(qtbot, editor, "sobel_y")
    assert window.network.layers[0].init == ("sobel_x", "sobel_y") and window.network.analysis.is_valid
    inspector.editor_for("frozen_init").check.click()
    assert window.network.layers[0].frozen_init
    assert window.canvas.block_view(0).detail.endswith("2 frozen")
    # the counts say how much of the network training leaves alone: two 5x5 filters and their biases
    assert "params 156</b> (52 frozen)" in inspector.params_label.text()
    assert "61,706 parameters (52 frozen)" in window.validity_label.text()
    assert "61,706 parameters (52 frozen)" in window.summary.status_label.text()
    for _ in range(4):
        pick(qtbot, editor, "null")
    assert window.network.layers[0].init == ("sobel_x", "sobel_y", None, None, None, None)
    pick(qtbot, editor, "null")  # a seventh entry for six filters is what does not fit
    assert "init has 7 entries for 6 filters" in inspector.error_label.text()
    window.undo_stack.undo()
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


def test_the_json_line_has_the_inspectors_width(qtbot, window):
    """Issue 28 item 13: beside its combo in the form's field column the line was 75 px, a few characters."""
    window.network.select(0)
    editor = window.inspector.editor_for("init")
    qtbot.waitUntil(lambda: editor.line.width() > 0)
    assert editor.line.width() >= editor.line.fontMetrics().horizontalAdvance('["sobel_x", "sobel_y", null]')
    assert editor.line.width() > editor.add.width()
    assert editor.add.geometry().top() > editor.line.geometry().top()  # the combo sits under the line


def test_a_layer_error_with_quotes_shows_them_not_html_entities(window):
    """The inspector escapes each message for its rich-text labels; left to guess, Qt showed "&#x27;" raw."""
    window.network.select(0)
    window.editor.replace(0, replace(window.network.layers[0], init=("bogus",)))  # as a file can hold it
    label = window.inspector.error_label
    assert "'bogus'" in label.text() or "&#x27;bogus&#x27;" in label.text()
    assert label.textFormat() == Qt.TextFormat.RichText
    document = QTextDocument()
    document.setHtml(label.text())
    assert "'bogus'" in document.toPlainText() and "&#x27;" not in document.toPlainText()
