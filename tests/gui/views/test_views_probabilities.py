"""ProbabilityBars: one bar per class, argmax highlighted, true label marked."""
from __future__ import annotations

import numpy as np
import pytest

from gui.views.palette import BAR_COLOR, PREDICTED_COLOR, TRUE_LABEL_COLOR
from gui.views.pg_setup import pg
from gui.views.probabilities import ProbabilityBars

NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


@pytest.fixture
def bars(qtbot) -> ProbabilityBars:
    widget = ProbabilityBars()
    qtbot.addWidget(widget)
    widget.resize(420, 380)
    return widget


def _rgb(color) -> tuple[int, int, int]:
    c = pg.mkColor(color)
    return c.red(), c.green(), c.blue()


def test_bars_have_the_probabilities_and_the_argmax_is_highlighted(qtbot, bars, rng) -> None:
    probs = rng.dirichlet(np.ones(10))
    bars.show_probabilities(probs, NAMES, true_label=None)
    qtbot.waitUntil(lambda: bars.redraw_count >= 1)

    np.testing.assert_array_equal(bars.values(), probs)
    opts = bars.bar_item().opts
    np.testing.assert_allclose(opts["width"], probs)
    np.testing.assert_array_equal(opts["y"], np.arange(10))
    fills = [_rgb(brush.color()) for brush in opts["brushes"]]
    winner = int(np.argmax(probs))
    assert fills[winner] == PREDICTED_COLOR
    assert all(fill == BAR_COLOR for i, fill in enumerate(fills) if i != winner)
    assert bars.predicted() == winner
    assert f"Predicted: <b>{NAMES[winner]}</b>" in bars.header_text()


def test_the_true_label_is_outlined_and_named_on_the_axis(qtbot, bars) -> None:
    probs = np.full(10, 0.02)
    probs[7] = 0.82
    bars.show_probabilities(probs, NAMES, true_label=3)
    bars.flush()

    pens = bars.bar_item().opts["pens"]
    assert _rgb(pens[3].color()) == TRUE_LABEL_COLOR and pens[3].width() == 3
    assert all(pen.style() == pg.QtCore.Qt.PenStyle.NoPen for i, pen in enumerate(pens) if i != 3)
    assert bars.tick_labels()[3] == "three (true)" and bars.tick_labels()[7] == "seven"
    assert "true: <b>three</b> (wrong)" in bars.header_text()
    bars.show_probabilities(probs, NAMES, true_label=7)
    bars.flush()
    assert "(correct)" in bars.header_text()


def test_a_burst_of_predictions_is_drawn_once(qtbot, bars, rng) -> None:
    batch = rng.dirichlet(np.ones(10), size=1000)
    for probs in batch:
        bars.show_probabilities(probs, NAMES, 0)
    qtbot.waitUntil(lambda: bars.redraw_count >= 1)
    assert bars.redraw_count <= 2
    np.testing.assert_allclose(bars.bar_item().opts["width"], batch[-1])


def test_clear_removes_the_bars(qtbot, bars) -> None:
    bars.show_probabilities(np.array([0.3, 0.7]), ["cat", "dog"], 0)
    bars.flush()
    bars.clear()
    bars.flush()
    assert bars.values().size == 0 and bars.predicted() is None
    assert len(bars.bar_item().opts["width"]) == 0
    assert bars.header_text() == "No prediction yet."


@pytest.mark.parametrize(("probs", "names", "true", "message"), [
    (np.ones((2, 5)) / 5, NAMES[:5], None, "1-D vector"),
    (np.ones(4) / 4, NAMES[:5], None, "4 probabilities but 5 class names"),
    (np.ones(5) / 5, NAMES[:5], 5, "true label 5 is not a class index 0..4"),
])
def test_inconsistent_inputs_are_reported(bars, probs, names, true, message) -> None:
    with pytest.raises(ValueError, match=message):
        bars.show_probabilities(probs, names, true)


@pytest.mark.parametrize("width", [200, 420])
def test_the_probability_axis_labels_never_run_together(qtbot, bars, width) -> None:
    from PySide6.QtGui import QImage, QPainter
    bars.show_probabilities(np.full(10, 0.1), NAMES, 3)
    bars.flush()
    bars.setMinimumSize(100, 100)
    bars.resize(width, 380)
    bars.show()
    qtbot.waitExposed(bars)
    axis = bars._plot.getAxis("bottom")
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        _axis_spec, _ticks, texts = axis.generateDrawSpecs(painter)  # where pyqtgraph draws each label
    finally:
        painter.end()
    rects = sorted((rect for rect, _flags, text in texts if text), key=lambda r: r.left())
    assert len(rects) >= 3  # 0, the middle and 1 at least
    assert all(a.right() + 2 <= b.left() for a, b in zip(rects, rects[1:]))  # beside the sample browser: "0.20.40.6"
