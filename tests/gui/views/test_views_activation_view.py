"""ActivationView: per-layer mosaics, click to enlarge a channel, hover to read a value."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint

from gui.views.activation_view import ActivationView
from engine.inspection.mosaic import maps_layout, tile_maps


@pytest.fixture
def view(qtbot) -> ActivationView:
    widget = ActivationView()
    qtbot.addWidget(widget)
    widget.resize(900, 700)
    return widget


def _distinct(shape) -> np.ndarray:
    return np.arange(np.prod(shape), dtype=np.float32).reshape(shape) - 7.0


@pytest.fixture
def maps(rng) -> dict[str, np.ndarray]:
    return {"conv2d #1": rng.normal(size=(6, 12, 12)).astype(np.float32),
            "conv2d #2": _distinct((16, 5, 5)),
            "linear #1": rng.normal(size=10).astype(np.float32)}


def test_each_layer_is_tiled_with_symmetric_levels(qtbot, view, maps) -> None:
    view.show_activations(maps)
    qtbot.waitUntil(lambda: view.redraw_count >= 1)

    assert view.layer_names() == ["conv2d #1", "conv2d #2", "linear #1"]
    for name in ("conv2d #1", "conv2d #2"):
        item = view.panel_for(name).image_item
        np.testing.assert_array_equal(item.image, tile_maps(maps[name]))
        limit = float(np.abs(maps[name]).max())
        assert tuple(item.levels) == pytest.approx((-limit, limit))
    strip = view.panel_for("linear #1").image_item.image
    np.testing.assert_array_equal(strip, maps["linear #1"][np.newaxis])
    assert view.panel_for("conv2d #2").title() == "conv2d #2 — 16 maps 5x5"
    assert view.panel_for("linear #1").title() == "linear #1 — 10 units"


def test_select_map_enlarges_that_channel_and_outlines_its_tile(qtbot, view, maps) -> None:
    view.show_activations(maps)
    with qtbot.waitSignal(view.map_selected) as blocker:
        view.select_map("conv2d #2", 5)
    assert blocker.args == ["conv2d #2", 5]
    name, channel, enlarged = view.detail()
    assert (name, channel) == ("conv2d #2", 5)
    np.testing.assert_array_equal(enlarged, maps["conv2d #2"][5])
    view.flush()
    np.testing.assert_array_equal(view.detail_panel().image_item.image, maps["conv2d #2"][5])
    assert view.detail_panel().title() == "conv2d #2 — channel 5"
    origin = maps_layout((16, 5, 5)).origin(5)
    assert view.panel_for("conv2d #2").highlight() == (*origin, 5, 5)
    assert view.panel_for("conv2d #1").highlight() is None


def test_clicking_a_tile_enlarges_the_channel_under_the_mouse(
        qtbot, view, maps, panel_mouse) -> None:
    view.show_activations(maps)
    view.flush()
    y, x = maps_layout((16, 5, 5)).origin(11)
    with qtbot.waitSignal(view.map_selected) as blocker:
        panel_mouse.click(view.panel_for("conv2d #2"), y + 3, x + 1)
    assert blocker.args == ["conv2d #2", 11]
    np.testing.assert_array_equal(view.detail()[2], maps["conv2d #2"][11])


def test_hovering_shows_layer_channel_position_and_value(qtbot, view, maps, panel_mouse) -> None:
    view.show_activations(maps)
    view.flush()
    y, x = maps_layout((16, 5, 5)).origin(6)
    panel_mouse.hover(view.panel_for("conv2d #2"), y + 2, x + 3)
    expected = maps["conv2d #2"][6, 2, 3]  # distinct values: 6*25 + 2*5 + 3 - 7 = 156
    assert expected == view.value_at("conv2d #2", 6, 2, 3) == 156.0
    qtbot.waitUntil(lambda: view.hover_text() == "conv2d #2, channel 6, (2, 3) = 156")


def test_clicking_the_gap_between_tiles_selects_nothing(qtbot, view, maps, panel_mouse) -> None:
    view.show_activations(maps)
    view.flush()
    panel_mouse.click(view.panel_for("conv2d #2"), 5, 2)  # row 5 is the padding row
    assert view.detail() is None


def test_vector_layer_selects_a_unit_and_shows_the_whole_vector(qtbot, view, maps) -> None:
    view.show_activations(maps)
    view.select_map("linear #1", 7)
    view.flush()
    name, unit, shown = view.detail()
    assert (name, unit) == ("linear #1", 7)
    np.testing.assert_array_equal(shown, maps["linear #1"][np.newaxis])
    assert view.value_at("linear #1", 7, 0, 0) == pytest.approx(float(maps["linear #1"][7]))
    assert view.detail_panel().highlight() == (0, 7, 1, 1)


def test_selection_follows_new_data_and_is_dropped_when_the_channel_disappears(
        qtbot, view, maps) -> None:
    view.show_activations(maps)
    view.select_map("conv2d #1", 4)
    newer = dict(maps, **{"conv2d #1": maps["conv2d #1"] * 2})
    view.show_activations(newer)
    np.testing.assert_array_equal(view.detail()[2], newer["conv2d #1"][4])
    view.show_activations({"conv2d #1": maps["conv2d #1"][:3]})
    assert view.detail() is None
    qtbot.waitUntil(lambda: view.redraw_count >= 1)
    assert view.layer_names() == ["conv2d #1"]


def test_a_burst_of_activations_is_drawn_once_with_the_newest(qtbot, view, rng) -> None:
    samples = [rng.normal(size=(4, 6, 6)) for _ in range(5)]
    for i in range(1000):
        view.show_activations({"conv2d #1": samples[i % 5]})
    qtbot.waitUntil(lambda: view.redraw_count >= 1)
    assert view.redraw_count <= 2
    np.testing.assert_array_equal(view.panel_for("conv2d #1").image_item.image,
                                  tile_maps(samples[999 % 5]))


def test_layers_that_change_keep_the_new_order(qtbot, view, maps) -> None:
    view.show_activations(maps)
    view.flush()
    view.show_activations({"linear #1": maps["linear #1"], "conv2d #1": maps["conv2d #1"]})
    view.flush()
    assert view.layer_names() == ["linear #1", "conv2d #1"]
    with pytest.raises(KeyError):
        view.panel_for("conv2d #2")


def test_clear_empties_the_view_and_the_detail(qtbot, view, maps) -> None:
    view.show_activations(maps)
    view.select_map("conv2d #2", 1)
    view.flush()
    view.clear()
    assert view.layer_names() == [] and view.detail() is None
    assert view.detail_panel().title() == "Click a map to enlarge it"


def test_bad_shapes_and_unknown_maps_are_reported_clearly(view, maps) -> None:
    with pytest.raises(ValueError, match=r"'conv2d #3'.*\(1, 2, 3, 4\)"):
        view.show_activations({"conv2d #3": np.zeros((1, 2, 3, 4))})
    view.show_activations(maps)
    with pytest.raises(ValueError, match="no channel 16 in layer 'conv2d #2'"):
        view.select_map("conv2d #2", 16)
    with pytest.raises(ValueError, match="no channel 0 in layer 'pool'"):
        view.select_map("pool", 0)


def test_the_readout_follows_new_maps_under_a_resting_mouse(qtbot, view, maps, panel_mouse) -> None:
    """Issue 15 item 8: during training the maps change under a resting mouse; the readout names their value."""
    view.show_activations(maps)
    view.flush()
    y, x = maps_layout((16, 5, 5)).origin(6)
    panel_mouse.hover(view.panel_for("conv2d #2"), y + 2, x + 3)
    qtbot.waitUntil(lambda: view.hover_text() == "conv2d #2, channel 6, (2, 3) = 156")
    view.show_activations({**maps, "conv2d #2": maps["conv2d #2"] * 2})
    view.flush()
    assert view.hover_text() == "conv2d #2, channel 6, (2, 3) = 312"
    view.show_activations({"conv2d #1": maps["conv2d #1"]})  # that layer is gone: no value to read
    view.flush()
    assert view.hover_text() == "Hover a map to read values; click one to enlarge it."


def test_a_quick_move_off_the_image_clears_the_readout(qtbot, view, maps, panel_mouse) -> None:
    """pyqtgraph drops moves within its 10 ms rate limit, so the image's own exit can be lost; the readout must
    not keep naming a pixel the mouse has left."""
    view.show_activations(maps)
    view.flush()
    panel = view.panel_for("conv2d #2")
    panel_mouse.hover(panel, 1, 1)
    qtbot.waitUntil(lambda: view.hover_text().startswith("conv2d #2, channel 0, (1, 1)"))
    viewport = panel.graphics_view().viewport()
    qtbot.mouseMove(viewport, pos=QPoint(viewport.width() - 3, viewport.height() // 2))  # onto the colour bar
    assert view.hover_text() == "Hover a map to read values; click one to enlarge it."
