"""A run log's lines back as typed values: the trainer's events (BatchEnded, EpochEnded, TrainingFinished) and
SnapshotRecord. Each field is checked here, once, where the line is read; nothing downstream converts raw JSON."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from engine.events import FAILED, BatchEnded, EpochEnded, TrainingFinished
from engine.run_folder.layout import EVENTS, SNAPSHOTS, RunFolderError
from models.safe_text import excerpt

BATCH_FIELDS = ("epoch", "step", "batch", "batches_per_epoch", "loss", "accuracy", "samples_per_second",
                "learning_rate")  # the last is missing (NaN) in logs from before it was recorded
EPOCH_FIELDS = ("epoch", "step", "train_loss", "train_accuracy", "val_loss", "val_accuracy")
REASONS = ("completed", "stopped", "diverged", "failed")
MAX_FILE_NAME = 200  # characters: far above step-123456789.safetensors, far below the file system's 255 bytes


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


@dataclass(frozen=True)
class SnapshotRecord:
    """A snapshot line, checked: its step and epoch are counts, `file` a plain file name under snapshots/ (no
    link is followed here; opening it is the reader's job), the gradient norms numbers (NaN where null)."""

    step: int
    epoch: int
    file: str                                  # "snapshots/<name>", relative to the run folder
    probe_index: int = 0                       # the validation sample the window showed
    gradient_norms: dict[str, float] = field(default_factory=dict)  # by layer label, of the last step before it
    recorded: dict[str, Any] | None = None     # RunWriter's tensors (engine/run_folder/recording.py checks them)


def snapshot_record(record: dict[str, Any]) -> SnapshotRecord:
    """The snapshot line as a SnapshotRecord; RunFolderError naming the field and showing its value, escaped."""
    name = record.get("file")
    parts = name.split("/") if isinstance(name, str) else []
    if (len(parts) != 2 or parts[0] != SNAPSHOTS or parts[1] in ("", ".", "..") or "\0" in name
            or len(parts[1]) > MAX_FILE_NAME):
        raise RunFolderError(f"{EVENTS}: a snapshot line names {excerpt(name)}, not a file under {SNAPSHOTS}/")
    recorded = record.get("recorded")
    probe = _count(record, "probe_index") if record.get("probe_index") is not None else 0
    return SnapshotRecord(_count(record, "step"), _count(record, "epoch"), name, probe, _norms(record),
                          recorded if isinstance(recorded, dict) else None)


def _norms(record: dict[str, Any]) -> dict[str, float]:
    norms = record.get("gradient_norms")
    if norms is None:
        return {}
    if not isinstance(norms, dict):
        raise RunFolderError(f"{EVENTS}: a snapshot line's gradient_norms is {excerpt(norms)}, not an object")
    values = {}
    for label, value in norms.items():
        if value is None:
            values[label] = math.nan
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise RunFolderError(f"{EVENTS}: a snapshot line's gradient norm of {excerpt(label)} is "
                                 f"{excerpt(value)}, not a number")
        try:
            values[label] = float(value)
        except OverflowError:  # an integer of hundreds of digits
            raise RunFolderError(f"{EVENTS}: a snapshot line's gradient norm of {excerpt(label)} is "
                                 f"{excerpt(value)}, too large for a float") from None
    return values
