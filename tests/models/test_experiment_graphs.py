"""Experiments on graphs: variants keep a graph base's wiring (ResNet-20's shortcuts), a variation the wiring cannot
take is refused by name, and the built-in plain-vs-residual experiment compares two presets."""

import json

import pytest

from models import architecture_file, graph
from models.experiment import EXPERIMENT_DIR, ExperimentError, from_dict, load
from models.layers import AddSpec, BatchNorm2dSpec, Conv2dSpec, EluSpec, ReluSpec
from models.presets import load_preset
from models.shapes import analyze

RESNET = load_preset("resnet20")


def spec(what, values, base=RESNET):
    return {"format": "convscope.experiment", "version": 1, "name": "t", "base": architecture_file.to_dict(base),
            "vary": {"what": what, "values": values}}


def adds(arch):
    """Each add's inputs, as the types of the layers they are: the shortcuts' shape of the network."""
    return [tuple(arch.layers[s - 1].TYPE for s in srcs) for spec, srcs in zip(arch.layers, graph.sources(arch))
            if isinstance(spec, AddSpec)]


def test_an_activation_variant_of_resnet20_keeps_every_shortcut():
    elu = from_dict(spec("activation", ["elu"])).variants()[0].architecture
    assert elu.inputs == RESNET.inputs and [tuple(t.replace("elu", "relu") for t in a) for a in adds(elu)] == adds(RESNET)
    assert not any(isinstance(s, ReluSpec) for s in elu.layers) and sum(isinstance(s, EluSpec) for s in elu.layers) == 19
    assert analyze(elu).total_params == analyze(RESNET).total_params


def test_batchnorm_off_and_on_rewire_the_shortcuts_through_the_change():
    off, on = (v.architecture for v in from_dict(spec("batchnorm", [False, True])).variants())
    # Without batch norm each add reads the conv that fed its batch norm: the branch's conv and the input of the
    # block (or the 1x1 projection conv).
    assert len(off.layers) == len(RESNET.layers) - 21 and analyze(off).is_valid
    assert [a for a in adds(off) if "conv2d" in a[1:]] == [("conv2d", "conv2d")] * 2
    assert all(a[0] == "conv2d" for a in adds(off))
    # Batch norm back after every conv, on every path the conv's output takes: the network we started from.
    assert on.layers == RESNET.layers and on.inputs == RESNET.inputs
    assert analyze(on).total_params == analyze(RESNET).total_params
    assert not any(analyze(on).layers[n - 1].error for n in range(1, len(on.layers) + 1))


def test_a_chains_variants_stay_chains():
    drop = from_dict({**spec("dropout", [True], load_preset("lenet5"))}).variants()[0].architecture
    assert not drop.is_graph and not drop.inputs


def test_a_variation_the_wiring_cannot_take_is_refused_by_name():
    """Kernel 5 with ResNet-20's padding 1 shrinks the maps by 2 per conv (32 -> 30 -> 28 -> 26): the first block's
    add would join 26x26 maps with its shortcut's 30x30, and the message names the add and both branches."""
    with pytest.raises(ExperimentError, match=r'the variant "kernel_size 5" is not a valid network: layer 9 \(add\): '
                                              r"16x26x26 from layer 8 \(batchnorm2d\) vs 16x30x30 from layer 3 \(relu\)"):
        from_dict(spec("kernel_size", [5]))


def test_the_built_in_plain_vs_residual_experiment_compares_the_two_presets():
    experiment = load("plain-vs-residual")
    plain, residual = experiment.variants()
    assert experiment.what == "network" and experiment.training["dataset"] == "shapes-rgb"
    assert (plain.label, residual.label) == ("network plain20", "network resnet20")
    assert residual.architecture == RESNET and not plain.architecture.is_graph
    projections = {n for n, spec in enumerate(RESNET.layers, start=1) if isinstance(spec, Conv2dSpec)
                   and spec.kernel_size == 1}
    shortcuts = projections | {n + 1 for n in projections}  # each 1x1 conv and the batch norm after it
    assert all(isinstance(RESNET.layers[n], BatchNorm2dSpec) for n in projections)
    rows = analyze(RESNET).layers
    shortcut_params = sum(rows[n - 1].params for n in shortcuts)
    assert shortcut_params == 16 * 32 + 2 * 32 + 32 * 64 + 2 * 64  # two 1x1 convs without biases, their batch norms
    assert analyze(plain.architecture).total_params == 272_474 - shortcut_params == 269_722
    # Plain-20 is ResNet-20's layers in the same order with the adds and the projections taken out.
    assert plain.architecture.layers == tuple(spec for n, spec in enumerate(RESNET.layers, start=1)
                                              if n not in shortcuts and not isinstance(spec, AddSpec))
    assert sum(isinstance(s, Conv2dSpec) for s in plain.architecture.layers) == 19
    assert sum(isinstance(s, BatchNorm2dSpec) for s in plain.architecture.layers) == 19


@pytest.mark.parametrize("changes, words", [
    ({"base": architecture_file.to_dict(RESNET)}, 'field "base": a "network" experiment compares the presets'),
    ({"vary": {"what": "network", "values": ["resnet21"]}}, "'resnet21' is not a network value; use preset names"),
])
def test_a_network_experiment_names_what_is_wrong(changes, words):
    data = {**json.loads((EXPERIMENT_DIR / "plain-vs-residual.json").read_text()), **changes}
    with pytest.raises(ExperimentError) as info:
        from_dict(data)
    assert words in str(info.value)


def test_a_plan_that_removes_a_merge_is_refused_naming_it():
    """No variation removes an add today; the wiring step refuses one by name rather than guess which input its
    readers should read."""
    from models.experiment import _rewired

    plan = [[] if isinstance(spec, AddSpec) else [spec] for spec in RESNET.layers]
    with pytest.raises(ExperimentError, match=r'the variant "no adds" removes layer 9 \(add\), which joins 2 inputs'):
        _rewired(RESNET, plan, "no adds")
