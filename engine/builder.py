"""Build a torch module from an Architecture: one child module per layer spec, shapes as inferred.

Output activation: a trailing `softmax` layer is part of the built network, so exported models and
`model(x)` return probabilities. Training must not apply softmax twice, so the trainer calls
`model.logits(x)`, which runs every layer except that trailing softmax, and uses
`nn.CrossEntropyLoss` (log-softmax + NLL) on the logits.
"""

from __future__ import annotations

import torch
from torch import nn

from engine.modules import GlobalAvgPool2d, PaddedConv2d
from models.architecture import Architecture
from models.layers import (AvgPool2dSpec, BatchNorm2dSpec, Conv2dSpec, DropoutSpec, EluSpec, FlattenSpec,
                           GlobalAvgPool2dSpec, LayerSpec, LeakyReluSpec, LinearSpec, MaxPool2dSpec, ReluSpec,
                           SigmoidSpec, SoftmaxSpec, TanhSpec, pair)
from models.shapes import Analysis, LayerAnalysis, analyze


class BuildError(ValueError):
    """The architecture is invalid; the message is the first layer error from the shape analysis."""


class ConvNet(nn.Sequential):
    """The built network. Child i is layer i+1 of the architecture, so state-dict keys are '<i>.weight'."""

    def __init__(self, modules: list[nn.Module], ends_with_softmax: bool) -> None:
        super().__init__(*modules)
        self.ends_with_softmax = ends_with_softmax

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Scores before a trailing softmax: what the loss (log-softmax + NLL) must see."""
        layers = list(self)[:-1] if self.ends_with_softmax else list(self)
        for layer in layers:
            x = layer(x)
        return x


def _conv(spec: Conv2dSpec, la: LayerAnalysis) -> nn.Module:
    c_in = la.input_shape[0]
    kernel, stride = pair(spec.kernel_size), pair(spec.stride)
    top, bottom, left, right = la.padding
    if top == bottom and left == right:
        return nn.Conv2d(c_in, spec.out_channels, kernel, stride, padding=(top, left), bias=spec.bias)
    return PaddedConv2d(c_in, spec.out_channels, kernel, stride, la.padding, bias=spec.bias)


def _pool(spec: MaxPool2dSpec, la: LayerAnalysis) -> nn.Module:
    stride = pair(spec.stride if spec.stride is not None else spec.kernel_size)
    cls = nn.AvgPool2d if isinstance(spec, AvgPool2dSpec) else nn.MaxPool2d
    # AvgPool2d counts padding zeros by default, as Keras does not; torch's default is kept (file format rule).
    return cls(pair(spec.kernel_size), stride, pair(spec.padding))


def build_module(spec: LayerSpec, la: LayerAnalysis) -> nn.Module:
    """The torch module for one layer, given its analysed input shape."""
    if isinstance(spec, Conv2dSpec):
        return _conv(spec, la)
    if isinstance(spec, MaxPool2dSpec):
        return _pool(spec, la)
    if isinstance(spec, LinearSpec):
        return nn.Linear(la.input_shape[0], spec.out_features, bias=spec.bias)
    if isinstance(spec, BatchNorm2dSpec):
        return nn.BatchNorm2d(la.input_shape[0])
    if isinstance(spec, GlobalAvgPool2dSpec):
        return GlobalAvgPool2d()
    if isinstance(spec, FlattenSpec):
        return nn.Flatten()
    if isinstance(spec, DropoutSpec):
        return nn.Dropout(spec.p)
    if isinstance(spec, LeakyReluSpec):
        return nn.LeakyReLU(spec.negative_slope)
    if isinstance(spec, EluSpec):
        return nn.ELU(spec.alpha)
    if isinstance(spec, SoftmaxSpec):
        return nn.Softmax(dim=1)
    simple = {ReluSpec: nn.ReLU, SigmoidSpec: nn.Sigmoid, TanhSpec: nn.Tanh}
    return simple[type(spec)]()


def build_model(arch: Architecture, analysis: Analysis | None = None) -> ConvNet:
    """The network for `arch`; BuildError if its analysis has an error."""
    analysis = analysis or analyze(arch)
    if analysis.errors:
        raise BuildError(analysis.errors[0])
    if not arch.layers:
        raise BuildError("the network has no layers; add at least one")
    modules = [build_module(spec, la) for spec, la in zip(arch.layers, analysis.layers)]
    return ConvNet(modules, ends_with_softmax=isinstance(arch.layers[-1], SoftmaxSpec))
