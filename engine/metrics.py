"""The metrics history of a run: per-batch and per-epoch rows, kept in memory and written as CSV."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field

from engine.events import BatchEnded, EpochEnded

BATCH_COLUMNS = ("step", "epoch", "loss", "accuracy")
EPOCH_COLUMNS = ("epoch", "step", "train_loss", "train_accuracy", "val_loss", "val_accuracy")


class MetricsFormatError(ValueError):
    """A metrics CSV that cannot be read; the message names the row and column."""


@dataclass
class MetricsHistory:
    batches: list[tuple[int, int, float, float]] = field(default_factory=list)        # BATCH_COLUMNS
    epochs: list[tuple[int, int, float, float, float, float]] = field(default_factory=list)  # EPOCH_COLUMNS

    def record_batch(self, event: BatchEnded) -> None:
        self.batches.append((event.step, event.epoch, event.loss, event.accuracy))

    def record_epoch(self, event: EpochEnded) -> None:
        self.epochs.append((event.epoch, event.step, event.train_loss, event.train_accuracy,
                            event.val_loss, event.val_accuracy))

    def to_csv(self) -> str:
        """One table: batch rows with kind=batch, epoch rows with kind=epoch (empty cells where n/a)."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(("kind",) + EPOCH_COLUMNS[:2] + ("loss", "accuracy") + EPOCH_COLUMNS[2:])
        for step, epoch, loss, acc in self.batches:
            writer.writerow(("batch", epoch, step, _num(loss), _num(acc), "", "", "", ""))
        for epoch, step, tl, ta, vl, va in self.epochs:
            writer.writerow(("epoch", epoch, step, "", "", _num(tl), _num(ta), _num(vl), _num(va)))
        return buf.getvalue()

    @classmethod
    def from_csv(cls, text: str) -> "MetricsHistory":
        history = cls()
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        expected = ["kind", "epoch", "step", "loss", "accuracy", *EPOCH_COLUMNS[2:]]
        if header != expected:
            raise MetricsFormatError(f"metrics header must be {','.join(expected)}")
        for line, row in enumerate(reader, start=2):
            try:
                kind, epoch, step = row[0], int(row[1]), int(row[2])
                if kind == "batch":
                    history.batches.append((step, epoch, float(row[3]), float(row[4])))
                elif kind == "epoch":
                    history.epochs.append((epoch, step, *(float(v) for v in row[5:9])))
                else:
                    raise ValueError(f"unknown kind {kind!r}")
            except (ValueError, IndexError) as exc:
                raise MetricsFormatError(f"metrics row {line}: {exc}") from None
        return history


def _num(value: float) -> str:
    return repr(float(value)) if math.isfinite(value) else "nan"
