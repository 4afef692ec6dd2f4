"""Early stopping and the best epoch's weights: which epoch was best on validation, and when to give up.

`val_loss` improves when it falls, `val_accuracy` when it rises (strictly; NaN never improves; the
first finite value always does). With patience P the run stops after P epochs in a row without an
improvement. The best epoch's weights are kept as a CPU copy (one per improvement, as cheap as the
rollback copy) and put back at the end when the run keeps the best weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from engine.config import TrainConfig
from models.plural import counted


@dataclass(frozen=True)
class BestEpoch:
    epoch: int
    step: int
    val_loss: float
    val_accuracy: float


class BestWeights:
    """Watches each epoch's validation numbers; `observe` says whether the run should stop now."""

    def __init__(self, metric: str = "val_loss", patience: int = 0, keep_best: bool = False) -> None:
        if metric not in ("val_loss", "val_accuracy"):
            raise ValueError(f"early-stopping metric must be val_loss or val_accuracy, not {metric!r}")
        self.metric, self.patience, self.keep_best = metric, patience, keep_best
        self.best: BestEpoch | None = None
        self.state: dict[str, torch.Tensor] | None = None
        self.since_best = 0
        self.stopped_early = False

    @classmethod
    def for_config(cls, config: TrainConfig) -> "BestWeights":
        return cls(config.early_stop_metric, config.early_stop, keeps_best(config))

    @property
    def active(self) -> bool:
        return self.patience > 0 or self.keep_best

    def improves(self, val_loss: float, val_accuracy: float) -> bool:
        value = val_loss if self.metric == "val_loss" else val_accuracy
        if not math.isfinite(value):
            return False
        if self.best is None:
            return True
        best = self.best.val_loss if self.metric == "val_loss" else self.best.val_accuracy
        return value < best if self.metric == "val_loss" else value > best

    def observe(self, model: nn.Module, epoch: int, step: int, val_loss: float, val_accuracy: float) -> bool:
        """Record an epoch's numbers (and the weights, if they are the best yet); True: stop (patience spent)."""
        if not self.active:
            return False
        if self.improves(val_loss, val_accuracy):
            self.best = BestEpoch(epoch, step, val_loss, val_accuracy)
            if self.keep_best:
                self.state = {name: t.detach().to("cpu", copy=True) for name, t in model.state_dict().items()}
            self.since_best = 0
            return False
        if self.best is None:  # no finite value yet (an empty validation split): nothing to be patient about
            return False
        self.since_best += 1
        self.stopped_early = 0 < self.patience <= self.since_best
        return self.stopped_early

    def restore(self, model: nn.Module) -> bool:
        """Put the best epoch's weights back when keeping the best; True if the model changed."""
        if not self.keep_best or self.state is None:
            return False
        model.load_state_dict(self.state)
        return True

    def note(self) -> str:
        """What the end message adds: an early stop, and which epoch's weights were kept."""
        if not self.active or self.best is None:
            return ""
        text = ""
        if self.stopped_early:
            text += f"; stopped early: {self.metric} had not improved for {counted(self.since_best, 'epoch')}"
        if self.keep_best and self.state is not None:
            b = self.best
            text += (f"; kept the weights of epoch {b.epoch}, the best by {self.metric} (validation accuracy "
                     f"{b.val_accuracy:.2%}, loss {b.val_loss:.4f})")
        return text

    def summary(self) -> dict:
        """summary.json's fields (None where no epoch had a finite value)."""
        best = self.best

        def finite(value):
            return value if value is not None and math.isfinite(value) else None
        return {"best_epoch": best.epoch if best else None,
                "best_val_accuracy": finite(best.val_accuracy) if best else None,
                "best_val_loss": finite(best.val_loss) if best else None,
                "early_stopped": self.stopped_early,
                "kept_weights": "best" if self.keep_best and self.state is not None else "last"}


def keeps_best(config: TrainConfig) -> bool:
    """--keep: best or last; auto means best when early stopping, else last."""
    return config.keep == "best" or (config.keep == "auto" and config.early_stop > 0)
