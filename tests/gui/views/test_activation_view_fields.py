"""ActivationView's probe sample and receptive-field frame (issue 29 item 1): data in, unit_hovered out."""
from __future__ import annotations

import numpy as np
import pytest

from engine.inspection.mosaic import maps_layout
from gui.views.activation_view import ActivationView


@pytest.fixture
def view(qtbot) -> ActivationView:
    widget = ActivationView()
    qtbot.addWidget(widget)
    widget.resize(900, 700)
    return widget


@pytest.fixture
def maps(rng) -> dict[str, np.ndarray]:
    return {"conv": rng.normal(size=(4, 6, 6)).astype(np.float32), "dense": rng.normal(size=5).astype(np.float32)}


def test_the_sample_is_shown_grey_and_the_frame_is_clipped_to_it(view) -> None:
    image = np.arange(12 * 10, dtype=np.uint8).reshape(12, 10)
    assert not view.input_panel().isVisibleTo(view)
    view.show_input(image[..., np.newaxis])  # (H, W, 1), as Dataset.to_uint8 gives grey images
    assert view.input_panel().isVisibleTo(view)
    shown = view.input_panel().image_item.image
    assert shown.shape == (12, 10, 3) and (shown == image[..., np.newaxis]).all()  # grey, not a colour map
    view.show_receptive_field((3, 2, 5, 5))  # inside: drawn as given
    assert view.input_panel().highlight() == (3, 2, 5, 5) == view.receptive_field_rect()
    view.show_receptive_field((-2, 7, 6, 6))  # rows -2..3, columns 7..12 of a 12x10 image
    assert view.input_panel().highlight() == (0, 7, 4, 3)
    view.show_input(np.zeros((4, 4, 3), np.uint8))  # a smaller sample: the same field clipped again
    assert view.input_panel().highlight() is None  # columns 7.. are outside it
    view.show_receptive_field((1, 1, 30, 30))
    assert view.input_panel().highlight() == (1, 1, 3, 3)
    view.show_receptive_field(None)
    assert view.input_panel().highlight() is None and view.receptive_field_rect() is None


def test_clear_drops_the_sample_and_its_frame(view, maps) -> None:
    view.show_activations(maps)
    view.show_input(np.zeros((6, 6), np.uint8))
    view.show_receptive_field((0, 0, 3, 3))
    view.clear()
    assert not view.input_panel().isVisibleTo(view) and view.receptive_field_rect() is None


def test_bad_samples_are_refused_by_shape(view) -> None:
    with pytest.raises(ValueError, match=r"uint8 \(H, W\) or \(H, W, 3\), got float32 \(4, 4\)"):
        view.show_input(np.zeros((4, 4), np.float32))
    with pytest.raises(ValueError, match=r"got uint8 \(4, 4, 2\)"):
        view.show_input(np.zeros((4, 4, 2), np.uint8))


def test_hovering_or_clicking_a_map_unit_announces_it_once(qtbot, view, maps, panel_mouse) -> None:
    view.show_activations(maps)
    view.flush()
    seen = []
    view.unit_hovered.connect(lambda *args: seen.append(args))

    def hover_until(panel, row, col, check) -> None:
        """Hover again until `check` holds: pyqtgraph drops moves within 10 ms of the last one it took."""
        qtbot.waitUntil(lambda: panel_mouse.hover(panel, row, col) or check())

    y, x = maps_layout((4, 6, 6)).origin(3)
    hover_until(view.panel_for("conv"), y + 4, x + 1, lambda: seen == [("conv", 4, 1)])
    hover_until(view.panel_for("conv"), y + 2, x + 5, lambda: seen[-1] == ("conv", 2, 5))
    assert seen == [("conv", 4, 1), ("conv", 2, 5)]  # many moves over a unit: one announcement each
    hover_until(view.panel_for("dense"), 0, 3, lambda: view.hover_text().startswith("dense, unit 3"))
    assert len(seen) == 2  # a vector's unit has no place on the input
    hover_until(view.panel_for("conv"), y + 2, x + 5, lambda: len(seen) == 3)  # back on the unit: announced
    panel_mouse.click(view.panel_for("conv"), y + 2, x + 5)  # a click announces it again (and enlarges the map)
    assert seen[2:] == [("conv", 2, 5)] * 2 and view.detail()[:2] == ("conv", 3)
    view.flush()
    hover_until(view.detail_panel(), 1, 0, lambda: seen[-1] == ("conv", 1, 0))  # the enlarged map's units too


def test_a_frame_on_the_enlarged_map_is_clipped_to_it_and_dropped_with_the_selection(view, maps) -> None:
    view.show_activations(maps)
    view.select_map("conv", 2)
    view.flush()
    view.show_detail_field((-1, 4, 3, 5))  # rows -1..1, columns 4..8 of a 6x6 map
    assert view.detail_panel().highlight() == (0, 4, 2, 2) == view.detail_field_rect()
    view.select_map("conv", 1)  # another map: the frame was about the one before
    view.flush()
    assert view.detail_panel().highlight() is None and view.detail_field_rect() is None
    view.select_map("dense", 3)  # a vector's detail keeps outlining its unit, never a frame
    view.show_detail_field((0, 0, 1, 2))
    view.flush()
    assert view.detail_panel().highlight() == (0, 3, 1, 1) and view.detail_field_rect() is None
