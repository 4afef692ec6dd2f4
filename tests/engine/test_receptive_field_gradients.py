"""The receptive fields of models/receptive_field.py against autograd: the pixels a unit's gradient reaches.

With every weight positive, average pooling in place of max pooling and a positive input (so every ReLU passes),
d unit / d input is non-zero exactly on the input pixels the unit sees: its bounding box must be the computed field
(centre start + index * jump, size receptive_field), clipped to the image.

Graphs too (the graph presets and the hand-made ones below): a merge's unit sees the union of what its inputs' units
see. A unit at (row, col) stands for all its channels there: after a concat each channel sees only its own branch
(and so do the channels of a pooling or activation after it), so the gradient is that of the sum over channels.
With every weight positive nothing cancels, and in a chain every channel sees the same pixels."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from engine.network.builder import build_model
from engine.network.modules import LocallyConnected2d
from models.architecture import Architecture, InputShape
from models.layers import (AddSpec, AvgPool2dSpec, BatchNorm2dSpec, ConcatSpec, Conv2dSpec, FlattenSpec,
                           LinearSpec, LocallyConnected2dSpec, MaxPool2dSpec, ReluSpec)
from models.presets import PRESET_KEYS, load_preset
from models.receptive_field import LayerField, receptive_fields

CUSTOM = {
    "stride 2 then 3x3": (InputShape(1, 15, 15), (Conv2dSpec(out_channels=2, kernel_size=3, stride=2),
                                                  Conv2dSpec(out_channels=2, kernel_size=3))),
    "same, even kernel, stride 2": (InputShape(2, 13, 11), (Conv2dSpec(out_channels=3, kernel_size=4, stride=2,
                                                                       padding="same"), ReluSpec(),
                                                            Conv2dSpec(out_channels=2, kernel_size=(3, 5),
                                                                       stride=(2, 1), padding="same"))),
    "padded pooling, rectangles": (InputShape(1, 20, 17), (Conv2dSpec(out_channels=2, kernel_size=(5, 3), padding=1),
                                                           AvgPool2dSpec(kernel_size=3, stride=2, padding=1),
                                                           BatchNorm2dSpec(),
                                                           MaxPool2dSpec(kernel_size=2, stride=1),
                                                           Conv2dSpec(out_channels=2, kernel_size=3, stride=(1, 2)),
                                                           FlattenSpec(), LinearSpec(out_features=3))),
    "locally connected, same, stride 2": (InputShape(1, 12, 12), (
        LocallyConnected2dSpec(out_channels=2, kernel_size=3, stride=2, padding="same"), ReluSpec(),
        LocallyConnected2dSpec(out_channels=1, kernel_size=2, padding=1))),
}

GRAPHS = {
    # Two branches whose first units' fields overlap without one holding the other: pixels -1..1 (3x3 conv) and
    # 0..2 (two 2x2 'same' convs, each padded after, not before): together -1..2, a 4-wide field centred on 0.5.
    "add of offset branches": Architecture("add", InputShape(1, 12, 12), (
        Conv2dSpec(out_channels=2, kernel_size=3, padding=1), Conv2dSpec(out_channels=2, kernel_size=2,
                                                                         padding="same"),
        Conv2dSpec(out_channels=2, kernel_size=2, padding="same"), AddSpec(),
        Conv2dSpec(out_channels=2, kernel_size=3, stride=2)), (None, (0,), None, (3, 1), None)),
    "inception module": Architecture("inception", InputShape(2, 12, 12), (
        Conv2dSpec(out_channels=2, kernel_size=1), Conv2dSpec(out_channels=2, kernel_size=3, padding=1),
        Conv2dSpec(out_channels=2, kernel_size=5, padding=2), MaxPool2dSpec(kernel_size=3, stride=1, padding=1),
        Conv2dSpec(out_channels=2, kernel_size=1), ConcatSpec(), Conv2dSpec(out_channels=2, kernel_size=3, stride=2),
        FlattenSpec(), LinearSpec(out_features=3)), (None, (0,), (0,), (0,), None, (1, 2, 3, 5), None, None, None)),
}


def positive(arch: Architecture) -> torch.nn.Module:
    """The network with max pooling averaged and every weight 1/fan-in (biases 0): all paths count, none cancel."""
    layers = tuple(AvgPool2dSpec(**{f.name: getattr(s, f.name) for f in dataclasses.fields(s)})
                   if isinstance(s, MaxPool2dSpec) else s for s in arch.layers)
    model = build_model(Architecture(arch.name, arch.input, layers, arch.inputs)).eval()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear, LocallyConnected2d)):
                module.weight.fill_(1.0 / module.weight[0].numel())
                if module.bias is not None:
                    module.bias.zero_()
    return model


def reached(model: torch.nn.Module, shape: tuple[int, ...], child: int, unit: tuple) -> tuple[int, ...]:
    """(top, left, bottom, right), inclusive, of the input pixels whose gradient for `unit` of child `child` is not 0
    (a unit's channel may be a slice: the sum over those channels)."""
    x = torch.ones((1, *shape), requires_grad=True)
    model.output_of(x, child + 1)[(0, *unit)].sum().backward()
    rows, cols = np.nonzero(x.grad[0].abs().sum(dim=0).numpy())
    return int(rows.min()), int(cols.min()), int(rows.max()), int(cols.max())


def clipped(field: LayerField, row: int, col: int, height: int, width: int) -> tuple[int, ...]:
    top, left, h, w = field.unit_box(row, col)
    assert float(top).is_integer() and float(left).is_integer(), "a field starts on a pixel boundary"
    return max(int(top), 0), max(int(left), 0), min(int(top + h), height) - 1, min(int(left + w), width) - 1


def sampled(arch: Architecture) -> set[int] | None:
    """The 0-based layers a deep network checks (each check runs it forward and back a few times): every merge,
    every eighth layer and the last two; None (all) for a short one."""
    if len(arch.layers) <= 30:
        return None
    count = len(arch.layers)
    return {n for n, spec in enumerate(arch.layers) if isinstance(spec, (AddSpec, ConcatSpec)) or n % 8 == 0
            or n >= count - 2}


def check(arch: Architecture, only: set[int] | None = None) -> int:
    """Every layer's (or the `only` layers') corner and centre units (maps) or first, middle and last units
    (vectors); the count checked."""
    model, fields = positive(arch), receptive_fields(arch)
    _, height, width = arch.input.as_tuple()
    checked = 0
    previous_map: tuple[LayerField, tuple[int, ...]] | None = None
    for child, (spec, field) in enumerate(zip(arch.layers, fields)):
        feeds_flatten = any(isinstance(s, FlattenSpec) for s in arch.layers[child + 1:child + 2])
        if only is not None and child not in only and not feeds_flatten:  # a flatten's check reads its maps
            continue
        with torch.no_grad():
            shape = tuple(model.output_of(torch.ones((1, *arch.input.as_tuple())), child + 1).shape[1:])
        if len(shape) == 3:
            _, h, w = shape
            for row, col in {(0, 0), (h - 1, w - 1), (h // 2, w // 2), (0, w - 1)}:
                box = reached(model, arch.input.as_tuple(), child, (slice(None), row, col))
                assert box == clipped(field, row, col, height, width), (arch.name, child, spec.TYPE, row, col)
                top, left, fh, fw = field.unit_box(row, col)
                if top >= 0 and left >= 0 and top + fh <= height and left + fw <= width:  # away from the border
                    assert (box[2] - box[0] + 1, box[3] - box[1] + 1) == field.receptive_field
                    assert ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2) == (
                        field.start[0] + row * field.jump[0], field.start[1] + col * field.jump[1])
                checked += 1
            previous_map = (field, shape)
        else:
            (n,) = shape
            for unit in {0, n // 2, n - 1}:
                box = reached(model, arch.input.as_tuple(), child, (unit,))
                if field.whole:  # the whole input, or the part of it the windows reach
                    (top, bottom), (left, right) = field.reach
                    assert box == (top, left, bottom, right), (arch.name, child, spec.TYPE, unit)
                    assert field.receptive_field == (bottom - top + 1, right - left + 1)
                else:  # a flattened map: unit n is (channel, row, col) of the maps before it, with their field
                    before, (_, h, w) = previous_map
                    row, col = divmod(unit % (h * w), w)
                    assert box == clipped(before, row, col, height, width), (arch.name, child, spec.TYPE, unit)
                    assert field.receptive_field == before.receptive_field and field.jump is None
                checked += 1
    return checked


@pytest.mark.parametrize("name", sorted(CUSTOM))
def test_fields_are_the_pixels_the_gradient_reaches(name):
    shape, layers = CUSTOM[name]
    assert check(Architecture(name, shape, layers)) >= 2 * len(layers)


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_merges_see_the_union_of_their_inputs_fields(name):
    arch = GRAPHS[name]
    assert check(arch) >= 2 * len(arch.layers)


def test_offset_branches_add_up_to_a_wider_field_than_either():
    branch_a, branch_b, add = (receptive_fields(GRAPHS["add of offset branches"])[n] for n in (0, 2, 3))
    assert (branch_a.receptive_field, branch_a.start, branch_b.receptive_field, branch_b.start) == (
        (3, 3), (0, 0), (3, 3), (1, 1))
    assert (add.receptive_field, add.jump, add.start) == ((4, 4), (1, 1), (0.5, 0.5))


@pytest.mark.parametrize("key", PRESET_KEYS)
def test_every_preset_agrees_with_its_gradients(key):
    arch = load_preset(key)
    only = sampled(arch)
    assert check(arch, only) >= 2 * len(only if only is not None else arch.layers)
    dense = receptive_fields(arch)[-1]
    # Keras' MNIST convnet: 28 -> conv 26 -> pool 13 -> conv 11 -> pool 5, whose windows skip row and column 10 of
    # the 11x11 maps: input rows and columns 26 and 27 reach no class score.
    assert dense.whole and dense.receptive_field == ((26, 26) if key == "keras_mnist" else arch.input.as_tuple()[1:])
