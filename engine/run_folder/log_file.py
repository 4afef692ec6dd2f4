"""RunLogFile: events.jsonl and its snapshot sidecars, the part of a run folder every writer shares."""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from engine.run_folder.layout import EVENTS, FORMAT, SNAPSHOTS, VERSION, snapshot_path
from engine.run_folder.timeline import DEFAULT_BUDGET_MB, TimelineStore
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


def full_precision(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """CPU copies, floats as float32 at least, so a killed run's newest snapshot is exact."""
    return {name: (t.detach().to("cpu", torch.float32) if t.is_floating_point() and t.dtype != torch.float64
                   else t.detach().cpu()).contiguous()
            for name, t in state.items()}


def started_record(**fields: Any) -> dict[str, Any]:
    """The log's first line: kind "started", the format and its version, the time, then `fields`."""
    return {"kind": "started", "format": FORMAT, "version": VERSION,
            "time": datetime.now(timezone.utc).isoformat(timespec="seconds"), **fields}


class RunLogFile:
    """One run's log in `folder`: begin() a fresh log, write() lines, write_snapshot() sidecar + line, close().

    Each event is one line, flushed as it comes. A snapshot's tensors go to a sidecar file first (temporary
    name, then renamed), then its line: a line never refers to a file that is not complete.

    Which snapshots stay on disk, and in which precision, is the TimelineStore's rule (engine/run_folder/
    timeline.py): dense early, widening later, within `budget_mb`; the newest float32, older ones bfloat16;
    "compressed" and "dropped" lines keep the log naming only files that exist.
    """

    def __init__(self, folder: str | Path, budget_mb: float = DEFAULT_BUDGET_MB,
                 older_dtype: torch.dtype | None = None) -> None:
        # older_dtype None keeps older snapshots float32 (RunWriter: recorded activations read back exactly);
        # RunFolderWriter passes torch.bfloat16 (float32's range: a blown-up run's weights stay finite).
        self.folder, self.budget_mb, self.older_dtype = Path(folder), budget_mb, older_dtype
        self._log = None
        self.timeline = TimelineStore(self.folder, budget_mb, self.write, older_dtype)

    def begin(self, started: dict[str, Any]) -> None:
        """A fresh log whose first line is `started`: an earlier run's log and snapshots in the folder go."""
        snapshots = self.folder / SNAPSHOTS
        snapshots.mkdir(exist_ok=True)
        for old in snapshots.glob("step-*.safetensors"):
            old.unlink(missing_ok=True)
        self.timeline = TimelineStore(self.folder, self.budget_mb, self.write, self.older_dtype)
        # A new file (renamed over an earlier run's log), not the old one truncated: a follower sees a new inode.
        write_atomically(self.folder / EVENTS, _line(started).encode("utf-8"))
        self._log = open(self.folder / EVENTS, "a", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        if self._log is None:
            return
        # One write of one whole line: a reader sees either nothing or the line up to a torn end.
        self._log.write(_line(record))
        self._log.flush()

    def write_snapshot(self, step: int, epoch: int, tensors: dict[str, torch.Tensor], **fields: Any) -> Path:
        """`tensors` (already full precision, on the CPU) into snapshots/step-N.safetensors, then the line;
        the timeline store then compresses or drops older ones."""
        self.timeline.add(step, epoch, tensors, {"kind": "snapshot", **fields})
        return snapshot_path(self.folder, step)

    def close(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


def _line(record: dict[str, Any]) -> str:
    return json.dumps(jsonable(record), allow_nan=False, separators=(",", ":")) + "\n"
