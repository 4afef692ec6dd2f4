"""Explanations against direct torch computations: Grad-CAM, CAM, saliency, Integrated Gradients; weights untouched."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine.network.builder import build_model
from engine.scoring.evaluation import inspection_copy
from engine.inspection.explanations import METHODS, ExplanationError, cam_head, explain, gradcam_layers
from engine.normalization import Normalization
from models.architecture import Architecture, InputShape
from models.layers import (Conv2dSpec, FlattenSpec, GlobalAvgPool2dSpec, LinearSpec, MaxPool2dSpec, ReluSpec,
                           SoftmaxSpec)
from models.presets import PRESET_KEYS, load_preset

NORM = Normalization((0.5,), (0.25,))


def gap_arch(linear: bool = True) -> Architecture:
    layers = [Conv2dSpec(out_channels=4, kernel_size=3, padding=1), ReluSpec(), MaxPool2dSpec(kernel_size=2),
              Conv2dSpec(out_channels=5 if linear else 3, kernel_size=3, padding=1), ReluSpec(), GlobalAvgPool2dSpec()]
    layers += [LinearSpec(out_features=3), SoftmaxSpec()] if linear else []
    return Architecture("gap", InputShape(1, 12, 12), tuple(layers))


@pytest.fixture
def gap_model():
    torch.manual_seed(1)
    arch = gap_arch()
    return arch, build_model(arch).eval(), torch.randn(1, 12, 12)


def test_cam_is_exactly_the_weighted_sum_of_the_maps_the_pooling_averages(gap_model):
    arch, model, image = gap_model
    with torch.no_grad():
        maps = model[4](model[3](model[2](model[1](model[0](image[None])))))[0]  # (5, 6, 6) after the ReLU
        for target in range(3):
            low = sum(model[6].weight[target, k] * maps[k] for k in range(5))
            # The logit is the mean of the CAM plus the bias: the map is exact, not an approximation.
            assert float(low.mean() + model[6].bias[target]) == pytest.approx(float(model.logits(image[None])[0, target]),
                                                                               abs=1e-5)
            expected = F.interpolate(low[None, None], size=(12, 12), mode="bilinear", align_corners=False)[0, 0]
            np.testing.assert_allclose(explain(model, image, target, "cam", normalization=NORM, arch=arch),
                                       expected.numpy(), rtol=0, atol=1e-6)


def test_cam_of_a_pooling_output_layer_is_the_target_channel_itself():
    torch.manual_seed(2)
    arch = gap_arch(linear=False)
    model, image = build_model(arch).eval(), torch.randn(1, 12, 12)
    assert cam_head(arch).linear is None
    with torch.no_grad():
        maps = list(model)[:5]
        x = image[None]
        for m in maps:
            x = m(x)
    expected = F.interpolate(x[:, 2:3], size=(12, 12), mode="bilinear", align_corners=False)[0, 0]
    np.testing.assert_array_equal(explain(model, image, 2, "cam", normalization=NORM, arch=arch), expected.numpy())


def test_gradcam_agrees_with_a_direct_computation_and_with_cam_on_a_gap_network(gap_model):
    arch, model, image = gap_model
    x = image[None].clone()
    for layer in (1, 4):  # 1-based: the first conv, and the second conv (whose ReLU feeds the pooling)
        feats = {}
        handle = model[layer - 1].register_forward_hook(lambda m, i, o: feats.setdefault("a", o))
        with torch.enable_grad():
            score = model.logits(x.requires_grad_(False))[0, 1]
            grads = torch.autograd.grad(score, feats["a"])[0]
        handle.remove()
        weights = grads.mean(dim=(2, 3), keepdim=True)
        low = F.relu((weights * feats["a"]).sum(dim=1, keepdim=True))
        expected = F.interpolate(low, size=(12, 12), mode="bilinear", align_corners=False)[0, 0]
        got = explain(model, image, 1, "gradcam", normalization=NORM, layer=layer)
        np.testing.assert_allclose(got, expected.detach().numpy(), rtol=0, atol=1e-5)
    # The known equivalence (Selvaraju et al., section 3.1): at the maps feeding global average pooling,
    # Grad-CAM is ReLU(CAM) / (h * w), since every gradient there is the class weight / (h * w).
    with torch.no_grad():
        maps = model[4](model[3](model[2](model[1](model[0](x)))))
        cam = torch.einsum("c,nchw->nhw", model[6].weight[1], maps)[:, None]
    relu_cam = F.interpolate(F.relu(cam) / 36, size=(12, 12), mode="bilinear", align_corners=False)[0, 0]
    np.testing.assert_allclose(explain(model, image, 1, "gradcam", normalization=NORM, layer=5), relu_cam.numpy(),
                               rtol=0, atol=1e-5)


def linear_probe():
    """Flatten -> Linear whose weights are zero outside a 3x3 patch: only those pixels can matter."""
    arch = Architecture("patch", InputShape(1, 8, 8), (FlattenSpec(), LinearSpec(out_features=3)))
    model = build_model(arch).eval()
    mask = torch.zeros(8, 8)
    mask[2:5, 4:7] = 1
    with torch.no_grad():
        model[1].weight.copy_(torch.randn(3, 64) * mask.reshape(1, 64) + 0.5 * mask.reshape(1, 64))
    return arch, model, mask


def test_saliency_and_smoothgrad_are_nonzero_only_where_the_input_matters():
    arch, model, mask = linear_probe()
    image = torch.randn(1, 8, 8)
    for method in ("saliency", "smoothgrad"):
        saliency = explain(model, image, 0, method, normalization=NORM)
        assert saliency.shape == (8, 8) and saliency.dtype == np.float32
        assert (saliency[mask.numpy() == 0] == 0).all() and (saliency[mask.numpy() == 1] > 0).all()
    np.testing.assert_allclose(explain(model, image, 0, "saliency", normalization=NORM),
                               model[1].weight[0].abs().reshape(8, 8).detach().numpy(), atol=1e-6)


def test_integrated_gradients_start_from_black_and_are_exact_for_a_linear_model():
    arch, model, mask = linear_probe()
    image = torch.randn(1, 8, 8)
    black = (0 - 0.5) / 0.25  # pixel value 0, normalised as training did
    expected = ((image[0] - black) * model[1].weight[2].reshape(8, 8)).detach().numpy()
    np.testing.assert_allclose(explain(model, image, 2, "integrated-gradients", normalization=NORM), expected, atol=1e-4)
    occlusion = explain(model, image, 2, "occlusion", normalization=NORM)
    assert occlusion.shape == (8, 8) and np.abs(occlusion[:, :2]).max() == 0  # windows that miss the patch


def test_explanations_never_change_the_trained_weights(gap_model):
    arch, model, image = gap_model
    state = {k: v.clone() for k, v in model.state_dict().items()}
    before = {k: v.clone() for k, v in state.items()}
    copy = inspection_copy(arch, state)
    for method in METHODS:
        result = explain(copy, image, 0, method, normalization=NORM, layer=4, arch=arch)
        assert result.shape == (12, 12) and np.isfinite(result).all()
    for name, tensor in state.items():
        assert torch.equal(tensor, before[name]), name
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, before[name]), name
        assert tensor.grad is None


def test_the_layers_offered_and_the_errors():
    lenet = load_preset("lenet5")
    assert gradcam_layers(lenet) == [1, 4]  # 6x28x28 and 16x10x10 maps
    assert cam_head(lenet) is None and cam_head(gap_arch()).features == 4
    model = build_model(lenet).eval()
    image = torch.zeros(1, 28, 28)
    with pytest.raises(ExplanationError, match="global-average-pooling"):
        explain(model, image, 0, "cam", normalization=NORM, arch=lenet)
    with pytest.raises(ExplanationError, match="out of range"):
        explain(model, image, 10, "saliency", normalization=NORM)
    with pytest.raises(ExplanationError, match="no 2-D maps"):
        explain(model, image, 0, "gradcam", normalization=NORM, layer=8)
    with pytest.raises(ExplanationError, match="unknown method"):
        explain(model, image, 0, "lime", normalization=NORM)


@pytest.mark.parametrize("key", PRESET_KEYS)
def test_the_builder_makes_no_in_place_activation(key):
    # Forward hooks (Grad-CAM) and Guided Backprop see wrong values through an in-place ReLU.
    model = build_model(load_preset(key))
    assert not [m for m in model.modules() if getattr(m, "inplace", False)]


# -- the registry --------------------------------------------------------------------------------------------------

def test_each_method_runs_its_own_computation(gap_model, monkeypatch):
    """explain() dispatches through METHODS: no method falls through to another's computation (an if chain whose
    last branch had no condition once computed Occlusion for any method it did not list)."""
    from engine.inspection import explanations

    arch, model, image = gap_model
    assert len({entry.compute for entry in METHODS.values()}) == len(METHODS)
    for key, entry in METHODS.items():
        calls = []
        monkeypatch.setitem(METHODS, key, explanations.ExplanationMethod(
            key, entry.title, lambda a, key=key: calls.append(key) or np.zeros(a.size, np.float32)))
        explain(model, image, 0, key, normalization=NORM, layer=4, arch=arch)
        assert calls == [key]


def test_a_method_without_a_computation_or_listed_twice_is_refused_by_name():
    from engine.inspection.explanations import ExplanationMethod, _registry

    with pytest.raises(TypeError, match="'edge-detector' has no computation"):
        _registry(ExplanationMethod("edge-detector", "Edges", None))
    saliency = METHODS["saliency"]
    with pytest.raises(TypeError, match="'saliency' is registered twice"):
        _registry(saliency, saliency)


def test_what_each_method_needs_decides_where_it_is_offered():
    lenet, gap = load_preset("lenet5"), gap_arch()
    offered = {arch.name: [k for k, m in METHODS.items() if m.unavailable(arch) is None] for arch in (lenet, gap)}
    assert "cam" not in offered[lenet.name] and "gradcam" in offered[lenet.name]
    assert "cam" in offered[gap.name]
    assert "global-average-pooling head" in METHODS["cam"].unavailable(lenet)
    assert [k for k, m in METHODS.items() if m.needs_layer] == ["gradcam"]


def test_cam_accepts_a_pooling_head_followed_by_flatten_and_softmax():
    """Issue 29 item 5: conv(classes) -> GAP -> flatten -> softmax (the course's Keras fully convolutional design) is
    a CAM head: the flatten changes nothing, so the map is the target channel of the maps the pooling averages."""
    torch.manual_seed(3)
    layers = gap_arch(linear=False).layers + (FlattenSpec(), SoftmaxSpec())
    arch = Architecture("gap-flatten", InputShape(1, 12, 12), layers)
    assert cam_head(arch) == cam_head(gap_arch(linear=False)) and METHODS["cam"].unavailable(arch) is None
    model, image = build_model(arch).eval(), torch.randn(1, 12, 12)
    with torch.no_grad():
        x = image[None]
        for m in list(model)[:5]:  # conv, relu, pool, conv, relu: what the pooling averages
            x = m(x)
        # The hand computation agrees with the network: the mean of channel t is logit t.
        np.testing.assert_allclose(x.mean(dim=(2, 3))[0].numpy(), model.logits(image[None])[0].numpy(), atol=1e-6)
    for target in range(3):
        expected = F.interpolate(x[:, target:target + 1], size=(12, 12), mode="bilinear", align_corners=False)[0, 0]
        np.testing.assert_array_equal(explain(model, image, target, "cam", normalization=NORM, arch=arch),
                                      expected.numpy())
    # GAP -> flatten -> linear stays a head, reading the linear layer's weights.
    assert cam_head(Architecture("x", InputShape(1, 12, 12), layers[:-1] + (LinearSpec(out_features=2),))).linear == 7


def test_smoothgrad_gives_the_same_map_for_the_same_request_and_leaves_the_global_rng_alone():
    """Issue 29 item 5: two identical calls differed by up to 15% of the map's maximum (unseeded noise)."""
    torch.manual_seed(4)
    arch = gap_arch()
    model, image = build_model(arch).eval(), torch.randn(1, 12, 12)
    state = torch.get_rng_state()
    first = explain(model, image, 1, "smoothgrad", normalization=NORM)
    assert torch.equal(torch.get_rng_state(), state), "SmoothGrad moved the caller's random stream"
    torch.manual_seed(99)  # whatever the global generator holds, the map is the request's
    np.testing.assert_array_equal(explain(model, image, 1, "smoothgrad", normalization=NORM), first)
    # The noise is real: another class, or another image, draws other noise (not the same map up to scale).
    other = explain(model, image + 0.01, 1, "smoothgrad", normalization=NORM)
    assert not np.array_equal(other, first) and first.max() > 0
