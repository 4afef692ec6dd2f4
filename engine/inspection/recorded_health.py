"""The health of a recorded run (RunWriter, a model ConvScope cannot rebuild), from what its snapshot recorded.

No network is built: each recorded module's output for the whole probe batch is in the snapshot's sidecar
("activation/<path>", engine/run_folder/recording.py), so the dead, dormant and saturated figures are computed on
those, with the same rules as a rebuilt network's (engine/inspection/health.py). The probe batch is the one the
script gave RunWriter; rows are the recorded modules in call order, named by module path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from engine.inspection.health import LayerHealth, Thresholds, non_finite_tensors, unit_figures, warnings_for
from engine.inspection.snapshot_health import SnapshotHealth
from engine.run_folder.layout import RunFolderError
from engine.run_folder.recording import ACTIVATION
from engine.run_folder.records import SnapshotRecord
from engine.run_folder.sidecar import snapshot_tensors
from models.safe_text import clean, excerpt

# torch's class names as the health rules name the layer types (an activation's figures depend on its kind).
KINDS = {"ReLU": "relu", "LeakyReLU": "leaky_relu", "ELU": "elu", "Sigmoid": "sigmoid", "Tanh": "tanh",
         "Conv2d": "conv2d", "Linear": "linear", "MaxPool2d": "maxpool2d", "AvgPool2d": "avgpool2d"}


@dataclass(frozen=True)
class RecordedLayerHealth(LayerHealth):
    """A recorded module's row: labelled by its module path ("block.act#2 (relu)"), not a layer number."""

    path: str = ""

    @property
    def label(self) -> str:
        return f"{self.path} ({self.type})"


def recorded_health(folder: str | os.PathLike, snapshot: SnapshotRecord,
                    thresholds: Thresholds = Thresholds()) -> SnapshotHealth:
    """Per recorded module, the figures `health` prints, and the warnings; RunFolderError for a snapshot that is
    not a recorded one or whose file lacks what its line names."""
    recorded = snapshot.recorded
    if recorded is None:
        raise RunFolderError(f"{clean(str(folder))}: the snapshot at step {snapshot.step} is not a recorded one")
    tensors = snapshot_tensors(folder, snapshot.file)
    names, types = recorded.get("activations"), recorded.get("types")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise RunFolderError(f"{clean(str(folder))}: the snapshot at step {snapshot.step} names its recorded "
                             f"activations as {excerpt(names)}, not a list of names")
    types = types if isinstance(types, dict) else {}  # folders written before RunWriter kept the module types
    # Before the first training step the line's norms are 0 for want of gradients, not dead layers.
    norms = {} if snapshot.step == 0 else dict(snapshot.gradient_norms)
    layers, broken, samples = [], False, 0
    for index, name in enumerate(names, start=1):
        output = tensors.get(ACTIVATION + name)
        if output is None:
            raise RunFolderError(f"{clean(str(Path(folder) / snapshot.file))}: the line names "
                                 f"{excerpt(ACTIVATION + name)} but the file has no such tensor; it is damaged")
        samples = max(samples, len(output))
        path, _, call = name.partition("#")
        kind = KINDS.get(types.get(path), str(types.get(path, "module")).lower()[:40])
        own = {} if call else _parameters(tensors, path)  # a module called again: its weights are counted once
        stats = {f"{key}_{stat}": value for key in ("weight", "bias")
                 for stat, value in zip(("mean", "std"), _stats(own.get(key)))}
        non_finite = non_finite_tensors(_Holder(own)) if own else {}
        broken = broken or bool(non_finite)
        units = {} if broken else unit_figures(kind, output.float(), thresholds)
        layers.append(RecordedLayerHealth(index, kind, gradient_norm=None if call else norms.get(path),
                                          non_finite=non_finite or None, path=name, **stats, **units))
    return SnapshotHealth(snapshot.step, snapshot.epoch, samples, layers, warnings_for(layers, thresholds))


def _parameters(tensors: dict[str, torch.Tensor], path: str) -> dict[str, torch.Tensor]:
    """The module's own tensors in the state dict the sidecar holds under the model's own names."""
    prefix = f"{path}." if path else ""
    return {key[len(prefix):]: t for key, t in tensors.items()
            if key.startswith(prefix) and "." not in key[len(prefix):] and "/" not in key}


def _stats(tensor: torch.Tensor | None) -> tuple[float | None, float | None]:
    if tensor is None or tensor.numel() == 0 or not tensor.is_floating_point() or not bool(torch.isfinite(tensor).all()):
        return None, None
    values = tensor.double()
    return float(values.mean()), float(values.std(unbiased=False))


class _Holder(torch.nn.Module):
    """The module's tensors as parameters of a module, for non_finite_tensors (which reads a module's own)."""

    def __init__(self, own: dict[str, torch.Tensor]) -> None:
        super().__init__()
        for key, tensor in own.items():
            if tensor.is_floating_point():
                self.register_buffer(key, tensor)
