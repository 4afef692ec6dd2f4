"""Issue 15 item 9: the status bar, the output block and the summary say what is true of the network and dataset."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtGui import QGuiApplication

from gui.builder.canvas import OUTPUT
from gui.document.document_io import DISCARD
from models.layers import LinearSpec

WAIT_MS = 120_000


@pytest.fixture
def mnist_window(qtbot, window):
    panel = window.training_panel
    with qtbot.waitSignal(panel.dataset_changed, timeout=WAIT_MS):
        panel.select_dataset("mnist")
    window.document.ask_unsaved_changes = lambda: DISCARD
    return window


def test_a_class_count_mismatch_is_not_called_valid_and_flags_the_output_block(mnist_window):
    window, panel = mnist_window, mnist_window.training_panel
    assert "Valid" in window.validity_label.text() and window.canvas.block_view(OUTPUT).error is None
    window.editor.replace(len(window.network) - 1, LinearSpec(out_features=7))
    assert window.network.analysis.is_valid and not window.train_action.isEnabled()
    label = window.validity_label
    assert "Valid" not in label.text() and "Cannot train" in label.text() and label.property("valid") is False
    assert "7 scores but mnist has 10 classes" in label.toolTip()
    assert "7 scores but mnist has 10 classes" in window.canvas.block_view(OUTPUT).error
    window.undo_stack.undo()  # Undo fixes it: nothing stale is left anywhere
    assert "Valid" in label.text() and label.property("valid") is True and label.toolTip() == ""
    assert window.canvas.block_view(OUTPUT).error is None
    assert panel.blocked_label.isHidden() and panel.blocked_label.text() == ""
    assert "Cannot train" not in window.statusBar().currentMessage()
    assert window.train_action.isEnabled() and "Cannot train" not in window.train_action.toolTip()


def test_an_invalid_networks_summary_says_unknown_instead_of_partial_sums(window):
    model = window.summary.model
    window.editor.replace(3, replace(window.network.layers[3], kernel_size=40))  # the second conv: 40x40 on 14x14
    total = [model.data(model.index(model.rowCount() - 1, c)) for c in range(4, 8)]
    assert total == ["?", "?", "?", "?"]  # not the first conv's 156 parameters
    assert model.data(model.index(1, 6)) == "156"  # a layer before the error is known
    for row in range(4, model.rowCount() - 1):  # the error and every layer after it: unknown, not 0
        assert [model.data(model.index(row, c)) for c in range(3, 8)] == ["?"] * 5
    assert "? parameters" in window.summary.status_label.text()
    window.undo_stack.undo()
    assert model.data(model.index(model.rowCount() - 1, 6)) == "61,706"
    assert "61,706 parameters" in window.summary.status_label.text()


def test_copy_as_markdown_says_it_copied(window):
    window.summary.copy_markdown_action.trigger()
    assert QGuiApplication.clipboard().text().startswith("| # | Layer |")
    assert "Copied the summary table as Markdown" in window.statusBar().currentMessage()


def test_a_dataset_that_did_not_load_is_not_called_valid(qtbot, mnist_window, tmp_path):
    """Issue 28 item 9: Train was off and the status bar said "Valid" in green."""
    window, panel = mnist_window, mnist_window.training_panel
    with qtbot.waitSignal(window.dataset_loader.failed, timeout=WAIT_MS):
        panel.select_dataset(str(tmp_path / "missing"))
    label = window.validity_label
    assert not window.train_action.isEnabled()
    assert "Valid" not in label.text() and label.property("valid") is False
    assert "the dataset could not be loaded" in label.toolTip()
    with qtbot.waitSignal(panel.dataset_changed, timeout=WAIT_MS):
        panel.select_dataset("mnist")
    assert "Valid" in label.text() and label.property("valid") is True and window.train_action.isEnabled()
