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


def _shown(qtbot, plot: LossPlot) -> None:
    plot.setMinimumSize(100, 100)  # a fixed size: the offscreen platform warns about size hints
    plot.show()
    qtbot.waitExposed(plot)


def test_after_one_step_the_point_is_drawn_and_the_axes_frame_it(qtbot, plot) -> None:
    _shown(qtbot, plot)
    plot.append_batch(1, 2.3, 0.1, learning_rate=0.001)
    plot.flush()
    items = [plot.curve_items()[key] for key in ("loss_smooth", "acc_smooth", "lr")]  # one point of a line: nothing
    assert [item.opts["symbol"] for item in items] == ["o", "o", "o"]

    def framed(item) -> bool:
        (x_low, x_high), (y_low, y_high) = item.getViewBox().viewRange()
        return x_low <= 1 <= x_high and x_high - x_low < 10 and y_low <= item.yData[0] <= y_high
    qtbot.waitUntil(lambda: all(framed(item) for item in items))  # around step 1 (not -100..100), value in view
    plot.append_batch(2, 2.2, 0.2, learning_rate=0.001)
    plot.flush()
    assert plot.curve_items()["loss_smooth"].opts["symbol"] is None  # a line again


def test_the_key_is_above_the_plots_not_over_the_curves(qtbot, plot) -> None:
    _shown(qtbot, plot)
    for key in ("loss", "acc", "lr"):
        assert plot.curve_items()[key].getViewBox().parentItem().legend is None
    text = plot.legend.text()
    assert all(name in text for name in ("train (per batch)", "smoothed", "validation (per epoch)"))
    assert plot.legend.geometry().bottom() <= plot._graphics.geometry().top()


@pytest.mark.parametrize("height", [300, 500])
def test_each_axis_title_fits_beside_its_own_plot(qtbot, height) -> None:
    plot = LossPlot()  # the rate strip's "learning rate" once ran into the accuracy title above it
    qtbot.addWidget(plot)
    plot.resize(420, height)
    _shown(qtbot, plot)
    for key in ("loss", "acc", "lr"):
        axis = plot.curve_items()[key].getViewBox().parentItem().getAxis("left")
        assert axis.label.boundingRect().width() <= axis.boundingRect().height(), key


def test_the_timeline_marker_shows_on_every_plot_without_widening_the_axis(qtbot, plot) -> None:
    _shown(qtbot, plot)
    for step in range(1, 11):
        plot.append_batch(step, 1.0 / step, 0.1 * step, learning_rate=0.001)
    plot.flush()
    assert plot.marker() is None
    plot.set_marker(500)  # beyond the data: the step axis must not grow to it
    lines = [item for item in plot._markers]
    assert plot.marker() == 500 and all(line.isVisible() and line.value() == 500 for line in lines)
    qtbot.wait(50)
    assert plot.curve_items()["loss"].getViewBox().viewRange()[0][1] < 100
    plot.clear()
    assert plot.marker() is None


def test_cleared_curves_say_so_and_drop_the_previous_runs_axes(qtbot, plot) -> None:
    """Issue 15 item 5: after a preset or another dataset the curves are emptied; they must not look like a run."""
    _shown(qtbot, plot)
    assert plot.empty_note.isVisible() and "No curves yet" in plot.empty_note.text()
    for step in range(1, 301):
        plot.append_batch(step, 2.0 + step / 100, 0.5)
    plot.flush()
    assert not plot.empty_note.isVisible()
    qtbot.waitUntil(lambda: plot._loss_plot.viewRange()[0][1] >= 300)
    plot.clear()
    plot.flush()
    assert plot.empty_note.isVisible()
    (x_low, x_high), (y_low, y_high) = plot._loss_plot.viewRange()
    assert x_high <= 1 and y_high <= 1  # not steps 0-300 and losses 2-5 of the run before
    plot.append_batch(1, 2.3, 0.1)
    plot.append_batch(2, 2.2, 0.2)
    plot.flush()
    qtbot.waitUntil(lambda: plot._loss_plot.viewRange()[1][1] >= 2.3)  # a new run frames itself again
