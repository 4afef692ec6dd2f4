"""A run log's lines back as typed values: the trainer's events (BatchEnded, EpochEnded, TrainingFinished) and
SnapshotRecord. Each field is checked here, once, where the line is read; nothing downstream converts raw JSON."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.events import FAILED, BatchEnded, EpochEnded, TrainingFinished
from engine.run_folder.layout import EVENTS, SNAPSHOTS, RunFolderError
from models.safe_text import clean, excerpt, shorten

BATCH_FIELDS = ("epoch", "step", "batch", "batches_per_epoch", "loss", "accuracy", "samples_per_second",
                "learning_rate")  # the last is missing (NaN) in logs from before it was recorded
EPOCH_FIELDS = ("epoch", "step", "train_loss", "train_accuracy", "val_loss", "val_accuracy")
REASONS = ("completed", "stopped", "diverged", "failed")
MAX_FILE_NAME = 200  # bytes (UTF-8): far above step-123456789.safetensors, far below the file system's 255
SNAPSHOT_SUFFIX = ".safetensors"  # ("." and ".." cannot end so: the suffix also keeps the name inside snapshots/)
MAX_COUNT = 2 ** 63 - 1  # steps, epochs, indices: what torch and numpy hold as int64
MAX_LABEL = 200  # characters of a gradient norm's layer label
MAX_MESSAGE = 300  # characters of a finished line's message shown (it reaches dialogs and the status bar)


def number(record: Mapping[str, Any], key: str) -> float:
    """The line's number at `key`; null (how NaN is written) reads back as NaN."""
    value = record.get(key)
    if value is None:
        return float("nan")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RunFolderError(f"{EVENTS}: a {record['kind']} line's {key} is {excerpt(value)}, not a number")
    return value


def _count(record: Mapping[str, Any], key: str) -> int:
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise RunFolderError(f"{EVENTS}: a {record['kind']} line's {key} is {excerpt(value)}, not a count")
    return value


class BatchLine(Mapping):
    """A batch line as RunLog keeps it: the same keys and values as its dict, in slots. A run writes one per
    step, so a long run's log is mostly these: as dicts a 200 MB log held about 1.1 GB; slots take a fraction
    (tests/engine/test_run_log_memory.py). Read-only; compares equal to the dict it came from."""

    __slots__ = BATCH_FIELDS
    KEYS = frozenset(("kind", *BATCH_FIELDS))

    def __init__(self, record: dict[str, Any]) -> None:
        for key in BATCH_FIELDS:
            object.__setattr__(self, key, record[key])

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("a batch line read from a log is not changed")

    def __getitem__(self, key: str) -> Any:
        if key == "kind":
            return "batch"
        if key not in self.KEYS:
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(("kind", *BATCH_FIELDS))

    def __len__(self) -> int:
        return len(BATCH_FIELDS) + 1

    def __repr__(self) -> str:
        return repr(dict(self))


def compact_line(record: dict[str, Any]) -> Mapping[str, Any]:
    """A batch line with exactly the usual keys as a BatchLine; any other line (or an unusual batch line, from an
    older or newer writer) as it is."""
    return BatchLine(record) if record.get("kind") == "batch" and record.keys() == BatchLine.KEYS else record


# Where a line sits on the curves: counts, never null (a batch line without them once reached the progress bar as
# NaN and raised there). batches_per_epoch may be null (a plain loop run through RunWriter may not know it), else
# a count; the measurements may be null (NaN: a diverged loss, a rate not yet recorded).
BATCH_COUNTS = ("epoch", "step", "batch")
OPTIONAL_COUNTS = ("batches_per_epoch",)
EPOCH_COUNTS = ("epoch", "step")


def _field(record: Mapping[str, Any], key: str) -> float:
    if key in BATCH_COUNTS or (key in OPTIONAL_COUNTS and record.get(key) is not None):
        return _count(record, key)
    return number(record, key)


def batch_event(record: Mapping[str, Any]) -> BatchEnded:
    """RunFolderError naming the field for a line whose counts are not counts or whose numbers are not numbers."""
    return BatchEnded(*(_field(record, k) for k in BATCH_FIELDS))


def epoch_event(record: Mapping[str, Any]) -> EpochEnded:
    return EpochEnded(*(_count(record, k) if k in EPOCH_COUNTS else number(record, k) for k in EPOCH_FIELDS))


def finished_event(record: dict[str, Any]) -> TrainingFinished:
    """The finished line; its message (shown as it is in the window) cut short and escaped here."""
    reason = record.get("reason")
    message = record.get("message")
    return TrainingFinished(reason if reason in REASONS else FAILED,
                            shorten(message, MAX_MESSAGE) if isinstance(message, str) else "the run ended",
                            _count(record, "epochs_completed"), _count(record, "step"))


def snapshot_name_problem(name: object) -> str | None:
    """Why `name` is not a snapshot file a run folder may name ("snapshots/<name>.safetensors": one printable
    file name under snapshots/, at most MAX_FILE_NAME bytes), or None. Shared by the line check and the opener."""
    parts = name.split("/") if isinstance(name, str) else []
    leaf = parts[1] if len(parts) == 2 else ""
    try:
        size = len(leaf.encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate: no file system name
        size = MAX_FILE_NAME + 1
    if (len(parts) != 2 or parts[0] != SNAPSHOTS or "\\" in leaf or clean(leaf) != leaf
            or size > MAX_FILE_NAME or not leaf.endswith(SNAPSHOT_SUFFIX)):
        return (f"names {excerpt(name)}, not a file under {SNAPSHOTS}/ (a printable name of at most "
                f"{MAX_FILE_NAME} bytes, ending {SNAPSHOT_SUFFIX})")
    return None


@dataclass(frozen=True)
class SnapshotRecord:
    """A snapshot line, checked: its step and epoch are counts, `file` a plain, printable file name under
    snapshots/ (opening it, links refused, is engine/run_folder/sidecar.py's job), the gradient norms numbers
    (NaN where null)."""

    step: int
    epoch: int
    file: str                                  # "snapshots/<name>", relative to the run folder
    probe_index: int = 0                       # the validation sample the window showed
    gradient_norms: dict[str, float] = field(default_factory=dict)  # by layer label, of the last step before it
    recorded: dict[str, Any] | None = None     # RunWriter's tensors (engine/run_folder/recording.py checks them)


def snapshot_record(record: dict[str, Any]) -> SnapshotRecord:
    """The snapshot line as a SnapshotRecord; RunFolderError naming the field and showing its value, escaped."""
    name = record.get("file")
    problem = snapshot_name_problem(name)
    if problem:
        raise RunFolderError(f"{EVENTS}: a snapshot line {problem}")
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
        if len(label) > MAX_LABEL or clean(label) != label:  # labels reach legends and printed tables
            raise RunFolderError(f"{EVENTS}: a snapshot line's gradient norm label {excerpt(label)} is not a short "
                                 f"printable name")
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


@dataclass(frozen=True)
class WriterProcess:
    """The started line's `process`: who writes the run (pid, host, boot_id) and how often it says it is alive
    while its log is otherwise quiet (`heartbeat`, seconds). Logs from before these fields have none."""

    pid: int
    host: str
    boot_id: str | None
    heartbeat: float | None


def writer_process(started: Mapping[str, Any] | None) -> WriterProcess | None:
    """The writer named by a started line, or None (an older log, or a field that does not read: liveness is
    then unknown and the run is followed as before)."""
    process = started.get("process") if started else None
    if not isinstance(process, Mapping):
        return None
    pid, host, boot, beat = (process.get(key) for key in ("pid", "host", "boot_id", "heartbeat"))
    if isinstance(pid, bool) or not isinstance(pid, int) or not 0 < pid <= MAX_COUNT or not isinstance(host, str):
        return None
    beat_ok = not isinstance(beat, bool) and isinstance(beat, (int, float)) and 0 < beat < 86_400
    return WriterProcess(pid, host[:255], boot[:64] if isinstance(boot, str) else None,
                         float(beat) if beat_ok else None)
