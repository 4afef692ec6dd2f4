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

METHODS, at the end, is the one list of methods: `explain` dispatches through it, `main.py explain` offers its
keys and the Evaluation tab its titles, each method saying what it needs (a layer) and when it cannot apply.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from engine.network.builder import ConvNet
from engine.normalization import Normalization
from models.architecture import Architecture
from models.layers import DropoutSpec, FlattenSpec, GlobalAvgPool2dSpec, LinearSpec, SoftmaxSpec
from models.shapes import analyze

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
    (flatten or dropout in between are fine, a trailing softmax too); else None.

    A flatten after the pooling changes nothing (its output is already the vector of channel means), so GAP ->
    flatten -> softmax, the fully convolutional design of the course's Keras example, is a head too."""
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
    pooling = len(layers)  # 1-based number of the pooling layer
    if arch.is_graph:  # the head must be a path: each of its layers reads the one before it
        if any(arch.sources_of(n) is not None for n in range(pooling, len(arch.layers))):
            return None
        (features,) = arch.sources_of(pooling - 1) or (pooling - 1,)
        return CamHead(features=features - 1, linear=linear) if features >= 1 else None
    return CamHead(features=pooling - 2, linear=linear)


def gradcam_layers(arch: Architecture) -> list[int]:
    """1-based layer indices (as `summary` numbers them) of the conv layers whose map is larger than 2x2."""
    analysis = analyze(arch)
    return [i for i, la in enumerate(analysis.layers, start=1)
            if la.type == "conv2d" and la.output_shape is not None and len(la.output_shape) == 3
            and min(la.output_shape[1:]) >= MIN_GRADCAM_SIDE]


@dataclass(frozen=True)
class Attribution:
    """What a computation is given: the batch of one image (requiring grad), the class, and the method's needs."""

    model: ConvNet
    x: torch.Tensor               # (1, C, H, W), normalised
    target: int
    normalization: Normalization
    layer: int | None             # 1-based summary index (Grad-CAM)
    arch: Architecture | None     # for CAM's head

    @property
    def size(self) -> tuple[int, ...]:
        return tuple(self.x.shape[2:])

    def black(self) -> torch.Tensor:
        """A black image (pixel value 0), normalised as training did: the baseline of IG and Occlusion."""
        return self.normalization.apply(torch.zeros_like(self.x.detach()))


@dataclass(frozen=True)
class ExplanationMethod:
    """One method: its name on the command line and in the window, what it computes, and what it needs."""

    key: str
    title: str
    compute: Callable[[Attribution], np.ndarray]
    needs_layer: bool = False                   # Grad-CAM: a conv layer, chosen by the user
    unavailable: Callable[[Architecture], str | None] = lambda _arch: None  # why it cannot explain a network


def _registry(*methods: ExplanationMethod) -> dict[str, ExplanationMethod]:
    """The methods by key; one without a computation, or a key twice, is refused by name (as layer types are)."""
    registry: dict[str, ExplanationMethod] = {}
    for method in methods:
        if method.key in registry:
            raise TypeError(f"explanation method {method.key!r} is registered twice")
        if not callable(method.compute):
            raise TypeError(f"explanation method {method.key!r} has no computation: give it a function of an "
                            f"Attribution that returns the (H, W) map")
        registry[method.key] = method
    return registry


def explain(model: ConvNet, image: torch.Tensor, target: int, method: str, *, normalization: Normalization,
            layer: int | None = None, arch: Architecture | None = None) -> np.ndarray:
    """The map (H, W) float32 of `method` for class `target` on one normalised image (C, H, W).

    `layer` is the 1-based summary index of the Grad-CAM layer; `arch` is needed for CAM (to find its head).
    Run it on an inspection copy (engine.scoring.evaluation.inspection_copy), never on a model being trained.
    """
    entry = METHODS.get(method)
    if entry is None:
        raise ExplanationError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    outputs = _output_count(model, image)
    if not 0 <= target < outputs:
        raise ExplanationError(f"target class {target} is out of range: the network has {outputs} outputs "
                               f"(classes 0..{outputs - 1})")
    model.eval()
    x = image.detach().float().unsqueeze(0).clone().requires_grad_(True)  # Captum wants it so, else it warns
    return entry.compute(Attribution(model, x, target, normalization, layer, arch))


def _captum():
    """captum.attr, imported on first use: it imports pyplot, which must never pick a GUI backend."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    import captum.attr

    return captum.attr


def _saliency(a: Attribution) -> np.ndarray:
    attribution = _captum().Saliency(a.model.logits).attribute(a.x, target=a.target, abs=True)
    return _as_map(attribution.amax(dim=1))


def _smoothgrad(a: Attribution) -> np.ndarray:
    """Captum draws its noise from the global generator: it is seeded from the request inside a forked RNG state,
    so the same image and class give the same map every time and the caller's random stream is left as it was."""
    captum = _captum()
    spread = float(SMOOTHGRAD_NOISE * (a.x.max() - a.x.min()).detach().clamp_min(1e-6))
    cuda = [a.x.device.index or 0] if a.x.device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        torch.manual_seed(smoothgrad_seed(a.x, a.target))
        attribution = captum.NoiseTunnel(captum.Saliency(a.model.logits)).attribute(
            a.x, nt_type="smoothgrad", nt_samples=SMOOTHGRAD_SAMPLES, stdevs=spread, target=a.target, abs=True)
    return _as_map(attribution.amax(dim=1))


def smoothgrad_seed(x: torch.Tensor, target: int) -> int:
    """A seed that is a function of the request (the image's bytes and the class): the same request, the same noise."""
    digest = hashlib.blake2b(x.detach().cpu().numpy().tobytes(), digest_size=8, person=b"smoothgrad")
    digest.update(int(target).to_bytes(8, "little", signed=True))
    return int.from_bytes(digest.digest(), "little") >> 1  # manual_seed takes up to 2**63 - 1 here


def _integrated_gradients(a: Attribution) -> np.ndarray:
    attribution = _captum().IntegratedGradients(a.model.logits).attribute(
        a.x, baselines=a.black(), target=a.target, n_steps=IG_STEPS)
    return _as_map(attribution.sum(dim=1))


def _occlusion(a: Attribution) -> np.ndarray:
    window = max(2, round(min(a.size) / 7))
    stride = max(1, window // 2)
    channels = a.x.shape[1]
    attribution = _captum().Occlusion(a.model.logits).attribute(
        a.x, sliding_window_shapes=(channels, window, window), strides=(channels, stride, stride),
        baselines=a.black(), target=a.target)
    return _as_map(attribution.sum(dim=1))


def _output_count(model: ConvNet, image: torch.Tensor) -> int:
    with torch.no_grad():
        logits = model.logits(image.detach().float().unsqueeze(0))
    if logits.dim() != 2:
        raise ExplanationError("the network's output is not a vector of class scores; end it with a linear layer "
                               "or global average pooling")
    return int(logits.shape[1])


def _gradcam(a: Attribution) -> np.ndarray:
    model, x, layer = a.model, a.x, a.layer
    if layer is None or not 1 <= layer <= len(model):
        raise ExplanationError(f"Grad-CAM needs a layer: --layer K with K from 1 to {len(model)} (a conv layer)")
    module = model[layer - 1]
    with torch.no_grad():
        features = model.output_of(x, layer)
    if features.dim() != 4:
        raise ExplanationError(f"layer {layer} ({type(module).__name__}) has no 2-D maps for Grad-CAM; choose a "
                               f"conv layer")
    attribution = _captum().LayerGradCam(model.logits, module).attribute(x, target=a.target, relu_attributions=True)
    return _upsampled(attribution, a.size)


def _cam(a: Attribution) -> np.ndarray:
    head = cam_head(a.arch) if a.arch is not None else None
    if head is None:
        raise ExplanationError(NO_CAM_HEAD)
    with torch.no_grad():
        maps = a.model.output_of(a.x, head.features + 1)[0]  # (C, h, w): what the pooling averages
        if head.linear is None:
            cam = maps[a.target]
        else:
            weights = a.model[head.linear].weight[a.target]  # (C,)
            cam = torch.einsum("c,chw->hw", weights, maps)
    return _upsampled(cam[None, None], a.size)


def _no_cam_head(arch: Architecture) -> str | None:
    return None if cam_head(arch) is not None else NO_CAM_HEAD


def _no_gradcam_layer(arch: Architecture) -> str | None:
    return None if gradcam_layers(arch) else (f"the network has no conv layer with a map of at least "
                                              f"{MIN_GRADCAM_SIDE}x{MIN_GRADCAM_SIDE} for Grad-CAM")


def _upsampled(cam: torch.Tensor, size: tuple[int, ...]) -> np.ndarray:
    cam = F.interpolate(cam.detach().float(), size=size, mode="bilinear", align_corners=False)
    return _as_map(cam[:, 0])


def _as_map(attribution: torch.Tensor) -> np.ndarray:
    return attribution.detach()[0].cpu().numpy().astype(np.float32).copy()


NO_CAM_HEAD = ("CAM needs a global-average-pooling head (conv maps -> global average pooling -> a flatten or at most "
               "one linear layer); use Grad-CAM for this network")

# Every method, in the order the CLI and the window offer them. A new method is one entry here (and its function).
METHODS: dict[str, ExplanationMethod] = _registry(
    ExplanationMethod("saliency", "Gradient saliency", _saliency),
    ExplanationMethod("smoothgrad", "SmoothGrad", _smoothgrad),
    ExplanationMethod("integrated-gradients", "Integrated Gradients", _integrated_gradients),
    ExplanationMethod("occlusion", "Occlusion", _occlusion),
    ExplanationMethod("gradcam", "Grad-CAM", _gradcam, needs_layer=True, unavailable=_no_gradcam_layer),
    ExplanationMethod("cam", "CAM", _cam, unavailable=_no_cam_head),
)
