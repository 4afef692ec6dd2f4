"""The score-map page's background job: the trained network rewritten fully convolutional, run on a wide image.

It runs on a TaskRunner thread with frozen inputs only (pixels as a numpy copy, a CPU state dict that is never
written to, the statistics) and returns plain numpy: the class probabilities at every window position and the
arg-max class there. The rewrite itself is engine/network/fully_convolutional.py's; nothing here re-derives it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from PIL import Image

from engine.datasets import Dataset
from engine.network.fully_convolutional import NotFullyConvolutional, fully_convolutional, score_map_architecture
from engine.normalization import Normalization
from engine.scoring.evaluation import inspection_copy
from models.architecture import Architecture

TILES = 3  # the wide image holds this many training-size windows side by side


@dataclass(frozen=True, eq=False)
class ScoreMaps:
    """What the fully convolutional network made of one wide image."""

    version: int                      # the panel's count of input changes when it was submitted
    weights: dict[str, torch.Tensor]  # the state dict used (the panel compares identity to see staleness)
    pixels: np.ndarray                # (C, H, W) float32 in [0, 1]: the image before normalisation
    probabilities: np.ndarray         # (classes, rows, cols) float32: softmax over the classes at each position
    predicted: np.ndarray             # (rows, cols) int64: the arg-max class at each position
    stride: tuple[int, int]           # image pixels between neighbouring positions (rows, cols)
    window: tuple[int, int]           # the training image size: what each position sees


@lru_cache(maxsize=8)  # asked on the GUI thread at every stroke; a large network's analysis takes milliseconds
def rewrite_problem(architecture: Architecture) -> str | None:
    """Why this network cannot slide over a larger image (the engine's reason), or None."""
    try:
        fully_convolutional(architecture)
    except NotFullyConvolutional as exc:
        return str(exc)
    return None


def wide_shape(architecture: Architecture) -> tuple[int, int, int]:
    """(C, H, W) of the wide image: TILES training images side by side."""
    channels, height, width = architecture.input.as_tuple()
    return channels, height, TILES * width


def tiled_pixels(dataset: Dataset, indices: list[int]) -> np.ndarray:
    """Validation images `indices` side by side, as (C, H, n * W) float32 pixels in [0, 1] (the dataset's
    normalisation undone: the job normalises them as the weights expect)."""
    images = dataset.val.images_at(torch.tensor(indices, dtype=torch.long))
    pixels = dataset.normalization.undo(images)  # (n, C, H, W)
    return torch.cat(list(pixels), dim=2).numpy().astype(np.float32, copy=True)


def canvas_pixels(ink: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Canvas ink ((h, w) in [0, 1]) -> (C, H, W) pixels: each image pixel the mean ink of the canvas area it
    covers (PIL's box filter: the exact block mean when the canvas is a whole multiple), grey in every channel.
    Unlike the single drawing (MNIST-style cropping and centring), the layout is kept: where a digit is drawn is
    what the score map shows."""
    channels, height, width = shape
    picture = Image.fromarray(np.ascontiguousarray(ink, dtype=np.float32))  # mode "F": no rounding
    grey = np.clip(np.asarray(picture.resize((width, height), Image.Resampling.BOX), dtype=np.float32), 0.0, 1.0)
    return np.repeat(grey[None], channels, axis=0)


def compute_score_maps(architecture: Architecture, weights: dict[str, torch.Tensor],
                       normalization: Normalization | None, pixels: np.ndarray, version: int) -> ScoreMaps:
    """Run the fully convolutional rewrite of `architecture` with `weights` on `pixels` ((C, H, W) in [0, 1]).

    NotFullyConvolutional or ValueError (image too small, naming the layer) say why it cannot run."""
    rewrite = fully_convolutional(architecture)
    channels, height, width = pixels.shape
    mapper = inspection_copy(score_map_architecture(rewrite.architecture, height, width),
                             rewrite.convert_state(weights), source="the rewritten weights")
    batch = torch.from_numpy(np.ascontiguousarray(pixels, dtype=np.float32))[None]
    if normalization is not None:
        batch = normalization.apply(batch)
    with torch.no_grad():
        scores = mapper.logits(batch)[0]  # (classes, rows, cols): before a trailing softmax, if any
        probabilities = torch.softmax(scores, dim=0)
    return ScoreMaps(version, weights, np.array(pixels, dtype=np.float32), probabilities.numpy().copy(),
                     scores.argmax(dim=0).numpy().astype(np.int64), rewrite.stride, rewrite.window)
