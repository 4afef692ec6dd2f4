"""The snapshot timeline of a run folder: which snapshots stay on disk, in which precision, within a byte budget.

The rule (docs/run-folder.md#snapshot-timeline), deterministic given the steps and file sizes:

- The newest snapshot is float32 (exact: a killed run resumes from it). When the next one arrives, the previous
  newest *retires*: it stays, rewritten in bfloat16 (half the bytes, float32's range: float16 overflowed to inf
  past 65,504, so a blown-up run's older snapshots read as inf/NaN), if it is the run's first snapshot or if it lies at least
  `gap(s)` steps after the last older snapshot kept, s; else it is deleted. gap(s) = max(1, ratio x (s + 1)):
  snapshots stay dense early and widen later, in proportion to the step (about 1 / ratio of them per doubling
  of the step count).
- ratio starts at START_RATIO. While the files on disk exceed the budget, or more than MAX_SNAPSHOTS older ones
  are kept, ratio doubles and the older snapshots are thinned again with the same walk (oldest first, the first
  always kept, each next one kept if it lies gap(last kept) after it). Past MAX_RATIO only the newest stays.
  The newest is never dropped, even when it alone is over the budget.

The event log stays true: a retired snapshot gets a "compressed" line (its file, and "dtype": the type it was
rewritten in, "bfloat16"; older logs say "float16") after its file was rewritten, and a dropped one a "dropped" line *before* its file is deleted, so at every moment the
log's snapshot lines minus its dropped lines are files that exist. timeline() replays that.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from engine.run_folder.layout import RunFolderError, snapshot_path
from engine.run_folder.reader import RunLog, read_run_log
from engine.run_folder.sidecar import snapshot_tensors
from engine.network.weights import state_dict_to_safetensors
from models.atomic_file import write_atomically

START_RATIO = 1 / 32    # about 22 snapshots per doubling of the step count, before the budget presses
MAX_RATIO = 2.0 ** 40   # beyond this no gap fits: only the newest snapshot stays
MAX_SNAPSHOTS = 1000    # older snapshots at most, whatever the budget (a slider has a few hundred pixels anyway)
MB = 1_000_000
DEFAULT_BUDGET_MB = 300  # TrainConfig.snapshot_budget_mb's default, for writers without a TrainConfig
FLOAT32, FLOAT16, BFLOAT16 = "float32", "float16", "bfloat16"
# What a "compressed" line may name: bfloat16 now, float16 in logs written before it, float32 for a store told to
# keep older snapshots exact. Readers widen the half types to float32 (load_timeline_weights).
STORED_DTYPES = (FLOAT32, FLOAT16, BFLOAT16)
_HALF = (torch.float16, torch.bfloat16)


@dataclass(frozen=True)
class TimelineEntry:
    """One snapshot on disk: its step and epoch, its file (relative to the run folder) and its precision."""

    step: int
    epoch: int
    file: str
    dtype: str


def gap(step: int, ratio: float) -> float:
    """Steps an older snapshot must lie after the last kept one at `step`."""
    return max(1.0, ratio * (step + 1))


def thin_steps(steps: list[int], ratio: float) -> list[int]:
    """The steps (ascending) that the walk keeps at `ratio`: the first, then each at least gap(last kept) on."""
    kept: list[int] = []
    for step in steps:
        if not kept or step - kept[-1] >= gap(kept[-1], ratio):
            kept.append(step)
    return kept


def _precision(state: dict[str, torch.Tensor], dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """CPU copies with floating tensors in `dtype` (float64 stays float64 when exactness is asked); others as are."""
    return {name: (t.detach().to("cpu", dtype) if t.is_floating_point() and (dtype != torch.float32
                                                                                  or t.dtype != torch.float64)
                   else t.detach().cpu()).contiguous()
            for name, t in state.items()}


class TimelineStore:
    """Keeps a run folder's snapshots/ to the rule above; `log` writes one event-log line (a dict)."""

    def __init__(self, folder: str | os.PathLike, budget_mb: float, log: Callable[[dict[str, Any]], None],
                 older_dtype: torch.dtype | None = torch.bfloat16) -> None:
        self.folder, self.budget, self.log = Path(folder), int(budget_mb * MB), log
        if older_dtype not in (None, torch.float32, *_HALF):
            raise ValueError(f"older snapshots are kept in one of {STORED_DTYPES}, not {older_dtype}")
        self.older_dtype = older_dtype  # None: older snapshots stay float32 (RunWriter's recorded activations)
        self.ratio = START_RATIO
        self.older: list[tuple[TimelineEntry, int]] = []   # (entry, bytes), oldest first
        self.newest: tuple[TimelineEntry, int] | None = None
        self._newest_state: dict[str, torch.Tensor] | None = None

    @property
    def bytes_on_disk(self) -> int:
        return sum(size for _, size in self.older) + (self.newest[1] if self.newest else 0)

    def entries(self) -> list[TimelineEntry]:
        return [e for e, _ in self.older] + ([self.newest[0]] if self.newest else [])

    def add(self, step: int, epoch: int, state: dict[str, torch.Tensor], line: dict[str, Any]) -> None:
        """Write the snapshot at `step` as the newest (float32), log `line` (+ its file), retire and thin the rest."""
        path = snapshot_path(self.folder, step)
        exact = _precision(state, torch.float32)
        data = state_dict_to_safetensors(exact)
        write_atomically(path, data)
        entry = TimelineEntry(step, epoch, path.relative_to(self.folder).as_posix(), FLOAT32)
        self.log({"kind": "snapshot", "step": step, "epoch": epoch, "file": entry.file, **line})
        previous, previous_state = self.newest, self._newest_state
        self.newest, self._newest_state = (entry, len(data)), exact
        if previous is not None and previous[0].file != entry.file:
            self._retire(previous[0], previous_state)
        self._keep_within_budget()

    def _retire(self, entry: TimelineEntry, state: dict[str, torch.Tensor]) -> None:
        last = self.older[-1][0].step if self.older else None
        if last is not None and entry.step - last < gap(last, self.ratio):
            self._drop(entry)
            return
        if self.older_dtype is None:
            self.older.append((entry, (self.folder / entry.file).stat().st_size))
            return
        data = state_dict_to_safetensors(_precision(state, self.older_dtype))
        write_atomically(self.folder / entry.file, data)
        dtype = str(self.older_dtype).removeprefix("torch.")  # the type actually written, as the log says it
        compressed = TimelineEntry(entry.step, entry.epoch, entry.file, dtype)
        self.log({"kind": "compressed", "step": entry.step, "file": entry.file, "dtype": dtype})
        self.older.append((compressed, len(data)))

    def _over(self) -> bool:
        return self.bytes_on_disk > self.budget or len(self.older) > MAX_SNAPSHOTS

    def _keep_within_budget(self) -> None:
        while self.older and self._over():
            self.ratio *= 2
            keep = set(thin_steps([e.step for e, _ in self.older], self.ratio)) if self.ratio <= MAX_RATIO else set()
            for entry, _ in self.older:
                if entry.step not in keep:
                    self._drop(entry)
            self.older = [(e, size) for e, size in self.older if e.step in keep]

    def _drop(self, entry: TimelineEntry) -> None:
        self.log({"kind": "dropped", "step": entry.step, "file": entry.file})  # first: the log never names a gone file
        (self.folder / entry.file).unlink(missing_ok=True)


def timeline(folder: str | os.PathLike, log: RunLog | None = None) -> list[TimelineEntry]:
    """The snapshots on disk as the run log says, oldest first: (step, epoch, file, dtype), for scrubbing.

    Replays snapshot / compressed / dropped lines. A line without a usable step or file is skipped (the
    newest-snapshot reader reports damage). A file can still vanish between this and opening it if the run
    is live; load_timeline_weights reports that as a RunFolderError naming the step.
    """
    log = read_run_log(folder) if log is None else log
    entries: dict[str, TimelineEntry] = {}
    for event in log.events:
        kind, name = event.get("kind"), event.get("file")
        if not isinstance(name, str):
            continue
        if kind == "snapshot" and _whole(event.get("step")):
            epoch = event.get("epoch")
            entries.pop(name, None)  # the same step again (a re-taken snapshot) moves to the end
            entries[name] = TimelineEntry(event["step"], epoch if _whole(epoch) else 0, name, FLOAT32)
        elif kind == "compressed" and name in entries and event.get("dtype", FLOAT16) in STORED_DTYPES:
            old = entries[name]
            entries[name] = TimelineEntry(old.step, old.epoch, name, event.get("dtype", FLOAT16))
        elif kind == "dropped":
            entries.pop(name, None)
    return sorted(entries.values(), key=lambda e: e.step)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def load_timeline_weights(folder: str | os.PathLike, entry: TimelineEntry) -> dict[str, torch.Tensor]:
    """The weights of one timeline entry, as float32 (a bfloat16 or float16 snapshot widened, whatever its entry
    says: the file's own types decide), ready for apply_state_dict."""
    try:
        state = snapshot_tensors(folder, entry.file)
    except RunFolderError as exc:
        raise RunFolderError(f"{exc} (the snapshot at step {entry.step}; it may have just been thinned away, "
                             f"read the timeline again)") from None
    return {k: v.float() if v.dtype in _HALF else v for k, v in state.items()}
