"""models/receptive_field.py: textbook cases by hand, the rules per kind of layer, and the registry's refusal.

The gradient oracle (the non-zero region of d unit / d input) is in tests/engine/test_receptive_field_gradients.py."""

from dataclasses import dataclass
from typing import ClassVar

import pytest

from models.architecture import Architecture, InputShape
from models.layers import (LAYER_TYPES, AddSpec, AvgPool2dSpec, ConcatSpec, Conv2dSpec, DropoutSpec, FlattenSpec, GlobalAvgPool2dSpec,
                           LayerSpec, LinearSpec, MaxPool2dSpec, ReluSpec, UnsupportedLayerError)
from models.presets import load_preset
from models.receptive_field import RULES, field_between, receptive_fields
from models.shapes import SHAPE_RULES, analyze
from models.summary_table import HEADERS, as_csv, as_markdown


def fields(*layers, size=(16, 16)):
    return receptive_fields(Architecture("t", InputShape(1, *size), tuple(layers)))


def test_two_3x3_convs_of_stride_1_see_5x5():
    first, second = fields(Conv2dSpec(kernel_size=3), Conv2dSpec(kernel_size=3))
    assert (first.receptive_field, first.jump, first.start) == ((3, 3), (1, 1), (1, 1))
    assert (second.receptive_field, second.jump, second.start) == ((5, 5), (1, 1), (2, 2))
    assert second.formula == ("receptive field: 3 + (3 - 1)*1 = 5", "jump: 1*1 = 1", "start: 1 + ((3 - 1)/2 - 0)*1 = 2")


def test_a_3x3_conv_of_stride_2_then_a_3x3_sees_7x7():
    first, second = fields(Conv2dSpec(kernel_size=3, stride=2), Conv2dSpec(kernel_size=3))
    assert (first.receptive_field, first.jump) == ((3, 3), (2, 2))
    # 3 + (3 - 1)*2 = 7; the first unit's field is centred on pixel 1 + 1*2 = 3 (pixels 0..6).
    assert (second.receptive_field, second.jump, second.start) == ((7, 7), (2, 2), (3, 3))
    assert second.unit_box(0, 0) == (0.0, 0.0, 7.0, 7.0) and second.unit_box(1, 2) == (2.0, 4.0, 7.0, 7.0)


def test_padding_moves_the_start_and_even_windows_centre_between_pixels():
    conv, pool = fields(Conv2dSpec(kernel_size=5, padding=2), MaxPool2dSpec(kernel_size=2))
    assert conv.start == (0, 0)  # padding 2 centres the first 5x5 window on pixel 0
    assert (pool.receptive_field, pool.jump, pool.start) == ((6, 6), (2, 2), (0.5, 0.5))
    assert pool.unit_box(0, 0) == (-2.0, -2.0, 6.0, 6.0)  # theoretical: two pixels of it are padding
    assert pool.as_json() == {"receptive_field": [6, 6], "jump": [2, 2], "start": [0.5, 0.5]}


def test_same_padding_uses_the_padding_the_shape_rules_compute():
    # ceil(7 / 2) = 4 outputs of a 4-wide window: total padding (4 - 1)*2 + 4 - 7 = 3, 1 before and 2 after.
    (conv,) = fields(Conv2dSpec(kernel_size=4, stride=2, padding="same"), size=(7, 7))
    assert conv.start == (0.5, 0.5)  # 0 + ((4 - 1)/2 - 1)*1
    assert conv.receptive_field == (4, 4) and conv.jump == (2, 2)


def test_rectangular_kernels_and_strides_give_one_line_per_axis():
    (conv,) = fields(Conv2dSpec(kernel_size=(3, 5), stride=(1, 2)))
    assert (conv.receptive_field, conv.jump, conv.start) == ((3, 5), (1, 2), (1, 2))
    assert "receptive field H: 1 + (3 - 1)*1 = 3" in conv.formula and "jump W: 1*2 = 2" in conv.formula


def test_elementwise_layers_keep_the_field_and_dense_layers_see_everything():
    layers = fields(Conv2dSpec(kernel_size=3), ReluSpec(), AvgPool2dSpec(kernel_size=2), DropoutSpec(), FlattenSpec(),
                    LinearSpec(out_features=4), ReluSpec(), LinearSpec(out_features=2), size=(10, 12))
    conv, relu, pool, dropout, flatten, linear, relu2, out = layers
    assert (relu.receptive_field, relu.jump, relu.start) == (conv.receptive_field, conv.jump, conv.start)
    assert (dropout.receptive_field, dropout.jump, dropout.start) == ((4, 4), (2, 2), (1.5, 1.5))
    # A flattened unit is one unit of the maps: its field, without a grid.
    assert (flatten.receptive_field, flatten.jump, flatten.start, flatten.whole) == ((4, 4), None, None, False)
    for layer in (linear, relu2, out):
        assert (layer.receptive_field, layer.jump, layer.start, layer.whole) == ((10, 12), None, None, True)
        assert layer.text() == "10x12 (all)" and layer.as_json() == {"receptive_field": [10, 12], "jump": None,
                                                                   "start": None}
    with pytest.raises(ValueError, match="no place on the input"):
        flatten.unit_box(0, 0)


def test_global_pooling_sees_the_whole_input_and_so_does_every_layer_after_it():
    gap, flatten, linear = fields(Conv2dSpec(kernel_size=3), GlobalAvgPool2dSpec(), FlattenSpec(),
                                  LinearSpec(out_features=3))[1:]
    assert all(f.receptive_field == (16, 16) and f.jump is None and f.whole for f in (gap, flatten, linear))


def test_a_layer_with_an_error_and_the_layers_after_it_are_unknown():
    conv, bad, after = fields(Conv2dSpec(kernel_size=3), Conv2dSpec(kernel_size=30), ReluSpec())
    assert conv.receptive_field == (3, 3)
    assert bad.receptive_field is None and after.receptive_field is None and bad.text() == "?"
    assert bad.as_json() == {"receptive_field": None, "jump": None, "start": None}


def test_theoretical_fields_are_not_clipped_at_the_input():
    deep = fields(*[Conv2dSpec(kernel_size=3)] * 3, size=(7, 7))
    assert deep[-1].receptive_field == (7, 7)
    lenet = receptive_fields(load_preset("lenet5"))
    assert [f.receptive_field[0] for f in lenet[:6]] == [5, 5, 6, 14, 14, 16]
    assert lenet[5].start == (5.5, 5.5) and lenet[5].jump == (4, 4)


@pytest.mark.parametrize("key", sorted(LAYER_TYPES))
def test_every_layer_type_has_a_rule(key):
    assert LAYER_TYPES[key] in RULES, f"{key}: no receptive-field rule in models/receptive_field.py (RULES)"


@dataclass(frozen=True)
class UpsampleSpec(LayerSpec):
    TYPE: ClassVar[str] = "upsample"


def test_a_type_without_a_rule_is_refused_by_name(monkeypatch):
    monkeypatch.setitem(SHAPE_RULES, UpsampleSpec, SHAPE_RULES[ReluSpec])
    with pytest.raises(UnsupportedLayerError, match=r"^no receptive-field rule for layer type 'upsample' "
                                                    r"\(UpsampleSpec\); register one in models/receptive_field\.py"):
        fields(UpsampleSpec())


def test_the_summary_table_ends_with_the_field_only_when_given_it():
    arch = Architecture("t", InputShape(1, 9, 9), (Conv2dSpec(kernel_size=3, stride=2), Conv2dSpec(kernel_size=3)))
    analysis = analyze(arch)
    with_fields = as_csv(analysis, receptive_fields(arch, analysis)).splitlines()
    assert with_fields[0].split(",")[-1] == "Receptive field"
    assert [line.split(",")[-1] for line in with_fields[1:4]] == ["1x1", "3x3", "7x7"]
    assert as_csv(analysis).splitlines()[0].split(",") == list(HEADERS)  # the builder's table and exports as before
    assert as_markdown(analysis, receptive_fields(arch)).splitlines()[4].endswith("| 7x7 |")


def test_a_units_field_on_an_earlier_layers_maps():
    """LeNet-5's second conv (layer 4) on the first pooling's 14x14 maps: its own 5x5 window (valid: the first
    centred on 2); on the first conv's 28x28 maps: 2 + (5 - 1)*2 = 10, jump 2, first centre 0.5 + 2*2 = 4.5."""
    lenet = load_preset("lenet5")
    analysis = analyze(lenet)
    on_pool = field_between(lenet, analysis, 3, 4)
    assert (on_pool.receptive_field, on_pool.jump, on_pool.start) == ((5, 5), (1, 1), (2, 2))
    on_conv = field_between(lenet, analysis, 1, 4)
    assert (on_conv.receptive_field, on_conv.jump, on_conv.start) == ((10, 10), (2, 2), (4.5, 4.5))
    assert on_conv.unit_box(2, 3) == (4.0, 6.0, 10.0, 10.0)
    assert field_between(lenet, analysis, 4, 4).unit_box(2, 3) == (2.0, 3.0, 1.0, 1.0)
    assert field_between(lenet, analysis, 1, 8) is None and field_between(lenet, analysis, 7, 8) is None
    with pytest.raises(ValueError, match="lower <= upper"):
        field_between(lenet, analysis, 4, 3)


def graph(layers, inputs, size=(12, 12)):
    arch = Architecture("g", InputShape(1, *size), tuple(layers), tuple(inputs))
    return arch, analyze(arch), receptive_fields(arch)


def test_an_add_of_branches_on_different_grids_is_unknown_and_says_why():
    """8x8 -> a 1x1 conv of stride 2 (jump 2) and a 2x2 pool (jump 2) agree; a 4x4 conv of stride 1 on 7x7
    (jump 1) and a 1x1 of stride 2 (jump 2) both give 4x4 maps, but unit i sees pixels i..i+3 and 2i: no one field."""
    _, _, (a, b, add, after) = graph([Conv2dSpec(kernel_size=4), Conv2dSpec(kernel_size=1, stride=2), AddSpec(),
                                      ReluSpec()], [None, (0,), (1, 2), None], size=(7, 7))
    assert a.jump == (1, 1) and b.jump == (2, 2)
    assert add.receptive_field is None and add.text() == "?" and "different grids (jumps 1x1, 2x2)" in add.formula[0]
    assert after.receptive_field is None


def test_a_concat_of_vectors_takes_the_largest_field_without_a_grid():
    _, _, fields_ = graph([Conv2dSpec(kernel_size=3), FlattenSpec(), Conv2dSpec(kernel_size=5, padding=1),
                           FlattenSpec(), ConcatSpec(), LinearSpec(out_features=2)],
                          [None, None, (0,), None, (2, 4), None])
    concat, linear = fields_[4:]
    assert (concat.receptive_field, concat.jump, concat.whole) == ((5, 5), None, False)
    assert linear.whole and linear.receptive_field == (12, 12)


def test_a_units_field_on_a_branchs_maps_and_none_across_a_shortcut():
    """Input -> conv 3x3 (1) -> conv 3x3 (2), add (3) of 2 and the input, conv 3x3 (4). On layer 1's maps layer 2
    sees 3x3; the add also reads the input around layer 1, so it has no field on layer 1's maps; layer 4 on the
    add's maps: 3x3."""
    arch, analysis, _ = graph([Conv2dSpec(kernel_size=3, padding=1), Conv2dSpec(out_channels=1, kernel_size=3,
                                                                                padding=1),
                               AddSpec(), Conv2dSpec(kernel_size=3)], [None, None, (2, 0), None])
    assert analysis.is_valid
    assert field_between(arch, analysis, 1, 2).receptive_field == (3, 3)
    assert field_between(arch, analysis, 1, 3) is None and field_between(arch, analysis, 1, 4) is None
    assert field_between(arch, analysis, 3, 4).receptive_field == (3, 3)
