"""What every export starts from: a checked output path and a fresh eval-mode model with the given weights."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from engine.network.builder import BuildError, ConvNet, build_model
from engine.normalization import Normalization, PixelInput
from engine.network.weights import WeightsError, apply_state_dict
from models.architecture import Architecture


class ExportError(ValueError):
    """An export that cannot be done; the message names the file (or tensor) and what to do."""


def check_destination(path: str | os.PathLike, suffixes: tuple[str, ...], what: str) -> Path:
    """`path` as a Path, if its folder exists and its suffix is one of `suffixes` (the first is suggested)."""
    path = Path(path)
    if path.suffix.lower() not in suffixes:
        raise ExportError(f"{path}: {what} files must end in {' or '.join(suffixes)}; "
                          f"e.g. {path.with_suffix(suffixes[0]).name}")
    if not path.parent.is_dir():
        raise ExportError(f"{path}: the folder {path.parent} does not exist; create it or choose another folder")
    if path.is_dir():
        raise ExportError(f"{path}: is a folder; give a file name")
    return path


def state_of(weights: dict[str, torch.Tensor] | nn.Module | None) -> dict[str, torch.Tensor]:
    """Detached CPU copies of the tensors, whether given a state dict or a model (which is not touched)."""
    if weights is None:
        raise ExportError("there are no trained weights to export; train the network or import weights first")
    state = weights.state_dict() if isinstance(weights, nn.Module) else weights
    return {name: t.detach().to("cpu", copy=True).contiguous() for name, t in state.items()}


def eval_model(arch: Architecture, weights: dict[str, torch.Tensor] | nn.Module | None) -> ConvNet:
    """A fresh ConvNet for `arch` holding `weights`, in eval mode; a live training model is never changed."""
    state = state_of(weights)
    # The fresh model's random initialisation is overwritten at once; fork_rng keeps it from moving
    # the caller's global seed.
    with torch.random.fork_rng(devices=[]):
        try:
            model = build_model(arch)
        except BuildError as exc:
            raise ExportError(f"the architecture cannot be built: {exc}") from None
    try:
        apply_state_dict(model, state, source="the weights")
    except WeightsError as exc:
        raise ExportError(str(exc)) from None
    return model.eval()


def input_model(arch: Architecture, weights: dict[str, torch.Tensor] | nn.Module | None,
                normalization: Normalization | None) -> nn.Module:
    """The model an export writes: taking [0, 1] pixels (normalising inside) when the statistics are given,
    else the bare network, which takes inputs already normalised."""
    model = eval_model(arch, weights)
    return model if normalization is None else PixelInput(model, normalization).eval()


def example_input(arch: Architecture, batch: int = 1, seed: int = 0) -> torch.Tensor:
    """A reproducible random batch of the architecture's input shape, for tracing and for checks."""
    generator = torch.Generator().manual_seed(seed)
    return torch.rand((batch, *arch.input.as_tuple()), generator=generator)
