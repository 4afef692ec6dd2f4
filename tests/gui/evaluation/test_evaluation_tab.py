"""The Evaluation tab as a person uses it: real trained weights, a click on a confusion cell, the galleries,
a sample made the probe and explained; every figure against an independent sample-by-sample loop."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt

from engine.scoring.evaluation import inspection_copy
from engine.inspection.explanations import explain
from engine.project.run_input import read_run_input
from engine.scoring.split import images_to_score
from gui.document.document_io import DISCARD
from gui.main_window import MainWindow
from models.network import Network
from tests.engine.test_predictions import hand_loop
from tests.engine.training_data import tiny_arch, write_tiny_npz

WAIT_MS = 60_000


def train_briefly(folder):
    """`main.py train` for one epoch at a low rate on the tiny 3-class set (200 images, 40 held out): about
    three in four right, so every kind of cell and some mistakes exist."""
    from main import main
    from models import architecture_file

    architecture_file.save(tiny_arch(), folder / "tiny.json")
    write_tiny_npz(folder / "tiny.npz", n=200)
    out = folder / "run"
    assert main(["train", str(folder / "tiny.json"), "--dataset", str(folder / "tiny.npz"), "--epochs", "1",
                 "--batch-size", "16", "--lr", "0.003", "--seed", "2", "--device", "cpu", "--threads", "1",
                 "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A run trained for real by `main.py train`, and the reference rows of its held-out split."""
    out = train_briefly(tmp_path_factory.mktemp("evaluation-tab"))
    project = read_run_input(out)
    # The CLI's own scoring path (not the window's): the held-out split, normalised as training did.
    split = images_to_score(project.config, None, "val", project.normalization, 3).split
    rows = hand_loop(inspection_copy(project.architecture, project.weights), split.images, split.labels)
    return project, split, rows


@pytest.fixture
def tab_window(qtbot, settings, trained):
    project = trained[0]
    win = MainWindow(Network(project.architecture), settings=settings)
    win.document.ask_unsaved_changes = lambda: DISCARD
    win.show()
    qtbot.waitExposed(win)
    try:
        with qtbot.waitSignal(win.training_panel.dataset_changed, timeout=WAIT_MS):
            win.training_panel.set_config(project.config)
        win.training.restore(project.history, project.weights, project.normalization)
        yield win
    finally:
        win.close()
        win.deleteLater()


def open_tab(qtbot, win):
    with qtbot.waitSignal(win.evaluation.evaluated, timeout=WAIT_MS) as done:
        win.tabs.setCurrentWidget(win.evaluation)  # showing the tab evaluates the weights it has not scored
    return done.args[0]


def click_cell(qtbot, view, row, column):
    rect = view.visualRect(view.model().index(row, column))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_confusion_cells_open_exactly_their_samples_most_confident_first(qtbot, tab_window, trained):
    _, split, rows = trained
    tab = tab_window.evaluation
    run = open_tab(qtbot, tab_window)
    assert run.split == "val" and len(run.predictions) == len(rows) == 40
    counts = np.zeros((3, 3), dtype=int)
    for true, predicted, _, _ in rows:
        counts[true, predicted] += 1
    accuracy = np.trace(counts) / counts.sum()
    assert f"Accuracy {accuracy:.2%}" in tab.summary.text()
    for r in range(3):
        for c in range(3):
            assert tab.confusion.cell_text(r, c) == f"{counts[r, c]:,}"
    tab.normalized.click()
    assert tab.confusion.cell_text(0, 0) == f"{counts[0, 0] / counts[0].sum():.0%}"
    assert tab.metrics.item(1, 3).text() == str(counts[1].sum())
    assert tab.metrics.item(1, 2).text() == f"{counts[1, 1] / counts[1].sum():.1%}"

    for r, c in [(r, c) for r in range(3) for c in range(3) if counts[r, c]]:
        click_cell(qtbot, tab.confusion, r, c)
        shown = tab.gallery.indices()
        expected = [i for i, row in enumerate(rows) if row[0] == r and row[1] == c]
        assert sorted(shown) == expected and len(shown) == counts[r, c]
        confidences = [rows[i][2] for i in shown]
        assert confidences == sorted(confidences, reverse=True)
        first = tab.gallery.list.item(0).text()
        top_class = tab.run.class_names[rows[shown[0]][1]]
        assert f"#{shown[0]}" in first and f"{top_class} {rows[shown[0]][2]:.0%}" in first
    tab.order.setCurrentIndex(1)  # least confident first
    assert [rows[i][2] for i in tab.gallery.indices()] == sorted(rows[i][2] for i in tab.gallery.indices())


def test_hardest_examples_and_most_confident_mistakes(qtbot, tab_window, trained):
    _, _, rows = trained
    tab = tab_window.evaluation
    open_tab(qtbot, tab_window)
    tab.hardest_button.click()
    assert tab.gallery.indices() == sorted(range(len(rows)), key=lambda i: -rows[i][3])
    tab.mistakes_button.click()
    wrong = [i for i, r in enumerate(rows) if r[0] != r[1]]
    assert sorted(tab.gallery.indices()) == wrong
    assert [rows[i][2] for i in tab.gallery.indices()] == sorted((rows[i][2] for i in wrong), reverse=True)


def test_a_clicked_sample_becomes_the_probe_and_is_explained_without_touching_the_weights(qtbot, tab_window, trained):
    project, split, rows = trained
    win, tab = tab_window, tab_window.evaluation
    before = {k: v.clone() for k, v in win.workspace.trained.state.items()}
    open_tab(qtbot, win)
    tab.hardest_button.click()
    item = tab.gallery.list.item(2)
    index = int(item.data(Qt.ItemDataRole.UserRole))
    with qtbot.waitSignal(tab.explanation.explained, timeout=WAIT_MS):
        rect = tab.gallery.list.visualItemRect(item)
        qtbot.mouseClick(tab.gallery.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert win.workspace.probe_index == index
    model = inspection_copy(project.architecture, project.weights)
    expected = explain(model, split.images[index], rows[index][1], "saliency", normalization=project.normalization)
    np.testing.assert_allclose(tab.explanation.map, expected, atol=1e-5)

    panel = tab.explanation
    with qtbot.waitSignal(panel.explained, timeout=WAIT_MS):
        panel.method.setCurrentIndex(panel.method.findData("gradcam"))
    assert panel.layer.isEnabled() and panel.layer.currentData() == 1
    expected = explain(model, split.images[index], rows[index][1], "gradcam", normalization=project.normalization,
                       layer=1)
    np.testing.assert_allclose(panel.map, expected, atol=1e-5)
    with qtbot.waitSignal(panel.explained, timeout=WAIT_MS):
        panel.target.setCurrentIndex(panel.target.findData(2))
    assert panel.target_class() == 2 and "for class bottom" in panel.caption.text()
    faint = panel.overlay_image()
    panel.opacity.setValue(100)
    strong = panel.overlay_image()
    assert not np.array_equal(faint, strong)  # opacity re-blends without a new computation
    assert "cam" not in [panel.method.itemData(i) for i in range(panel.method.count())]  # no pooling head
    for name, tensor in win.workspace.trained.state.items():
        assert torch.equal(tensor, before[name]), name


def test_without_weights_the_tab_says_what_to_do(qtbot, window):
    window.tabs.setCurrentWidget(window.evaluation)
    assert "Train the network" in window.evaluation.summary.text()
    window.evaluation.evaluate_button.click()
    assert not window.evaluation.is_busy


def test_the_reference_run_makes_mistakes(trained):
    # Otherwise the mistakes and off-diagonal checks above would pass on empty lists.
    rows = trained[2]
    assert 0 < sum(r[0] != r[1] for r in rows) < len(rows)


def test_captum_and_matplotlib_are_not_imported_at_start_up():
    import subprocess
    import sys

    code = ("import sys; import gui.main_window, engine.inspection.explanations, engine.cli.evaluate_command; "
            "print(sorted(m for m in ('captum', 'matplotlib') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
