"""A run's probe images: its validation split cut again as it was trained, normalised as trained; the first PROBE_SIZE
of them are the fixed batch health figures are computed on, and one of them is the sample an activation GIF shows."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from engine.config import TrainConfig
from engine.normalization import Normalization

PROBE_SIZE = 512


class ProbeBatchError(ValueError):
    """A run folder whose settings, dataset or probe index cannot give a probe image; the message says which."""


def run_settings(folder: str | os.PathLike) -> tuple[TrainConfig, Normalization | None]:
    """The run folder's settings.json: (training settings, the stored input statistics or None)."""
    from engine.project.project_file import ProjectError, read_settings
    from models.safe_text import clean

    path = Path(folder) / "settings.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return read_settings(data, clean(str(path)))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, ProjectError):
            raise ProbeBatchError(str(exc)) from None
        raise ProbeBatchError(f"{clean(str(path))}: cannot read the run's settings ({exc}); is this a run folder "
                          f"written by `train --out`?") from None


def validation_images(folder: str | os.PathLike, normalization: Normalization | None) -> np.ndarray:
    """The run's validation split (N, C, H, W) float32, cut again with its seed and fraction, normalised as trained."""
    from engine.datasets import DatasetError, load_dataset

    config, stored = run_settings(folder)
    try:
        dataset = load_dataset(config.dataset, val_fraction=config.val_fraction, seed=config.seed,
                               normalization=normalization or stored)
    except DatasetError as exc:
        raise ProbeBatchError(f"the run's dataset cannot be loaded: {exc}") from None
    images = dataset.val.images
    return images.numpy() if hasattr(images, "numpy") else np.asarray(images, dtype=np.float32)


def run_probe_sample(folder: str | os.PathLike, normalization: Normalization | None,
                     probe: int = -1) -> tuple[np.ndarray, str]:
    """(one validation image, its caption): `probe`, or (-1) the probe the run's newest snapshot shows."""
    from engine.run_folder import read_run_log

    if probe < 0:
        newest = read_run_log(folder).newest_snapshot
        probe = newest.probe_index if newest is not None else 0
    images = validation_images(folder, normalization)
    if probe >= len(images):
        raise ProbeBatchError(f"--probe {probe}: the validation split has {len(images)} images (0 to {len(images) - 1})")
    return images[probe], f"image {probe}"
