"""RunFolderWriter: a trainer Callback that writes events.jsonl and snapshot sidecars as training goes."""

from __future__ import annotations

import dataclasses
import json
import math
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
from torch import nn

from engine.config import TrainConfig
from engine.normalization import Normalization, join_settings
from engine.events import BatchEnded, EpochEnded, SnapshotTaken, TrainingFinished
from engine.project import ARCHITECTURE, SETTINGS
from engine.run_folder.layout import EVENTS, FORMAT, SNAPSHOTS, VERSION, snapshot_path
from engine.trainer import Callback
from engine.weights import state_dict_to_safetensors
from models import architecture_file
from models.architecture import Architecture
from models.atomic_file import write_atomically


def jsonable(value: Any) -> Any:
    """Plain JSON: NaN and infinities become null (JSON has none), numpy scalars and arrays become numbers/lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # numpy
        return jsonable(value.tolist())
    return value


class RunFolderWriter(Callback):
    """Writes the live part of a run folder for the model being trained (the trainer's `model`).

    start() begins a fresh log (an earlier run's log and snapshots in the folder are removed) and writes
    architecture.json and settings.json at once, so a killed run's folder names its network. Each event is
    one line, flushed as it comes (the trainer already spaces batch events by its log interval). A snapshot's
    weights go to a sidecar file first (temporary name, then renamed), then its line: a line never refers to
    a file that is not complete. finish() writes the last line, after the caller's final files.

    Kept on disk (until the timeline store thins and compresses them): the newest KEEP_NEWEST snapshots and
    the last one of each epoch; older ones within an epoch are removed, else a long run would write two
    copies of the weights a second forever. A reader that finds the newest named file gone re-reads the log.
    """

    KEEP_NEWEST = 2

    def __init__(self, folder: str | os.PathLike, model: nn.Module, arch: Architecture, config: TrainConfig,
                 normalization: Normalization | None = None, **details: Any) -> None:
        self.folder, self.model, self.arch, self.config = Path(folder), model, arch, config
        self.normalization = normalization  # the inputs' statistics: settings.json carries them from the start
        self.details = details  # extra fields for the started line, e.g. device, threads
        self._log = None
        self._kept: list[tuple[int, Path]] = []  # (epoch, file) of the snapshots on disk, oldest first

    def start(self) -> None:
        snapshots = self.folder / SNAPSHOTS
        snapshots.mkdir(exist_ok=True)
        for old in snapshots.glob("step-*.safetensors"):
            old.unlink(missing_ok=True)
        architecture_file.save(self.arch, self.folder / ARCHITECTURE)
        settings = join_settings(self.config.to_dict(), self.normalization)
        write_atomically(self.folder / SETTINGS, (json.dumps(settings, indent=2) + "\n").encode())
        started = {"kind": "started", "format": FORMAT, "version": VERSION,
                   "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                   "architecture": architecture_file.to_dict(self.arch), "settings": settings,
                   **self.details}
        # A new file (renamed over an earlier run's log), not the old one truncated: a follower sees a new inode.
        write_atomically(self.folder / EVENTS, _line(started).encode("utf-8"))
        self._log = open(self.folder / EVENTS, "a", encoding="utf-8")

    def on_batch_end(self, event: BatchEnded) -> None:
        self._write({"kind": "batch", **dataclasses.asdict(event)})

    def on_epoch_end(self, event: EpochEnded) -> None:
        self._write({"kind": "epoch", **dataclasses.asdict(event)})

    def on_snapshot(self, event: SnapshotTaken) -> None:
        path = snapshot_path(self.folder, event.step)
        # Full precision (float32 at least), so a killed run's newest snapshot is exact.
        state = {name: (t.detach().to("cpu", torch.float32) if t.is_floating_point() and t.dtype != torch.float64
                        else t.detach().cpu()).contiguous()
                 for name, t in self.model.state_dict().items()}
        write_atomically(path, state_dict_to_safetensors(state))
        self._write({"kind": "snapshot", "step": event.step, "epoch": event.epoch,
                     "file": path.relative_to(self.folder).as_posix(), "probe_index": event.probe_index,
                     "gradient_norms": event.gradient_norms, "probabilities": event.probabilities})
        self._thin(event.epoch, path)

    def _thin(self, epoch: int, path: Path) -> None:
        """Drop the snapshot that just stopped being one of the newest, unless it is the last of its epoch."""
        self._kept = [(e, p) for e, p in self._kept if p != path] + [(epoch, path)]
        if len(self._kept) > self.KEEP_NEWEST:
            (old_epoch, old), (next_epoch, _) = self._kept[-self.KEEP_NEWEST - 1], self._kept[-self.KEEP_NEWEST]
            if old_epoch == next_epoch:
                old.unlink(missing_ok=True)
                del self._kept[-self.KEEP_NEWEST - 1]

    def finish(self, finished: TrainingFinished, summary: dict[str, Any] | None = None) -> None:
        """The last line (after the final files are written, so a follower that sees it can open them)."""
        self._write({"kind": "finished", **dataclasses.asdict(finished), "summary": summary})
        self.close()

    def close(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def _write(self, record: dict[str, Any]) -> None:
        if self._log is None:
            return
        # One write of one whole line: a reader sees either nothing or the line up to a torn end.
        self._log.write(_line(record))
        self._log.flush()


def _line(record: dict[str, Any]) -> str:
    return json.dumps(jsonable(record), allow_nan=False, separators=(",", ":")) + "\n"
