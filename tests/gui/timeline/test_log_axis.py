"""The gradient-norm plot's log axis: its tick labels never overlap, whatever the range and the axis' length
(pyqtgraph's own labels every 2..9 of each decade, and they pile up)."""

from __future__ import annotations

import math

import pyqtgraph as pg
import pytest
from PySide6.QtGui import QImage, QPainter

from gui.timeline.log_axis import MIN_LABEL_PX, LogAxis, log_ticks
from gui.timeline.timeline_tab import TimelineTab

RANGES = [(-8, 2, 150), (-3, -2.9, 200), (0, 0.3, 300), (-30, 5, 100), (-1.2, 0.4, 80), (-2, 0, 400), (-6, -1, 60)]


def drawn_labels(qtbot, axis_item: pg.AxisItem, low: float, high: float, height: int):
    """(rect, text) of every label the axis draws for log10 values low..high on a plot `height` pixels high, as
    pyqtgraph lays them out (after the axis has widened to its labels, as it does on screen)."""
    plot = pg.PlotWidget(axisItems={"left": axis_item})
    qtbot.addWidget(plot)
    plot.setLogMode(y=True)
    plot.resize(400, height)
    plot.show()
    qtbot.waitExposed(plot)
    plot.plot([0, 1], [10.0 ** low, 10.0 ** high])
    plot.setYRange(low, high, padding=0)
    axis = plot.getAxis("left")
    specs = None
    for _ in range(3):  # the axis takes the width of its widest label over a paint or two
        image = QImage(400, max(height, 100), QImage.Format.Format_ARGB32)
        painter = QPainter(image)
        specs = axis.generateDrawSpecs(painter)
        painter.end()
        qtbot.wait(20)
    return [(rect, text) for rect, _flags, text in specs[2] if text]


@pytest.mark.parametrize(("low", "high", "height"), RANGES)
def test_labels_never_overlap_and_name_distinct_values(qtbot, low, high, height):
    labels = drawn_labels(qtbot, LogAxis("left"), low, high, height)
    rects = [rect for rect, _ in labels]
    assert not [(a, b) for i, a in enumerate(rects) for b in rects[i + 1:] if a.intersects(b)]
    texts = [text for _, text in labels]
    assert len(texts) == len(set(texts)) and texts
    if height >= 3 * MIN_LABEL_PX:  # room for two: a lone label would not give the scale
        assert len(texts) >= 2, texts


def test_pyqtgraphs_own_log_axis_does_overlap_here(qtbot):
    """The oracle above sees the fault it guards against: the plain AxisItem's labels collide on this range."""
    rects = [rect for rect, _ in drawn_labels(qtbot, pg.AxisItem("left"), -1.2, 0.4, 80)]
    assert [(a, b) for i, a in enumerate(rects) for b in rects[i + 1:] if a.intersects(b)]


@pytest.mark.parametrize(("low", "high", "height"), RANGES)
def test_labelled_ticks_stand_min_label_px_apart_and_two_fit_when_there_is_room(low, high, height):
    (_, labelled), (_, minor) = log_ticks(low, high, height)
    px = height / (high - low)
    assert all((b - a) * px >= MIN_LABEL_PX - 1e-9 for a, b in zip(labelled, labelled[1:]))
    assert all(low - 1e-9 <= v <= high + 1e-9 for v in labelled + minor)
    if height >= 3 * MIN_LABEL_PX:
        assert len(labelled) >= 2


def test_the_timelines_gradient_norm_plot_uses_it(qtbot):
    tab = TimelineTab()
    qtbot.addWidget(tab)
    axis = tab.plots.norms.getAxis("left")
    assert isinstance(axis, LogAxis) and axis.logMode
    assert math.isclose(tab.plots.norms.getAxis("bottom").autoSIPrefixScale, 1.0)
