"""What the Training tab shows between runs: the trained model, or the network's seeded initial weights, on the
probe sample (or why nothing can be shown). The two jobs build and run models: they run on a TaskRunner
thread, never on the GUI thread."""

from __future__ import annotations

from engine.events import SnapshotTaken
from engine.inspection.inspection_copy import InspectionCopy, initial_snapshot
from engine.network.compatibility import check_compatibility
from gui.workspace import TrainedWeights
from models.architecture import Architecture
from models.network import Network


def nothing_to_show(network: Network, dataset, probe: int) -> str | None:
    """Why the initial weights cannot be shown on validation sample `probe` (an invalid network, no dataset
    yet, a network that does not fit it), or None. Cheap: the GUI thread asks before submitting a job."""
    if not network.analysis.is_valid:
        return "the network is not valid (see the Network tab)"
    if dataset is None or not 0 <= probe < len(dataset.val):
        return "waiting for the dataset"
    if check_compatibility(network.architecture, dataset, network.analysis):  # the panel says why: the caption
        return "the network does not fit the dataset (see Cannot train in the training panel)"  # stays one line
    return None


def initial_on_probe(arch: Architecture, seed: int, dataset, probe: int) -> tuple[str | None, SnapshotTaken]:
    """(no origin, the initial weights the next run starts from, same seed, on validation sample `probe`):
    a job for a TaskRunner thread."""
    return None, initial_snapshot(arch, seed, dataset.val.images_at(probe), probe_index=probe)


def trained_on_probe(copy: InspectionCopy, trained: TrainedWeights, step: int, epoch: int, dataset,
                     probe: int) -> tuple[str | None, SnapshotTaken]:
    """(where the weights come from, the trained model on the probe: activations and prediction; its filters
    alone without a dataset that fits): a job for a TaskRunner thread."""
    fits = dataset is not None and tuple(dataset.input_shape) == trained.architecture.input.as_tuple()
    image = dataset.val.images_at(probe) if fits and 0 <= probe < len(dataset.val) else None
    return trained.origin, copy.show(trained.state, image, step=step, epoch=epoch, probe_index=probe)
