"""The Explainer's "What it wants" page: activation maximisation of a layer, off the GUI thread, cached."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from engine.inspection.activation_maximisation import MaximisationConfig, maximise
from engine.inspection.layer_cases import explained_model
from engine.normalization import Normalization
from gui.explainer.maximisation_panel import MaximisationPanel, grid_image
from gui.workspace import TrainedWeights, Workspace
from models.network import Network
from tests.engine.training_data import tiny_arch

WAIT_MS = 60_000
NORM = Normalization((0.3,), (0.3,))
STEPS = 6


@pytest.fixture
def network():
    return Network(tiny_arch())  # conv 4 @ 3x3, relu, maxpool, flatten, linear 3


def make_panel(qtbot, network, *, normalization=NORM, weights=None):
    """The panel on a workspace holding `weights` (trained as the network is) and a dataset's names and statistics
    (the panel reads nothing else of it)."""
    workspace = Workspace(dataset=SimpleNamespace(class_names=("zero", "one", "two"), normalization=normalization))
    if weights is not None:
        workspace.trained = TrainedWeights(weights, network.architecture, normalization)
    panel = MaximisationPanel(network, workspace, seed=lambda: 0)
    qtbot.addWidget(panel)
    panel.steps.setValue(STEPS)
    return panel


def shown(qtbot, panel):
    with qtbot.waitSignal(panel.finished, timeout=WAIT_MS):
        panel.show_button.click()
    return panel.result


def test_the_choices_are_the_conv_layers_and_the_output(qtbot, network):
    panel = make_panel(qtbot, network)
    try:
        labels = [panel.layer_box.itemText(i) for i in range(panel.layer_box.count())]
        assert [panel.layer_box.itemData(i) for i in range(panel.layer_box.count())] == [1, 5]
        assert "4 channels" in labels[0] and "3 classes" in labels[1]
    finally:
        panel.shutdown()


def test_a_layer_is_maximised_off_the_gui_thread_as_the_engine_does_it(qtbot, network):
    panel = make_panel(qtbot, network)
    try:
        pixels, channels = shown(qtbot, panel)
        model = explained_model(network.architecture, None, 0, network.analysis)  # the initial weights of seed 0
        expected, expected_channels = maximise(model, (1, 8, 8), NORM, 1, None, MaximisationConfig(steps=STEPS))
        assert channels == expected_channels == [0, 1, 2, 3]
        np.testing.assert_allclose(pixels, expected, atol=1e-6)
        assert not panel.image.pixmap().isNull()
        assert "channels 0 to 3" in panel.status.text()
    finally:
        panel.shutdown()


def test_the_output_layer_names_its_classes_and_a_result_is_cached(qtbot, network):
    panel = make_panel(qtbot, network)
    try:
        panel.layer_box.setCurrentIndex(panel.layer_box.findData(5))
        first = shown(qtbot, panel)
        assert first[1] == [0, 1, 2] and "zero, one, two" in panel.status.text()
        panel.layer_box.setCurrentIndex(panel.layer_box.findData(1))
        assert panel.result is None and "Press Show" in panel.status.text()  # not computed for this layer yet
        panel.layer_box.setCurrentIndex(panel.layer_box.findData(5))
        assert panel.result is not None and panel.result[0] is first[0]  # from the cache: no new job
        assert not panel._runner.is_busy
        panel.steps.setValue(STEPS + 1)  # other settings: not the cached result
        panel.layer_box.setCurrentIndex(panel.layer_box.findData(1))
        panel.layer_box.setCurrentIndex(panel.layer_box.findData(5))
        assert panel.result is None
    finally:
        panel.shutdown()


def test_without_input_statistics_it_says_what_to_load(qtbot, network):
    panel = make_panel(qtbot, network, normalization=None)
    try:
        panel.show_button.click()
        assert "load a dataset" in panel.status.text() and not panel._runner.is_busy
    finally:
        panel.shutdown()


def test_cancel_stops_the_job_and_shows_nothing(qtbot, network):
    panel = make_panel(qtbot, network)
    try:
        panel.steps.setValue(4096)
        panel.show_button.click()
        assert not panel.show_button.isEnabled() and panel.cancel_button.isEnabled()
        panel.cancel_button.click()
        assert panel.show_button.isEnabled() and panel.status.text() == "Cancelled."
        assert panel._runner.wait(30)  # the job saw the cancellation and stopped early
        qtbot.wait(50)
        assert panel.result is None
    finally:
        panel.shutdown()


def test_an_edited_network_updates_the_choices(qtbot, network):
    panel = make_panel(qtbot, network)
    try:
        network.remove(0)  # no conv layer left
        assert [panel.layer_box.itemData(i) for i in range(panel.layer_box.count())] == [4]  # the output only
    finally:
        panel.shutdown()


def test_the_grid_has_grey_gaps_and_the_pixels_scaled_to_bytes():
    pixels = np.zeros((2, 1, 2, 2), np.float32)
    pixels[1] = 1.0
    image = grid_image(pixels)
    assert image.dtype == np.uint8 and image.shape[2] == 3
    assert set(np.unique(image)) <= {0, 200, 255} and {0, 255} <= set(np.unique(image))


def test_the_window_offers_it_in_the_explainer(window):
    pages = window.explainer.pages
    assert "What it wants" in [pages.tabText(i) for i in range(pages.count())]


def test_each_image_is_stretched_to_its_own_contrast():
    from gui.explainer.maximisation_panel import stretched
    pixels = np.stack([np.full((1, 2, 2), 0.5), np.array([[[0.45, 0.5], [0.5, 0.55]]])]).astype(np.float32)
    out = stretched(pixels)
    np.testing.assert_array_equal(out[0], pixels[0])  # flat: left alone
    np.testing.assert_allclose(out[1], [[[0.0, 0.5], [0.5, 1.0]]], atol=1e-6)
