"""The train command's view of a run: a progress bar per batch, one line per epoch, on stderr."""

from __future__ import annotations

from typing import TextIO

from engine.cli.progress_bar import ProgressBar
from engine.events import BatchEnded, EpochEnded
from engine.training.trainer import Callback


class TrainingProgress(Callback):
    def __init__(self, epochs: int, stream: TextIO) -> None:
        self.epochs = epochs
        self.stream = stream
        self.bar = ProgressBar(stream)
        self._last: BatchEnded | None = None

    def _text(self, e: BatchEnded) -> str:
        return (f"epoch {e.epoch}/{self.epochs} step {e.step} loss {e.loss:.4f} acc {e.accuracy:6.1%} "
                f"{e.samples_per_second:,.0f} samples/s")

    def on_batch_end(self, event: BatchEnded) -> None:
        self._last = event
        done = (event.epoch - 1) * event.batches_per_epoch + event.batch
        self.bar.update(done, self.epochs * event.batches_per_epoch, self._text(event))

    def on_epoch_end(self, event: EpochEnded) -> None:
        if self._last is not None:
            done = (event.epoch - 1) * self._last.batches_per_epoch + self._last.batch
            self.bar.finish(done, self.epochs * self._last.batches_per_epoch, self._text(self._last))
        self.stream.write(f"epoch {event.epoch}/{self.epochs}: train loss {event.train_loss:.4f} acc "
                          f"{event.train_accuracy:.2%} | val loss {event.val_loss:.4f} acc {event.val_accuracy:.2%}\n")
        self.stream.flush()

    def note(self, message: str) -> None:
        """A message on its own line below the bar (safe from a signal handler: plain writes only)."""
        self.bar.clear()
        self.stream.write(message + "\n")
        self.stream.flush()
