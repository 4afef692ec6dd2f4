"""Colour-bar ticks stay readable for huge and tiny ranges (an exploded layer's bar kept only a '0' tick)."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QImage, QPainter

from gui.views.colour_bar_ticks import tick_label
from gui.views.mosaic_panel import MosaicPanel


def _drawn_labels(panel: MosaicPanel) -> list[str]:
    """The tick texts the bar's axis would draw now (pyqtgraph leaves out those that do not fit)."""
    image = QImage(200, 600, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = panel.color_bar.axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [text for _rect, _flags, text in specs[2]]


@pytest.mark.parametrize("limit, expected", [
    (1e6, {"-1e6", "0", "1e6"}),
    (3e12, {"-2e12", "0", "2e12"}),
    (1e-7, {"-5e-8", "0", "5e-8"}),
    (1.0, {"-1.0", "-0.5", "0", "0.5", "1.0"}),
])
def test_huge_and_tiny_ranges_keep_several_labelled_ticks(qtbot, shown, limit, expected) -> None:
    panel = MosaicPanel(bar_label="weight")
    qtbot.addWidget(panel)
    panel.resize(400, 300)
    shown(panel)
    panel.set_image(np.array([[-limit, limit]]), (-limit, limit))
    qtbot.waitUntil(lambda: panel.color_bar.axis.geometry().height() > 50)
    labels = _drawn_labels(panel)
    assert expected <= set(labels), labels
    # each label reads back as the tick's value (to the spacing's precision): no scale hidden in an SI prefix
    assert all(abs(float(text)) <= limit * 1.0001 for text in labels)


def test_labels_carry_the_digits_that_tell_ticks_apart() -> None:
    assert tick_label(2.5e-7, 5e-8) == "2.5e-7"
    assert tick_label(-1_500_000.0, 500_000.0) == "-1.5e6"
    assert tick_label(1e6, 5e5) == "1e6"
    assert tick_label(0.0, 1e-9) == "0"
    assert tick_label(0.25, 0.05) == "0.25"
    assert tick_label(1000.0, 500.0) == "1000"
