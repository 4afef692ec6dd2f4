"""Draw your own input: strokes on the canvas (its API and real mouse events), the prediction that follows, checked
against torch's own forward pass of LeNet-5 on the same preprocessed drawing normalised by hand; the panel following
the workspace's weights and dataset; plain words for no weights and for a network that takes colour images."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPoint, Qt

from engine.datasets.dataset import Dataset, Split
from engine.inspection.drawn_input import mnist_style
from engine.network.builder import build_model
from engine.normalization import Normalization
from engine.scoring.evaluation import inspection_copy
from gui.evaluation.drawing_panel import DRAW_HINT, TRAIN_FIRST, DrawingPanel
from gui.evaluation.evaluation_tab import EvaluationTab
from gui.workspace import TrainedWeights, Workspace
from models.architecture import Architecture, InputShape
from models.presets import load_preset
from tests.gui.qt_lifetime import qt_objects_a_worker_collection_would_free, release_garbage

WAIT_MS = 60_000
MNIST = Normalization((0.1307,), (0.3081,))
SEVEN = [(60, 50), (220, 50), (150, 150), (110, 240)]  # a top bar and a long diagonal, canvas pixels
BAR = [(140, 40), (140, 240)]


def lenet_weights(seed: int, normalization: Normalization | None = MNIST) -> TrainedWeights:
    arch = load_preset("lenet5")
    torch.manual_seed(seed)
    state = {k: v.clone() for k, v in build_model(arch).state_dict().items()}
    return TrainedWeights(state, arch, normalization)


def by_hand(pixels: np.ndarray, normalization: Normalization | None) -> torch.Tensor:
    """(1, 1, 28, 28): the pixels normalised with plain arithmetic (not Normalization.apply)."""
    x = torch.tensor(pixels, dtype=torch.float32)[None, None]
    return x if normalization is None else (x - normalization.mean[0]) / normalization.std[0]


def oracle(trained: TrainedWeights, pixels: np.ndarray, normalization: Normalization | None = MNIST):
    """torch's forward pass, layer by layer on a model built from the state dict: probabilities and every output."""
    model = inspection_copy(trained.architecture, trained.state)
    x, outputs = by_hand(pixels, normalization), []
    with torch.no_grad():
        probabilities = torch.softmax(model.logits(x)[0], 0).numpy()
        for layer in model:
            x = layer(x)
            outputs.append(x[0].numpy())
    return probabilities, outputs


@pytest.fixture
def panel(qtbot):
    workspace = Workspace()
    widget = DrawingPanel(workspace)
    qtbot.addWidget(widget)
    # An explicit minimum size keeps the layout from setting the window's size limits, which the offscreen plugin
    # answers with a warning (as tests/gui/views/conftest.py's show_window).
    widget.setMinimumSize(900, 760)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.shutdown()


def wait_for_newest(qtbot, panel: DrawingPanel):
    """The result for the input as it is now (earlier ones may be shown on the way). A condition, not a wait for
    the signal: the result may have arrived while the test's mouse events were processed, before any wait began."""
    def current() -> bool:
        r = panel.result
        return r is not None and r.version == panel.version and r.weights is panel.workspace.trained.state
    qtbot.waitUntil(current, timeout=WAIT_MS)
    return panel.result


def assert_matches_torch(panel: DrawingPanel, trained: TrainedWeights, normalization=MNIST) -> None:
    result = panel.result
    pixels = mnist_style(panel.canvas.ink())
    np.testing.assert_array_equal(result.pixels, pixels)
    torch.testing.assert_close(result.image, by_hand(pixels, normalization)[0], atol=1e-6, rtol=0)
    probabilities, outputs = oracle(trained, pixels, normalization)
    panel.bars.flush()
    np.testing.assert_allclose(panel.bars.values(), probabilities, atol=1e-5)
    assert panel.bars.predicted() == int(np.argmax(probabilities))
    names = panel.activations.layer_names()
    assert len(names) == len(outputs) == len(trained.architecture.layers)
    for name, expected in zip(names, outputs):
        shown = np.array([panel.activations.value_at(name, *index) if expected.ndim == 3 else
                          panel.activations.value_at(name, index[0], 0, 0) for index in np.ndindex(*expected.shape)])
        np.testing.assert_allclose(shown, expected.reshape(-1), atol=1e-4, err_msg=name)


def test_strokes_are_classified_as_torch_classifies_the_preprocessed_drawing(qtbot, panel):
    trained = lenet_weights(0)
    panel.workspace.trained = trained
    assert panel.caption.text() == DRAW_HINT and not panel.is_busy
    shown, start = [], panel.version
    panel.predicted.connect(shown.append)
    panel.canvas.stroke(SEVEN[:2])  # two strokes before the event loop runs: the second waits for the first pass
    panel.canvas.stroke(SEVEN[1:])
    wait_for_newest(qtbot, panel)
    assert [r.version for r in shown] == [start + 1, start + 2]
    assert_matches_torch(panel, trained)
    assert "28x28" in panel.caption.text() and "mean 0.131, std 0.308" in panel.caption.text()
    # The preview is the 28x28 input, enlarged: each field pixel a 5x5 block of its grey level.
    preview = panel.preview.pixmap().toImage()
    assert preview.width() == preview.height() == 140
    grey = np.array([[preview.pixelColor(5 * c + 2, 5 * r + 2).red() for c in range(28)] for r in range(28)])
    np.testing.assert_array_equal(grey, np.round(panel.result.pixels * 255))


def test_mouse_strokes_draw_and_clear_empties_everything(qtbot, panel):
    trained = lenet_weights(1)
    panel.workspace.trained = trained
    canvas = panel.canvas
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(60, 60))
    qtbot.mouseMove(canvas, QPoint(200, 60))
    qtbot.mouseMove(canvas, QPoint(200, 220))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(200, 220))
    qtbot.mouseMove(canvas, QPoint(60, 220))  # the button is up: no ink here
    ink = canvas.ink()
    assert ink[60, 130] == 1.0 and ink[140, 200] == 1.0 and ink[60, 60] == 1.0
    assert ink[220, 60] == 0.0 and ink[220, 120] == 0.0
    assert ((ink > 0) & (ink < 1)).any()  # anti-aliased edges: grey levels, as MNIST's
    wait_for_newest(qtbot, panel)
    assert_matches_torch(panel, trained)

    qtbot.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    panel.bars.flush()
    assert canvas.is_blank() and panel.result is None and not panel.is_busy
    assert panel.caption.text() == DRAW_HINT and panel.bars.predicted() is None
    assert panel.activations.layer_names() == [] and panel.preview.pixmap().isNull()


def test_the_panel_follows_the_workspace(qtbot, panel):
    workspace = panel.workspace
    assert panel.caption.text() == TRAIN_FIRST
    panel.canvas.stroke(BAR)
    assert panel.caption.text() == TRAIN_FIRST and not panel.is_busy and panel.result is None

    first = lenet_weights(2, normalization=None)  # older files: no statistics stored with the weights
    workspace.trained = first  # weights arrive: what is drawn is classified at once
    wait_for_newest(qtbot, panel)
    assert_matches_torch(panel, first, normalization=None)
    assert "raw [0, 1] pixels" in panel.caption.text()
    assert panel.bars.tick_labels() == [str(k) for k in range(10)]

    names = tuple(f"class {k}" for k in range(10))
    pixels = Split(torch.zeros((2, 1, 28, 28), dtype=torch.uint8), torch.tensor([0, 1]), Normalization((0.5,), (0.25,)))
    workspace.dataset = Dataset("tiny digits", names, pixels, pixels, None, (0.5,), (0.25,))
    wait_for_newest(qtbot, panel)  # the dataset names the classes and lends the statistics the weights lack
    assert_matches_torch(panel, first, normalization=Normalization((0.5,), (0.25,)))
    assert panel.bars.tick_labels() == list(names)

    second = lenet_weights(3)  # a new run's weights re-classify the drawing
    workspace.trained = second
    assert wait_for_newest(qtbot, panel).weights is second.state
    assert_matches_torch(panel, second)

    colour = Architecture("cifar", InputShape(3, 32, 32), first.architecture.layers)
    workspace.trained = TrainedWeights(second.state, colour, Normalization((0.5,) * 3, (0.25,) * 3))
    panel.bars.flush()
    assert "32x32 images with 3 channels" in panel.caption.text() and "1x28x28" in panel.caption.text()
    assert panel.result is None and not panel.is_busy and panel.bars.predicted() is None

    workspace.trained = None
    assert panel.caption.text() == TRAIN_FIRST


def test_the_evaluation_tab_has_a_drawing_page(qtbot):
    tab = EvaluationTab(Workspace())
    qtbot.addWidget(tab)
    try:
        pages = [tab.pages.tabText(i) for i in range(tab.pages.count())]
        assert pages[:2] == ["Scores on a split", "Draw your own input"]  # the score-map page follows
        assert tab.pages.widget(1) is tab.drawing and isinstance(tab.drawing, DrawingPanel)
        assert tab.drawing.workspace is tab.workspace
    finally:
        tab.shutdown()


def test_a_dropped_panel_is_freed_at_once_and_not_by_a_worker_collection(qtbot):
    """The workspace outlives the panel and holds its observers weakly (psygnal); nothing else keeps it alive."""
    workspace = Workspace(trained=lenet_weights(4))
    widget = DrawingPanel(workspace)
    widget.canvas.stroke(BAR)
    with qtbot.waitSignal(widget.predicted, timeout=WAIT_MS):
        pass
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
    workspace.trained = lenet_weights(5)  # its observers went with it
