"""Classical vs learned: the most similar learned filter is found, frozen ones are marked, and both activation
maps equal torch's convolution of the layer's input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gui.document.document_io import DISCARD
from models.architecture import Architecture
from models.kernel_library import KERNELS

WAIT_MS = 60_000


@pytest.fixture
def compare(qtbot, window):
    arch = window.network.architecture
    conv = arch.layers[0].replace(init=(None, None, "sobel_y", None, None, None), frozen_init=True)
    window.editor.set_architecture(Architecture(arch.name, arch.input, (conv,) + arch.layers[1:]), "hand-set")
    window.document.ask_unsaved_changes = lambda: DISCARD
    panel = window.training_panel
    with qtbot.waitSignal(panel.dataset_changed, timeout=WAIT_MS):
        panel.select_dataset("mnist")
    window.tabs.setCurrentWidget(window.explainer)
    window.explainer.pages.setCurrentWidget(window.explainer.compare)
    return window.explainer.compare


def test_a_frozen_sobel_is_its_own_best_match_and_both_maps_are_torchs(qtbot, window, compare):
    compare.select("layer 1 (conv2d)", "sobel_y")
    best, cosine = compare.best
    assert best == 2 and cosine == pytest.approx(1.0)
    assert "filter 2 (frozen)" in compare._titles[1].text() and "cosine similarity 1.000" in compare.verdict_label.text()
    sample = window.training_panel.dataset.val.images[window.workspace.probe_index][None]
    sobel = torch.zeros(1, 1, 5, 5)
    sobel[0, 0, 1:4, 1:4] = torch.tensor(KERNELS["sobel_y"])
    expected = F.conv2d(sample, sobel, padding=2)[0, 0].numpy()
    np.testing.assert_allclose(compare.classical_map.values, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(compare.learned_map.values, expected, rtol=1e-5, atol=1e-5)  # bias 0: the same map


def test_another_kernel_ranks_the_learned_filters(qtbot, compare):
    compare.select("layer 4 (conv2d)", "laplacian")
    best, cosine = compare.best
    assert 0 <= best < 16 and -1 <= cosine <= 1
    assert compare.learned_kernel.values.shape == (5, 5) and "mean over its 6 input channels" in compare._titles[1].text()
    assert compare.ranking_label.text().startswith("Next: filter ")


def test_the_training_tabs_filter_view_frames_the_frozen_filter(qtbot, window, compare):
    # The same hand-set network: its idle filter view (initial weights) marks filter 2 of layer 1 only.
    window.tabs.setCurrentWidget(window.live_views)  # the idle views refresh while they are on screen
    grid = window.live_views.filters
    qtbot.waitUntil(lambda: "layer 1 (conv2d)" in grid.layer_names(), timeout=WAIT_MS)
    grid.flush()
    assert grid.title_for("layer 1 (conv2d)").endswith("frozen (dashed): 2")
    assert len(grid.panel_for("layer 1 (conv2d)").outlines()) == 1
    assert all("frozen" not in grid.title_for(name) for name in grid.layer_names()[1:])
    arch = window.network.architecture  # unfreeze: the frame goes with the next refresh
    window.editor.set_architecture(Architecture(arch.name, arch.input, (arch.layers[0].replace(frozen_init=False),)
                                                + arch.layers[1:]), "unfreeze")
    qtbot.waitUntil(lambda: "frozen" not in grid.title_for("layer 1 (conv2d)"), timeout=WAIT_MS)


def test_each_map_has_a_colour_bar_and_a_padded_layer_explains_its_frame(qtbot, window, compare):
    compare.select("layer 1 (conv2d)", "sobel_y")  # LeNet's first conv: padding 2
    for amap, bar in ((compare.classical_map, compare.classical_bar), (compare.learned_map, compare.learned_bar)):
        limit = float(np.abs(amap.values).max())
        assert bar.isVisible() and bar.levels() == pytest.approx((-limit, limit))
        assert bar.labels()[1] == "0" and float(bar.labels()[0]) == pytest.approx(limit, rel=0.01)
    assert compare.padding_note.isVisible()
    note = compare.padding_note.text()
    assert "zero padding" in note and "normalised" in note and "zero is not black" in note
    sample = window.training_panel.dataset.val.images[window.workspace.probe_index]
    assert f"black is {float(sample.min()):.3g}" in note  # the normalised image's black, read from the sample
    compare.select("layer 4 (conv2d)", "sobel_y")  # no padding: no frame to explain
    assert not compare.padding_note.isVisible() and compare.learned_bar.isVisible()
