"""The connectivity experiment: fully connected vs locally connected vs convolution, and the built-in "sharing"."""

import pytest

from models.architecture import Architecture, InputShape
from models.experiment import ExperimentError, from_dict, load, variant
from models.layers import Conv2dSpec, FlattenSpec, LinearSpec, LocallyConnected2dSpec, ReluSpec
from models.presets import load_preset
from models.shapes import analyze


def test_the_built_in_sharing_experiment_shows_the_decks_counts_in_its_labels():
    spec = load("sharing")
    variants = spec.variants()
    assert [v.label for v in variants] == ["fully connected: first layer 452,160 params",
                                           "locally connected: first layer 14,976 params",
                                           "convolution: first layer 26 params"]
    first = [v.architecture.layers[0] for v in variants]
    assert first[1] == LocallyConnected2dSpec(1, 5) and first[2] == Conv2dSpec(1, 5)
    assert variants[0].architecture.layers[:2] == (FlattenSpec(), LinearSpec(576))  # 784 pixels -> 576 values
    analyses = [analyze(v.architecture) for v in variants]
    # The same head sees the same 576 values in every variant: only the first layer's connectivity differs.
    assert {a.layers[-1].params for a in analyses} == {576 * 10 + 10}
    assert [a.total_params - 5_770 for a in analyses] == [784 * 576 + 576, 14_976, 26]
    assert spec.training["dataset"] == "mnist" and spec.training["epochs"] <= 5


def test_locally_connected_back_to_convolution_keeps_the_window():
    base = Architecture("b", InputShape(3, 16, 16), (LocallyConnected2dSpec(4, 3, stride=2, padding="same"),
                                                    ReluSpec(), FlattenSpec(), LinearSpec(10)))
    conv = variant(base, "connectivity", "convolution").architecture.layers[0]
    assert conv == Conv2dSpec(4, 3, stride=2, padding="same")
    assert variant(base, "connectivity", "locally_connected").architecture.layers == base.layers


def test_fully_connected_before_a_spatial_layer_is_refused_by_variant_name():
    data = {"format": "convscope.experiment", "version": 1, "name": "x", "base": {
        "format": "convscope.architecture", "version": 1, "name": "n",
        "input": {"channels": 1, "height": 12, "width": 12},
        "layers": [{"type": "conv2d", "out_channels": 2, "kernel_size": 3}, {"type": "maxpool2d", "kernel_size": 2},
                   {"type": "flatten"}, {"type": "linear", "out_features": 10}]},
        "vary": {"what": "connectivity", "values": ["convolution", "fully_connected"]}}
    with pytest.raises(ExperimentError, match='the variant "fully connected: first layer .*" is not a valid network: '
                                              r"layer 3 \(maxpool2d\)"):
        from_dict(data)
    data["vary"]["values"] = ["shared"]
    with pytest.raises(ExperimentError, match="is not a connectivity value; use fully_connected, locally_connected"):
        from_dict(data)


def test_a_deeper_networks_later_convs_follow_the_first():
    base = load_preset("lenet5")
    fc = variant(base, "connectivity", "fully_connected").architecture
    assert not analyze(fc).is_valid  # pooling after the first conv needs images: refused, never silently changed
    lc = variant(base, "connectivity", "locally_connected").architecture
    assert [isinstance(s, LocallyConnected2dSpec) for s in lc.layers] == [isinstance(s, Conv2dSpec) for s in base.layers]
    assert [s for s in lc.layers if not isinstance(s, LocallyConnected2dSpec)] == \
        [s for s in base.layers if not isinstance(s, Conv2dSpec)]
    assert analyze(lc).output_shape == analyze(base).output_shape
