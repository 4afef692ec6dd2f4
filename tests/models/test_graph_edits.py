"""Wiring edits drawn by hand: connect (an add in front of a one-input layer), disconnect, splice, residual blocks."""

from __future__ import annotations

import pytest

from models import graph
from models.architecture import Architecture, InputShape
from models.graph_edits import WiringRefused, connected, disconnected, spliced, with_block
from models.layers import AddSpec, Conv2dSpec, DropoutSpec, FlattenSpec, LinearSpec, ReluSpec
from models.network import Network
from models.residual_block import residual_block
from models.shapes import analyze

CHAIN = Architecture("c", InputShape(3, 8, 8), (Conv2dSpec(4, padding=1), ReluSpec(), Conv2dSpec(4, padding=1),
                                               ReluSpec(), FlattenSpec(), LinearSpec(10)))


def test_connecting_to_a_one_input_layer_puts_an_add_in_front_of_it():
    arch = connected(CHAIN, 2, 4)  # layer 4 (relu) also reads layer 2 (relu): a residual shortcut
    assert [s.TYPE for s in arch.layers] == ["conv2d", "relu", "conv2d", "add", "relu", "flatten", "linear"]
    assert graph.sources(arch) == ((0,), (1,), (2,), (3, 2), (4,), (5,), (6,))
    assert analyze(arch).is_valid


def test_connecting_to_a_merge_adds_an_input_and_a_mismatch_names_both_branches():
    arch = connected(connected(CHAIN, 2, 4), 1, 4)
    assert graph.sources(arch)[3] == (3, 2, 1)
    wrong = connected(CHAIN, 0, 3)  # 3x8x8 input vs 4x8x8 conv output
    error = analyze(wrong).layers[2].error
    assert "the input" in error and "layer 2 (relu)" in error and "1x1 conv2d" in error


@pytest.mark.parametrize("source, target, words", [
    (3, 3, "itself"), (2, 3, "already reads"), (4, 2, "cycle"), (9, 2, "no layer")])
def test_connections_that_make_no_sense_are_refused(source, target, words):
    with pytest.raises(WiringRefused, match=words):
        connected(CHAIN, source, target)


def test_disconnect_undoes_connect_on_a_merge_and_refuses_to_leave_no_input():
    arch = connected(CHAIN, 2, 4)
    merged = connected(arch, 1, 4)
    assert disconnected(merged, 1, 4) == arch
    with pytest.raises(WiringRefused, match="no input left"):
        disconnected(CHAIN, 1, 2)


def test_splice_puts_a_layer_on_the_way_out_and_remove_gives_the_graph_back():
    arch = connected(CHAIN, 2, 4)  # layer 2 feeds layer 3 and the add
    spliced_arch = spliced(arch, 2, DropoutSpec())
    assert graph.sources(spliced_arch)[:5] == ((0,), (1,), (2,), (3,), (4, 3))
    net = Network(spliced_arch)
    net.remove(2)
    assert net.architecture == arch


@pytest.mark.parametrize("stride, channels, size", [(1, 4, 7), (2, 4, 9), (1, 8, 9)])
def test_residual_blocks_keep_or_project_the_shape(stride, channels, size):
    layers, inputs = residual_block(4, channels, stride)
    assert len(layers) == size and isinstance(layers[-2], AddSpec)
    arch = with_block(CHAIN, 2, layers, inputs)  # after the first relu
    analysis = analyze(arch)
    assert analysis.is_valid, analysis.errors
    add = analysis.layers[2 + size - 2]
    assert add.output_shape == (channels, 8 // stride, 8 // stride)
    assert graph.sources(arch)[2] == (2,)  # the block reads the relu before it
    assert graph.sources(arch)[2 + size] == (2 + size,)  # the conv after it reads the block's last relu
    shortcut = add.sources[1]
    assert shortcut == 2 if size == 7 else arch.layers[shortcut - 2].kernel_size == 1


def test_network_wiring_edits_emit_and_restore():
    net, seen = Network(CHAIN), []
    net.changed.connect(seen.append)
    net.connect(1, 3)  # index 3 = layer 4
    assert net.architecture.is_graph and len(seen) == 1
    assert net.layers[net.selected] == AddSpec()  # the add that joins the two is what gained the input
    net.restore(CHAIN, None)
    assert net.architecture == CHAIN and net.selected is None
    with pytest.raises(WiringRefused):
        net.disconnect(0, 0)
    assert net.architecture == CHAIN and len(seen) == 2
