"""Shape arithmetic against the course's worked examples, computed by hand from the formula."""

import pytest

from models.architecture import Architecture, InputShape
from models.layers import (AvgPool2dSpec, BatchNorm2dSpec, Conv2dSpec, DropoutSpec, FlattenSpec,
                           GlobalAvgPool2dSpec, LinearSpec, MaxPool2dSpec, ReluSpec, SoftmaxSpec)
from models.presets import load_preset
from models.shapes import analyze, same_padding


def run(shape, *layers):
    return analyze(Architecture("t", InputShape(*shape), tuple(layers)))


def test_sixteen_3x3_filters_on_rgb_32x32_have_448_parameters():
    la = run((3, 32, 32), Conv2dSpec(16, 3)).layers[0]
    assert (la.weights, la.biases, la.params) == (16 * 3 * 3 * 3, 16, 448)
    assert la.output_shape == (16, 30, 30)


def test_ten_5x5_filters_stride_1_pad_2_keep_32x32_with_760_parameters():
    la = run((3, 32, 32), Conv2dSpec(10, 5, 1, 2)).layers[0]
    assert la.output_shape == (10, 32, 32)
    assert la.params == 760
    assert la.formula[0] == "H, W: (32 + 2*2 - 5)/1 + 1 = 32"
    assert la.formula[1] == "params: 10*(3*5*5 + 1) = 760"


@pytest.mark.parametrize("n, f, s, p, expected", [
    (6, 3, 1, 0, 4),      # valid convolution: n - f + 1
    (6, 3, 1, 1, 6),      # same with p = (f - 1) / 2
    (7, 3, 2, 0, 3),      # stride 2
    (39, 3, 1, 0, 37),    # the three-layer example: 39 -> 37 -> 17 -> 7
    (37, 5, 2, 0, 17),
    (17, 5, 2, 0, 7),
    (28, 5, 1, 2, 28),
    (5, 3, 1, 0, 3),
])
def test_output_size_is_floor_of_n_plus_2p_minus_f_over_s_plus_1(n, f, s, p, expected):
    la = run((1, n, n), Conv2dSpec(1, f, s, p)).layers[0]
    assert la.output_shape[1:] == (expected, expected)
    assert expected == (n + 2 * p - f) // s + 1


def test_formula_shows_floor_when_the_division_is_not_exact_and_warns_about_unused_pixels():
    analysis = run((1, 7, 7), Conv2dSpec(1, 3, 3))
    la = analysis.layers[0]
    assert la.output_shape == (1, 2, 2)
    assert la.formula[0] == "H, W: floor((7 + 2*0 - 3)/3) + 1 = 2"
    assert "never reach the last 1 row(s) and 1 column(s)" in la.warnings[0]
    assert analysis.warnings[0].startswith("layer 1 (conv2d): ")


def test_exact_stride_gives_no_warning():
    assert run((1, 7, 7), Conv2dSpec(1, 3, 2)).layers[0].warnings == ()


@pytest.mark.parametrize("n, f, s", [(28, 3, 1), (28, 3, 2), (28, 2, 2), (7, 3, 2), (13, 4, 3), (5, 5, 1)])
def test_same_padding_gives_ceil_n_over_s_for_any_stride(n, f, s):
    la = run((1, n, n), Conv2dSpec(4, f, s, "same")).layers[0]
    expected = -(-n // s)
    assert la.output_shape == (4, expected, expected)
    top, bottom, left, right = la.padding
    assert (n + top + bottom - f) // s + 1 == expected
    assert bottom - top in (0, 1)  # the extra zero goes after, as in Keras


def test_same_padding_with_stride_two_is_asymmetric():
    assert same_padding(28, 3, 2) == (0, 1)
    assert same_padding(28, 3, 1) == (1, 1)


def test_valid_padding_means_none():
    assert run((1, 6, 6), Conv2dSpec(1, 3, 1, "valid")).layers[0].output_shape == (1, 4, 4)


def test_non_square_kernel_stride_and_padding():
    la = run((2, 10, 20), Conv2dSpec(3, (3, 5), (1, 2), (1, 0))).layers[0]
    assert la.output_shape == (3, 10, 8)
    assert la.formula == ("H: (10 + 2*1 - 3)/1 + 1 = 10", "W: floor((20 + 2*0 - 5)/2) + 1 = 8",
                          "params: 3*(2*3*5 + 1) = 93")


def test_max_pooling_has_no_parameters_and_stride_defaults_to_kernel():
    la = run((6, 28, 28), MaxPool2dSpec(2)).layers[0]
    assert la.output_shape == (6, 14, 14)
    assert la.params == 0
    assert run((1, 5, 5), MaxPool2dSpec(3, 1)).layers[0].output_shape == (1, 3, 3)
    assert run((1, 5, 5), AvgPool2dSpec(3, 1, 1)).layers[0].output_shape == (1, 5, 5)


def test_one_by_one_convolution_shrinks_channels_only():
    la = run((192, 28, 28), Conv2dSpec(32, 1)).layers[0]
    assert la.output_shape == (32, 28, 28)
    assert la.params == 192 * 32 + 32
    assert la.macs == 28 * 28 * 32 * 192


def test_global_average_pooling_gives_one_number_per_channel():
    analysis = run((1, 8, 8), Conv2dSpec(10, 1), GlobalAvgPool2dSpec())
    assert analysis.layers[1].output_shape == (10,)
    assert analysis.warnings == ()


def test_lenet5_parameter_table():
    analysis = analyze(load_preset("lenet5"))
    table = [(la.type, la.output_shape, la.params) for la in analysis.layers if la.params or la.type == "maxpool2d"]
    assert table == [("conv2d", (6, 28, 28), 156), ("maxpool2d", (6, 14, 14), 0),
                     ("conv2d", (16, 10, 10), 2416), ("maxpool2d", (16, 5, 5), 0),
                     ("linear", (120,), 48120), ("linear", (84,), 10164), ("linear", (10,), 850)]
    assert analysis.total_params == 61706
    conv1 = analysis.layers[0]
    assert conv1.macs == 28 * 28 * 6 * 5 * 5
    assert conv1.activation_size == 4704


def test_linear_and_batchnorm_counts():
    analysis = run((16, 5, 5), BatchNorm2dSpec(), FlattenSpec(), LinearSpec(120, bias=False), DropoutSpec(),
                   ReluSpec(), LinearSpec(10))
    bn, flat, fc1, _, _, fc2 = analysis.layers
    assert (bn.weights, bn.biases) == (16, 16)
    assert flat.output_shape == (400,) and flat.formula == ("16 * 5 * 5 = 400",)
    assert (fc1.weights, fc1.biases, fc1.macs) == (48000, 0, 48000)
    assert fc2.params == 1210


@pytest.mark.parametrize("shape, layers, fragment", [
    ((1, 3, 3), (Conv2dSpec(1, 5),), "the 5x5 kernel is larger than its 3x3 input"),
    ((1, 4, 4), (Conv2dSpec(1, 7, 1, 1),), "larger than its 4x4 input (6x6 with padding)"),
    ((1, 28, 28), (LinearSpec(10),), "insert a flatten"),
    ((1, 28, 28), (FlattenSpec(), Conv2dSpec(4, 3)), "move it before the flatten"),
    ((1, 28, 28), (FlattenSpec(), BatchNorm2dSpec()), "needs a (channels, height, width) input"),
    ((1, 28, 28), (Conv2dSpec(0, 3),), "out_channels: 0 is out of range"),
    ((1, 28, 28), (MaxPool2dSpec(2, 2, 2),), "more than half"),
    ((1, 28, 28), (DropoutSpec(1.5),), "p: 1.5 is out of range"),
    ((0, 28, 28), (ReluSpec(),), "channels must be at least 1"),
])
def test_errors_name_the_layer_and_say_what_to_change(shape, layers, fragment):
    analysis = run(shape, ReluSpec(), *layers)
    assert not analysis.is_valid
    message = analysis.first_error
    assert fragment in message
    failing = next(la for la in analysis.layers if la.error)
    assert message.startswith(f"layer {failing.index} ({failing.type}): ")


def test_layers_after_an_error_have_no_shape():
    analysis = run((1, 3, 3), Conv2dSpec(1, 5), ReluSpec())
    assert analysis.layers[1].output_shape is None and analysis.layers[1].error is None
    assert len(analysis.errors) == 1


def test_softmax_that_is_not_last_is_flagged():
    analysis = run((1, 4, 4), FlattenSpec(), SoftmaxSpec(), LinearSpec(3))
    assert any("softmax is not the last layer" in w for w in analysis.warnings)
    assert not any("softmax" in w for w in run((1, 4, 4), FlattenSpec(), LinearSpec(3), SoftmaxSpec()).warnings)


def test_network_ending_in_feature_maps_is_flagged():
    assert any("not a vector of class scores" in w for w in run((1, 4, 4), Conv2dSpec(2, 3)).warnings)


def test_empty_network_is_not_valid():
    assert not run((1, 4, 4)).is_valid
