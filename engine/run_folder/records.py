"""A run log's lines back as the trainer's events (BatchEnded, EpochEnded, TrainingFinished)."""

from __future__ import annotations

from typing import Any

from engine.events import FAILED, BatchEnded, EpochEnded, TrainingFinished
from engine.run_folder.layout import EVENTS, RunFolderError
from models.safe_text import excerpt

BATCH_FIELDS = ("epoch", "step", "batch", "batches_per_epoch", "loss", "accuracy", "samples_per_second",
                "learning_rate")  # the last is missing (NaN) in logs from before it was recorded
EPOCH_FIELDS = ("epoch", "step", "train_loss", "train_accuracy", "val_loss", "val_accuracy")
REASONS = ("completed", "stopped", "diverged", "failed")


def number(record: dict[str, Any], key: str) -> float:
    """The line's number at `key`; null (how NaN is written) reads back as NaN."""
    value = record.get(key)
    if value is None:
        return float("nan")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RunFolderError(f"{EVENTS}: a {record['kind']} line's {key} is {excerpt(value)}, not a number")
    return value


def _count(record: dict[str, Any], key: str) -> int:
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RunFolderError(f"{EVENTS}: a {record['kind']} line's {key} is {excerpt(value)}, not a count")
    return value


def batch_event(record: dict[str, Any]) -> BatchEnded:
    return BatchEnded(*(number(record, k) for k in BATCH_FIELDS))


def epoch_event(record: dict[str, Any]) -> EpochEnded:
    return EpochEnded(*(number(record, k) for k in EPOCH_FIELDS))


def finished_event(record: dict[str, Any]) -> TrainingFinished:
    reason = record.get("reason")
    message = record.get("message")
    return TrainingFinished(reason if reason in REASONS else FAILED,
                            message if isinstance(message, str) else "the run ended",
                            _count(record, "epochs_completed"), _count(record, "step"))
