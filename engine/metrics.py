"""The metrics history of a run: per-batch and per-epoch rows, kept in memory and written as CSV."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from typing import NamedTuple

from engine.events import BatchEnded, EpochEnded
from models.safe_text import excerpt, shorten

MAX_ROWS = 1_000_000  # 1,000 epochs of 1,000 batches; bounds a hostile file's memory (about 200 MB of rows)

BATCH_COLUMNS = ("step", "epoch", "loss", "accuracy")
EPOCH_COLUMNS = ("epoch", "step", "train_loss", "train_accuracy", "val_loss", "val_accuracy")
HEADER = ("kind", "epoch", "step", "loss", "accuracy", *EPOCH_COLUMNS[2:], "learning_rate")


class BatchRow(NamedTuple):
    """One logged batch, as its BatchEnded reported it (the fields in BATCH_COLUMNS order)."""

    step: int
    epoch: int
    loss: float
    accuracy: float


class EpochRow(NamedTuple):
    """One finished epoch, as its EpochEnded reported it (the fields in EPOCH_COLUMNS order)."""

    epoch: int
    step: int
    train_loss: float
    train_accuracy: float
    val_loss: float
    val_accuracy: float


class MetricsFormatError(ValueError):
    """A metrics CSV that cannot be read; the message names the row and column."""


@dataclass
class MetricsHistory:
    """Rows are named (read them by field, never by position: batch and epoch rows order step and epoch
    differently, as their CSV columns do); plain tuples given to the constructor become rows."""

    batches: list[BatchRow] = field(default_factory=list)
    epochs: list[EpochRow] = field(default_factory=list)
    # The rate each batch row's step used, by index (NaN or missing where not recorded: runs from before the
    # rate was). Left out of equality: two histories with the same measurements are the same history.
    learning_rates: list[float] = field(default_factory=list, compare=False)

    def __post_init__(self) -> None:
        self.batches = [BatchRow(*row) for row in self.batches]
        self.epochs = [EpochRow(*row) for row in self.epochs]

    def learning_rate(self, index: int) -> float:
        """The rate of batch row `index` (NaN when not recorded)."""
        return self.learning_rates[index] if index < len(self.learning_rates) else math.nan

    def record_batch(self, event: BatchEnded) -> None:
        self.learning_rates += [math.nan] * (len(self.batches) - len(self.learning_rates))
        self.batches.append(BatchRow(event.step, event.epoch, event.loss, event.accuracy))
        self.learning_rates.append(event.learning_rate)

    def record_epoch(self, event: EpochEnded) -> None:
        self.epochs.append(EpochRow(event.epoch, event.step, event.train_loss, event.train_accuracy,
                                    event.val_loss, event.val_accuracy))

    def to_csv(self) -> str:
        """One table: batch rows with kind=batch, epoch rows with kind=epoch (empty cells where n/a); the
        learning_rate column comes last (files written before it existed lack it and still read)."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(HEADER)
        for i, b in enumerate(self.batches):
            rate = self.learning_rate(i)
            rate = repr(float(rate)) if math.isfinite(rate) else ""
            writer.writerow(("batch", b.epoch, b.step, _num(b.loss), _num(b.accuracy), "", "", "", "", rate))
        for e in self.epochs:
            writer.writerow(("epoch", e.epoch, e.step, "", "", _num(e.train_loss), _num(e.train_accuracy),
                             _num(e.val_loss), _num(e.val_accuracy), ""))
        return buf.getvalue()

    @classmethod
    def from_csv(cls, text: str | bytes) -> "MetricsHistory":
        """Rows from CSV text or UTF-8 bytes; MetricsFormatError (one short line) for anything else.

        Bytes are decoded line by line, so a file costs its own bytes plus its rows (at most MAX_ROWS), never a
        second full copy as one string.
        """
        history = cls()
        reader = csv.reader(_lines(text) if isinstance(text, bytes) else io.StringIO(text))
        line = 1
        try:
            header = next(reader, None)
            if header not in (list(HEADER), list(HEADER[:-1])):
                raise MetricsFormatError(f"metrics header must be {','.join(HEADER)}")
            for line, row in enumerate(reader, start=2):
                if line > MAX_ROWS + 1:
                    raise MetricsFormatError(f"more than {MAX_ROWS:,} rows (ConvScope's limit for metrics.csv)")
                history._add_row(row, line, len(header))
        except csv.Error as exc:  # e.g. a field over csv's 128 KB limit, or a NUL byte
            raise MetricsFormatError(f"metrics row {line + 1}: not valid CSV ({shorten(str(exc), 80)})") from None
        return history

    def _add_row(self, row: list[str], line: int, cells: int) -> None:
        try:
            if len(row) != cells or any(len(cell) > 40 for cell in row):
                raise ValueError(f"expected {cells} short cells, got {excerpt(row)}")
            kind, epoch, step = row[0], int(row[1]), int(row[2])
            if kind == "batch":
                rate = float(row[9]) if cells > 9 and row[9] else math.nan
                self.learning_rates += [math.nan] * (len(self.batches) - len(self.learning_rates)) + [rate]
                self.batches.append(BatchRow(step, epoch, float(row[3]), float(row[4])))
            elif kind == "epoch":
                self.epochs.append(EpochRow(epoch, step, *(float(v) for v in row[5:9])))
            else:
                raise ValueError(f"unknown kind {excerpt(kind)}")
        except ValueError as exc:
            raise MetricsFormatError(f"metrics row {line}: {shorten(str(exc), 120)}") from None


def _lines(data: bytes):
    for number, line in enumerate(io.BytesIO(data), start=1):
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MetricsFormatError(f"metrics row {number}: not UTF-8 text (byte {exc.start})") from None


def _num(value: float) -> str:
    return repr(float(value)) if math.isfinite(value) else "nan"
