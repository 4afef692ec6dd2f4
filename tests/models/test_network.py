"""The evented network document: edits replace the frozen architecture and notify observers."""

import pytest

from models.architecture import InputShape
from models.layers import Conv2dSpec, FlattenSpec, LinearSpec, ReluSpec
from models.network import Network
from models.presets import load_preset


@pytest.fixture
def network():
    net = Network(load_preset("lenet5"))
    net.events = []
    net.changed.connect(lambda arch: net.events.append(("changed", len(arch.layers))))
    net.selection_changed.connect(lambda i: net.events.append(("selected", i)))
    return net


def test_insert_selects_the_new_layer_and_notifies(network):
    before = network.architecture
    network.insert(1, ReluSpec())
    assert network.layers[1] == ReluSpec() and len(network) == 13
    assert network.events == [("changed", 13), ("selected", 1)]
    assert before.layers[1] != network.layers[1] or len(before.layers) == 12  # old snapshot untouched
    assert len(before.layers) == 12


def test_remove_keeps_the_selection_on_the_same_layer(network):
    network.select(5)
    network.remove(2)
    assert network.selected == 4
    network.remove(4)
    assert network.selected is None


def test_move_puts_the_layer_at_the_destination(network):
    first = network.layers[0]
    network.move(0, 3)
    assert network.layers[3] == first and network.selected == 3


def test_replace_updates_the_analysis(network):
    assert network.analysis.is_valid
    network.replace(0, Conv2dSpec(6, 29))
    assert not network.analysis.is_valid
    assert "layer 1 (conv2d)" in network.analysis.first_error


def test_set_input_reanalyses(network):
    network.set_input(InputShape(3, 32, 32))
    assert network.analysis.layers[0].output_shape == (6, 32, 32)
    assert network.analysis.layers[0].params == 6 * 3 * 25 + 6


def test_out_of_range_index_is_refused(network):
    with pytest.raises(IndexError):
        network.remove(12)
    with pytest.raises(IndexError):
        network.insert(14, FlattenSpec())
    network.insert(12, LinearSpec(5))
    assert network.layers[-1] == LinearSpec(5)
