"""FilterGrid: one mosaic per conv layer, zero-centred levels, coalesced redraws."""
from __future__ import annotations

import numpy as np
import pytest

from gui.views.filter_grid import FilterGrid
from engine.inspection.mosaic import tile_kernels


@pytest.fixture
def grid(qtbot) -> FilterGrid:
    widget = FilterGrid()
    qtbot.addWidget(widget)
    widget.resize(500, 700)
    return widget


def _drawn(grid: FilterGrid, name: str):
    item = grid.panel_for(name).image_item
    return item.image, tuple(float(v) for v in item.levels)


def test_layer_is_tiled_and_coloured_symmetrically_around_zero(qtbot, grid, rng) -> None:
    weights = rng.normal(size=(16, 6, 5, 5))
    weights[3, 2, 1, 4] = -7.5  # the largest magnitude is negative: levels still symmetric
    grid.set_scale_per_filter(False)
    grid.show_layer("conv2d #2", weights)
    qtbot.waitUntil(lambda: grid.redraw_count >= 1)

    assert grid.layer_names() == ["conv2d #2"]
    np.testing.assert_array_equal(grid.image_for("conv2d #2"), tile_kernels(weights))
    assert grid.levels_for("conv2d #2") == (-7.5, 7.5)
    image, levels = _drawn(grid, "conv2d #2")
    np.testing.assert_array_equal(image, tile_kernels(weights))
    assert levels == (-7.5, 7.5)
    assert tuple(grid.panel_for("conv2d #2").color_bar.levels()) == (-7.5, 7.5)
    assert grid.panel_for("conv2d #2").title() == (
        "conv2d #2 — 16 filters 6x5x5  (row = filter, column = input channel)")


def test_layers_keep_their_order_and_update_in_place(qtbot, grid, rng) -> None:
    grid.set_scale_per_filter(False)
    grid.show_layer("conv2d #1", rng.normal(size=(6, 1, 5, 5)))
    grid.show_layer("conv2d #2", rng.normal(size=(16, 6, 3, 3)))
    grid.flush()
    first_panel, drawn = grid.panel_for("conv2d #1"), grid.redraw_count
    newer = rng.normal(size=(6, 1, 5, 5)) * 0.01
    grid.show_layer("conv2d #1", newer)
    qtbot.waitUntil(lambda: grid.redraw_count > drawn)

    assert grid.layer_names() == ["conv2d #1", "conv2d #2"]
    assert grid.panel_for("conv2d #1") is first_panel  # items are made once, then setImage
    np.testing.assert_array_equal(_drawn(grid, "conv2d #1")[0], tile_kernels(newer))
    limit = np.abs(newer).max()
    assert grid.levels_for("conv2d #1") == pytest.approx((-limit, limit))


def test_rgb_layer_is_drawn_as_colour_tiles_without_a_colour_bar(qtbot, grid, rng) -> None:
    weights = rng.normal(size=(8, 3, 3, 3))
    grid.set_scale_per_filter(False)
    grid.show_layer("conv2d #1", weights, rgb=True)
    qtbot.waitUntil(lambda: grid.redraw_count >= 1)

    image, levels = _drawn(grid, "conv2d #1")
    assert image.shape[2] == 3 and levels == (0.0, 1.0)
    np.testing.assert_array_equal(image, tile_kernels(weights, rgb=True))
    assert not grid.panel_for("conv2d #1").color_bar.isVisible()
    assert "RGB" in grid.title_for("conv2d #1")


def test_a_burst_of_updates_is_drawn_once_with_the_newest_weights(qtbot, grid, rng) -> None:
    burst = [rng.normal(size=(4, 2, 3, 3)) for _ in range(10)]
    for i in range(1000):
        grid.show_layer("conv2d #1", burst[i % 10])
    qtbot.waitUntil(lambda: grid.redraw_count >= 1)

    assert grid.redraw_count <= 2
    np.testing.assert_array_equal(_drawn(grid, "conv2d #1")[0], tile_kernels(burst[999 % 10], per_filter=True))


def test_clear_removes_every_layer(qtbot, grid, rng) -> None:
    grid.show_layer("conv2d #1", rng.normal(size=(2, 1, 3, 3)))
    grid.flush()
    grid.clear()
    assert grid.layer_names() == []
    with pytest.raises(KeyError):
        grid.panel_for("conv2d #1")
    grid.show_layer("conv2d #9", rng.normal(size=(2, 1, 3, 3)))
    qtbot.waitUntil(lambda: grid.layer_names() == ["conv2d #9"] and grid.redraw_count >= 2)


def test_weights_that_are_not_conv_kernels_are_rejected_by_layer_name(grid) -> None:
    with pytest.raises(ValueError, match=r"'linear #1'.*\(120, 84\)"):
        grid.show_layer("linear #1", np.zeros((120, 84)))
    assert grid.layer_names() == []


def test_a_layer_switching_from_rgb_back_to_grey_gets_its_colour_map_back(qtbot, grid, rng) -> None:
    grid.show_layer("conv2d #1", rng.normal(size=(4, 3, 3, 3)), rgb=True)
    grid.flush()
    assert grid.panel_for("conv2d #1").image_item.lut is None
    grid.show_layer("conv2d #1", rng.normal(size=(4, 3, 3, 3)))
    grid.flush()
    panel = grid.panel_for("conv2d #1")
    assert panel.image_item.image.ndim == 2 and panel.image_item.lut is not None
    assert panel.color_bar.isVisible()



def test_the_wheel_over_a_layer_is_left_to_the_scrolling_list(qtbot, grid, rng, shown) -> None:
    """Qt propagates an ignored (real) wheel event to the parents, i.e. the scroll area;
    a synthesized one never propagates, so assert the panel ignores it."""
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    grid.show_layer("conv2d #1", rng.normal(size=(8, 4, 3, 3)))
    grid.flush()
    shown(grid)
    viewport = grid.panel_for("conv2d #1").graphics_view().viewport()
    at = QPointF(20, 20)
    wheel = QWheelEvent(at, viewport.mapToGlobal(at), QPoint(0, -120), QPoint(0, -120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(viewport, wheel)
    assert not wheel.isAccepted()


def test_frozen_filters_are_framed_and_named(qtbot, grid, rng) -> None:
    from engine.inspection.mosaic import kernels_layout

    grid.show_layer("layer 1 (conv2d)", rng.normal(size=(6, 1, 5, 5)), frozen=(2, 5))
    grid.show_layer("layer 3 (conv2d)", rng.normal(size=(4, 6, 3, 3)), frozen=(1,))
    grid.flush()  # both panels (one is built per frame)
    near_square = kernels_layout((6, 1, 5, 5))  # one tile per filter
    assert grid.panel_for("layer 1 (conv2d)").outlines() == [(*near_square.origin(2), 5, 5),
                                                               (*near_square.origin(5), 5, 5)]
    assert grid.title_for("layer 1 (conv2d)").endswith("frozen (dashed): 2, 5")
    # Row per filter: filter 1's frame is its whole row, six 3x3 tiles with 1-pixel gaps.
    assert grid.panel_for("layer 3 (conv2d)").outlines() == [(4, 0, 3, 6 * 4 - 1)]
    drawn = grid.redraw_count
    grid.show_layer("layer 1 (conv2d)", rng.normal(size=(6, 1, 5, 5)))  # the network was edited: none frozen
    qtbot.waitUntil(lambda: grid.redraw_count > drawn)
    assert grid.panel_for("layer 1 (conv2d)").outlines() == []
    assert "frozen" not in grid.title_for("layer 1 (conv2d)")


def _sobel_beside_learned(rng) -> np.ndarray:
    """A layer as conv2d frozen_init makes it: filter 0 a Sobel kernel (+-2), the rest small learned weights."""
    weights = rng.normal(scale=0.02, size=(4, 1, 3, 3))
    weights[0, 0] = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
    return weights


def test_by_default_each_filter_fills_its_own_colour_scale(qtbot, grid, rng) -> None:
    from engine.inspection.mosaic import kernels_layout

    weights = _sobel_beside_learned(rng)
    grid.show_layer("layer 1 (conv2d)", weights, frozen=(0,))
    qtbot.waitUntil(lambda: grid.redraw_count >= 1)

    assert grid.scale_per_filter() and grid.scale_box.isChecked()
    panel = grid.panel_for("layer 1 (conv2d)")
    image, levels = _drawn(grid, "layer 1 (conv2d)")
    assert levels == (-1.0, 1.0) and tuple(panel.color_bar.levels()) == (-1.0, 1.0)
    layout = kernels_layout(weights.shape)
    for f in range(4):  # every learned filter spans the scale, as the Sobel one does: none washed out
        y, x = layout.origin(f)
        tile = image[y:y + 3, x:x + 3]
        np.testing.assert_allclose(tile, weights[f, 0] / np.abs(weights[f]).max(), rtol=1e-6)
        assert np.abs(tile).max() == pytest.approx(1.0)
    assert panel.bar_label() == "w / filter max"
    assert "each filter on its own scale" in panel.title()
    np.testing.assert_array_equal(grid.image_for("layer 1 (conv2d)"), tile_kernels(weights))  # raw stays readable


def test_one_scale_for_the_layer_when_asked_and_the_bar_says_so(qtbot, grid, rng) -> None:
    weights = _sobel_beside_learned(rng)
    grid.show_layer("layer 1 (conv2d)", weights)
    grid.flush()
    before = grid.redraw_count
    grid.scale_box.click()  # the person unticks "one colour scale per filter"
    qtbot.waitUntil(lambda: grid.redraw_count > before)

    assert not grid.scale_per_filter()
    panel = grid.panel_for("layer 1 (conv2d)")
    image, levels = _drawn(grid, "layer 1 (conv2d)")
    assert levels == (-2.0, 2.0)
    np.testing.assert_array_equal(image, tile_kernels(weights))
    assert panel.bar_label() == "w (layer scale)"
    assert "own scale" not in panel.title()
    # the learned filters sit within 3% of zero on the layer's scale: the reason per filter is the default
    assert np.nanmax(np.abs(image[:, 4:])) / 2.0 < 0.05


def test_rgb_filters_each_span_the_colour_range_per_filter(qtbot, grid, rng) -> None:
    weights = rng.normal(size=(4, 3, 3, 3))
    weights[1] *= 100.0
    grid.show_layer("conv2d #1", weights, rgb=True)
    grid.flush()
    image, levels = _drawn(grid, "conv2d #1")
    assert levels == (0.0, 1.0)
    expected = 0.5 + weights / (2 * np.abs(weights).reshape(4, -1).max(axis=1))[:, None, None, None]
    from engine.inspection.mosaic import kernels_layout
    layout = kernels_layout(weights.shape, rgb=True)
    for f in range(4):
        y, x = layout.origin(f)
        np.testing.assert_allclose(image[y:y + 3, x:x + 3], np.moveaxis(expected[f], 0, -1), rtol=1e-5)


def test_a_new_networks_panels_are_built_one_per_frame(qtbot, grid, rng) -> None:
    # Building all of ResNet-20's 19 panels in one redraw stalled the GUI; one per frame spreads the cost.
    names = [f"layer {i} (conv2d)" for i in range(1, 6)]
    grid.set_scale_per_filter(False)  # the drawn image is then the plain mosaic image_for gives
    for name in names:
        grid.show_layer(name, rng.normal(size=(4, 3, 3, 3)))
    scheduler = grid._scheduler  # one frame's redraw at a time, without waiting for the frames
    for frame in range(1, len(names) + 1):
        assert scheduler.pending
        scheduler.flush()
        assert [n for n in names if n in grid._panels] == names[:frame]
    assert not scheduler.pending
    for name in names:  # each drawn with its own data
        np.testing.assert_array_equal(_drawn(grid, name)[0], grid.image_for(name))


def test_flush_draws_every_pending_panel(grid, rng) -> None:
    names = [f"layer {i} (conv2d)" for i in range(1, 4)]
    for name in names:
        grid.show_layer(name, rng.normal(size=(2, 1, 3, 3)))
    grid.flush()
    assert [grid.panel_for(n).title().split(" — ")[0] for n in names] == names
