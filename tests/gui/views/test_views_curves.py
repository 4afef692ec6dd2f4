"""LossPlot: raw and EMA-smoothed training curves, validation markers, coalesced redraws."""
from __future__ import annotations

import math

import numpy as np
import pytest

from gui.views.curves import GrowingSeries, LossPlot


@pytest.fixture
def plot(qtbot) -> LossPlot:
    widget = LossPlot()
    qtbot.addWidget(widget)
    widget.resize(700, 500)
    return widget


def _hand_ema(values, factor=0.9):
    """Independent oracle: s_0 = y_0, s_t = 0.9 s_{t-1} + 0.1 y_t, skipping non-finite y."""
    out, state = [], None
    for y in values:
        if not math.isfinite(y):
            out.append(math.nan)
            continue
        state = y if state is None else factor * state + (1 - factor) * y
        out.append(state)
    return np.array(out)


def _drawn(plot: LossPlot, key: str):
    """What the plot item holds (pyqtgraph stores None for no data)."""
    item = plot.curve_items()[key]
    empty = np.zeros(0)
    return (empty, empty) if item.xData is None else (item.xData, item.yData)


def test_batches_grow_the_raw_and_smoothed_curves(qtbot, plot, rng) -> None:
    losses = 2.0 + rng.normal(size=50)
    accuracies = rng.random(50)
    for step in range(50):
        plot.append_batch(step + 1, losses[step], accuracies[step])

    x, y = plot.train_curve()
    np.testing.assert_array_equal(x, np.arange(1, 51))
    np.testing.assert_array_equal(y, losses)
    np.testing.assert_allclose(plot.smoothed_curve()[1], _hand_ema(losses), rtol=1e-12)
    acc = plot.accuracy_curves()
    np.testing.assert_array_equal(acc["train"][1], accuracies)
    np.testing.assert_allclose(acc["smoothed"][1], _hand_ema(accuracies), rtol=1e-12)
    qtbot.waitUntil(lambda: plot.redraw_count >= 1)
    drawn_x, drawn_y = _drawn(plot, "loss_smooth")
    np.testing.assert_array_equal(drawn_x, x)
    np.testing.assert_allclose(drawn_y, _hand_ema(losses), rtol=1e-12)


def test_validation_epochs_are_markers_joined_by_a_line(qtbot, plot) -> None:
    plot.append_epoch(100, 0.9, 0.7)
    plot.append_epoch(200, 0.5, 0.85)
    assert [list(a) for a in plot.val_curve()] == [[100, 200], [0.9, 0.5]]
    assert [list(a) for a in plot.accuracy_curves()["val"]] == [[100, 200], [0.7, 0.85]]
    plot.flush()
    item = plot.curve_items()["val_loss"]
    assert list(item.yData) == [0.9, 0.5]
    assert item.opts["symbol"] == "o" and item.opts["pen"] is not None


def test_a_non_finite_loss_is_a_gap_and_does_not_poison_the_average(plot) -> None:
    losses = [1.0, 2.0, math.nan, math.inf, 3.0]
    for step, loss in enumerate(losses):
        plot.append_batch(step, loss, 0.5)
    smoothed = plot.smoothed_curve()[1]
    np.testing.assert_allclose(smoothed, _hand_ema(losses))
    assert np.isnan(smoothed[2]) and np.isnan(smoothed[3])
    assert smoothed[4] == pytest.approx(0.9 * (0.9 * 1.0 + 0.1 * 2.0) + 0.1 * 3.0)


def test_a_burst_of_appends_is_drawn_in_a_few_redraws(qtbot, plot) -> None:
    for step in range(1000):
        plot.append_batch(step, 1.0 / (step + 1), step / 1000)
    qtbot.waitUntil(lambda: len(_drawn(plot, "loss")[0]) == 1000)
    assert plot.redraw_count <= 2


def test_long_runs_keep_every_point(plot) -> None:
    count = 5000  # several buffer doublings past the initial capacity
    for step in range(count):
        plot.append_batch(step, float(step), 0.0)
    x, y = plot.train_curve()
    np.testing.assert_array_equal(x, np.arange(count))
    np.testing.assert_array_equal(y, np.arange(count, dtype=float))
    plot.flush()
    assert len(_drawn(plot, "acc")[0]) == count


def test_set_history_replaces_everything_and_recomputes_the_average(qtbot, plot) -> None:
    plot.append_batch(1, 99.0, 0.0)
    plot.append_epoch(1, 99.0, 0.0)
    batches = [(10, 2.0, 0.1), (20, 1.0, 0.4), (30, 0.5, 0.6)]
    epochs = [(30, 0.7, 0.55)]
    plot.set_history(batches, epochs)
    assert list(plot.train_curve()[0]) == [10, 20, 30]
    np.testing.assert_allclose(plot.smoothed_curve()[1], _hand_ema([2.0, 1.0, 0.5]))
    assert list(plot.val_curve()[1]) == [0.7]
    qtbot.waitUntil(lambda: plot.redraw_count >= 1)
    assert list(_drawn(plot, "val_acc")[1]) == [0.55]


def test_clear_empties_every_curve(qtbot, plot) -> None:
    plot.append_batch(1, 1.0, 0.5)
    plot.append_epoch(1, 1.0, 0.5)
    plot.flush()
    plot.clear()
    assert len(plot.train_curve()[0]) == 0 and len(plot.val_curve()[0]) == 0
    qtbot.waitUntil(lambda: plot.redraw_count >= 2)
    assert all(len(_drawn(plot, key)[0]) == 0 for key in plot.curve_items())
    plot.append_batch(5, 3.0, 0.1)
    assert list(plot.smoothed_curve()[1]) == [3.0]  # the average restarts too


def test_growing_series_returns_views_of_the_filled_part() -> None:
    series = GrowingSeries(capacity=2)
    for i in range(5):
        series.append(i, i * i)
    x, y = series.data()
    assert len(series) == 5 and list(x) == [0, 1, 2, 3, 4] and list(y) == [0, 1, 4, 9, 16]
    series.clear()
    assert len(series.data()[0]) == 0


def test_the_accuracy_axis_shows_the_whole_fraction_scale_without_an_si_prefix(qtbot, plot) -> None:
    for step in range(1, 40):
        plot.append_batch(step, 2.0 / step, 0.2 + step / 100)  # accuracies 0.21-0.59: an SI prefix would kick in
    qtbot.waitUntil(lambda: _drawn(plot, "acc")[0].size == 39)
    acc_plot = plot.curve_items()["acc"].getViewBox()
    low, high = acc_plot.viewRange()[1]
    assert low <= 0.0 and high >= 1.0 and high - low < 1.2
    for item in plot.curve_items().values():
        for side in ("left", "bottom"):
            axis = item.getViewBox().parentItem().getAxis(side)
            assert axis.autoSIPrefixScale == 1.0 and "(x" not in axis.labelString()


def test_a_constant_learning_rate_is_drawn_from_zero_to_just_above_it(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    for step in range(1, 6):
        plot.append_batch(step, 1.0, 0.5, learning_rate=0.001)
    plot.flush()
    low, high = plot._lr_plot.viewRange()[1]
    assert low == 0.0 and 0.001 < high < 0.002  # not the +-0.2 band pyqtgraph gives a flat line
