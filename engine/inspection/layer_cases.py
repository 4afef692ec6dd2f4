"""The numbers the Explainer steps through for one conv or pooling layer of the user's network.

A `LayerCase` is the layer as a models.convolution_steps.WindowOp (its real weights and biases, stride
and padding), the probe sample's input to that layer (the earlier layers run in eval mode, as for
validation) and the layer's real output from torch, which the stepped arithmetic must reproduce.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from engine.network.builder import ConvNet, build_model
from engine.network.weights import apply_state_dict
from models.architecture import Architecture
from models.convolution_steps import AVGPOOL, CONV, MAXPOOL, WindowOp
from models.layers import AvgPool2dSpec, Conv2dSpec, MaxPool2dSpec, pair
from models.shapes import Analysis, analyze

_KINDS = {Conv2dSpec: CONV, MaxPool2dSpec: MAXPOOL, AvgPool2dSpec: AVGPOOL}


@dataclass(frozen=True)
class LayerCase:
    index: int                # 1-based layer position, as LayerAnalysis.index
    label: str                # 'layer 1 (conv2d)'
    op: WindowOp
    input: np.ndarray         # (C, H, W) float64: what the layer receives for the probe sample
    output: np.ndarray        # (M, H', W') float64: what torch's layer gives for it


def window_layers(arch: Architecture, analysis: Analysis | None = None) -> list[tuple[int, str]]:
    """(index, label) of every conv and pooling layer that has a shape (the ones that can be stepped through)."""
    analysis = analysis or analyze(arch)
    return [(la.index, la.label) for spec, la in zip(arch.layers, analysis.layers)
            if type(spec) in _KINDS and la.output_shape is not None]


def explained_model(arch: Architecture, state: dict[str, torch.Tensor] | None, seed: int,
                    analysis: Analysis | None = None) -> ConvNet:
    """The model to explain in eval mode: with `state` (trained weights), else the initial weights that a run
    with `seed` starts from (seeded as the Trainer seeds, without touching the global RNG)."""
    if state is not None:
        model = build_model(arch, analysis)
        apply_state_dict(model, state)
    else:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = build_model(arch, analysis)
    return model.eval()


def _op(spec, la, module: nn.Module) -> WindowOp:
    kind = _KINDS[type(spec)]
    if kind == CONV:
        weight = module.weight.detach().double().numpy().copy()
        bias = None if module.bias is None else module.bias.detach().double().numpy().copy()
        return WindowOp(kind, pair(spec.kernel_size), pair(spec.stride), la.padding, weight, bias, spec.groups)
    stride = pair(spec.stride if spec.stride is not None else spec.kernel_size)
    return WindowOp(kind, pair(spec.kernel_size), stride, la.padding)


@torch.no_grad()
def layer_case(model: ConvNet, arch: Architecture, index: int, sample: torch.Tensor,
               analysis: Analysis | None = None) -> LayerCase:
    """Layer `index` (1-based) of `model` on `sample` (C, H, W): its op, its input and its real output."""
    analysis = analysis or analyze(arch)
    spec, la = arch.layers[index - 1], analysis.layers[index - 1]
    if type(spec) not in _KINDS:
        raise ValueError(f"{la.label} is not a conv or pooling layer; pick one of "
                         f"{', '.join(label for _, label in window_layers(arch, analysis)) or 'none'}")
    was_training = model.training
    model.eval()
    try:
        x = sample.unsqueeze(0).float()
        (source,) = la.sources or (index - 1,)  # conv and pooling read one layer; a graph's may be any earlier one
        x = x if source == 0 else model.output_of(x, source)
        y = model[index - 1](x)
    finally:
        model.train(was_training)
    return LayerCase(index, la.label, _op(spec, la, model[index - 1]), x[0].double().numpy().copy(),
                     y[0].double().numpy().copy())
