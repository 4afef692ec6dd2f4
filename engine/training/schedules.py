"""The learning-rate schedule a TrainConfig names, built from torch's lr_scheduler classes, stepped per batch.

With `steps_per_epoch` batches an epoch, E epochs (T = E * steps_per_epoch optimiser steps), peak rate
lr and W = warmup_epochs * steps_per_epoch warm-up steps (at most T - 1), the rate used for step s
(0-based) is:
- warm-up (s < W, every schedule but onecycle): lr * (s + 1) / (W + 1), linear up to lr at s = W;
- constant: lr;
- step: lr * gamma ** floor((s - W) / (step_size * steps_per_epoch));
- cosine: lr * (1 + cos(pi * (s - W) / (T - W))) / 2, down towards 0 at the end;
- onecycle: torch's OneCycleLR (cosine rise from lr / 25 over W steps, or 30% of the run when W is 0, then
  cosine fall to lr / 25e4); momentum is left as set (cycle_momentum off), so --momentum means what it says.
"""

from __future__ import annotations

import warnings

import torch
from torch.optim import lr_scheduler

from engine.config import TrainConfig

ONECYCLE_DEFAULT_RISE = 0.3  # torch's default pct_start


def warmup_steps(config: TrainConfig, steps_per_epoch: int) -> int:
    total = max(1, config.epochs * steps_per_epoch)
    return min(config.warmup_epochs * steps_per_epoch, total - 1)


def make_schedule(optimizer: torch.optim.Optimizer, config: TrainConfig,
                  steps_per_epoch: int) -> lr_scheduler.LRScheduler:
    """A scheduler to step once after every optimiser step (the run's T steps in all)."""
    steps_per_epoch = max(1, steps_per_epoch)
    total = max(1, config.epochs * steps_per_epoch)
    warm = warmup_steps(config, steps_per_epoch)
    if config.schedule == "onecycle":
        # OneCycleLR needs a rise of at least 2 steps (its first phase divides by its length - 1).
        rise = warm / total if warm >= 2 else ONECYCLE_DEFAULT_RISE
        if total < 4:  # too short for two phases: stay at the peak
            return lr_scheduler.ConstantLR(optimizer, factor=1.0, total_iters=0)
        return lr_scheduler.OneCycleLR(optimizer, max_lr=config.learning_rate, total_steps=total,
                                       pct_start=rise, cycle_momentum=False)
    if config.schedule == "step":
        main = lr_scheduler.StepLR(optimizer, step_size=config.step_size * steps_per_epoch, gamma=config.gamma)
    elif config.schedule == "cosine":
        main = lr_scheduler.CosineAnnealingLR(optimizer, T_max=total - warm, eta_min=0.0)
    else:
        main = lr_scheduler.ConstantLR(optimizer, factor=1.0, total_iters=0)
    if not warm:
        return main
    rise = lr_scheduler.LinearLR(optimizer, start_factor=1.0 / (warm + 1), end_factor=1.0, total_iters=warm)
    with warnings.catch_warnings():  # SequentialLR's own internal use of a deprecated step(epoch) form
        warnings.simplefilter("ignore", UserWarning)
        return _QuietSequential(optimizer, [rise, main], milestones=[warm])


class _QuietSequential(lr_scheduler.SequentialLR):
    """SequentialLR, without the deprecation warning it triggers itself when it hands over at the milestone."""

    def step(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            super().step()


def current_rate(optimizer: torch.optim.Optimizer) -> float:
    """The rate the next optimiser step uses (a Python float: no device sync)."""
    return float(optimizer.param_groups[0]["lr"])
