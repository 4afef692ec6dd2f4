"""File > Open: the Timeline shows what was opened. A project's trained weights (its filters, and a plain line
where plots over training would be: a project keeps no snapshots); a run folder's snapshots, read off the GUI
thread. Never "No convolution layers yet" over empty black plots."""

from __future__ import annotations

import numpy as np
import torch
from PySide6.QtWidgets import QLabel

from engine.config import TrainConfig
from engine.inspection.mosaic import tile_kernels
from engine.metrics import MetricsHistory
from engine.network.builder import build_model
from engine.project.project_file import Project, save_project
from engine.run_folder.timeline import timeline
from gui.timeline.timeline_tab import NO_PROJECT_PLOTS, PROJECT
from models.layers import has_filters
from models.presets import load_preset
from tests.gui.timeline.test_timeline_follow import live_run

LENET = load_preset("lenet5")
HISTORY = MetricsHistory(batches=[(1, 1, 2.31, 0.09), (2, 1, 2.05, 0.31)], epochs=[(1, 2, 2.18, 0.20, 2.01, 0.33)])


def test_a_reopened_project_shows_its_trained_filters_and_says_it_keeps_no_snapshots(window, qtbot, tmp_path):
    torch.manual_seed(3)
    weights = {k: v.detach().clone() for k, v in build_model(LENET).state_dict().items()}
    path = tmp_path / "trained.convscope"
    save_project(Project(LENET, TrainConfig(dataset="mnist"), HISTORY, weights), path)
    window.tabs.setCurrentWidget(window.timeline)
    assert window.document.open(path)
    tab = window.timeline
    assert tab.status.text() == PROJECT and tab.folder is None and not tab.slider.isEnabled()
    tab.filters.flush()
    convs = [i for i, spec in enumerate(LENET.layers) if has_filters(spec.TYPE)]
    assert convs
    for i in convs:
        np.testing.assert_array_equal(tab.filters.image_for(f"layer {i + 1} ({LENET.layers[i].TYPE})"),
                                      tile_kernels(weights[f"{i}.weight"].numpy()))
    # No empty black plots with a "snapshot (x0.001)" axis: the plots' place says why there is nothing.
    assert tab.plots.currentWidget() is tab.plots.empty and tab.plots.empty.text() == NO_PROJECT_PLOTS
    labels = [label.text() for label in tab.findChildren(QLabel) if label.isVisible()]
    assert not any("No convolution layers yet" in text for text in labels)


def test_a_reopened_run_folder_shows_its_snapshots(window, qtbot, tmp_path):
    live_run(tmp_path, size=28).close()  # MNIST's shape, as its settings name
    window.tabs.setCurrentWidget(window.timeline)
    tab = window.timeline
    with qtbot.waitSignal(tab.updated, timeout=20_000):
        assert window.document.open(tmp_path)
    assert tab.folder == tmp_path and tab.entries == timeline(tmp_path) and tab.slider.isEnabled()
    assert tab.plots.currentWidget() is tab.plots.plots
    assert tab.shown_entry() == tab.entries[-1] and tab.tensor.currentText() == "layer 1 (conv2d) weights"
