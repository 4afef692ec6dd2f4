"""Build a torch module from an Architecture: one child module per layer spec, shapes as inferred.

A chain is an nn.Sequential (ConvNet); a graph is a GraphNet, the same container (child i is still layer
i+1, so state-dict keys, exports and weight files name tensors alike) whose forward runs the layers in the
analysed order, each on the outputs of the layers it reads.

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
from models import graph
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

    def output_of(self, x: torch.Tensor, layer: int) -> torch.Tensor:
        """The output of 1-based layer `layer` (as `summary` numbers them), running only what it needs; the
        one way to reach a layer that holds for a graph too (running the children one after another does not)."""
        for module in list(self)[:layer]:
            x = module(x)
        return x

    def layer_outputs(self, x: torch.Tensor) -> dict[int, torch.Tensor]:
        """Layer number -> its output (0: `x`), every layer run once (a GraphNet runs them in its order)."""
        outputs = {0: x}
        for number, module in enumerate(self, start=1):
            x = outputs[number] = module(x)
        return outputs


class GraphNet(ConvNet):
    """A network whose layers may read several earlier ones (residual shortcuts, concatenated branches).

    `sources[i]` are the numbers of the layers that layer i+1 reads (0 = the input), `order` the layer
    numbers in an order where each comes after what it reads. Iterating the container still gives the
    layers in list order, which is not how they run: use `layer_outputs` for every layer's output.
    """

    def __init__(self, modules: list[nn.Module], ends_with_softmax: bool, sources: tuple[tuple[int, ...], ...],
                 order: tuple[int, ...]) -> None:
        super().__init__(modules, ends_with_softmax)
        if sorted(order) != list(range(1, len(modules) + 1)):
            raise ValueError(f"order {order} does not list each of the {len(modules)} layers once")
        self.sources, self.order = sources, order

    def layer_outputs(self, x: torch.Tensor, *, skip_final_softmax: bool = False) -> dict[int, torch.Tensor]:
        """Layer number -> its output (0: `x`), every layer run once, in `order`."""
        outputs = {graph.INPUT: x}
        layers = list(self)
        last = len(layers)
        for number in self.order:
            if skip_final_softmax and number == last and self.ends_with_softmax:
                continue
            outputs[number] = layers[number - 1](*(outputs[s] for s in self.sources[number - 1]))
        return outputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer_outputs(x)[len(self)]

    def output_of(self, x: torch.Tensor, layer: int) -> torch.Tensor:
        needed = self._ancestors(layer)
        outputs = {graph.INPUT: x}
        layers = list(self)
        for number in self.order:
            if number in needed:
                outputs[number] = layers[number - 1](*(outputs[s] for s in self.sources[number - 1]))
        return outputs[layer]

    def _ancestors(self, layer: int) -> set[int]:
        """`layer` and every layer it reads, directly or not."""
        found, stack = {layer}, [layer]
        while stack:
            for s in self.sources[stack.pop() - 1]:
                if s != graph.INPUT and s not in found:
                    found.add(s)
                    stack.append(s)
        return found

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        if not self.ends_with_softmax:
            return self(x)
        # A softmax reads one layer (the analysis refuses more): its input is the scores.
        return self.layer_outputs(x, skip_final_softmax=True)[self.sources[-1][0]]


def build_recipes(arch: Architecture, analysis: Analysis | None = None) -> list[Recipe]:
    """One constructor recipe per layer of `arch`; BuildError if its analysis has an error."""
    analysis = analysis or analyze(arch)
    if analysis.errors:
        raise BuildError(analysis.errors[0])
    if not arch.layers:
        raise BuildError("the network has no layers; add at least one")
    return [recipe_for(spec, la) for spec, la in zip(arch.layers, analysis.layers)]


def build_model(arch: Architecture, analysis: Analysis | None = None) -> ConvNet:
    """The network for `arch` (a GraphNet when its layers name their inputs); BuildError if its analysis has an
    error."""
    analysis = analysis or analyze(arch)
    modules = [recipe.build() for recipe in build_recipes(arch, analysis)]
    ends_with_softmax = isinstance(arch.layers[-1], SoftmaxSpec)
    if arch.is_graph:
        model: ConvNet = GraphNet(modules, ends_with_softmax, graph.sources(arch), analysis.order)
    else:
        model = ConvNet(modules, ends_with_softmax)
    apply_init(model, arch)  # hand-set conv filters over the random start (same RNG draws as without them)
    return model
