"""Score maps on a larger canvas: a small network trained in-process, three validation samples tiled side by side;
the arg-max at each tile against the original network's own forward pass on that sample, every map against the
engine's fully convolutional network run directly; drawn strokes; plain words when no map can be made."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt

from engine.config import TrainConfig
from engine.network.builder import build_model
from engine.network.fully_convolutional import fully_convolutional, score_map_architecture
from engine.scoring.evaluation import inspection_copy
from engine.training.trainer import Trainer
from gui.evaluation.evaluation_tab import EvaluationTab
from gui.evaluation.score_map_job import TILES
from gui.evaluation.score_map_panel import HINT, NO_DATASET, TRAIN_FIRST, ScoreMapPanel
from gui.workspace import TrainedWeights, Workspace
from models.architecture import Architecture, InputShape
from models.layers import Conv2dSpec, FlattenSpec, LinearSpec, MaxPool2dSpec, ReluSpec
from models.presets import load_preset
from tests.engine.training_data import tiny_dataset
from tests.gui.qt_lifetime import qt_objects_a_worker_collection_would_free, release_garbage

WAIT_MS = 60_000
SIZE = 8


def valid_arch() -> Architecture:
    """No padding: the window at each tile's position holds that tile and nothing of its neighbours."""
    return Architecture("valid", InputShape(1, SIZE, SIZE), (Conv2dSpec(4, 3), ReluSpec(), MaxPool2dSpec(2),
                                                            FlattenSpec(), LinearSpec(3)))


@pytest.fixture(scope="module")
def trained_setup():
    """The network trained for a few batches, in this process, on the tiny quadrant set."""
    dataset = tiny_dataset(n_train=96, n_val=32, size=SIZE)
    config = TrainConfig(epochs=2, batch_size=16, learning_rate=0.05, device="cpu", threads=1, seed=1)
    trainer = Trainer(valid_arch(), dataset, config)
    assert trainer.fit().reason == "completed"
    state = {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}
    return dataset, TrainedWeights(state, valid_arch(), dataset.normalization)


@pytest.fixture
def panel(qtbot):
    widget = ScoreMapPanel(Workspace())
    qtbot.addWidget(widget)
    widget.setMinimumSize(1000, 800)  # explicit: the offscreen plugin warns when the layout sets the window's limits
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.shutdown()


def wait_for_newest(qtbot, panel: ScoreMapPanel):
    """The result for the input as it is now (earlier ones may be shown on the way). A condition, not a wait for
    the signal: the result may have arrived while the test's mouse events were processed, before any wait began."""
    def current() -> bool:
        r = panel.result
        return r is not None and r.version == panel.version and r.weights is panel.workspace.trained.state
    qtbot.waitUntil(current, timeout=WAIT_MS)
    return panel.result


def engine_scores(trained: TrainedWeights, image: torch.Tensor) -> torch.Tensor:
    """The engine's fully convolutional network on (C, H, W) `image`, run here directly: (classes, rows, cols)."""
    rewrite = fully_convolutional(trained.architecture)
    mapper = inspection_copy(score_map_architecture(rewrite.architecture, *image.shape[1:]),
                             rewrite.convert_state(trained.state))
    with torch.no_grad():
        return mapper(image[None])[0]


def test_tiled_validation_samples_score_as_the_original_network_scores_each(qtbot, panel, trained_setup):
    dataset, trained = trained_setup
    panel.workspace.dataset, panel.workspace.trained = dataset, trained
    assert panel.caption.text() == HINT and panel.result is None
    panel.workspace.probe_index = 0
    qtbot.mouseClick(panel.tile_button, Qt.MouseButton.LeftButton)
    result = wait_for_newest(qtbot, panel)
    assert panel.tiled_indices == [0, 1, 2]
    images = dataset.val.images_at(torch.tensor(panel.tiled_indices))
    wide = torch.cat(list(images), dim=2)  # (1, 8, 24): the samples side by side, as the dataset holds them

    expected = engine_scores(trained, wide)
    classes, rows, cols = expected.shape
    assert result.probabilities.shape == (3, rows, cols) and (rows, cols) == (1, 9)  # (24 - 8) / 2 + 1 columns
    assert panel.view.map_shape() == (rows, cols)
    np.testing.assert_allclose(result.probabilities, torch.softmax(expected, 0).numpy(), atol=1e-5)
    for k in range(classes):  # what the view draws: each class's map, on the shared 0..1 scale
        np.testing.assert_allclose(panel.view.class_map(k), result.probabilities[k], atol=0)
    assert panel.view.bar_levels() == (0.0, 1.0)
    assert panel.view.class_titles() == list(dataset.class_names)

    # The independent oracle: the original network (linear layers and all) on each sample alone.
    original = inspection_copy(trained.architecture, trained.state)
    with torch.no_grad():
        alone = torch.softmax(original(images), dim=1).numpy()
    assert len(set(np.argmax(alone, axis=1).tolist())) > 1  # the tiles differ: a shifted map would be caught
    for tile in range(TILES):
        col = tile * SIZE // result.stride[1]  # the position whose window is exactly this tile
        y, x = panel.view.cell_centre(0, col)
        assert (y, x) == (SIZE / 2, tile * SIZE + SIZE / 2)  # drawn under the middle of its tile
        np.testing.assert_allclose(result.probabilities[:, 0, col], alone[tile], atol=1e-5)
        assert result.predicted[0, col] == int(np.argmax(alone[tile]))
    colours = panel.view.predicted_colours()
    assert colours.shape == (rows, cols, 3)
    assert panel.view.cell_labels() == [dataset.class_names[int(k)] for k in result.predicted.reshape(-1)]
    assert "#0" in panel.caption.text() and "8x8 window" in panel.caption.text()

    qtbot.mouseClick(panel.tile_button, Qt.MouseButton.LeftButton)  # the next three samples
    wait_for_newest(qtbot, panel)
    assert panel.tiled_indices == [3, 4, 5]


def test_a_stroke_makes_the_canvas_the_input(qtbot, panel, trained_setup):
    dataset, trained = trained_setup
    panel.workspace.dataset, panel.workspace.trained = dataset, trained
    panel.tile_validation_samples()
    wait_for_newest(qtbot, panel)
    panel.canvas.stroke([(300, 40), (300, 240)])  # a bar over the middle tile
    result = wait_for_newest(qtbot, panel)
    assert panel.tiled_indices == []
    ink = panel.canvas.ink()  # 840 x 280 canvas pixels: 35 x 35 per image pixel of the 24 x 8 input
    blocks = ink.reshape(SIZE, 35, TILES * SIZE, 35).mean(axis=(1, 3))
    np.testing.assert_allclose(result.pixels[0], blocks, atol=1e-5)
    normalised = trained.normalization.apply(torch.from_numpy(blocks)[None, None])[0]
    np.testing.assert_allclose(result.probabilities, torch.softmax(engine_scores(trained, normalised), 0).numpy(),
                               atol=1e-5)

    qtbot.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    assert panel.caption.text() == HINT and panel.result is None and panel.view.map_shape() is None


def test_no_weights_or_a_network_that_cannot_slide_say_so_plainly(qtbot, panel, trained_setup):
    assert panel.caption.text() == TRAIN_FIRST
    panel.canvas.stroke([(100, 100), (200, 200)])
    assert panel.caption.text() == TRAIN_FIRST and not panel.is_busy and panel.view.map_shape() is None
    panel.tile_validation_samples()
    assert panel.caption.text() == NO_DATASET

    gap = load_preset("fully_conv")  # ends in a global average pool: no linear layer to rewrite
    torch.manual_seed(0)
    panel.workspace.trained = TrainedWeights(build_model(gap).state_dict(), gap)
    text = panel.caption.text()
    assert text.startswith("This network cannot be rewritten as a fully convolutional one") and "no flatten" in text
    assert not panel.is_busy and panel.view.map_shape() is None

    panel.workspace.trained = trained_setup[1]  # a network it can rewrite: the drawing is scored
    wait_for_newest(qtbot, panel)
    assert panel.view.map_shape() == (1, 9)


def test_the_evaluation_tab_has_a_score_map_page(qtbot):
    tab = EvaluationTab(Workspace())
    qtbot.addWidget(tab)
    try:
        pages = [tab.pages.tabText(i) for i in range(tab.pages.count())]
        assert pages == ["Scores on a split", "Draw your own input", "Score map on a larger canvas"]
        assert tab.pages.widget(2) is tab.score_maps and tab.score_maps.workspace is tab.workspace
        assert tab.score_maps.caption.text() == TRAIN_FIRST
    finally:
        tab.shutdown()


def test_a_dropped_panel_is_freed_at_once_and_not_by_a_worker_collection(qtbot, trained_setup):
    """The workspace outlives the panel and holds its observers weakly; nothing else keeps it (or its maps) alive."""
    dataset, trained = trained_setup
    workspace = Workspace(dataset=dataset, trained=trained)
    widget = ScoreMapPanel(workspace)
    with qtbot.waitSignal(widget.computed, timeout=WAIT_MS):
        widget.tile_validation_samples()
    widget.shutdown()
    release_garbage()
    enabled = gc.isenabled()
    gc.disable()
    try:
        ref = weakref.ref(widget)
        del widget
        kept_alive = ref() is not None
        found = qt_objects_a_worker_collection_would_free()
    finally:
        (gc.enable if enabled else gc.disable)()
    assert not kept_alive and not found, found
    workspace.trained = None  # its observers went with it


def test_hovering_a_map_reads_out_its_cell(qtbot, panel, trained_setup):
    dataset, trained = trained_setup
    panel.workspace.dataset, panel.workspace.trained = dataset, trained
    panel.tile_validation_samples()
    result = wait_for_newest(qtbot, panel)
    view = panel.view
    item = view.class_item(1)  # the map of class 1, as the mouse reaches cell (0, 4)
    item.pixel_hovered.emit(0, 4)
    name = dataset.class_names[1]
    assert view.readout.text() == (f"{name}: probability {result.probabilities[1, 0, 4]:.3f} at position (0, 4), "
                                   f"the window of rows 0-7, columns 8-15")
    view.predicted_item().pixel_hovered.emit(0, 8)
    k = int(result.predicted[0, 8])
    assert view.readout.text().startswith(f"arg-max {dataset.class_names[k]}: probability "
                                          f"{result.probabilities[k, 0, 8]:.3f} at position (0, 8)")
