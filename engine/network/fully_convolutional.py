"""Fully connected layers as convolutions: a trained classifier rewritten to slide over larger images.

After the last spatial layer, the flatten goes and each linear layer becomes the convolution that computes
the same numbers: the first one's kernel is the whole incoming C x H x W map (its weight matrix reshaped,
row by row as flatten unrolls the map), the later ones are 1x1 (a linear layer applied at every position).
A global average pool is added last (before a trailing softmax): on the training image size the maps are
1x1, so it changes nothing and the network still ends in a vector of class scores (evaluate, train and the
window read it as before); on a larger image, `score_map_architecture` leaves it out and the network gives
a map of class scores, one per window of the training size, `stride` pixels apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from models.architecture import Architecture, InputShape
from models.layers import (Conv2dSpec, DropoutSpec, FlattenSpec, GlobalAvgPool2dSpec, LayerSpec, LinearSpec,
                           LocallyConnected2dSpec, Pool2dSpec, SoftmaxSpec, pair)
from models.shapes import analyze


class NotFullyConvolutional(ValueError):
    """The network cannot be rewritten; the message names the layer and what to change."""


@dataclass(frozen=True)
class FullyConvolutional:
    """The rewritten architecture and where each of its layers' weights come from."""

    architecture: Architecture
    # Per new layer: the original layer index it takes its parameters from (None: it has none).
    sources: tuple[int | None, ...]
    # New layer index -> the (C, H, W) its former linear weight rows are reshaped into.
    kernels: dict[int, tuple[int, int, int]]
    stride: tuple[int, int]  # pixels between neighbouring class scores on a larger image
    window: tuple[int, int]  # the training image size: what each class score sees

    def convert_state(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The original network's state dict as the rewritten one's (linear weights reshaped, names renumbered)."""
        out: dict[str, torch.Tensor] = {}
        for new, old in enumerate(self.sources):
            if old is None:
                continue
            prefix = f"{old}."
            for name, tensor in state.items():
                if not name.startswith(prefix):
                    continue
                key = name[len(prefix):]
                if key == "weight" and new in self.kernels:
                    tensor = tensor.reshape(tensor.shape[0], *self.kernels[new])
                out[f"{new}.{key}"] = tensor.detach().clone()
        return out


def _spatial_stride(layers: tuple[LayerSpec, ...]) -> tuple[int, int]:
    sh = sw = 1
    for spec in layers:
        if isinstance(spec, Conv2dSpec):
            h, w = pair(spec.stride)
        elif isinstance(spec, Pool2dSpec):
            h, w = pair(spec.stride if spec.stride is not None else spec.kernel_size)
        else:
            continue
        sh, sw = sh * h, sw * w
    return sh, sw


def fully_convolutional(arch: Architecture) -> FullyConvolutional:
    """`arch` with its linear layers as convolutions; NotFullyConvolutional saying why when it cannot be."""
    if arch.is_graph:  # the rewrite renumbers layers one path long; a graph's wiring would be lost
        raise NotFullyConvolutional(f"{arch.name} is a graph (some layers read others than the layer before "
                                    f"them); only a chain of layers can be rewritten fully convolutional")
    analysis = analyze(arch)
    if analysis.errors:
        raise NotFullyConvolutional(f"{arch.name}: {analysis.errors[0]}")
    flatten = next((n for n, spec in enumerate(arch.layers) if isinstance(spec, FlattenSpec)), None)
    if flatten is None:
        raise NotFullyConvolutional(f"{arch.name} has no flatten layer, so no linear layer sees the image's layout "
                                    f"(a network ending in global_avgpool2d already takes any image size)")
    incoming = analysis.layers[flatten].input_shape
    if incoming is None or len(incoming) != 3:
        raise NotFullyConvolutional(f"{analysis.layers[flatten].label} receives a vector, not maps: its linear "
                                    f"layers see no image layout to slide over")
    for la, spec in zip(analysis.layers[:flatten], arch.layers[:flatten]):
        if isinstance(spec, LocallyConnected2dSpec):
            raise NotFullyConvolutional(f"{la.label} has weights of its own for each position of its "
                                        f"{'x'.join(map(str, la.input_shape))} input, so it cannot slide over a "
                                        f"larger image; replace it by a conv2d")
    layers: list[LayerSpec] = list(arch.layers[:flatten])
    sources: list[int | None] = list(range(flatten))
    kernels: dict[int, tuple[int, int, int]] = {}
    for n in range(flatten + 1, len(arch.layers)):
        spec, la = arch.layers[n], analysis.layers[n]
        if isinstance(spec, LinearSpec):
            first = not kernels
            shape = tuple(incoming) if first else (la.input_shape[0], 1, 1)
            kernels[len(layers)] = shape
            layers.append(Conv2dSpec(spec.out_features, shape[1:] if shape[1] != shape[2] else shape[1],
                                     bias=spec.bias))
            sources.append(n)
        elif isinstance(spec, FlattenSpec):
            continue  # a second flatten of a vector did nothing, and would unroll the score map
        elif spec.GROUP == "Activation" or isinstance(spec, DropoutSpec):
            layers.append(spec)  # elementwise (softmax over channels): the same at every position
            sources.append(None)
        else:
            raise NotFullyConvolutional(f"{la.label} after the flatten has no convolutional equivalent here; "
                                        f"only linear, activation and dropout layers can follow it")
    if not kernels:
        raise NotFullyConvolutional(f"{arch.name} has no linear layer after its flatten: nothing to rewrite")
    at = len(layers) - 1 if isinstance(layers[-1], SoftmaxSpec) else len(layers)
    layers.insert(at, GlobalAvgPool2dSpec())
    sources.insert(at, None)
    rewritten = Architecture(f"{arch.name} (fully convolutional)", arch.input, tuple(layers))
    problem = analyze(rewritten).first_error
    if problem:  # a rule above is wrong: say so rather than write a network that does not build
        raise NotFullyConvolutional(f"the rewritten network is not valid: {problem}")
    _, height, width = arch.input.as_tuple()
    return FullyConvolutional(rewritten, tuple(sources), kernels, _spatial_stride(arch.layers[:flatten]),
                              (height, width))


def score_map_architecture(rewritten: Architecture, height: int, width: int) -> Architecture:
    """The rewritten network for height x width images without its final average: its output is a map of class
    scores (probabilities when it ends in softmax). ValueError naming the layer if the image is too small."""
    layers = list(rewritten.layers)
    last_pool = max((n for n, s in enumerate(layers) if isinstance(s, GlobalAvgPool2dSpec)), default=None)
    if last_pool is None:
        raise ValueError(f"{rewritten.name}: no global_avgpool2d at its end; give a network rewritten by "
                         f"fully_convolutional()")
    del layers[last_pool]
    channels = rewritten.input.channels
    arch = Architecture(rewritten.name, InputShape(channels, height, width), tuple(layers))
    problem = analyze(arch).first_error
    if problem:
        raise ValueError(f"{channels}x{height}x{width} images: {problem}")
    return arch

