"""The Training tab frames the receptive field of the activation unit under the mouse on the probe sample
(issue 29 item 1): LiveViews wires ActivationView.unit_hovered to models/receptive_field.py through
gui/training/receptive_field_link.py."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QScrollArea

from engine.datasets import load_dataset
from engine.inspection.mosaic import maps_layout
from engine.network.builder import build_model
from engine.network.probes import capture_snapshot, probe_layout
from gui.training.live_views import LiveViews
from models.network import Network
from models.presets import load_preset
from models.shapes import analyze
from tests.gui.views.conftest import PanelMouse

LENET = load_preset("lenet5")


@pytest.fixture(scope="module")
def mnist():
    return load_dataset("mnist")


@pytest.fixture
def live(qtbot, mnist):
    views = LiveViews()
    qtbot.addWidget(views)
    views.resize(1200, 800)
    network = Network(LENET)
    views.follow_network(network)
    views.set_dataset(mnist)
    model = build_model(LENET)
    views.show_snapshot(capture_snapshot(model, probe_layout(model, analyze(LENET)), mnist.val.images_at(5), step=3,
                                         epoch=1, probe_index=5))
    views.flush()
    return views, network


def scrolled_to(qtbot, panel):
    """Scroll the maps' list to `panel`: pyqtgraph places an image in its view only once the view is painted."""
    scroll = panel.parentWidget()
    while not isinstance(scroll, QScrollArea):
        scroll = scroll.parentWidget()
    window = panel.window()
    window.setMinimumSize(100, 100)
    window.show()
    qtbot.waitExposed(window)
    scroll.ensureWidgetVisible(panel)
    return panel


def test_hovering_a_unit_frames_its_field_on_the_probe_sample(qtbot, live, mnist):
    views, _ = live
    view = views.activations
    np.testing.assert_array_equal(view.input_panel().image_item.image,  # the maps' own sample, grey
                                  np.repeat(mnist.to_uint8(mnist.val.images_at(5)), 3, axis=2))
    mouse = PanelMouse(qtbot)
    # LeNet-5's second conv (layer 4): field 14, jump 2, first centre 4.5. Unit (2, 3) of channel 1 is centred on
    # (4.5 + 2*2, 4.5 + 3*2) = (8.5, 10.5): rows 2..15 and columns 4..17.
    y, x = maps_layout((16, 10, 10)).origin(1)
    panel = scrolled_to(qtbot, view.panel_for("layer 4 (conv2d)"))
    qtbot.waitUntil(lambda: mouse.hover(panel, y + 2, x + 3) or view.input_panel().highlight() == (2, 4, 14, 14))
    # The second pooling (layer 6): field 16, jump 4, start 5.5; unit (0, 0) reaches 2 pixels past the top left.
    y, x = maps_layout((16, 5, 5)).origin(0)
    panel = scrolled_to(qtbot, view.panel_for("layer 6 (maxpool2d)"))
    qtbot.waitUntil(lambda: mouse.hover(panel, y, x) or view.input_panel().highlight() == (0, 0, 14, 14))
    assert view.receptive_field_rect() == (0.0, 0.0, 14.0, 14.0)


def test_no_frame_for_maps_the_network_no_longer_makes_or_units_without_a_place(live):
    views, network = live
    view = views.activations
    view.unit_hovered.emit("layer 1 (conv2d)", 10, 20)  # 5x5 centred on (10, 20)
    assert view.input_panel().highlight() == (8, 18, 5, 5)
    network.replace(3, LENET.layers[3].replace(kernel_size=3))  # now 16x12x12: the shown 16x10x10 maps are older
    view.unit_hovered.emit("layer 4 (conv2d)", 2, 3)
    assert view.input_panel().highlight() is None
    view.unit_hovered.emit("layer 7 (flatten)", 0, 0)  # no grid on the input
    assert view.input_panel().highlight() is None


def test_clearing_the_views_drops_the_sample(live):
    views, _ = live
    views.clear()
    assert not views.activations.input_panel().isVisibleTo(views.activations)


def test_the_enlarged_map_of_an_earlier_layer_frames_the_units_field_on_it(live):
    """LeNet-5's layer 4 unit (2, 3) on layer 1's 28x28 maps: 10x10 from (4, 6) (field 2 + 4*2, jump 2, first centre
    0.5 + 2*2 = 4.5); on layer 3's 14x14 maps its own 5x5 window from (2, 3); on its own layer, itself."""
    views, _ = live
    view = views.activations
    assert view.detail()[:2] == ("layer 1 (conv2d)", 0)  # enlarged from the start
    view.unit_hovered.emit("layer 4 (conv2d)", 2, 3)
    assert view.detail_field_rect() == (4, 6, 10, 10)
    view.select_map("layer 3 (maxpool2d)", 5)
    assert view.detail_field_rect() == (2, 3, 5, 5)
    view.select_map("layer 4 (conv2d)", 0)
    assert view.detail_field_rect() == (2, 3, 1, 1)
    view.select_map("layer 6 (maxpool2d)", 0)  # a later layer: the unit is not made of its units
    assert view.detail_field_rect() is None
    view.flush()
    assert view.detail_panel().highlight() is None
    view.select_map("layer 1 (conv2d)", 0)
    # On layer 1's maps, layer 6 is pool (2, jump 2, centre 0.5), conv (2 + 4*2 = 10, centre 4.5), pool (10 + 2 = 12,
    # centre 5.5): unit (1, 4) is centred on (9.5, 21.5), rows 4..15 and columns 16..27.
    view.unit_hovered.emit("layer 6 (maxpool2d)", 1, 4)
    view.flush()
    assert view.detail_field_rect() == (4, 16, 12, 12) and view.detail_panel().highlight() == (4, 16, 12, 12)
