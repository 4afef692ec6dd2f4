"""Issue 15 items 5 and 6: after a preset, New, Open, an edit or another dataset, every panel of the training room
shows the network and dataset now in the window (or says it has nothing yet), never the previous run's."""

from __future__ import annotations

import pytest
import torch

from engine.network.builder import build_model
from engine.events import COMPLETED
from gui.document.document_io import DISCARD
from models.layers import LinearSpec
from models.shapes import analyze

WAIT_MS = 120_000  # a training child may start cold (a torch import) on a busy machine


@pytest.fixture
def trained_window(qtbot, window):
    """LeNet-5 trained one short epoch on the bundled MNIST, the Training tab in front."""
    panel = window.training_panel
    with qtbot.waitSignal(panel.dataset_changed, timeout=WAIT_MS):
        panel.select_dataset("mnist")
    panel.set_config(panel.config().replace(epochs=1, batch_size=256))
    window.document.ask_unsaved_changes = lambda: DISCARD
    with qtbot.waitSignal(window.session.finished, timeout=WAIT_MS) as finished:
        window.train_action.trigger()
    assert finished.args[0].reason == COMPLETED
    window.tabs.setCurrentWidget(window.live_views)
    window.live_views.flush()
    assert panel.outcome()[0] == COMPLETED and len(window.live_views.curves.train_curve()[0]) > 0
    return window


def conv_labels(window) -> list[str]:
    return [layer.label for layer in analyze(window.network.architecture).layers if layer.type == "conv2d"]


def test_a_preset_for_another_dataset_leaves_nothing_of_the_previous_run(qtbot, trained_window):
    window, panel, live = trained_window, trained_window.training_panel, trained_window.live_views
    with qtbot.waitSignal(panel.dataset_changed, timeout=WAIT_MS):
        window.load_preset("fashion_vgg")  # made for Fashion-MNIST: the dataset changes too
    qtbot.waitUntil(lambda: live.filters.layer_names() == conv_labels(window), timeout=WAIT_MS)
    live.flush()
    assert len(live.curves.train_curve()[0]) == 0 and len(live.curves.val_curve()[0]) == 0
    assert live.curves.empty_note.isVisibleTo(live.curves)  # "No curves yet", not empty axes of the old run
    assert panel.outcome() == ("", "") and panel.progress_label.text().startswith("Not trained yet")
    assert panel.progress_bar.value() == 0
    fashion = [str(name) for name in panel.dataset.class_names]
    assert [label.removesuffix(" (true)") for label in live.probabilities.tick_labels()] == fashion
    assert set(live.activations.layer_names()) <= {la.label for la in analyze(window.network.architecture).layers}
    assert live.activations.detail()[0] in live.activations.layer_names()
    assert "Before training" in live.caption.text()
    # Undo goes back to the trained LeNet-5 (on Fashion-MNIST now): its weights, but not its MNIST curves.
    window.undo_stack.undo()
    assert "run on MNIST" in panel.progress_label.text()
    with qtbot.waitSignal(panel.dataset_changed, timeout=WAIT_MS):
        panel.select_dataset("mnist")
    live.flush()
    assert len(live.curves.train_curve()[0]) > 0 and panel.progress_label.text().startswith("Trained:")


def test_a_network_that_cannot_be_shown_clears_the_maps_and_says_why(qtbot, trained_window):
    window, panel, live = trained_window, trained_window.training_panel, trained_window.live_views
    assert live.activations.layer_names() and live.probabilities.values().size == 10
    window.editor.replace(len(window.network) - 1, LinearSpec(out_features=7))  # 7 scores for 10 classes
    qtbot.waitUntil(lambda: "Nothing to show yet" in live.caption.text(), timeout=WAIT_MS)
    live.flush()
    assert "does not fit the dataset (see Cannot train" in live.caption.text()
    assert live.activations.layer_names() == [] and live.activations.detail() is None
    assert live.filters.layer_names() == [] and live.probabilities.values().size == 0
    assert live.probabilities.header_text() == "No prediction yet."
    assert len(live.curves.train_curve()[0]) == 0 and panel.outcome() == ("", "")
    window.undo_stack.undo()  # the trained network again: its weights, curves and step are back
    qtbot.waitUntil(lambda: live.filters.layer_names() == conv_labels(window), timeout=WAIT_MS)
    live.flush()
    assert len(live.curves.train_curve()[0]) > 0 and panel.progress_label.text().startswith("Trained:")
    assert "Snapshot at step" in live.caption.text()


def test_opening_a_project_replaces_the_outcome_and_import_says_what_the_weights_are(qtbot, trained_window,
                                                                                    tmp_path):
    window, panel, live = trained_window, trained_window.training_panel, trained_window.live_views
    steps = window.workspace.history.batches[-1].step
    assert "Snapshot at step" in live.caption.text()
    path = tmp_path / "trained.convscope"
    assert window.document.save_as(path)
    assert window.document.open(path)  # item 6: a reopened trained project says what it holds, and only that
    assert panel.progress_label.text() == f"Trained weights loaded: {steps:,} steps, 1 epoch"
    assert panel.outcome() == ("", "") and panel.progress_bar.value() == panel.progress_bar.maximum()
    assert live.caption.text().startswith(f"Trained weights loaded: {steps:,} steps")
    weights = tmp_path / "other.pt"
    torch.save(build_model(window.network.architecture).state_dict(), weights)
    window.document.ask_weights_path = lambda: weights
    assert window.document.import_weights()
    live.flush()
    assert live.caption.text().startswith("Loaded weights (not trained in this window")
    assert "Snapshot at step" not in live.caption.text()
    assert len(live.curves.train_curve()[0]) == 0 and panel.progress_label.text().startswith("Loaded weights")


def test_new_says_not_trained_and_shows_no_curves(qtbot, trained_window):
    window, panel, live = trained_window, trained_window.training_panel, trained_window.live_views
    window.new_network()
    live.flush()
    assert panel.progress_label.text() == "Not trained yet." and panel.outcome() == ("", "")
    assert len(live.curves.train_curve()[0]) == 0 and live.filters.layer_names() == []
    qtbot.waitUntil(lambda: "the network is not valid" in live.caption.text(), timeout=WAIT_MS)
