"""Names and version of the live run folder's files, shared by its writer, reader and control channel."""

from __future__ import annotations

from pathlib import Path

FORMAT = "convscope.run"
VERSION = 1          # of events.jsonl (its first line, kind "started", carries format and version)

EVENTS = "events.jsonl"
SNAPSHOTS = "snapshots"
CONTROL = "control.json"
COMMANDS = ("pause", "resume", "step", "stop", "snapshot")


class RunFolderError(ValueError):
    """A run folder's log or snapshot that cannot be read; the message names the file and line."""


def snapshot_path(folder: str | Path, step: int) -> Path:
    """Where the snapshot at `step` lives: snapshots/step-000123.safetensors (sorts by step up to 10^6)."""
    return Path(folder) / SNAPSHOTS / f"step-{step:06d}.safetensors"
