"""How a training run ended, read from its folder: the weights to keep and the sentence that says what happened."""

from __future__ import annotations

import logging
import os
from itertools import islice
from pathlib import Path

import torch

from engine.events import FAILED, TrainingFinished
from engine.project.project_file import WEIGHTS
from engine.run_folder import RunFolderError, RunLog, newest_snapshot, snapshot_tensors
from engine.run_folder.records import SnapshotRecord
from engine.network.weights import WeightsError, load_state_dict
from gui.training.training_process import ProcessExit
from models.safe_text import clean

log = logging.getLogger(__name__)
NEWEST_TRIED = 64  # snapshots looked for, newest first, when the newest one named was thinned away


def final_weights(folder: Path, run_log: RunLog | None = None) -> dict[str, torch.Tensor] | None:
    try:
        return load_state_dict(folder / WEIGHTS, follow_links=False)  # an attached folder may link anywhere
    except WeightsError as exc:
        log.warning("%s; using the newest snapshot", exc)
        found = newest_snapshot_or_none(folder, run_log)
        return found[1] if found else None


def newest_snapshot_or_none(folder: Path, run_log: RunLog | None = None
                            ) -> tuple[SnapshotRecord, dict[str, torch.Tensor]] | None:
    """The newest snapshot and its weights. With `run_log` (what a follower has read so far) the log is not read
    again: the newest snapshot it names whose file is still there stands in (a live writer thins old files)."""
    try:
        if run_log is None:
            return newest_snapshot(folder)
        if not run_log.snapshots:
            if run_log.problems:
                raise RunFolderError(f"{clean(str(folder))}: {run_log.problems[-1]}")
            return None
        # Newest first; the first file found ends the walk, so this costs the files thinned since, not the log
        # (and at most NEWEST_TRIED of them, whatever a hostile log names). lexists: never raises, follows nothing.
        # None there: the newest is opened, for its error.
        newest = islice(reversed(run_log.snapshots), NEWEST_TRIED)
        snapshot = next((s for s in newest if os.path.lexists(folder / s.file)), run_log.snapshots[-1])
        arch = run_log.architecture if snapshot.recorded is None else None  # as newest_snapshot limits it
        try:
            return snapshot, snapshot_tensors(folder, snapshot.file, arch)
        except RunFolderError as exc:
            raise RunFolderError(f"{exc} (the newest snapshot the run log names)") from None
    except RunFolderError as exc:
        log.warning("%s", exc)
        return None


def unexpected_end(exit_: ProcessExit, started: bool, epochs: int, step: int, snapshot: SnapshotRecord | None,
                   fast: bool) -> TrainingFinished:
    """How a run ended that wrote no "finished" line (`started`: its log has its "started" line): refused at
    start, stopped by us, or a crash; `epochs` and `step` are those its log reached."""
    if fast:
        return TrainingFinished("stopped", f"stopped at step {step:,}", epochs, step)  # as the progress line writes it
    if not started and exit_.signal is None:
        why = exit_.last_error().removeprefix("error:").strip() or exit_.describe()
        return TrainingFinished(FAILED, f"cannot start training: {why}", 0, 0)
    detail = exit_.last_error()
    keeps = (f"the curves and the last snapshot (step {snapshot.step}) are kept" if snapshot is not None
             else "the curves are kept")
    return TrainingFinished(FAILED, f"The training process ended unexpectedly ({exit_.describe()}"
                                    f"{': ' + detail if detail and exit_.signal is None else ''}). The network, "
                                    f"{keeps}; you can train again.", epochs, step)

