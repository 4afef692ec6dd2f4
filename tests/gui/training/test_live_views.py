"""The Training tab: real snapshots of a built network routed into every view, curves, probe picks, clearing."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.network.builder import build_model
from engine.datasets import load_dataset
from engine.events import BatchEnded, EpochEnded
from engine.metrics import MetricsHistory
from engine.network.probes import capture_snapshot, probe_layout
from gui.training.live_views import NEW_PANELS_PER_FRAME, LiveViews
from engine.inspection.mosaic import tile_kernels
from models.architecture import Architecture, InputShape
from models.layers import Conv2dSpec, FlattenSpec, LinearSpec, ReluSpec
from models.presets import load_preset
from models.shapes import analyze


@pytest.fixture(scope="module")
def mnist():
    return load_dataset("mnist")


@pytest.fixture
def live(qtbot):
    views = LiveViews()
    qtbot.addWidget(views)
    views.resize(1000, 700)
    return views


def snapshot_of(arch: Architecture, probe: torch.Tensor, probe_index: int = 0, seed: int = 0):
    torch.manual_seed(seed)
    model = build_model(arch)
    return capture_snapshot(model, probe_layout(model, analyze(arch)), probe, step=7, epoch=1,
                            probe_index=probe_index)


def test_a_lenet_snapshot_fills_filters_activations_and_prediction(live, mnist):
    live.set_dataset(mnist)
    arch = load_preset("lenet5")
    event = snapshot_of(arch, mnist.val.images[5], probe_index=5)
    live.show_snapshot(event)
    live.flush()

    conv = [la.label for la in analyze(arch).layers if la.type == "conv2d"]
    assert live.filters.layer_names() == conv
    first = event.weights[conv[0]]
    assert first.shape == (6, 1, 5, 5)
    np.testing.assert_array_equal(live.filters.image_for(conv[0]), tile_kernels(first))
    assert live.filters.image_for(conv[1]).shape == tile_kernels(event.weights[conv[1]]).shape
    assert live.filters.image_for(conv[0]).ndim == 2  # one grey input channel: no colour mosaic

    assert live.activations.layer_names() == [la.label for la in analyze(arch).layers]
    assert live.activations.detail()[:2] == (conv[0], 0)  # something is enlarged from the start
    probs = live.probabilities.values()
    assert probs.shape == (10,) and probs.sum() == pytest.approx(1.0, abs=1e-5)
    assert live.probabilities.true_label() == int(mnist.val.labels[5])
    assert "step 7" in live.caption.text() and "#5" in live.caption.text()


def test_the_first_convolution_of_an_rgb_network_is_shown_in_colour(live):
    arch = Architecture("rgb", InputShape(3, 8, 8), (Conv2dSpec(4, 3), ReluSpec(), Conv2dSpec(2, 3), FlattenSpec(),
                                                     LinearSpec(3)))
    event = snapshot_of(arch, torch.randn(3, 8, 8))
    live.show_snapshot(event)
    first, second = list(event.weights)
    assert live.filters.image_for(first).ndim == 3  # (H, W, 3)
    assert live.filters.image_for(second).ndim == 2
    assert live.probabilities.values().size == 0  # no dataset: no class names to show them with


def test_batches_reach_the_curves_in_bunches_and_epochs_at_once(qtbot, live):
    for step in range(1, 4):
        live.add_batch(BatchEnded(1, step, step, 5, 2.0 / step, 0.1 * step, 1000.0))
    assert len(live.curves.train_curve()[0]) == 0  # not one redraw per event
    qtbot.waitUntil(lambda: len(live.curves.train_curve()[0]) == 3, timeout=5000)
    for step in range(4, 6):
        live.add_batch(BatchEnded(1, step, step, 5, 2.0 / step, 0.1 * step, 1000.0))
    live.add_epoch(EpochEnded(1, 5, 1.0, 0.3, 0.9, 0.4))  # the pending batches go first, in order
    steps, losses = live.curves.train_curve()
    np.testing.assert_array_equal(steps, [1, 2, 3, 4, 5])
    np.testing.assert_allclose(losses, [2.0 / s for s in range(1, 6)])
    np.testing.assert_array_equal(live.curves.val_curve()[1], [0.9])

    history = MetricsHistory(batches=[(1, 1, 2.5, 0.1), (2, 1, 2.0, 0.2)], epochs=[(1, 2, 2.1, 0.15, 1.9, 0.3)])
    live.set_history(history)
    np.testing.assert_array_equal(live.curves.train_curve()[1], [2.5, 2.0])
    np.testing.assert_array_equal(live.curves.val_curve()[0], [2])
    np.testing.assert_array_equal(live.curves.accuracy_curves()["val"][1], [0.3])


def test_a_new_networks_panels_are_built_a_few_per_frame(qtbot, live, mnist):
    arch = load_preset("lenet5")
    live.show_snapshot(snapshot_of(arch, mnist.val.images[0]))
    built = live.activations.layer_names()
    assert built == [la.label for la in analyze(arch).layers][:NEW_PANELS_PER_FRAME]
    qtbot.waitUntil(lambda: len(live.activations.layer_names()) == len(analyze(arch).layers), timeout=5000)
    later = snapshot_of(arch, mnist.val.images[1], probe_index=1, seed=1)  # same layers: all at once
    live.show_snapshot(later)
    assert live.activations.value_at(built[0], 0, 3, 3) == later.activations[built[0]][0, 3, 3]


def test_clear_empties_the_views_but_keeps_the_samples(live, mnist):
    live.set_dataset(mnist)
    live.show_snapshot(snapshot_of(load_preset("lenet5"), mnist.val.images[0]))
    live.add_batch(BatchEnded(1, 1, 1, 5, 2.0, 0.1, 1000.0))
    live.clear()
    assert live.filters.layer_names() == [] and live.activations.layer_names() == []
    assert len(live.curves.train_curve()[0]) == 0 and live.probabilities.values().size == 0
    assert len(live.samples.visible_indices()) == len(mnist.val)


def test_the_probe_is_the_workspaces_and_survives_a_new_dataset(qtbot, live, mnist):
    workspace = live.workspace
    workspace.probe_index = 42  # before any dataset (a project's extras): kept for later
    live.set_dataset(mnist)
    assert live.samples.current_index() == 42 and workspace.probe_index == 42
    workspace.probe_index = 7  # set elsewhere (the Evaluation tab): the browser follows
    assert live.samples.current_index() == 7
    name = mnist.class_names[int(mnist.val.labels[7])]
    assert f"#7 (true class: {name})" in live.caption.text()
    picked = []
    workspace.events.probe_index.connect(picked.append)
    live.samples.select(3)  # a click in the browser sets the workspace's probe
    assert workspace.probe_index == 3 and picked == [3]


def test_a_new_live_view_is_one_class_and_one_entry(qtbot, monkeypatch, mnist):
    from PySide6.QtWidgets import QLabel

    from gui.training import live_views
    from gui.training.live_view import BaseLiveView

    class StepLabel(BaseLiveView):
        name, title, row, size = "step_label", "Newest step", "bottom", 100
        seen: list = []

        def __init__(self, parent=None):
            super().__init__(QLabel(), parent)

        def show_snapshot(self, event):
            self.widget.setText(f"step {event.step}")

        def add_batch(self, event):
            StepLabel.seen.append(event.step)

        def clear(self):
            self.widget.clear()

    monkeypatch.setattr(live_views, "VIEWS", live_views.VIEWS + (StepLabel,))
    views = LiveViews()
    qtbot.addWidget(views)
    views.set_dataset(mnist)
    views.show_snapshot(snapshot_of(load_preset("lenet5"), mnist.val.images[0]))
    views.add_batch(BatchEnded(1, 3, 3, 10, 2.0, 0.5, 100.0))
    assert views.step_label.text() == "step 7" and StepLabel.seen == [3]
    assert views.splitters[2].count() == 4 and views.splitters[2].widget(3).isAncestorOf(views.step_label)
    views.clear()
    assert views.step_label.text() == ""
