"""The drawing panel's background job: a drawing preprocessed as MNIST was made, then one forward pass.

It runs on a TaskRunner thread with frozen inputs only (the ink as a numpy copy, a CPU state dict that is
never written to, the statistics): the activations and probabilities come from an InspectionCopy, the same
model of the window's own that the Training tab's views probe, never from a live training model.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import torch

from engine.inspection.drawn_input import FIELD, mnist_style
from engine.inspection.inspection_copy import InspectionCopy
from engine.normalization import Normalization
from models.architecture import Architecture

DRAWABLE = (1, FIELD, FIELD)  # what engine.inspection.drawn_input makes: one grey 28x28 plane


@dataclass(frozen=True, eq=False)
class DrawnPrediction:
    """What the network made of one drawing."""

    version: int                         # the panel's count of drawing changes when it was submitted
    weights: dict[str, torch.Tensor]     # the state dict used (the panel compares identity to see staleness)
    pixels: np.ndarray                   # (28, 28) float32 in [0, 1]: the drawing as the dataset stores images
    normalization: Normalization | None  # what `image` was normalised with (None: raw pixels)
    image: torch.Tensor                  # (1, 28, 28): `pixels` normalised, exactly what the network was given
    probabilities: np.ndarray            # (classes,); empty when the network's output is not a class vector
    activations: dict[str, np.ndarray]   # layer label -> (C, H, W) or (N,), in layer order


def unsupported_input(architecture: Architecture) -> str | None:
    """Why a drawing cannot be fed to this network (its input is not one grey 28x28 plane), or None."""
    shape = architecture.input.as_tuple()
    if shape == DRAWABLE:
        return None
    channels, height, width = shape
    colour = "" if channels == 1 else f" with {channels} channels"
    return (f"This network takes {height}x{width} images{colour}; a drawing becomes a 1-channel 28x28 image "
            f"the way MNIST digits were made, so drawing works only for 1x28x28 networks (MNIST, Fashion-MNIST).")


class ModelCache:
    """One InspectionCopy, rebuilt when the architecture changes. Shared by the panel's job threads (an old job
    may still run when a newer one starts), hence the lock; building it on a job thread keeps the GUI free."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._copy: InspectionCopy | None = None

    def copy_for(self, architecture: Architecture) -> InspectionCopy:
        with self._lock:
            if self._copy is None or self._copy.arch != architecture:
                self._copy = InspectionCopy(architecture)
            return self._copy


def network_input(pixels: np.ndarray, normalization: Normalization | None) -> torch.Tensor:
    """(28, 28) pixels in [0, 1] -> (1, 28, 28) as the weights were trained to see them (raw when no statistics)."""
    batch = torch.from_numpy(np.ascontiguousarray(pixels, dtype=np.float32))[None, None]
    return (batch if normalization is None else normalization.apply(batch))[0]


def predict_drawing(cache: ModelCache, architecture: Architecture, weights: dict[str, torch.Tensor],
                    normalization: Normalization | None, ink: np.ndarray, version: int) -> DrawnPrediction:
    """Preprocess `ink` ((H, W) in [0, 1], 1 = full ink) and run the network with `weights` on it."""
    pixels = mnist_style(ink)
    image = network_input(pixels, normalization)
    event = cache.copy_for(architecture).show(weights, image, step=0, epoch=0, probe_index=-1)
    probabilities = np.asarray(event.probabilities, dtype=np.float64)
    return DrawnPrediction(version, weights, pixels, normalization, image, probabilities, dict(event.activations))
