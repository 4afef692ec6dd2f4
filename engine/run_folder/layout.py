"""Names and version of the live run folder's files, shared by its writer, reader and control channel."""

from __future__ import annotations

from pathlib import Path

FORMAT = "convscope.run"
VERSION = 1          # of events.jsonl (its first line, kind "started", carries format and version)

# The members of a network's record, the same in a project file, a run's output folder and the live run folder.
ARCHITECTURE, SETTINGS, METRICS, WEIGHTS = "architecture.json", "settings.json", "metrics.csv", "weights.safetensors"

EVENTS = "events.jsonl"
SNAPSHOTS = "snapshots"
CONTROL = "control.json"
COMMANDS = ("pause", "resume", "step", "stop", "snapshot")
WRITER_LOCK = "writer.lock"  # held by the process writing the folder (folder_lock.py); gone once it ends


class RunFolderError(ValueError):
    """A run folder's log or snapshot that cannot be read; the message names the file and line."""


def snapshot_path(folder: str | Path, step: int) -> Path:
    """Where the snapshot at `step` lives: snapshots/step-000123.safetensors (sorts by step up to 10^6)."""
    return Path(folder) / SNAPSHOTS / f"step-{step:06d}.safetensors"
