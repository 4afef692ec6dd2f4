"""The Explainer tab used as a person would: pick a lesson or a layer, click Next, click an output cell, read the text."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt

from engine.network.builder import build_model
from gui.document.document_io import DISCARD
from models import convolution_steps as cs

WAIT_MS = 120_000  # a training child starts cold (a torch import) on a busy machine


@pytest.fixture
def explainer(qtbot, window):
    window.tabs.setCurrentWidget(window.explainer)
    window.document.ask_unsaved_changes = lambda: DISCARD
    return window.explainer


def choose(combo, data):
    combo.setCurrentIndex(combo.findData(data))


def click_cell(qtbot, grid, row, col):
    qtbot.mouseClick(grid, Qt.MouseButton.LeftButton, pos=grid.cell_rect(row, col).center())


def test_vertical_edge_lesson_step_by_step(qtbot, explainer):
    choose(explainer.source_box, "vertical-edge")
    assert explainer.arithmetic.toPlainText() == (
        "output[0][0][0] = 3*1 + 0*0 + 1*(-1) + 1*1 + 5*0 + 8*(-1) + 2*1 + 7*0 + 2*(-1) + bias 0 = -5")
    assert "H, W: floor((6 + 2*0 - 3)/1) + 1 = 4" in explainer.formula_label.text()
    out = explainer.output_grid
    assert out.text_at(0, 0) == "-5" and out.text_at(0, 1) == ""  # the map fills in as it goes
    qtbot.mouseClick(explainer.next_button, Qt.MouseButton.LeftButton)
    assert explainer.arithmetic.toPlainText().endswith("= -4")
    assert explainer.step_label.text().startswith("step 2 of 16")
    assert explainer.input_grids[0].window == (0, 1, 3, 3)
    for _ in range(2):
        qtbot.mouseClick(explainer.next_button, Qt.MouseButton.LeftButton)
    assert [out.text_at(0, j) for j in range(4)] == ["-5", "-4", "0", "8"]  # the course's first row
    click_cell(qtbot, out, 3, 3)
    assert explainer.arithmetic.toPlainText().endswith("= -16") and out.marks == [(3, 3)]
    assert [[out.text_at(i, j) for j in range(4)] for i in range(4)] == [
        ["-5", "-4", "0", "8"], ["-10", "-2", "2", "3"], ["0", "-2", "-4", "-7"], ["-3", "-2", "-3", "-16"]]
    assert not explainer.next_button.isEnabled()
    qtbot.mouseClick(explainer.previous_button, Qt.MouseButton.LeftButton)
    assert explainer.position == (3, 2) and out.text_at(3, 3) == ""


def test_same_padding_shows_the_zeros(qtbot, explainer):
    choose(explainer.source_box, "same-padding")
    grid = explainer.input_grids[0]
    assert grid.values.shape == (8, 8) and grid.text_at(0, 0) == "0" and grid.text_at(1, 1) == "3"
    assert explainer.output_grid.values.shape == (6, 6)
    assert explainer.arithmetic.toPlainText().startswith("output[0][0][0] = 0*1 + 0*0 + 0*(-1) + 0*1 + 3*0")


def test_rgb_lesson_writes_per_channel_sums_and_their_total(qtbot, explainer):
    choose(explainer.source_box, "rgb")
    assert len(explainer.input_grids) == 3 and len(explainer.kernel_grids) == 6
    explainer.map_box.setValue(1)
    click_cell(qtbot, explainer.output_grid, 0, 1)
    lines = explainer.arithmetic.toPlainText().splitlines()
    assert lines[0].startswith("output[1][0][1] = channel 0 (R): ") and lines[0].endswith("= 30")
    assert lines[1].startswith("channel 1 (G): ") and lines[1].endswith("= -4")
    assert lines[3] == "sum: 30 + (-4) + 0 + bias 0 = 26"


def test_max_pool_marks_the_winner_and_average_pool_shows_the_mean(qtbot, explainer):
    choose(explainer.source_box, "max-pool-4x4")
    assert explainer.arithmetic.toPlainText() == "output[0][0][0] = max(1, 3, 2, 9) = 9"
    assert explainer.kernel_grids[0].marks == [(1, 1)] and explainer.input_grids[0].marks == [(1, 1)]
    qtbot.mouseClick(explainer.next_button, Qt.MouseButton.LeftButton)
    assert explainer.input_grids[0].window == (0, 2, 2, 2)  # moved by the stride, 2
    choose(explainer.source_box, "avg-pool-4x4")
    assert explainer.arithmetic.toPlainText() == "output[0][0][0] = mean(1, 3, 2, 9) = 15/4 = 3.75"


def test_play_runs_to_the_end_and_stops(qtbot, explainer):
    choose(explainer.source_box, "stride-2")
    explainer.set_play_interval(1)
    qtbot.mouseClick(explainer.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not explainer.play_button.isChecked(), timeout=5000)
    assert explainer.position == (2, 2) and explainer.arithmetic.toPlainText().endswith("= 74")
    assert "Warning" not in explainer.notes_label.text()
    choose(explainer.source_box, "stride-unused")
    assert "never reach the last 1 row(s) and 1 column(s)" in explainer.notes_label.text()


def test_a_teachers_lesson_file_opens_and_a_bad_one_is_named(qtbot, explainer, tmp_path):
    good, bad = tmp_path / "mine.json", tmp_path / "bad.json"
    good.write_text('{"format": "convscope.lesson", "version": 1, "title": "Mine", "operation": "conv", '
                    '"input": [[1, 2], [3, 4]], "kernels": [{"weights": [[1, 1], [1, 1]], "bias": 0.5}]}')
    bad.write_text('{"format": "convscope.lesson", "version": 1, "title": "Bad", "operation": "conv"}')
    explainer.ask_lesson_path = lambda: str(bad)
    choose(explainer.source_box, "open")
    assert 'field "input" is required' in explainer.notes_label.text()
    explainer.ask_lesson_path = lambda: str(good)
    choose(explainer.source_box, "open")
    assert explainer.source_box.currentText() == "Lesson: Mine"
    assert explainer.arithmetic.toPlainText() == "output[0][0][0] = 1*1 + 2*1 + 3*1 + 4*1 + bias 0.5 = 10.5"


@pytest.fixture
def mnist_explainer(qtbot, window, explainer):
    panel = window.training_panel
    with qtbot.waitSignal(panel.dataset_changed, timeout=WAIT_MS):
        panel.select_dataset("mnist")
    return explainer


def real_layer_output(model, sample, index):
    with torch.no_grad():
        x = sample[None]
        for module in list(model)[:index]:
            x = module(x)
    return x[0].numpy()


def test_network_steps_equal_the_layers_real_output_on_the_probe_sample(qtbot, window, mnist_explainer):
    explainer = mnist_explainer
    choose(explainer.source_box, "network")
    assert [explainer.layer_box.itemText(i) for i in range(explainer.layer_box.count())] == [
        "layer 1 (conv2d)", "layer 3 (maxpool2d)", "layer 4 (conv2d)", "layer 6 (maxpool2d)"]
    assert "initial weights (seed" in explainer.notes_label.text()
    with torch.random.fork_rng(devices=[]):  # the window's initial weights: the seed of the training settings
        torch.manual_seed(window.training_panel.config().seed)
        model = build_model(window.network.architecture).eval()
    sample = window.training_panel.dataset.val.images[window.workspace.probe_index]
    for layer, index in (("layer 1 (conv2d)", 1), ("layer 4 (conv2d)", 4), ("layer 3 (maxpool2d)", 3)):
        explainer.layer_box.setCurrentIndex(explainer.layer_box.findText(layer))
        real = real_layer_output(model, sample, index)
        m = real.shape[0] - 1
        explainer.map_box.setValue(m)
        i, j = real.shape[1] // 2, real.shape[2] // 3
        click_cell(qtbot, explainer.output_grid, i, j)
        text = explainer.arithmetic.toPlainText()
        assert text.startswith(f"output[{m}][{i}][{j}] = ")
        shown = float(text.rsplit("= ", 1)[1])
        assert shown == pytest.approx(real[m, i, j], rel=1e-3, abs=1e-3)
        np.testing.assert_allclose(explainer.case.output, real, rtol=1e-4, atol=1e-5)
    # layer 4 reads 6 channels: one at a time, picked with the channel box, all 6 written out
    explainer.layer_box.setCurrentIndex(explainer.layer_box.findText("layer 4 (conv2d)"))
    assert explainer.channel_box.isVisible() and len(explainer.input_grids) == 1
    assert [f"channel {k}: " in explainer.arithmetic.toPlainText() for k in range(7)] == [True] * 6 + [False]
    explainer.map_box.setValue(2)
    explainer.channel_box.setValue(5)
    assert explainer.kernel_grids[0].values.shape == (5, 5)
    np.testing.assert_array_equal(explainer.kernel_grids[0].values, model[3].weight[2, 5].detach().double().numpy())


def test_after_training_the_trained_weights_are_explained(qtbot, window, mnist_explainer):
    panel = window.training_panel
    panel.set_config(panel.config().replace(epochs=1, batch_size=256, snapshot_interval=0.0))
    explainer = mnist_explainer
    choose(explainer.source_box, "network")
    with qtbot.waitSignal(window.session.finished, timeout=WAIT_MS):
        window.train_action.trigger()
    window.tabs.setCurrentWidget(window.explainer)
    qtbot.waitUntil(lambda: "trained weights" in explainer.notes_label.text(), timeout=5000)
    state = window.workspace.trained.state
    np.testing.assert_array_equal(explainer.case.op.weights, state["0.weight"].double().numpy())
    click_cell(qtbot, explainer.output_grid, 14, 14)
    i, j = explainer.position
    assert explainer.arithmetic.toPlainText().endswith(cs.number_text(explainer.case.output[0, i, j]))


def test_no_dataset_says_what_to_do(qtbot, explainer):
    choose(explainer.source_box, "network")
    if explainer.case is None:  # the bundled dataset may still be loading
        assert "choose one in the Training panel" in explainer.notes_label.text() or \
               "Cannot step" in explainer.notes_label.text()
