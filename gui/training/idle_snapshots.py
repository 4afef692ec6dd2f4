"""What the Training tab shows between runs: the trained model, or the network's seeded initial weights, on the
probe sample (or why nothing can be shown)."""

from __future__ import annotations

import torch

from engine.network.compatibility import check_compatibility
from engine.events import SnapshotTaken
from engine.inspection.inspection_copy import InspectionCopy, initial_snapshot
from engine.metrics import MetricsHistory
from models.architecture import Architecture
from models.network import Network


def initial_snapshot_or_reason(network: Network, dataset, probe: int, seed: int) -> SnapshotTaken | str:
    """The initial weights the next run starts from (same seed) on validation sample `probe`, or why there are
    none to show (an invalid network, no dataset yet, a network that does not fit it)."""
    if not network.analysis.is_valid:
        return "the network is not valid (see the Network tab)"
    if dataset is None or not 0 <= probe < len(dataset.val):
        return "waiting for the dataset"
    if check_compatibility(network.architecture, dataset, network.analysis):  # the panel says why: the caption
        return "the network does not fit the dataset (see Cannot train in the training panel)"  # stays one line
    return initial_snapshot(network.architecture, seed, dataset.val.images_at(probe), probe_index=probe)


def trained_snapshot(copy: InspectionCopy, weights: dict[str, torch.Tensor], trained: Architecture,
                     history: MetricsHistory, dataset, probe: int) -> SnapshotTaken:
    """The trained model on the probe: activations and prediction; its filters alone without a dataset that fits."""
    last = history.batches[-1] if history.batches else None
    step, epoch = (last.step, last.epoch) if last else (0, 0)
    fits = dataset is not None and tuple(dataset.input_shape) == trained.input.as_tuple()
    image = dataset.val.images_at(probe) if fits and 0 <= probe < len(dataset.val) else None
    return copy.show(weights, image, step=step, epoch=epoch, probe_index=probe)
