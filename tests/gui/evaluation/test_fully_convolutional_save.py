"""'Save as fully convolutional run...' on the score-map page: the followed run folder rewritten by the real
`main.py fully-convolutional` child process; the folder written computes what the original does on its images."""

from __future__ import annotations

import pytest
import torch
from PySide6.QtCore import Qt

from engine.network.builder import build_model
from engine.project.run_input import read_run_input
from engine.scoring.evaluation import inspection_copy
from gui.evaluation.fully_convolutional_save import NEEDS_RUN
from gui.evaluation.score_map_panel import ScoreMapPanel
from gui.workspace import TrainedWeights, Workspace
from models.layers import FlattenSpec, LinearSpec
from models.presets import load_preset
from tests.engine.training_data import train_tiny_run

WAIT_MS = 120_000


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = train_tiny_run(tmp_path_factory.mktemp("fc-save"))[2]
    return read_run_input(folder), folder


@pytest.fixture
def panel(qtbot):
    widget = ScoreMapPanel(Workspace())
    qtbot.addWidget(widget)
    yield widget
    widget.shutdown()


def follow(panel: ScoreMapPanel, project, folder, origin=None) -> None:
    panel.workspace.followed_run = folder
    panel.workspace.trained = TrainedWeights(project.weights, project.architecture, project.normalization, origin)


def test_the_followed_run_is_written_fully_convolutional(qtbot, panel, run, tmp_path):
    project, folder = run
    follow(panel, project, folder)
    save = panel.save_run
    assert save.button.isEnabled()
    asked = []
    out = tmp_path / "rewritten"
    save.ask_output_folder = lambda suggestion: asked.append(suggestion) or out
    with qtbot.waitSignal(save.saved, timeout=WAIT_MS) as done:
        qtbot.mouseClick(save.button, Qt.MouseButton.LeftButton)
        assert not save.button.isEnabled()  # one save at a time
    outcome = done.args[0]
    assert outcome.ok, outcome.message
    assert asked == [folder.with_name(f"{folder.name}-fully-convolutional")]
    assert save.status.text().startswith(f"wrote {out}") and save.button.isEnabled()

    written = read_run_input(out)
    assert not any(isinstance(s, (LinearSpec, FlattenSpec)) for s in written.architecture.layers)
    images = torch.randn(4, *project.architecture.input.as_tuple(), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():  # the independent check: the original network on the same images
        expected = inspection_copy(project.architecture, project.weights)(images)
        got = inspection_copy(written.architecture, written.weights)(images)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)

    with qtbot.assertNotEmitted(save.saved):  # a folder in use is not written over
        save.save()
    assert "exists and is not an empty folder" in save.status.text()


def test_the_button_is_off_without_a_run_of_these_weights_or_a_rewritable_network(qtbot, panel, run):
    project, folder = run
    save = panel.save_run
    assert not save.button.isEnabled() and save.button.toolTip().startswith("Train first")
    follow(panel, project, folder, origin="Weights of tiny.convscope")  # opened from a file
    assert not save.button.isEnabled() and save.button.toolTip() == NEEDS_RUN
    gap = load_preset("fully_conv")
    panel.workspace.trained = TrainedWeights(build_model(gap).state_dict(), gap)
    assert not save.button.isEnabled() and "cannot be rewritten" in save.button.toolTip()
