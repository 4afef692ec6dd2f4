"""One torch recipe per layer spec class: the constructor call that the builder runs and the Python export prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from torch import nn

from engine.network.modules import Add, Concat, GlobalAvgPool2d, LocallyConnected2d, PaddedConv2d
from models.layers import (AddSpec, AvgPool2dSpec, BatchNorm2dSpec, ConcatSpec, Conv2dSpec, DropoutSpec, EluSpec,
                           FlattenSpec, GlobalAvgPool2dSpec, LayerSpec, LeakyReluSpec, LinearSpec, LocallyConnected2dSpec,
                           MaxPool2dSpec, Pool2dSpec, ReluSpec, SigmoidSpec, SoftmaxSpec, TanhSpec, pair, registered)
from models.shapes import LayerAnalysis

# The names a recipe may call, as the generated source spells them (it does `from torch import nn`
# and inlines these helper classes).
HELPERS: dict[str, type[nn.Module]] = {"PaddedConv2d": PaddedConv2d, "GlobalAvgPool2d": GlobalAvgPool2d,
                                       "LocallyConnected2d": LocallyConnected2d, "Add": Add, "Concat": Concat}


@dataclass(frozen=True)
class Recipe:
    """A module as a constructor call: `factory` ('nn.Conv2d' or a HELPERS name), positional and keyword args."""

    factory: str
    args: tuple = ()
    kwargs: dict[str, object] = field(default_factory=dict)

    def module_class(self) -> type[nn.Module]:
        if self.factory.startswith("nn."):
            return getattr(nn, self.factory.removeprefix("nn."))
        return HELPERS[self.factory]

    def build(self) -> nn.Module:
        return self.module_class()(*self.args, **self.kwargs)

    def source(self) -> str:
        """The same call as Python text; values are ints, floats, bools and tuples, so repr is exact."""
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{self.factory}({', '.join(parts)})"


def _conv(spec: Conv2dSpec, la: LayerAnalysis) -> Recipe:
    c_in = la.input_shape[0]
    kernel, stride = pair(spec.kernel_size), pair(spec.stride)
    top, bottom, left, right = la.padding
    common = {"kernel_size": kernel, "stride": stride}
    tail = {"groups": spec.groups, "bias": spec.bias}
    if top == bottom and left == right:
        return Recipe("nn.Conv2d", (c_in, spec.out_channels), {**common, "padding": (top, left), **tail})
    return Recipe("PaddedConv2d", (c_in, spec.out_channels), {**common, "pad": la.padding, **tail})


def _locally_connected(spec: LocallyConnected2dSpec, la: LayerAnalysis) -> Recipe:
    return Recipe("LocallyConnected2d", (la.input_shape[0], spec.out_channels),
                  {"kernel_size": pair(spec.kernel_size), "stride": pair(spec.stride), "pad": la.padding,
                   "out_size": tuple(la.output_shape[1:])})


def _pool(factory: str) -> Callable[[Pool2dSpec, LayerAnalysis], Recipe]:
    def recipe(spec: Pool2dSpec, la: LayerAnalysis) -> Recipe:
        stride = pair(spec.stride if spec.stride is not None else spec.kernel_size)
        return Recipe(factory, (), {"kernel_size": pair(spec.kernel_size), "stride": stride,
                                    "padding": pair(spec.padding)})
    return recipe


def _plain(factory: str) -> Callable[[LayerSpec, LayerAnalysis], Recipe]:
    return lambda spec, la: Recipe(factory)


# One recipe per spec class, looked up by exact class: a type missing here is refused with its name.
RECIPES: dict[type[LayerSpec], Callable[[LayerSpec, LayerAnalysis], Recipe]] = {
    Conv2dSpec: _conv,
    LocallyConnected2dSpec: _locally_connected,
    MaxPool2dSpec: _pool("nn.MaxPool2d"),
    # AvgPool2d counts padding zeros by default, as Keras does not; torch's default is kept (file format rule).
    AvgPool2dSpec: _pool("nn.AvgPool2d"),
    LinearSpec: lambda spec, la: Recipe("nn.Linear", (la.input_shape[0], spec.out_features), {"bias": spec.bias}),
    BatchNorm2dSpec: lambda spec, la: Recipe("nn.BatchNorm2d", (la.input_shape[0],)),
    GlobalAvgPool2dSpec: _plain("GlobalAvgPool2d"),
    FlattenSpec: _plain("nn.Flatten"),
    DropoutSpec: lambda spec, la: Recipe("nn.Dropout", (), {"p": spec.p}),
    LeakyReluSpec: lambda spec, la: Recipe("nn.LeakyReLU", (), {"negative_slope": spec.negative_slope}),
    EluSpec: lambda spec, la: Recipe("nn.ELU", (), {"alpha": spec.alpha}),
    SoftmaxSpec: lambda spec, la: Recipe("nn.Softmax", (), {"dim": 1}),
    ReluSpec: _plain("nn.ReLU"),
    SigmoidSpec: _plain("nn.Sigmoid"),
    TanhSpec: _plain("nn.Tanh"),
    # Merge layers (a graph's joins): no parameters; the builder's GraphNet hands them every input.
    AddSpec: _plain("Add"),
    ConcatSpec: _plain("Concat"),
}


def recipe_for(spec: LayerSpec, la: LayerAnalysis) -> Recipe:
    """The recipe of one layer, given its analysed input shape; UnsupportedLayerError for a type without one."""
    return registered(RECIPES, type(spec), "builder recipe", "engine/network/layer_recipes.py (RECIPES)")(spec, la)
