"""Every layer type has an entry in every registry, and a type without one is refused by name."""

from dataclasses import dataclass
from typing import ClassVar

import pytest
from torch import nn

from engine.network.builder import build_model
from engine.export.python_source import generate_source
from engine.network.layer_recipes import RECIPES, Recipe
from models.architecture import Architecture, InputShape
from models.layers import (GROUPS, LAYER_TYPES, AvgPool2dSpec, FlattenSpec, LayerSpec, MaxPool2dSpec, Pool2dSpec,
                           ReluSpec, UnsupportedLayerError, has_filters)
from models.shapes import SHAPE_RULES, analyze
from tests.models.strategies import SPEC_STRATEGIES


@pytest.mark.parametrize("key", sorted(LAYER_TYPES))
def test_every_layer_type_is_in_every_registry(key):
    cls = LAYER_TYPES[key]
    assert cls in SHAPE_RULES, f"{key}: no shape rule in models/shapes.py"
    assert cls in RECIPES, f"{key}: no builder recipe in engine/network/layer_recipes.py"
    assert cls in SPEC_STRATEGIES, f"{key}: no hypothesis strategy"
    assert cls.DISPLAY_NAME and cls.SUMMARY and cls.GROUP in GROUPS, key
    assert isinstance(cls().short_text(), str)
    _assert_converts_back(cls)


def _assert_converts_back(cls: type[LayerSpec]) -> None:
    """The module its recipe builds maps back to this type (engine/run_folder/model_conversion.py MODULE_SPECS),
    so RunWriter records a user's nn.Sequential of it as a ConvScope network."""
    from engine.run_folder.model_conversion import MODULE_SPECS, convert_sequential

    spec = cls()
    arch = Architecture("one", InputShape(2, 8, 8), (spec,))
    if not analyze(arch).is_valid:  # a layer of vectors (linear): flatten first
        arch = Architecture("one", InputShape(2, 8, 8), (FlattenSpec(), spec))
    model = build_model(arch)
    built = type(model[len(arch.layers) - 1])
    assert built in MODULE_SPECS, f"{cls.TYPE}: no way back from {built.__name__} in MODULE_SPECS"
    assert type(convert_sequential(model, (2, 8, 8)).arch.layers[-1]) is cls, cls.TYPE


@dataclass(frozen=True)
class UpsampleSpec(LayerSpec):
    """A layer type a contributor has only started: a spec and nothing else."""

    TYPE: ClassVar[str] = "upsample"
    GROUP: ClassVar[str] = "Reshape"
    SUMMARY: ClassVar[str] = "Repeats each pixel."
    DISPLAY_NAME: ClassVar[str] = "Upsample"


@pytest.fixture
def upsample_registered(monkeypatch):
    """UpsampleSpec in LAYER_TYPES for the test only (monkeypatch takes it out again)."""
    monkeypatch.setitem(LAYER_TYPES, "upsample", UpsampleSpec)
    return Architecture("u", InputShape(1, 4, 4), (UpsampleSpec(),))


def test_a_spec_without_a_shape_rule_is_refused_by_name_not_passed_through(upsample_registered):
    with pytest.raises(UnsupportedLayerError, match=r"^no shape rule for layer type 'upsample' \(UpsampleSpec\); "
                                                    r"register one in models/shapes\.py"):
        analyze(upsample_registered)


def test_a_spec_without_a_builder_recipe_is_refused_by_name(upsample_registered, monkeypatch):
    monkeypatch.setitem(SHAPE_RULES, UpsampleSpec, SHAPE_RULES[ReluSpec])  # shape unchanged, for the test
    assert analyze(upsample_registered).is_valid
    message = r"^no builder recipe for layer type 'upsample' \(UpsampleSpec\); register one in engine/network/layer_recipes"
    with pytest.raises(UnsupportedLayerError, match=message):
        build_model(upsample_registered)
    with pytest.raises(UnsupportedLayerError, match=message):
        generate_source(upsample_registered)
    # With its recipe, the same type builds and prints: the one recipe serves both.
    monkeypatch.setitem(RECIPES, UpsampleSpec, lambda spec, la: Recipe("nn.Identity"))
    assert isinstance(build_model(upsample_registered)[0], nn.Identity)
    assert "nn.Identity()," in generate_source(upsample_registered)


def test_registries_are_left_as_they_were():
    assert "upsample" not in LAYER_TYPES and UpsampleSpec not in SHAPE_RULES and UpsampleSpec not in RECIPES


def test_max_and_average_pooling_are_siblings_not_subclasses():
    assert not issubclass(AvgPool2dSpec, MaxPool2dSpec) and not issubclass(MaxPool2dSpec, AvgPool2dSpec)
    assert issubclass(AvgPool2dSpec, Pool2dSpec) and issubclass(MaxPool2dSpec, Pool2dSpec)
    model = build_model(Architecture("p", InputShape(1, 4, 4), (MaxPool2dSpec(2), AvgPool2dSpec(2))))
    assert [type(m) for m in model] == [nn.MaxPool2d, nn.AvgPool2d]


def test_only_convolution_has_filters():
    assert [key for key in LAYER_TYPES if has_filters(key)] == ["conv2d"]
    assert not has_filters("input") and not has_filters("no such type")
