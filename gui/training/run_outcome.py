"""How a training run ended, read from its folder: the weights to keep and the sentence that says what happened."""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from engine.events import FAILED, TrainingFinished
from engine.project.project_file import WEIGHTS
from engine.run_folder import RunFolderError, RunLog, newest_snapshot
from engine.run_folder.records import SnapshotRecord, batch_event
from engine.network.weights import WeightsError, load_state_dict
from gui.training.training_process import ProcessExit

log = logging.getLogger(__name__)


def final_weights(folder: Path) -> dict[str, torch.Tensor] | None:
    try:
        return load_state_dict(folder / WEIGHTS, follow_links=False)  # an attached folder may link anywhere
    except WeightsError as exc:
        log.warning("%s; using the newest snapshot", exc)
        found = newest_snapshot_or_none(folder)
        return found[1] if found else None


def newest_snapshot_or_none(folder: Path) -> tuple[SnapshotRecord, dict[str, torch.Tensor]] | None:
    try:
        return newest_snapshot(folder)
    except RunFolderError as exc:
        log.warning("%s", exc)
        return None


def unexpected_end(exit_: ProcessExit, run_log: RunLog, snapshot: SnapshotRecord | None,
                   fast: bool) -> TrainingFinished:
    """How a run ended that wrote no "finished" line: refused at start, stopped by us, or a crash."""
    step = last_step(run_log)
    epochs = len(run_log.of_kind("epoch"))
    if fast:
        return TrainingFinished("stopped", f"stopped at step {step:,}", epochs, step)  # as the progress line writes it
    if run_log.started is None and exit_.signal is None:
        why = exit_.last_error().removeprefix("error:").strip() or exit_.describe()
        return TrainingFinished(FAILED, f"cannot start training: {why}", 0, 0)
    detail = exit_.last_error()
    keeps = (f"the curves and the last snapshot (step {snapshot.step}) are kept" if snapshot is not None
             else "the curves are kept")
    return TrainingFinished(FAILED, f"The training process ended unexpectedly ({exit_.describe()}"
                                    f"{': ' + detail if detail and exit_.signal is None else ''}). The network, "
                                    f"{keeps}; you can train again.", epochs, step)


def last_step(run_log: RunLog) -> int:
    """The step of the newest batch line that reads as one (a damaged line counts as none), else 0."""
    for line in reversed(run_log.of_kind("batch")):
        try:
            step = batch_event(line).step
        except RunFolderError:
            continue
        if step == step and step >= 0:  # not NaN (null)
            return int(step)
    return 0
