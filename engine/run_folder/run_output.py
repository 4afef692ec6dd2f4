"""The folder `train --out DIR` writes: architecture, weights, metrics, settings and a summary.

Each file is replaced atomically (written beside it, then renamed), so an interrupted write never
leaves a half file; a folder from an earlier run is updated file by file.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from torch import nn

from engine.config import TrainConfig
from engine.scoring.evaluation import Evaluation
from engine.events import TrainingFinished
from engine.metrics import MetricsHistory
from engine.normalization import Normalization, join_settings
from engine.run_folder import folder_lock
from engine.run_folder.layout import ARCHITECTURE, METRICS, SETTINGS, SNAPSHOTS, WEIGHTS
from engine.network.weights import save_weights
from models import architecture_file
from models.architecture import Architecture
from models.atomic_file import remove_stale_temporaries_in, write_atomically

SUMMARY = "summary.json"


class RunOutputError(ValueError):
    """The output folder cannot be created or written; the message names it."""


def prepare_output_dir(path: str | os.PathLike) -> Path:
    """Create the folder (and parents) now, so a bad --out fails before training rather than after, and take its
    writer lock for this process (folder_lock.py): a folder another live run writes is refused before anything
    is written. The lock goes with the process, or with release_output_dir (RunFolderWriter.finish/close)."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise RunOutputError(f"{folder}: exists and is not a folder; give a folder for --out")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunOutputError(f"{folder}: cannot create the output folder ({exc.strerror or exc})") from None
    if not os.access(folder, os.W_OK):
        raise RunOutputError(f"{folder}: the output folder is not writable")
    try:
        folder_lock.acquire(folder)
    except folder_lock.FolderInUseError as exc:
        raise RunOutputError(str(exc)) from None
    except OSError as exc:
        raise RunOutputError(f"{folder}: cannot take the writer lock ({exc.strerror or exc})") from None
    remove_stale_run_temporaries(folder)
    return folder


def remove_stale_run_temporaries(folder: str | os.PathLike) -> None:
    """What saves killed in an earlier run left in `folder` and its snapshots/ (a snapshot's step is never saved
    again, so nothing else would remove its temporary); a live writer's temporaries stay (models.atomic_file)."""
    for place in (Path(folder), Path(folder) / SNAPSHOTS):
        remove_stale_temporaries_in(place)


def release_output_dir(path: str | os.PathLike) -> None:
    """Give up the writer lock prepare_output_dir took (no-op if this process holds none on the folder)."""
    folder_lock.release(path)


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None  # JSON has no NaN


def run_summary(finished: TrainingFinished, final: Evaluation, *, config: TrainConfig, device: str, threads: int,
                samples_per_second: float, seconds: float, split: dict[str, Any] | None = None) -> dict[str, Any]:
    """summary.json's content. final_val_* are of the weights as saved (after any rollback);
    samples_per_second counts training samples (of every rank) over batch-loop time (pauses and validation
    excluded). `split`: how the run was shared out, world_size, backend (null in one process) and
    batch_per_rank (engine.training.distributed's describe()); threads are per rank."""
    split = split or {"world_size": 1, "backend": None, "batch_per_rank": [config.batch_size]}
    return {
        "final_val_accuracy": _finite_or_none(final.accuracy),
        "final_val_loss": _finite_or_none(final.loss),
        "val_samples": final.samples,
        "epochs": finished.epochs_completed,
        "steps": finished.step,
        "samples_per_second": round(samples_per_second, 1),
        "reason": finished.reason,
        "message": finished.message,
        "seconds": round(seconds, 3),
        "device": device,
        "threads": threads,
        **split,
        "config": config.to_dict(),
    }


def write_run_output(folder: str | os.PathLike, *, arch: Architecture, model: nn.Module, config: TrainConfig,
                     normalization: Normalization, history: MetricsHistory,
                     summary: dict[str, Any]) -> list[Path]:
    """Write every file of the run folder; returns their paths. RunOutputError if the disk refuses.

    settings.json holds the training settings and the input normalisation the weights were trained with."""
    folder = Path(folder)
    paths = [folder / name for name in (ARCHITECTURE, WEIGHTS, METRICS, SETTINGS, SUMMARY)]
    try:
        architecture_file.save(arch, paths[0])
        save_weights(model, paths[1])
        write_atomically(paths[2], history.to_csv().encode("utf-8"))
        write_atomically(paths[3], _json(join_settings(config.to_dict(), normalization)))
        write_atomically(paths[4], _json(summary))
    except OSError as exc:
        raise RunOutputError(f"{folder}: cannot write the run files ({exc.strerror or exc})") from None
    return paths


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, allow_nan=False) + "\n").encode("utf-8")
