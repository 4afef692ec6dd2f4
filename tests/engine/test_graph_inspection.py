"""Explanations, activation maximisation and the Explainer's layer cases on a graph (ResNet-20), against direct
autograd computations and Captum: layers inside a residual branch and on a projection shortcut."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine.inspection.activation_maximisation import MaximisationConfig, channel_scores, maximise
from engine.inspection.explanations import cam_head, explain
from engine.inspection.layer_cases import explained_model, layer_case
from engine.normalization import Normalization
from models import convolution_steps as cs
from models.presets import load_preset

NORM = Normalization((0.5, 0.5, 0.5), (0.25, 0.25, 0.25))
BRANCH_CONV, SHORTCUT_CONV = 28, 30  # stage 2's first block: the second 3x3 conv, and the 1x1 stride-2 projection


@pytest.fixture(scope="module")
def resnet():
    arch = load_preset("resnet20")
    assert arch.is_graph and arch.layers[BRANCH_CONV - 1].kernel_size == 3
    assert arch.layers[SHORTCUT_CONV - 1].kernel_size == 1 and arch.sources_of(SHORTCUT_CONV - 1) == (24,)
    model = explained_model(arch, None, seed=5)
    image = torch.randn(3, 32, 32, generator=torch.Generator().manual_seed(1))
    return arch, model, image


def direct_gradcam(model, image, layer, target):
    """Grad-CAM by hand: the layer's maps caught by a hook, d logit / d maps by autograd, channel weights the
    gradients' spatial means, ReLU of the weighted sum, bilinear to the input's size."""
    caught = {}
    handle = model[layer - 1].register_forward_hook(lambda _m, _i, out: caught.setdefault("maps", out))
    try:
        score = model.logits(image[None])[0, target]
    finally:
        handle.remove()
    maps = caught["maps"]
    (grads,) = torch.autograd.grad(score, maps)
    cam = F.relu((grads.mean(dim=(2, 3), keepdim=True) * maps).sum(dim=1, keepdim=True))
    return F.interpolate(cam.detach(), size=image.shape[1:], mode="bilinear", align_corners=False)[0, 0].numpy()


@pytest.mark.parametrize("layer", [BRANCH_CONV, SHORTCUT_CONV])
def test_gradcam_inside_a_residual_branch_equals_autograd_and_captum(resnet, layer):
    from captum.attr import LayerGradCam

    arch, model, image = resnet
    found = explain(model, image, 3, "gradcam", normalization=NORM, layer=layer)
    assert found.shape == (32, 32) and found.max() > 0
    np.testing.assert_allclose(found, direct_gradcam(model, image, layer, 3), rtol=1e-4, atol=1e-6)
    captum = LayerGradCam(model.logits, model[layer - 1]).attribute(image[None].clone().requires_grad_(True),
                                                                    target=3, relu_attributions=True)
    expected = F.interpolate(captum.detach(), size=(32, 32), mode="bilinear", align_corners=False)[0, 0].numpy()
    np.testing.assert_allclose(found, expected, rtol=1e-4, atol=1e-6)


def test_saliency_of_a_graph_is_the_input_gradient(resnet):
    _, model, image = resnet
    x = image[None].clone().requires_grad_(True)
    model.logits(x)[0, 7].backward()
    expected = x.grad[0].abs().amax(dim=0).numpy()
    np.testing.assert_allclose(explain(model, image, 7, "saliency", normalization=NORM), expected, rtol=1e-5,
                               atol=1e-7)


def test_cam_of_resnet20_weighs_the_maps_its_pooling_reads(resnet):
    arch, model, image = resnet
    head = cam_head(arch)
    assert head is not None and arch.layers[head.features].TYPE == "relu"  # layer 70, the last block's output
    with torch.no_grad():
        maps = model.output_of(image[None], head.features + 1)[0]
        low = torch.einsum("c,chw->hw", model[head.linear].weight[2], maps)
        assert float(low.mean() + model[head.linear].bias[2]) == pytest.approx(float(model.logits(image[None])[0, 2]),
                                                                              abs=1e-5)
    expected = F.interpolate(low[None, None], size=(32, 32), mode="bilinear", align_corners=False)[0, 0].numpy()
    np.testing.assert_allclose(explain(model, image, 2, "cam", normalization=NORM, arch=arch), expected, atol=1e-6)


@pytest.mark.parametrize("layer, channel", [(BRANCH_CONV, 5), (SHORTCUT_CONV - 3, 2)])  # a branch conv; its ReLU
def test_maximising_a_branch_channel_raises_its_activation(resnet, layer, channel):
    _, model, _ = resnet
    before = channel_scores(model, NORM.apply(torch.full((1, 3, 32, 32), 0.5)), layer, channel)[0]
    real = channel_scores(model, torch.randn(16, 3, 32, 32, generator=torch.Generator().manual_seed(2)), layer,
                          channel)
    # No pull towards grey: an untrained net's mean activation moves less than the default priors would cost.
    pixels, chosen = maximise(model, (3, 32, 32), NORM, layer, [channel], MaximisationConfig(steps=40, l2=0.0,
                                                                                             total_variation=0.0))
    found = channel_scores(model, NORM.apply(torch.from_numpy(pixels)), layer, channel)[0]
    assert chosen == [channel] and found > max(before, real.max()) + 0.5 * abs(real.max() - real.min())


@pytest.mark.parametrize("layer", [BRANCH_CONV, SHORTCUT_CONV])
def test_a_layer_case_of_a_graph_reads_the_layer_its_input_comes_from(resnet, layer):
    arch, model, image = resnet
    case = layer_case(model, arch, layer, image)
    (source,) = arch.sources_of(layer - 1) or (layer - 1,)
    with torch.no_grad():
        np.testing.assert_allclose(case.input, model.output_of(image[None], source)[0].double().numpy(), rtol=1e-6)
        np.testing.assert_allclose(case.output, model.output_of(image[None], layer)[0].double().numpy(), rtol=1e-6)
    np.testing.assert_allclose(cs.output(case.op, case.input), case.output, rtol=1e-4, atol=1e-5)
