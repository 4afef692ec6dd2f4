"""Undo commands against a bare Network: each redo/undo pair restores the document exactly."""

from __future__ import annotations

from PySide6.QtGui import QUndoStack

from gui.builder.network_editor import NetworkEditor
from models.architecture import InputShape
from models.layers import Conv2dSpec, ReluSpec
from models.network import Network
from models.presets import load_preset

LENET = load_preset("lenet5")


def editor(qtbot) -> NetworkEditor:
    return NetworkEditor(Network(LENET), QUndoStack())


def test_each_command_undoes_and_redoes(qtbot):
    ed = editor(qtbot)
    network, stack = ed.network, ed.undo_stack
    ed.insert_new(3, "dropout")
    ed.remove(0)
    ed.move_to_gap(0, 4)
    ed.replace(2, Conv2dSpec(out_channels=3))
    after = network.architecture
    assert stack.count() == 4
    stack.setIndex(0)
    assert network.architecture == LENET
    stack.setIndex(4)
    assert network.architecture == after


def test_replace_merges_only_with_the_same_key(qtbot):
    ed = editor(qtbot)
    first = ed.network.layers[0]
    for channels in (7, 8, 9):
        ed.replace(0, first.replace(out_channels=channels), merge_key=(0, "out_channels", 1))
    assert ed.undo_stack.count() == 1
    ed.replace(0, ed.network.layers[0].replace(out_channels=4), merge_key=(0, "out_channels", 2))
    ed.replace(0, ed.network.layers[0].replace(bias=False))  # no key: never merges
    assert ed.undo_stack.count() == 3
    ed.undo_stack.setIndex(0)
    assert ed.network.layers[0] == first


def test_replace_with_an_equal_spec_pushes_nothing(qtbot):
    ed = editor(qtbot)
    ed.replace(1, ReluSpec())
    assert ed.undo_stack.count() == 0


def test_set_architecture_keeps_the_dataset_input_both_ways(qtbot):
    ed = editor(qtbot)
    ed.input_follows_dataset = True
    tiny = load_preset("tiny_vgg")
    ed.set_architecture(tiny, "preset")
    assert ed.network.layers == tiny.layers and ed.network.architecture.input == InputShape(1, 28, 28)
    ed.network.set_input(InputShape(1, 32, 32))  # the dataset changed meanwhile
    ed.undo_stack.undo()
    assert ed.network.layers == LENET.layers and ed.network.architecture.input == InputShape(1, 32, 32)


def test_move_to_gap_maps_gaps_to_destinations(qtbot):
    ed = editor(qtbot)
    layers = list(LENET.layers)
    assert ed.move_to_gap(0, 2)  # below the next layer: ends up at index 1
    assert list(ed.network.layers) == [layers[1], layers[0]] + layers[2:]
    assert not ed.move_to_gap(1, 1) and not ed.move_to_gap(1, 2)  # its own gaps
    assert ed.move_to_gap(11, 0)
    assert ed.network.layers[0] == layers[11]
