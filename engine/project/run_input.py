"""What `train` and `evaluate` accept as a network: one place that resolves a path to architecture + weights.

Accepted: an architecture .json (no weights), a run folder written by `train --out`, or a .convscope
project. The reading itself is engine.project.sources.open_project_or_run, shared with `export`.
"""

from __future__ import annotations

import os

import torch

from engine.project.project_file import Project, ProjectError
from engine.project.sources import open_project_or_run


class RunInputError(ValueError):
    """The path is not a usable architecture, run folder or project; the message names it and what to do."""


def read_run_input(path: str | os.PathLike) -> Project:
    """Everything the path holds (architecture, settings, history, weights or None)."""
    try:
        return open_project_or_run(path)
    except ProjectError as exc:
        raise RunInputError(str(exc)) from None


def trained_weights(source: Project, path: str | os.PathLike, weights_path: str | os.PathLike | None
                    ) -> dict[str, torch.Tensor]:
    """The weights a command works on: `--weights FILE` when given, else the source's own; RunInputError naming
    `path` when there are none (WeightsError from a bad --weights file)."""
    from engine.network.weights import load_state_dict

    weights = load_state_dict(weights_path) if weights_path else source.weights
    if weights is None:
        raise RunInputError(f"{path}: has no trained weights; pass --weights FILE (.safetensors or .pt) or give a "
                            f"run folder written by `train --out`")
    return weights
