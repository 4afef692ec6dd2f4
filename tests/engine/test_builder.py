"""The torch builder against the shape arithmetic: real forward shapes and parameter counts must agree."""

import pytest
import torch
from hypothesis import HealthCheck, given, settings

from engine.network.builder import BuildError, build_model
from models.architecture import Architecture, InputShape
from models.layers import Conv2dSpec, FlattenSpec, LinearSpec, MaxPool2dSpec, SoftmaxSpec
from models.presets import PRESET_KEYS, load_preset
from models.shapes import analyze
from tests.models.strategies import architectures, valid_prefix


def assert_matches_torch(arch):
    analysis = analyze(arch)
    model = build_model(arch, analysis).eval()
    x = torch.randn(2, *arch.input.as_tuple())
    for layer, la in zip(model, analysis.layers):
        x = layer(x)
        assert tuple(x.shape[1:]) == la.output_shape, la.label
        params = [p for p in layer.parameters()]
        assert sum(p.numel() for p in params) == la.params, la.label
        if params:
            assert params[0].numel() == la.weights, la.label
    assert sum(p.numel() for p in model.parameters()) == analysis.total_params


@pytest.mark.parametrize("key", PRESET_KEYS)
def test_every_preset_builds_with_the_inferred_shapes_and_parameter_counts(key):
    from tests.engine.test_graph_builder import assert_graph_matches_torch  # node by node, for a graph's presets

    arch = load_preset(key)
    (assert_graph_matches_torch if arch.is_graph else assert_matches_torch)(arch)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(architectures())
def test_generated_architectures_match_torch_up_to_their_first_error(arch):
    prefix = valid_prefix(arch)
    if prefix is not None:
        assert_matches_torch(prefix)


def test_same_padding_with_stride_two_builds_asymmetric_padding_and_torch_agrees():
    arch = Architecture("s", InputShape(1, 28, 28), (Conv2dSpec(4, 3, 2, "same"),))
    model = build_model(arch)
    assert model(torch.zeros(1, 1, 28, 28)).shape == (1, 4, 14, 14)
    # Equivalent to padding one zero row/column after (bottom/right) only, as in Keras/TensorFlow.
    x = torch.randn(1, 1, 28, 28)
    padded = torch.nn.functional.pad(x, (0, 1, 0, 1))
    reference = torch.nn.functional.conv2d(padded, model[0].weight, model[0].bias, stride=2)
    torch.testing.assert_close(model(x), reference)


def test_state_dict_keys_follow_layer_positions():
    keys = list(build_model(load_preset("lenet5")).state_dict())
    assert keys[:2] == ["0.weight", "0.bias"] and keys[-1] == "11.bias"


def test_sobel_kernel_detects_a_vertical_edge_like_the_textbook_example():
    # 6x6 image, bright left half (10) and dark right half (0), 3x3 vertical edge detector:
    # the valid convolution (cross-correlation) gives 4x4 with 30 in the two middle columns.
    arch = Architecture("edge", InputShape(1, 6, 6), (Conv2dSpec(1, 3, bias=False),))
    model = build_model(arch)
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0, 0, -1], [1, 0, -1], [1, 0, -1]]).view(1, 1, 3, 3))
    image = torch.zeros(1, 1, 6, 6)
    image[..., :3] = 10
    expected = torch.tensor([[0.0, 30, 30, 0]] * 4)
    torch.testing.assert_close(model(image)[0, 0], expected)


def test_trailing_softmax_is_output_activation_and_logits_skip_it():
    arch = Architecture("s", InputShape(1, 4, 4), (FlattenSpec(), LinearSpec(3), SoftmaxSpec()))
    model = build_model(arch).eval()
    x = torch.randn(5, 1, 4, 4)
    logits = model.logits(x)
    torch.testing.assert_close(model(x), torch.softmax(logits, dim=1))
    torch.testing.assert_close(model(x).sum(dim=1), torch.ones(5))
    no_softmax = build_model(arch.with_layers(arch.layers[:-1]))
    assert not no_softmax.ends_with_softmax


def test_invalid_architecture_is_refused_with_the_layer_error():
    arch = Architecture("bad", InputShape(1, 4, 4), (MaxPool2dSpec(2), Conv2dSpec(1, 5)))
    with pytest.raises(BuildError, match=r"layer 2 \(conv2d\): the 5x5 kernel"):
        build_model(arch)
