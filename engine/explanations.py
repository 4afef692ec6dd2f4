"""Why a network predicted a class: attribution maps of one input, with Captum and a hand-written CAM.

Every method returns one float32 map the size of the input (H, W):
- saliency: the maximum over channels of |d score / d pixel| (Captum Saliency);
- smoothgrad: the same, averaged over noisy copies of the input (Captum NoiseTunnel around Saliency);
- integrated-gradients: from a black image (pixel value 0, normalised as training did), summed over channels;
- occlusion: how much the score drops when a patch is set to black, summed over channels (Captum Occlusion);
- gradcam: ReLU of the gradient-weighted maps of one layer, bilinearly upsampled (align_corners=False);
- cam: for a global-average-pooling head, the exact weighted sum of the maps that feed the pooling with
  the linear layer's weights of the target class (or the target channel's map itself when the pooling is
  the output layer), upsampled the same way.
The score is the target class's logit (before a trailing softmax). Captum imports matplotlib, so it is
imported here lazily, inside the calls: never at start-up and never on the GUI thread.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from engine.builder import ConvNet
from engine.normalization import Normalization
from models.architecture import Architecture
from models.layers import DropoutSpec, FlattenSpec, GlobalAvgPool2dSpec, LinearSpec, SoftmaxSpec
from models.shapes import analyze

METHODS = ("saliency", "smoothgrad", "integrated-gradients", "occlusion", "gradcam", "cam")
TITLES = {"saliency": "Gradient saliency", "smoothgrad": "SmoothGrad", "integrated-gradients": "Integrated Gradients",
          "occlusion": "Occlusion", "gradcam": "Grad-CAM", "cam": "CAM"}
SMOOTHGRAD_SAMPLES = 25
SMOOTHGRAD_NOISE = 0.15      # of the input's value range (Smilkov et al. found 10-20% best)
IG_STEPS = 50
MIN_GRADCAM_SIDE = 3         # a 2x2 (or smaller) map says little more than the class


class ExplanationError(ValueError):
    """A method that does not apply to this network or layer; the message says what to choose instead."""


@dataclass(frozen=True)
class CamHead:
    """Where CAM reads: `features` is the 0-based child whose output feeds the pooling; `linear` the
    0-based child of the class weights, or None when the pooling itself is the output layer."""

    features: int
    linear: int | None


def cam_head(arch: Architecture) -> CamHead | None:
    """The network's global-average-pooling head, if it ends in one: GAP, then optionally one linear layer
    (flatten or dropout in between are fine, a trailing softmax too); else None."""
    layers = list(arch.layers)
    while layers and isinstance(layers[-1], SoftmaxSpec):
        layers.pop()
    linear = None
    if layers and isinstance(layers[-1], LinearSpec):
        linear = len(layers) - 1
        layers.pop()
        while layers and isinstance(layers[-1], (FlattenSpec, DropoutSpec)):
            layers.pop()
    if len(layers) < 2 or not isinstance(layers[-1], GlobalAvgPool2dSpec):
        return None
    return CamHead(features=len(layers) - 2, linear=linear)


def gradcam_layers(arch: Architecture) -> list[int]:
    """1-based layer indices (as `summary` numbers them) of the conv layers whose map is larger than 2x2."""
    analysis = analyze(arch)
    return [i for i, la in enumerate(analysis.layers, start=1)
            if la.type == "conv2d" and la.output_shape is not None and len(la.output_shape) == 3
            and min(la.output_shape[1:]) >= MIN_GRADCAM_SIDE]


def explain(model: ConvNet, image: torch.Tensor, target: int, method: str, *, normalization: Normalization,
            layer: int | None = None, arch: Architecture | None = None) -> np.ndarray:
    """The map (H, W) float32 of `method` for class `target` on one normalised image (C, H, W).

    `layer` is the 1-based summary index of the Grad-CAM layer; `arch` is needed for CAM (to find its head).
    Run it on an inspection copy (engine.evaluation.inspection_copy), never on a model being trained.
    """
    if method not in METHODS:
        raise ExplanationError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    outputs = _output_count(model, image)
    if not 0 <= target < outputs:
        raise ExplanationError(f"target class {target} is out of range: the network has {outputs} outputs "
                               f"(classes 0..{outputs - 1})")
    model.eval()
    x = image.detach().float().unsqueeze(0).clone().requires_grad_(True)  # Captum wants it so, else it warns
    size = tuple(x.shape[2:])
    if method == "cam":
        return _cam(model, x, target, arch, size)
    if method == "gradcam":
        return _gradcam(model, x, target, layer, size)
    os.environ.setdefault("MPLBACKEND", "Agg")  # captum imports pyplot: never let it pick a GUI backend
    from captum.attr import IntegratedGradients, NoiseTunnel, Occlusion, Saliency

    black = normalization.apply(torch.zeros_like(x.detach()))
    if method == "saliency":
        attribution = Saliency(model.logits).attribute(x, target=target, abs=True)
        return _as_map(attribution.amax(dim=1))
    if method == "smoothgrad":
        spread = float(SMOOTHGRAD_NOISE * (x.max() - x.min()).detach().clamp_min(1e-6))
        attribution = NoiseTunnel(Saliency(model.logits)).attribute(
            x, nt_type="smoothgrad", nt_samples=SMOOTHGRAD_SAMPLES, stdevs=spread, target=target, abs=True)
        return _as_map(attribution.amax(dim=1))
    if method == "integrated-gradients":
        attribution = IntegratedGradients(model.logits).attribute(x, baselines=black, target=target, n_steps=IG_STEPS)
        return _as_map(attribution.sum(dim=1))
    window = max(2, round(min(size) / 7))
    stride = max(1, window // 2)
    attribution = Occlusion(model.logits).attribute(
        x, sliding_window_shapes=(x.shape[1], window, window), strides=(x.shape[1], stride, stride),
        baselines=black, target=target)
    return _as_map(attribution.sum(dim=1))


def _output_count(model: ConvNet, image: torch.Tensor) -> int:
    with torch.no_grad():
        logits = model.logits(image.detach().float().unsqueeze(0))
    if logits.dim() != 2:
        raise ExplanationError("the network's output is not a vector of class scores; end it with a linear layer "
                               "or global average pooling")
    return int(logits.shape[1])


def _gradcam(model: ConvNet, x: torch.Tensor, target: int, layer: int | None, size: tuple[int, ...]) -> np.ndarray:
    if layer is None or not 1 <= layer <= len(model):
        raise ExplanationError(f"Grad-CAM needs a layer: --layer K with K from 1 to {len(model)} (a conv layer)")
    os.environ.setdefault("MPLBACKEND", "Agg")
    from captum.attr import LayerGradCam

    module = model[layer - 1]
    with torch.no_grad():
        features = _run_to(model, x, layer - 1)
    if features.dim() != 4:
        raise ExplanationError(f"layer {layer} ({type(module).__name__}) has no 2-D maps for Grad-CAM; choose a "
                               f"conv layer")
    attribution = LayerGradCam(model.logits, module).attribute(x, target=target, relu_attributions=True)
    return _upsampled(attribution, size)


def _cam(model: ConvNet, x: torch.Tensor, target: int, arch: Architecture | None, size: tuple[int, ...]) -> np.ndarray:
    head = cam_head(arch) if arch is not None else None
    if head is None:
        raise ExplanationError("CAM needs a global-average-pooling head (conv maps -> global average pooling -> "
                               "at most one linear layer); use Grad-CAM for this network")
    with torch.no_grad():
        maps = _run_to(model, x, head.features)[0]  # (C, h, w): what the pooling averages
        if head.linear is None:
            cam = maps[target]
        else:
            weights = model[head.linear].weight[target]  # (C,)
            cam = torch.einsum("c,chw->hw", weights, maps)
    return _upsampled(cam[None, None], size)


def _run_to(model: ConvNet, x: torch.Tensor, child: int) -> torch.Tensor:
    """The output of child `child` (0-based)."""
    for module in list(model)[:child + 1]:
        x = module(x)
    return x


def _upsampled(cam: torch.Tensor, size: tuple[int, ...]) -> np.ndarray:
    cam = F.interpolate(cam.detach().float(), size=size, mode="bilinear", align_corners=False)
    return _as_map(cam[:, 0])


def _as_map(attribution: torch.Tensor) -> np.ndarray:
    return attribution.detach()[0].cpu().numpy().astype(np.float32).copy()
