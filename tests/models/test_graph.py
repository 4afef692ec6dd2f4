"""Networks as graphs: wiring checks, shapes per node in run order, merge mismatches named, the version-3 file."""

import json

import pytest
from hypothesis import HealthCheck, given, settings

from models import architecture_file, graph
from models.architecture import Architecture, InputShape
from models.architecture_file import ArchitectureFileError
from models.layers import (AddSpec, BatchNorm2dSpec, ConcatSpec, Conv2dSpec, FlattenSpec, GlobalAvgPool2dSpec,
                           LinearSpec, ReluSpec)
from models.network import Network
from models.presets import PRESET_DIR
from models.shapes import analyze
from tests.models.graph_strategies import graphs


def residual(shortcut_stride: int = 1, shortcut_conv: bool = False) -> Architecture:
    """conv-relu, then a block conv(stride)-bn-relu-conv-bn added to the block's input."""
    layers = [Conv2dSpec(16, 3, padding=1), ReluSpec(),                          # 1, 2
              Conv2dSpec(32, 3, stride=shortcut_stride, padding=1, bias=False),  # 3
              BatchNorm2dSpec(), ReluSpec(), Conv2dSpec(32, 3, padding=1, bias=False), BatchNorm2dSpec()]  # 4-7
    inputs = [None] * 7
    if shortcut_conv:
        layers.append(Conv2dSpec(32, 1, stride=shortcut_stride, bias=False))    # 8: the shortcut
        inputs.append((2,))
        layers.append(AddSpec())                                                 # 9
        inputs.append((7, 8))
    else:
        layers.append(AddSpec())                                                 # 8
        inputs.append((7, 2))
    layers += [ReluSpec(), GlobalAvgPool2dSpec(), LinearSpec(10)]
    inputs += [None, None, None]
    return Architecture("res", InputShape(3, 32, 32), tuple(layers), tuple(inputs))


def test_a_chain_holds_no_wiring_and_its_file_stays_version_1():
    arch = Architecture("c", InputShape(), (Conv2dSpec(4, 3), ReluSpec()), (None, (1,)))
    assert arch.inputs == () and not arch.is_graph
    assert architecture_file.to_dict(arch)["version"] == 1
    assert "inputs" not in architecture_file.dumps(arch)


def test_a_residual_block_with_a_projection_shortcut_adds_up():
    analysis = analyze(residual(2, shortcut_conv=True))
    assert analysis.is_valid, analysis.errors
    add = analysis.layers[8]
    assert add.type == "add" and add.sources == (7, 8)
    assert add.input_shapes == ((32, 16, 16), (32, 16, 16)) and add.output_shape == (32, 16, 16)
    assert add.params == 0 and add.macs == 0
    shortcut = analysis.layers[7]
    assert shortcut.input_shape == (16, 32, 32) and shortcut.params == 16 * 32
    assert analysis.output_shape == (10,)


def test_an_add_mismatch_names_both_branches_their_shapes_and_the_fix():
    error = analyze(residual(2)).first_error
    assert error == ("layer 8 (add): 32x16x16 from layer 7 (batchnorm2d) vs 16x32x32 from layer 2 (relu): use a "
                     "1x1 conv2d with 32 filters and stride 2 on the branch from layer 2 (relu) (the shortcut)")


def test_layers_after_a_failed_merge_have_no_shape_and_no_error():
    analysis = analyze(residual(2))
    assert [la.output_shape is None for la in analysis.layers[7:]] == [True] * 4
    assert [la.error is None for la in analysis.layers[8:]] == [True] * 3


def test_concat_stacks_channels_and_refuses_other_heights():
    layers = (Conv2dSpec(4, 3, padding=1), Conv2dSpec(6, 1), ConcatSpec(), FlattenSpec())
    arch = Architecture("cat", InputShape(3, 8, 8), layers, (None, (0,), (1, 2), None))
    analysis = analyze(arch)
    assert analysis.layers[2].output_shape == (10, 8, 8) and analysis.layers[2].formula == ("channels: 4 + 6 = 10",)
    strided = arch.with_layers((layers[0], Conv2dSpec(6, 1, stride=2)) + layers[2:])
    assert analyze(strided).first_error == (
        "layer 3 (concat): concat stacks channels, so heights and widths must be equal: 6x4x4 from layer 2 "
        "(conv2d) vs 4x8x8 from layer 1 (conv2d); give the branch from layer 1 (conv2d) a stride of 2 (a conv2d "
        "or a 2x2 maxpool2d)")


def test_a_merge_needs_two_inputs_and_a_plain_layer_one():
    arch = Architecture("m", InputShape(1, 4, 4), (ReluSpec(), AddSpec(), ReluSpec()), ((0,), None, (1, 2)))
    errors = analyze(arch).errors
    assert errors[0] == ("layer 2 (add): add joins two or more inputs but reads only layer 1 (relu); name another "
                         "layer in its inputs")
    # layer 3 reads layer 2, which failed: it has no shape and no error of its own
    assert len(errors) == 1


def test_a_single_input_layer_reading_two_is_told_to_merge_them():
    arch = Architecture("m", InputShape(1, 4, 4), (ReluSpec(), ReluSpec()), ((0,), (0, 1)))
    assert analyze(arch).first_error == ("layer 2 (relu): relu takes one input but reads 2 (the input and layer 1 "
                                         "(relu)); join them first with an add or concat layer")


def test_cycles_are_refused_naming_every_layer_on_them():
    arch = Architecture("loop", InputShape(1, 4, 4), (ReluSpec(), AddSpec(), ReluSpec(), ReluSpec()),
                        ((0,), (1, 3), (2,), None))
    errors = analyze(arch).errors
    assert errors[0].startswith("layer 2 (add): it is on a cycle (layer 2 -> layer 3 -> layer 2)")
    assert errors[1].startswith("layer 3 (relu): it is on a cycle")
    assert len(errors) == 2 and graph.order(arch) == (1,)


def test_dangling_inputs_and_dead_ends_are_refused_by_name():
    dangling = Architecture("d", InputShape(1, 4, 4), (ReluSpec(), ReluSpec()), ((0,), (7,)))
    assert ("layer 2 (relu): its inputs name layer 7, which does not exist; name other layers, 1 to 2 (0 for the "
            "network's input)") in analyze(dangling).errors
    itself = Architecture("d", InputShape(1, 4, 4), (ReluSpec(), ReluSpec()), ((0,), (2,)))
    assert analyze(itself).errors[-1].startswith("layer 2 (relu): its inputs name itself;")
    two_outputs = Architecture("o", InputShape(1, 4, 4), (ReluSpec(), ReluSpec(), ReluSpec()), ((0,), (0,), (0,)))
    assert analyze(two_outputs).errors == (
        "layer 1 (relu): its output feeds no other layer, but only the last layer (layer 3) is the network's "
        "output; name layer 1 in a later layer's inputs or delete it",
        "layer 2 (relu): its output feeds no other layer, but only the last layer (layer 3) is the network's "
        "output; name layer 2 in a later layer's inputs or delete it")


def test_layers_listed_before_their_inputs_run_after_them():
    arch = Architecture("late", InputShape(1, 4, 4), (ReluSpec(), Conv2dSpec(2, 1), AddSpec()), ((2,), (0,), (1, 2)))
    analysis = analyze(arch)
    assert analysis.order == (2, 1, 3) and not analysis.errors and analysis.output_shape == (2, 4, 4)
    assert analysis.layers[0].input_shape == (2, 4, 4)


def test_a_graph_is_written_as_version_3_and_read_back_equal(tmp_path):
    arch = residual(2, shortcut_conv=True)
    data = architecture_file.to_dict(arch)
    assert data["version"] == 3
    assert [layer.get("inputs") for layer in data["layers"]][7:9] == [[2], [7, 8]]
    assert "inputs" not in data["layers"][0]
    path = tmp_path / "res.json"
    architecture_file.save(arch, path)
    assert architecture_file.load(path) == arch


@pytest.mark.parametrize("inputs, message", [
    ([12], "layer 2 (relu): field 'inputs': there is no layer 12; the file has 2 layers (numbered from 1; 0 is "
           "the network's input)"),
    ([], "layer 2 (relu): field 'inputs': expected a list of layer numbers such as [3, 8]"),
    (["conv"], "layer 2 (relu): field 'inputs': expected layer numbers, got 'conv'"),
    ([True], "layer 2 (relu): field 'inputs': expected layer numbers, got True"),
])
def test_bad_inputs_in_a_file_are_refused_by_layer(inputs, message):
    text = json.dumps({"format": "convscope.architecture", "version": 3, "name": "x",
                       "input": {"channels": 1, "height": 4, "width": 4},
                       "layers": [{"type": "relu"}, {"type": "relu", "inputs": inputs}]})
    with pytest.raises(ArchitectureFileError, match=None) as info:
        architecture_file.loads(text)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("path", sorted(p for p in PRESET_DIR.glob("*.json")
                                        if json.loads(p.read_text())["version"] in (1, 2)), ids=lambda p: p.name)
def test_every_version_1_or_2_preset_opens_as_the_same_chain(path):
    original = json.loads(path.read_text())
    arch = architecture_file.load(path)
    assert not arch.is_graph and original["version"] in (1, 2)
    data = architecture_file.to_dict(arch)
    assert data["version"] == original["version"] and all("inputs" not in layer for layer in data["layers"])
    assert architecture_file.from_dict(original) == architecture_file.from_dict(data)


def test_editing_a_graph_keeps_its_wiring():
    network = Network(residual(2, shortcut_conv=True))
    network.insert(0, ReluSpec())  # every named number shifts by one
    assert network.architecture.inputs[8:10] == ((3,), (8, 9))
    assert analyze(network.architecture).is_valid
    network.remove(0)
    assert network.architecture == residual(2, shortcut_conv=True)
    network.remove(7)  # the shortcut conv: the add reads what it read
    assert network.architecture.inputs[7] == (7, 2)
    network.set_input(InputShape(3, 64, 64))
    assert network.architecture.is_graph
    network.move(9, 8)  # the global pool before the relu: the wiring follows the layers, not the positions
    assert [la.type for la in analyze(network.architecture).layers][8:10] == ["global_avgpool2d", "relu"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_any_graph_round_trips_through_its_file_and_is_valid(arch):
    assert analyze(arch).is_valid
    text = architecture_file.dumps(arch)
    assert json.loads(text)["version"] == (3 if arch.is_graph else 1)
    assert architecture_file.loads(text) == arch


def test_a_cycle_through_a_thousand_layers_is_found_without_recursion():
    count = 1000
    arch = Architecture("long loop", InputShape(1, 2, 2), tuple(ReluSpec() for _ in range(count)),
                        ((count,),) + (None,) * (count - 1))
    errors = analyze(arch).errors
    assert len(errors) == count
    assert "(layer 1 -> layer 2 -> layer 3 -> layer 4 -> layer 5 -> layer 6 -> ... -> layer 1000 -> layer 1)" in errors[0]
