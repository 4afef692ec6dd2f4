"""Where the window's training runs live: one folder per run under the user's cache, the oldest removed."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from PySide6.QtCore import QStandardPaths

KEEP_RUNS = 20         # run folders kept; older ones are removed when a new run starts
RUNS_DIR_ENV = "CONVSCOPE_RUNS_DIR"
INPUT = "input.convscope"  # the job, inside the run folder: network, settings and starting weights


def default_runs_dir() -> Path:
    """$CONVSCOPE_RUNS_DIR, else the user's cache (e.g. ~/.cache/ConvScope/runs)."""
    override = os.environ.get(RUNS_DIR_ENV)
    if override:
        return Path(override)
    return Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.CacheLocation)) / "runs"


def new_run_folder(root: Path, number: int) -> Path:
    """A fresh folder under `root` named by date, process and run number (older runs beyond KEEP_RUNS go)."""
    root.mkdir(parents=True, exist_ok=True)
    _remove_old_runs(root, KEEP_RUNS - 1)
    folder = root / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{number}"
    folder.mkdir()
    return folder


def _remove_old_runs(root: Path, keep: int) -> None:
    """Keep the newest `keep` run folders this window made (named by date); a user's own folders are left."""
    runs = sorted(p for p in root.iterdir() if p.is_dir() and p.name[:8].isdigit() and (p / INPUT).is_file())
    for old in runs[:-keep] if keep > 0 else runs:
        shutil.rmtree(old, ignore_errors=True)
