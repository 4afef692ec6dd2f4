"""Grouped and depthwise convolution: arithmetic, formula text, validation naming the layer, file format."""

import pytest

from models import architecture_file
from models.architecture import Architecture, InputShape
from models.layers import Conv2dSpec, ReluSpec
from models.shapes import analyze


def run(shape, *layers):
    return analyze(Architecture("t", InputShape(*shape), layers))


def test_grouped_conv_counts_in_over_groups_inputs_per_filter():
    # 8 filters, 4 input channels in 2 groups: each filter sees 2 channels -> 8*(4/2*3*3 + 1) = 152.
    la = run((4, 10, 10), Conv2dSpec(8, 3, groups=2)).layers[0]
    assert (la.output_shape, la.weights, la.biases) == ((8, 8, 8), 144, 8)
    assert la.macs == 8 * 8 * 8 * 2 * 3 * 3
    assert la.formula[-1] == "params: 8*(4/2*3*3 + 1) = 152"


def test_depthwise_conv_has_one_filter_per_channel():
    la = run((6, 8, 8), Conv2dSpec(6, 3, padding=1, groups=6, bias=False)).layers[0]
    assert (la.output_shape, la.params, la.macs) == ((6, 8, 8), 54, 6 * 8 * 8 * 9)
    assert la.formula[-1] == "params: 6*(6/6*3*3) = 54"


def test_groups_one_keeps_the_textbook_formula():
    assert run((1, 28, 28), Conv2dSpec(6, 5, padding=2)).layers[0].formula[-1] == "params: 6*(1*5*5 + 1) = 156"


@pytest.mark.parametrize("shape, spec, text", [
    ((3, 8, 8), Conv2dSpec(6, 3, groups=2), "groups 2 must divide both the 3 input channels and the 6 filters"),
    ((4, 8, 8), Conv2dSpec(6, 3, groups=4), "groups 4 must divide both the 4 input channels and the 6 filters"),
])
def test_groups_that_do_not_divide_both_channel_counts_are_an_error_naming_the_layer(shape, spec, text):
    analysis = run(shape, ReluSpec(), spec)
    assert not analysis.is_valid
    assert analysis.first_error.startswith(f"layer 2 (conv2d): {text}")


def test_groups_zero_is_out_of_range():
    assert "groups: 0 is out of range" in run((2, 8, 8), Conv2dSpec(2, 3, groups=0)).first_error


def test_groups_round_trip_and_old_files_without_it_load_as_one():
    arch = Architecture("g", InputShape(4, 8, 8), (Conv2dSpec(8, 3, groups=4),))
    assert architecture_file.loads(architecture_file.dumps(arch)) == arch
    old = ('{"format": "convscope.architecture", "version": 1, "name": "old", '
           '"input": {"channels": 1, "height": 8, "width": 8}, '
           '"layers": [{"type": "conv2d", "out_channels": 2, "kernel_size": 3}]}')
    assert architecture_file.loads(old).layers[0].groups == 1


def test_short_text_shows_groups_only_when_not_one():
    assert Conv2dSpec(6, 5, padding=2).short_text() == "6 @ 5x5, s1, p2"
    assert Conv2dSpec(6, 3, groups=6).short_text() == "6 @ 3x3, s1, p0, g6"
