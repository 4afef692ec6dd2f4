"""Build a torch module from an Architecture: one child module per layer spec, shapes as inferred.

Output activation: a trailing `softmax` layer is part of the built network, so exported models and
`model(x)` return probabilities. Training must not apply softmax twice, so the trainer calls
`model.logits(x)`, which runs every layer except that trailing softmax, and uses
`nn.CrossEntropyLoss` (log-softmax + NLL) on the logits.
"""

from __future__ import annotations

import torch
from torch import nn

from engine.network.kernel_init import apply_init
from engine.network.layer_recipes import Recipe, recipe_for
from models.architecture import Architecture
from models.layers import SoftmaxSpec
from models.shapes import Analysis, analyze


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


def build_recipes(arch: Architecture, analysis: Analysis | None = None) -> list[Recipe]:
    """One constructor recipe per layer of `arch`; BuildError if its analysis has an error."""
    analysis = analysis or analyze(arch)
    if analysis.errors:
        raise BuildError(analysis.errors[0])
    if not arch.layers:
        raise BuildError("the network has no layers; add at least one")
    return [recipe_for(spec, la) for spec, la in zip(arch.layers, analysis.layers)]


def build_model(arch: Architecture, analysis: Analysis | None = None) -> ConvNet:
    """The network for `arch`; BuildError if its analysis has an error."""
    modules = [recipe.build() for recipe in build_recipes(arch, analysis)]
    model = ConvNet(modules, ends_with_softmax=isinstance(arch.layers[-1], SoftmaxSpec))
    apply_init(model, arch)  # hand-set conv filters over the random start (same RNG draws as without them)
    return model
