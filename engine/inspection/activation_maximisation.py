"""What a conv channel or a class "wants": the input that maximises it, found by gradient ascent on the input.

Regularised as in Yosinski et al. (2015) and Olah et al. (2017), so the result looks like an image rather
than high-frequency noise: an L2 penalty towards mid-grey, a total-variation penalty, a random jitter of a
pixel or two each step, and the pixels clamped to the data range [0, 1]. The optimisation runs in pixel
space and normalises with the training statistics before the network, as training saw images. A whole
layer is done at once: one batch row per channel, each row scored only on its own channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

from engine.network.builder import ConvNet
from engine.inspection.mosaic import tile_maps
from engine.normalization import Normalization


# Element-wise and rising: maximising what goes in maximises what comes out, and gradients never die there.
MONOTONE = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.Sigmoid, nn.Tanh)


class MaximisationError(ValueError):
    """A layer or channel that cannot be maximised; the message says what to choose."""


@dataclass(frozen=True)
class MaximisationConfig:
    steps: int = 128
    learning_rate: float = 0.05      # Adam, in pixel units
    l2: float = 0.05                 # per pixel: weight of the squared distance from mid-grey
    total_variation: float = 0.05    # per pixel pair: weight of the absolute difference between neighbours
    jitter: int = 1                  # random shift of up to this many pixels each step
    seed: int = 0


def layer_activation(model: ConvNet, x: torch.Tensor, layer: int) -> torch.Tensor:
    """The output of 1-based layer `layer` (as `summary` numbers them); logits for the last layer's softmax."""
    if model.ends_with_softmax and layer == len(model):
        return model.logits(x)
    return model.output_of(x, layer)  # a graph runs only the layers this one reads


def maximise(model: ConvNet, input_shape: tuple[int, int, int], normalization: Normalization, layer: int,
             channels: list[int] | None = None, config: MaximisationConfig = MaximisationConfig(),
             progress: Callable[[float], None] | None = None,
             is_cancelled: Callable[[], bool] | None = None) -> tuple[np.ndarray, list[int]]:
    """Pixels (len(channels), C, H, W) in [0, 1] maximising each channel of `layer` (a class for a vector
    output: the logit), and the channels. `channels` None: every channel of the layer."""
    if not 1 <= layer <= len(model):
        raise MaximisationError(f"layer {layer} does not exist: choose 1 to {len(model)}")
    model.eval()
    with torch.no_grad():
        probe = layer_activation(model, torch.zeros(1, *input_shape), layer)
    width = int(probe.shape[1])
    chosen = list(range(width)) if channels is None else list(channels)
    bad = [c for c in chosen if not 0 <= c < width]
    if bad or not chosen:
        raise MaximisationError(f"layer {layer} has channels 0 to {width - 1}; channel {bad[0] if bad else '?'} "
                                f"does not exist")
    scored = layer
    while isinstance(model[scored - 1], MONOTONE) and _source(model, scored) >= 1:
        scored = _source(model, scored)  # a dead ReLU passes no gradient from grey; its input rises with its output
    generator = torch.Generator().manual_seed(config.seed)
    pixels = (0.5 + 0.01 * torch.randn(len(chosen), *input_shape, generator=generator)).requires_grad_(True)
    optimiser = torch.optim.Adam([pixels], lr=config.learning_rate)
    index = torch.tensor(chosen)
    rows = torch.arange(len(chosen))
    for step in range(config.steps):
        if is_cancelled is not None and is_cancelled():
            break
        dy, dx = (torch.randint(-config.jitter, config.jitter + 1, (2,), generator=generator).tolist()
                  if config.jitter else (0, 0))
        shifted = torch.roll(pixels, shifts=(dy, dx), dims=(2, 3))
        output = layer_activation(model, normalization.apply(shifted), scored)
        score = output[rows, index]
        if score.dim() > 1:
            score = score.mean(dim=tuple(range(1, score.dim())))  # a conv channel: its mean activation
        loss = (-score.sum() + config.l2 * ((pixels - 0.5) ** 2).sum()
                + config.total_variation * _total_variation(pixels))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        with torch.no_grad():
            pixels.clamp_(0.0, 1.0)
        if progress is not None:
            progress((step + 1) / config.steps)
    return pixels.detach().numpy().astype(np.float32), chosen


def _source(model: ConvNet, layer: int) -> int:
    """The layer that 1-based `layer` reads (0: the input); a graph's single-input layer may read any earlier one."""
    sources = getattr(model, "sources", None)  # a GraphNet's wiring; a chain reads the layer before
    return sources[layer - 1][0] if sources is not None else layer - 1


def channel_scores(model: ConvNet, images: torch.Tensor, layer: int, channel: int) -> np.ndarray:
    """The mean activation of `channel` of `layer` for each normalised image (N,): what maximise() raises."""
    with torch.no_grad():
        output = layer_activation(model.eval(), images, layer)[:, channel]
    return (output.mean(dim=tuple(range(1, output.dim()))) if output.dim() > 1 else output).numpy()


def _total_variation(pixels: torch.Tensor) -> torch.Tensor:
    """The sum of absolute differences between vertical and horizontal neighbours (summed, like the score, so
    the weights mean the same for any image size: a per-pixel price against a per-image gain)."""
    down = (pixels[:, :, 1:, :] - pixels[:, :, :-1, :]).abs().sum()
    across = (pixels[:, :, :, 1:] - pixels[:, :, :, :-1]).abs().sum()
    return down + across


def pixel_grid(pixels: np.ndarray) -> np.ndarray:
    """(N, C, H, W) pixels in [0, 1] -> one (H', W', 3) image, a near-square grid, NaN between the tiles."""
    if pixels.shape[1] == 3:
        return np.stack([tile_maps(pixels[:, c]) for c in range(3)], axis=-1)
    grey = tile_maps(pixels[:, 0])
    return np.repeat(grey[..., None], 3, axis=2)
