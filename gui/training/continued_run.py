"""A run that continues from trained weights, as the window numbers it: its steps and epochs follow the earlier
history's instead of starting again at 1.

The offset lives in the window, not the trainer: the child numbers its run from step 1 (its schedule, warm-up,
early stopping, messages and run folder stay those of a run of N epochs, as the CLI writes them), and the window
shifts the events it receives by the earlier history's last step and epoch. So the curves, the progress line and
the workspace's history (what a saved project holds) tell one history; the run folder and the Timeline, which
reads it, keep the run's own steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TypeVar

from engine.events import BatchEnded, EpochEnded, SnapshotTaken
from engine.metrics import MetricsHistory

Event = TypeVar("Event", BatchEnded, EpochEnded, SnapshotTaken)


def last_position(history: MetricsHistory) -> tuple[int, int]:
    """(step, epoch) the weights that `history` describes reached; (0, 0) without rows. The epoch is the last one
    begun, so a continued run's epochs never repeat an earlier one (a stopped run may end mid-epoch)."""
    rows = [*history.batches[-1:], *history.epochs[-1:]]
    return max((row.step for row in rows), default=0), max((row.epoch for row in rows), default=0)


def copy_history(history: MetricsHistory) -> MetricsHistory:
    rates = list(history.learning_rates) + [math.nan] * (len(history.batches) - len(history.learning_rates))
    return MetricsHistory(list(history.batches), list(history.epochs), rates[:len(history.batches)])


@dataclass(frozen=True)
class ContinuedRun:
    """`earlier`: the history of the weights the run starts from; `step`, `epoch`: where it ended."""

    earlier: MetricsHistory
    step: int
    epoch: int

    @classmethod
    def after(cls, earlier: MetricsHistory) -> ContinuedRun:
        step, epoch = last_position(earlier)
        return cls(copy_history(earlier), step, epoch)

    def shift(self, event: Event) -> Event:
        """The run's event numbered in the whole history (a snapshot at the run's step 0 is at `step`)."""
        return replace(event, step=event.step + self.step, epoch=event.epoch + self.epoch)

    def combined(self, run: MetricsHistory) -> MetricsHistory:
        """The earlier history, then the run's own (as its folder holds it) shifted to follow it."""
        whole = copy_history(self.earlier)
        own = copy_history(run)
        whole.batches += [row._replace(step=row.step + self.step, epoch=row.epoch + self.epoch)
                          for row in own.batches]
        whole.epochs += [row._replace(step=row.step + self.step, epoch=row.epoch + self.epoch) for row in own.epochs]
        whole.learning_rates += own.learning_rates
        return whole
