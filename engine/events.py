"""What the trainer reports: frozen events carrying plain numbers and numpy copies, never live tensors."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

COMPLETED, STOPPED, DIVERGED, FAILED = "completed", "stopped", "diverged", "failed"


@dataclass(frozen=True)
class BatchEnded:
    epoch: int                 # 1-based
    step: int                  # optimiser steps since the start of the run, 1-based
    batch: int                 # 1-based within the epoch
    batches_per_epoch: int
    loss: float
    accuracy: float            # of this batch, 0..1
    samples_per_second: float  # smoothed training throughput
    learning_rate: float = math.nan  # the rate of the latest step (the schedule's); NaN in older logs


@dataclass(frozen=True)
class EpochEnded:
    epoch: int
    step: int
    train_loss: float
    train_accuracy: float
    val_loss: float
    val_accuracy: float


@dataclass(frozen=True)
class SnapshotTaken:
    """The network as it is at `step`, for the live views. Keys are layer labels, e.g. 'layer 1 (conv2d)'."""

    step: int
    epoch: int
    weights: dict[str, np.ndarray]          # conv layers only: (out_channels, in_channels, kh, kw)
    activations: dict[str, np.ndarray]      # every layer: the probe sample's output, no batch dimension
    gradient_norms: dict[str, float]        # layers with parameters: L2 norm of their gradients
    probe_index: int                        # index of the probe sample in the validation split
    probabilities: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # softmax of the logits


@dataclass(frozen=True)
class TrainingFinished:
    reason: str          # COMPLETED | STOPPED | DIVERGED | FAILED
    message: str         # for people: what happened and, for diverged/failed, what to do
    epochs_completed: int
    step: int
