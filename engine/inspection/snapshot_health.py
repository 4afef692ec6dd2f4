"""The health of a run at one of its snapshots, on its probe batch: what `health` prints and the Timeline shows.

The probe batch is the first PROBE_SIZE images of the validation split the run held out (or every image of
another dataset), normalised with the run's training statistics; the gradient norms are those the snapshot's
log line recorded (of the last training step before it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from engine.network.builder import build_model
from engine.inspection.health import HealthWarning, LayerHealth, network_health, warnings_for
from engine.inspection.probe_batch import PROBE_SIZE
from engine.run_folder import read_run_log, snapshot_path
from engine.run_folder.timeline import TimelineEntry, load_timeline_weights
from engine.project.project_file import Project
from engine.project.run_input import RunInputError
from engine.scoring.split import images_to_score
from engine.network.weights import apply_state_dict
from models.architecture import Architecture
from models.shapes import analyze


@dataclass(frozen=True)
class ProbeImages:
    images: torch.Tensor  # normalised (N, C, H, W)
    notice: str = ""      # for people, e.g. how another dataset's labels were read


@dataclass(frozen=True)
class SnapshotHealth:
    step: int
    epoch: int
    samples: int
    layers: list[LayerHealth]
    warnings: list[HealthWarning]


def probe_images(source: Project, dataset: str | None = None) -> ProbeImages:
    """The run's probe batch, or every image of `dataset` (RunInputError / DatasetError when unusable)."""
    analysis = analyze(source.architecture)
    if analysis.errors:
        raise RunInputError(f"the network has an error: {analysis.errors[0]}")
    outputs = analysis.output_shape or ()
    classes = outputs[0] if len(outputs) == 1 else 1 << 30  # any label fits a network without class scores
    scored = images_to_score(source.config, dataset, "all" if dataset else "val", source.normalization, classes)
    if scored.input_shape != tuple(source.architecture.input.as_tuple()):
        raise RunInputError(f"{dataset}: its images are {'x'.join(map(str, scored.input_shape))}; the network "
                            f"takes {'x'.join(map(str, source.architecture.input.as_tuple()))}")
    images = scored.split.images if dataset else scored.split.images[:PROBE_SIZE]
    return ProbeImages(images, scored.notice)


def snapshot_health(folder: str | os.PathLike, source: Project, entry: TimelineEntry,
                    images: torch.Tensor) -> SnapshotHealth:
    """Per-layer figures and warnings of the network with the weights of snapshot `entry`."""
    log = read_run_log(folder)
    snapshot = next((s for s in reversed(log.snapshots) if s.step == entry.step), None)
    norms = dict(snapshot.gradient_norms) if snapshot is not None else {}
    layers = _layers(source.architecture, folder, entry, images, norms)
    return SnapshotHealth(entry.step, entry.epoch, len(images), layers, warnings_for(layers))


def _layers(arch: Architecture, folder: str | os.PathLike, entry: TimelineEntry, images: torch.Tensor,
            norms: dict[str, float]) -> list[LayerHealth]:
    if entry.step == 0:
        norms = {}  # before the first training step: the line's norms are 0 for want of gradients, not dead layers
    with torch.random.fork_rng(devices=[]):  # the initial weights are replaced at once: leave the global RNG be
        model = build_model(arch, analyze(arch))
    apply_state_dict(model, load_timeline_weights(folder, entry), source=f"the snapshot at step {entry.step}")
    return network_health(arch, model, images, norms)


def followed_snapshot_warnings(folder: str | os.PathLike, arch: Architecture, step: int, images: torch.Tensor,
                               gradient_norms: dict[str, float]) -> list[HealthWarning]:
    """The warnings (each with its 1-based layer number and what to try) of the followed run's snapshot at `step`,
    whose line's `gradient_norms` the follower already holds: what the window badges and lists while a run goes.
    Reads that one sidecar, never the log (which grows with the run). RunFolderError when the file was thinned
    away meanwhile (the next snapshot will do), WeightsError when it does not fit `arch`."""
    file = snapshot_path(folder, step).relative_to(folder).as_posix()
    entry = TimelineEntry(step, 0, file, "")  # the dtype is read from the file: load_timeline_weights widens it
    return warnings_for(_layers(arch, folder, entry, images, gradient_norms))
