"""Experiment specs: each kind of variation builds the expected networks; bad specs name the field."""

import copy
import json

import pytest

from models import architecture_file
from models.experiment import ExperimentError, from_dict, load
from models.layers import BatchNorm2dSpec, Conv2dSpec, DropoutSpec, TanhSpec
from models.presets import load_preset, preset_path
from models.shapes import analyze

LENET = architecture_file.to_dict(load_preset("lenet5"))


def spec(what, values, **extra):
    return {"format": "convscope.experiment", "version": 1, "name": "t", "base": copy.deepcopy(LENET),
            "vary": {"what": what, "values": values}, **extra}


def types(arch):
    return [s.TYPE for s in arch.layers]


def test_pooling_variants():
    none, avg, maxp, strided = (v.architecture for v in from_dict(spec("pooling", ["none", "avg", "max",
                                                                                   "strided_conv"])).variants())
    assert "maxpool2d" not in types(none) and "avgpool2d" not in types(none)
    assert analyze(none).total_params > analyze(maxp).total_params  # larger maps into the first linear layer
    assert types(avg).count("avgpool2d") == 2 and types(maxp).count("maxpool2d") == 2
    pools = [s for s in strided.layers if isinstance(s, Conv2dSpec) and s.stride == 2]
    assert [(p.out_channels, p.kernel_size) for p in pools] == [(6, 2), (16, 2)]
    assert analyze(strided).output_shape == analyze(maxp).output_shape == (10,)


def test_activation_kernel_batchnorm_dropout_and_training_variants():
    tanh = from_dict(spec("activation", ["tanh"])).variants()[0].architecture
    assert all(not s.TYPE == "relu" for s in tanh.layers) and sum(isinstance(s, TanhSpec) for s in tanh.layers) == 4
    k3 = from_dict(spec("kernel_size", [3])).variants()[0].architecture
    assert [s.kernel_size for s in k3.layers if isinstance(s, Conv2dSpec)] == [3, 3]
    on, off = (v.architecture for v in from_dict(spec("batchnorm", [True, False])).variants())
    assert [type(on.layers[i + 1]) for i, s in enumerate(on.layers) if isinstance(s, Conv2dSpec)] == [BatchNorm2dSpec] * 2
    assert not any(isinstance(s, BatchNorm2dSpec) for s in off.layers)
    drop = from_dict(spec("dropout", [True])).variants()[0].architecture
    assert sum(isinstance(s, DropoutSpec) for s in drop.layers) == 2  # before the 2nd and 3rd linear layers
    sgd, adam = from_dict(spec("optimizer", ["sgd", "adam"])).variants()
    assert sgd.training == {"optimizer": "sgd"} and sgd.architecture.layers == load_preset("lenet5").layers
    lr = from_dict(spec("learning_rate", [0.01, 0.001])).variants()
    assert [v.training for v in lr] == [{"learning_rate": 0.01}, {"learning_rate": 0.001}]
    assert [v.label for v in lr] == ["learning_rate 0.01", "learning_rate 0.001"]


@pytest.mark.parametrize("changes, words", [
    ({"format": "x"}, 'expected "format": "convscope.experiment"'),
    ({"vary": {"what": "colour", "values": [1]}}, 'field "vary"."what": expected one of pooling'),
    ({"vary": {"what": "pooling", "values": ["max", "min"]}}, 'field "vary"."values"[1]: \'min\' is not a pooling'),
    ({"vary": {"what": "pooling", "values": ["max", "max"]}}, "appears twice"),
    ({"vary": {"what": "kernel_size", "values": [29]}}, 'the variant "kernel_size 29" is not a valid network'),
    ({"seeds": [-1]}, 'field "seeds"'),
    ({"base": "missing.json"}, 'field "base": '),
    ({"training": []}, 'field "training"'),
    ({"extra": 1}, "unknown field 'extra'"),
])
def test_bad_specs_name_the_field(changes, words):
    with pytest.raises(ExperimentError) as info:
        from_dict({**spec("pooling", ["max"]), **changes})
    assert words in str(info.value) and "\n" not in str(info.value)


def test_built_in_pooling_comparison_and_a_base_path_relative_to_the_spec(tmp_path):
    built_in = load("pooling-comparison")
    assert built_in.values == ("none", "avg", "max") and built_in.base == load_preset("lenet5")
    (tmp_path / "nets").mkdir()
    (tmp_path / "nets" / "net.json").write_text(preset_path("keras_mnist").read_text())
    path = tmp_path / "spec.json"
    path.write_text(json.dumps({**spec("dropout", [True, False]), "base": "nets/net.json"}))
    assert load(path).base == load_preset("keras_mnist")
    with pytest.raises(ExperimentError, match="built-in experiments: pooling-comparison"):
        load("pooling")
