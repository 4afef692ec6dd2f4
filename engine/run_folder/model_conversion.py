"""A user's nn.Sequential (nesting only Sequentials) of layers ConvScope knows, as an Architecture.

convert_sequential() names every leaf module by its path ("features.0"), maps each to a layer spec, and
says how the user's state-dict names become ConvScope's ("features.0.weight" -> "0.weight"). It checks
the result the only way that is sure: the rebuilt ConvScope network, given the renamed weights, must give
the user's model's outputs on the probe. Anything else raises NotConvertible with the reason (the caller
then records what the views need instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from engine.network.builder import BuildError, ConvNet, build_model
from engine.network.modules import GlobalAvgPool2d, LocallyConnected2d
from models.architecture import Architecture, InputShape
from models.layers import (AvgPool2dSpec, BatchNorm2dSpec, Conv2dSpec, DropoutSpec, EluSpec, FlattenSpec,
                           GlobalAvgPool2dSpec, LayerSpec, LeakyReluSpec, LinearSpec, LocallyConnected2dSpec,
                           MaxPool2dSpec, ReluSpec, SigmoidSpec, SoftmaxSpec, TanhSpec)
from models.shapes import analyze

TOLERANCE = 1e-4  # relative: the same arithmetic in the same order, so only float noise may differ


class NotConvertible(ValueError):
    """The model is not a Sequential of layers ConvScope knows; the message names the module and why."""


@dataclass(frozen=True)
class Conversion:
    arch: Architecture
    paths: tuple[tuple[str, ...], ...]   # per ConvScope layer: the user's module path(s) it stands for
    names: dict[str, str]                # the user's state-dict name -> ConvScope's

    def convert_state(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The user's state dict under ConvScope's names (the tensors themselves, not copies)."""
        return {self.names[name]: tensor for name, tensor in state.items() if name in self.names}


def leaf_modules(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """(path, module) of each layer of a Sequential nesting only Sequentials, in order; NotConvertible if not."""
    if not _is_plain_sequential(model):
        raise NotConvertible(f"the model is a {type(model).__name__}, not an nn.Sequential")
    leaves: list[tuple[str, nn.Module]] = []

    def walk(prefix: str, seq: nn.Sequential) -> None:
        for name, child in seq.named_children():
            path = f"{prefix}{name}"
            if _is_plain_sequential(child):
                walk(path + ".", child)
            elif any(True for _ in child.children()):
                raise NotConvertible(f"{path} ({type(child).__name__}) holds modules of its own; only nested "
                                     f"nn.Sequential containers can be rebuilt")
            else:
                leaves.append((path, child))

    walk("", model)
    return leaves


def _is_plain_sequential(module: nn.Module) -> bool:
    # A subclass that overrides forward may do anything; ConvScope's own ConvNet keeps Sequential's forward.
    return isinstance(module, nn.Sequential) and type(module).forward is nn.Sequential.forward


def _no(path: str, module: nn.Module, what: str) -> NotConvertible:
    return NotConvertible(f"{path} ({type(module).__name__}): {what}, which ConvScope's layers do not have")


def _conv(path: str, m: nn.Conv2d) -> LayerSpec:
    if tuple(m.dilation) != (1, 1):
        raise _no(path, m, f"dilation {tuple(m.dilation)}")
    if m.padding_mode != "zeros":
        raise _no(path, m, f"padding_mode {m.padding_mode!r}")
    if isinstance(m.padding, str):  # torch's "same" (stride 1) puts an odd extra zero after, as ConvScope's does
        padding = 0 if m.padding == "valid" else "same"
    else:
        padding = m.padding[0] if m.padding[0] == m.padding[1] else tuple(m.padding)
    return Conv2dSpec(out_channels=m.out_channels, kernel_size=_size(m.kernel_size), stride=_size(m.stride),
                      padding=padding, bias=m.bias is not None, groups=m.groups)


def _locally_connected(m: LocallyConnected2d) -> LayerSpec:
    left, right, top, bottom = m.pad
    # Uneven zeros are what "same" pads; convert_sequential's analysis and check_conversion confirm the sizes.
    padding = (top if top == left else (top, left)) if (top, left) == (bottom, right) else "same"
    return LocallyConnected2dSpec(out_channels=m.out_channels, kernel_size=_size(m.kernel_size),
                                  stride=_size(m.stride), padding=padding)


def _pool(path: str, m: nn.Module, spec_class: type[LayerSpec]) -> LayerSpec:
    if getattr(m, "ceil_mode", False):
        raise _no(path, m, "ceil_mode=True")
    if isinstance(m, nn.MaxPool2d) and (m.return_indices or _size(m.dilation) != 1):
        raise _no(path, m, "return_indices or dilation")
    if isinstance(m, nn.AvgPool2d) and (not m.count_include_pad or m.divisor_override is not None):
        raise _no(path, m, "count_include_pad=False or a divisor_override")
    stride = m.stride if m.stride is not None else m.kernel_size
    return spec_class(kernel_size=_size(m.kernel_size), stride=_size(stride), padding=_size(m.padding))


def _size(value) -> int | tuple[int, int]:
    if isinstance(value, (tuple, list)):
        return int(value[0]) if value[0] == value[1] else (int(value[0]), int(value[1]))
    return int(value)


def _batchnorm(path: str, m: nn.BatchNorm2d) -> LayerSpec:
    # ConvScope builds nn.BatchNorm2d(channels) with torch's defaults; other settings would train differently.
    if not (m.affine and m.track_running_stats and m.eps == 1e-5 and m.momentum == 0.1):
        raise _no(path, m, f"eps={m.eps}, momentum={m.momentum}, affine={m.affine}, "
                           f"track_running_stats={m.track_running_stats}")
    return BatchNorm2dSpec()


def _flatten(path: str, m: nn.Flatten, _following: nn.Module | None) -> LayerSpec:
    if m.start_dim != 1 or m.end_dim != -1:
        raise _no(path, m, f"start_dim={m.start_dim}, end_dim={m.end_dim}")
    return FlattenSpec()


def _adaptive_avg_pool(path: str, m: nn.AdaptiveAvgPool2d, following: nn.Module | None) -> LayerSpec:
    if _size(m.output_size) != 1 or type(following) is not nn.Flatten:
        raise _no(path, m, "an output size other than 1 (or no Flatten after it)")
    return GlobalAvgPool2dSpec()  # with the Flatten after it: (C, H, W) -> (C), as GlobalAvgPool2d


def _softmax(path: str, m: nn.Softmax, _following: nn.Module | None) -> LayerSpec:
    if m.dim not in (1, -1):
        raise _no(path, m, f"dim={m.dim}")
    return SoftmaxSpec()


Converter = Callable[[str, nn.Module, "nn.Module | None"], LayerSpec]

# The way back from engine/network/layer_recipes.py's RECIPES: each torch module class ConvScope builds (and a few it
# reads but does not build) to its layer spec, looked up by exact class (a subclass may compute something else).
# tests/engine/test_layer_registries.py builds every layer type and converts it back through this table.
MODULE_SPECS: dict[type[nn.Module], Converter] = {
    nn.Conv2d: lambda path, m, _: _conv(path, m),
    LocallyConnected2d: lambda path, m, _: _locally_connected(m),
    nn.MaxPool2d: lambda path, m, _: _pool(path, m, MaxPool2dSpec),
    nn.AvgPool2d: lambda path, m, _: _pool(path, m, AvgPool2dSpec),
    nn.Linear: lambda path, m, _: LinearSpec(out_features=m.out_features, bias=m.bias is not None),
    nn.BatchNorm2d: lambda path, m, _: _batchnorm(path, m),
    nn.Dropout: lambda path, m, _: DropoutSpec(p=float(m.p)),
    nn.Flatten: _flatten,
    GlobalAvgPool2d: lambda path, m, _: GlobalAvgPool2dSpec(),
    nn.AdaptiveAvgPool2d: _adaptive_avg_pool,
    nn.ReLU: lambda path, m, _: ReluSpec(),
    nn.LeakyReLU: lambda path, m, _: LeakyReluSpec(negative_slope=float(m.negative_slope)),
    nn.ELU: lambda path, m, _: EluSpec(alpha=float(m.alpha)),
    nn.Sigmoid: lambda path, m, _: SigmoidSpec(),
    nn.Tanh: lambda path, m, _: TanhSpec(),
    nn.Softmax: _softmax,
}


def _spec(path: str, m: nn.Module, following: nn.Module | None) -> LayerSpec:
    """The spec for one leaf module; NotConvertible for a class the table does not hold."""
    converter = MODULE_SPECS.get(type(m))
    if converter is None:
        raise NotConvertible(f"{path} ({type(m).__name__}) is not a layer ConvScope knows")
    return converter(path, m, following)


def convert_sequential(model: nn.Module, input_shape: tuple[int, int, int]) -> Conversion:
    """The Architecture and state-dict renaming for `model` taking (C, H, W) inputs; NotConvertible if none."""
    leaves = leaf_modules(model)
    specs: list[LayerSpec] = []
    paths: list[tuple[str, ...]] = []
    names: dict[str, str] = {}
    i = 0
    while i < len(leaves):
        path, module = leaves[i]
        following = leaves[i + 1][1] if i + 1 < len(leaves) else None
        spec = _spec(path, module, following)
        index = len(specs)
        covered = [(path, module)] + ([leaves[i + 1]] if type(module) is nn.AdaptiveAvgPool2d else [])
        for p, m in covered:
            for key in m.state_dict():
                names[f"{p}.{key}"] = f"{index}.{key}"
        specs.append(spec)
        paths.append(tuple(p for p, _ in covered))
        i += len(covered)
    if not specs:
        raise NotConvertible("the model has no layers")
    c, h, w = (int(v) for v in input_shape)
    arch = Architecture(type(model).__name__ if type(model) is not nn.Sequential else "Sequential",
                        InputShape(c, h, w), tuple(specs))
    analysis = analyze(arch)
    if analysis.errors:
        raise NotConvertible(f"as a ConvScope network: {analysis.errors[0]}")
    return Conversion(arch, tuple(paths), names)


@torch.no_grad()
def check_conversion(conversion: Conversion, model: nn.Module, probe: torch.Tensor) -> ConvNet:
    """The rebuilt network with the user's weights; NotConvertible unless it gives the model's outputs on `probe`."""
    try:
        with torch.random.fork_rng(devices=[]):  # building initialises weights: leave the user's RNG alone
            rebuilt = build_model(conversion.arch)
    except BuildError as exc:
        raise NotConvertible(f"as a ConvScope network: {exc}") from None
    state = {k: v.detach().cpu() for k, v in conversion.convert_state(model.state_dict()).items()}
    try:
        rebuilt.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise NotConvertible(f"its weights do not fit the rebuilt network ({str(exc).splitlines()[0]})") from None
    rebuilt.eval()
    was_training = model.training
    model.eval()
    try:
        device = next((p.device for p in model.parameters()), probe.device)
        expected = model(probe.to(device)).float().cpu()
    finally:
        model.train(was_training)
    got = rebuilt(probe.cpu().float()).float()
    if got.shape != expected.shape or not torch.allclose(got, expected, rtol=TOLERANCE,
                                                         atol=TOLERANCE * float(expected.abs().max().clamp(min=1))):
        raise NotConvertible("the rebuilt network does not give the model's outputs on the probe")
    return rebuilt
