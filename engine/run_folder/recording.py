"""Recorded snapshots: what the live views need from a model ConvScope cannot rebuild, taken by RunWriter.

At each snapshot the probe batch goes once through the model (eval mode, no_grad) with forward hooks on
every Conv2d, pooling, activation and Linear module, which copy each output. The sidecar
snapshots/step-N.safetensors then holds, besides the model's own state dict under its own names:

- "activation/<path>": that module's output for every probe sample, (N, ...) float32; a module called
  more than once in a forward pass is "activation/<path>#2", "#3", ... for its later calls;
- "filters/<path>": the weight of each Conv2d, (out_channels, in_channels / groups, kh, kw);
- "probe/input" (the probe batch) and "probe/output" (the model's output for it).

The snapshot line adds "recorded": {"activations": [names in call order], "filters": [paths], "samples": N,
"types": {path: the module's class name}}. recorded_snapshot() turns such a line back into the SnapshotTaken the
window's views take, keyed by path; recorded_run() tells such a folder (no architecture.json) from its first line.
Torch names never hold "/", so these cannot collide with the state dict's names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.events import SnapshotTaken
from engine.network.modules import GlobalAvgPool2d
from engine.run_folder.layout import ARCHITECTURE, EVENTS, RunFolderError
from engine.run_folder.records import SnapshotRecord
from models.safe_text import clean, excerpt

ACTIVATION, FILTERS, PROBE_INPUT, PROBE_OUTPUT = "activation/", "filters/", "probe/input", "probe/output"
# What every view that rebuilds the model (Explainer, explanations, Evaluation, Continue training) says of such a run.
CANNOT_REBUILD = ("this run was written by your own script: ConvScope has its weights and recordings but not its "
                  "network, so it cannot rebuild it")
_RECORDED_PACKAGES = ("torch.nn.modules.conv", "torch.nn.modules.pooling", "torch.nn.modules.activation",
                      "torch.nn.modules.linear")


def is_recorded(module: nn.Module) -> bool:
    """Whether a module's output is recorded: convolutions, pooling, activations, Linear (not containers)."""
    if isinstance(module, nn.Identity):
        return False  # its output is its input, recorded already
    return isinstance(module, GlobalAvgPool2d) or any(
        cls.__module__ in _RECORDED_PACKAGES for cls in type(module).__mro__ if cls is not nn.Module)


@torch.no_grad()
def record(model: nn.Module, probe: torch.Tensor) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(the tensors to add to the sidecar, the line's "recorded" field) for `probe` (N, C, H, W) through `model`."""
    outputs: dict[str, torch.Tensor] = {}
    calls: dict[str, int] = {}

    def hook_for(path: str):
        def hook(module, inputs, output):
            if not isinstance(output, torch.Tensor):
                return  # e.g. a pooling asked for its indices: nothing a view can draw
            calls[path] = calls.get(path, 0) + 1
            name = path if calls[path] == 1 else f"{path}#{calls[path]}"
            # A copy now: an in-place activation after this module would change the tensor itself.
            outputs[name] = output.detach().to("cpu", torch.float32, copy=True).contiguous()
        return hook

    handles = [module.register_forward_hook(hook_for(path)) for path, module in model.named_modules()
               if path and is_recorded(module)]  # hooks only for this pass: training runs without them
    was_training = model.training
    model.eval()
    try:
        device = next((p.device for p in model.parameters()), probe.device)
        result = model(probe.to(device))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    filters = {path: m.weight.detach().to("cpu", torch.float32, copy=True).contiguous()
               for path, m in model.named_modules() if isinstance(m, nn.Conv2d)}
    tensors = {f"{ACTIVATION}{name}": t for name, t in outputs.items()}
    tensors.update({f"{FILTERS}{path}": w for path, w in filters.items()})
    tensors[PROBE_INPUT] = probe.detach().to("cpu", torch.float32, copy=True).contiguous()
    if isinstance(result, torch.Tensor):
        tensors[PROBE_OUTPUT] = result.detach().to("cpu", torch.float32, copy=True).contiguous()
    types = {path: type(m).__name__ for path, m in model.named_modules() if path and is_recorded(m)}
    return tensors, {"activations": list(outputs), "filters": list(filters), "samples": int(probe.shape[0]),
                     "types": types}


@dataclass(frozen=True)
class RecordedRun:
    """A run folder RunWriter wrote for a model ConvScope cannot rebuild: its model's class name and why."""

    folder: Path
    model: str
    reason: str

    @property
    def cannot_rebuild(self) -> str:
        """Why a view that rebuilds the network cannot show this run (for a dialog or a placeholder)."""
        return f"{CANNOT_REBUILD} (its model, {self.model}: {self.reason})"


def recorded_run(folder: str | os.PathLike) -> RecordedRun | None:
    """The folder as a recorded run, or None when it is not one (it has architecture.json, is no folder, or its
    log's first line is not RunWriter's "recorded" kind). Reads the log's first chunk only; RunFolderError when
    that first line cannot be read."""
    from engine.run_folder.event_tail import EventTail

    folder = Path(folder)
    if not folder.is_dir() or os.path.lexists(folder / ARCHITECTURE) or not os.path.lexists(folder / EVENTS):
        return None
    started = next((line for lines in EventTail(folder / EVENTS).chunks() for line in lines[:1]), None)
    inspection = started.get("inspection") if isinstance(started, dict) else None
    if started is None or started.get("kind") != "started" or not isinstance(inspection, dict) \
            or inspection.get("kind") != "recorded":
        return None
    model, reason = started.get("model"), inspection.get("reason")
    return RecordedRun(folder, clean(model[:100]) if isinstance(model, str) else "a model",
                       clean(reason[:300]) if isinstance(reason, str) else "ConvScope cannot rebuild it")


def probabilities_of(output: torch.Tensor | None, index: int) -> np.ndarray:
    """Softmax of one sample's output when the model gives a vector per sample (class scores), else empty."""
    if output is None or output.dim() != 2:
        return np.zeros(0, np.float32)
    row = output[index].float()
    # An output that already sums to 1 and is non-negative is taken as probabilities (a trailing Softmax).
    if bool((row >= 0).all()) and abs(float(row.sum()) - 1.0) < 1e-4:
        return row.numpy().copy()
    return F.softmax(row, dim=0).numpy()


def recorded_snapshot(folder: str | os.PathLike, snapshot: SnapshotRecord, probe_index: int = 0) -> SnapshotTaken:
    """The live views' event for a recorded snapshot (from read_run_log): conv filters and probe sample
    `probe_index`'s activations, keyed by module path in the model's order. RunFolderError if it cannot be."""
    from engine.run_folder.sidecar import snapshot_tensors

    recorded = snapshot.recorded
    if recorded is None:
        raise RunFolderError(f"{clean(str(folder))}: the snapshot at step {snapshot.step} is not a recorded one "
                             f"(its network is rebuilt from architecture.json instead)")
    path = Path(folder) / snapshot.file
    tensors = snapshot_tensors(folder, snapshot.file)
    samples = recorded.get("samples")
    if not isinstance(probe_index, int) or not isinstance(samples, int) or not 0 <= probe_index < samples:
        raise RunFolderError(f"{clean(str(path))}: probe sample {excerpt(probe_index)} asked for; the snapshot "
                             f"recorded {excerpt(samples)} (0 to {excerpt(samples)} - 1)")

    def named(prefix: str, key: str) -> torch.Tensor:
        name = key if isinstance(key, str) else ""
        tensor = tensors.get(prefix + name)
        if tensor is None:
            raise RunFolderError(f"{clean(str(path))}: the line names {excerpt(prefix + name)} but the file "
                                 f"has no such tensor; the snapshot is damaged")
        return tensor

    activations = {}
    for name in _names(recorded, "activations", path):
        tensor = named(ACTIVATION, name)
        if tensor.dim() < 1 or tensor.shape[0] != samples:
            raise RunFolderError(f"{clean(str(path))}: {excerpt(ACTIVATION + name)} has shape "
                                 f"{tuple(tensor.shape)}, not one row per probe sample ({samples})")
        activations[name] = tensor[probe_index].numpy().copy()
    weights = {name: named(FILTERS, name).numpy().copy() for name in _names(recorded, "filters", path)}
    return SnapshotTaken(step=snapshot.step, epoch=snapshot.epoch, weights=weights, activations=activations,
                         gradient_norms=dict(snapshot.gradient_norms), probe_index=probe_index,
                         probabilities=probabilities_of(tensors.get(PROBE_OUTPUT), probe_index))


def newest_recorded_snapshot(folder: str | os.PathLike, probe_index: int = 0) -> SnapshotTaken:
    """recorded_snapshot() of the newest snapshot the folder's log names, for probe sample `probe_index` of its
    batch (its first when the batch is smaller). RunFolderError when there is none, or it is not a recorded one."""
    from engine.run_folder.reader import read_run_log

    snapshot = read_run_log(folder).newest_snapshot
    if snapshot is None:
        raise RunFolderError(f"{clean(str(folder))}: the run has no snapshot yet")
    samples = snapshot.recorded.get("samples") if snapshot.recorded is not None else None
    index = probe_index if isinstance(samples, int) and 0 <= probe_index < samples else 0
    return recorded_snapshot(folder, snapshot, index)


def _names(recorded: dict[str, Any], key: str, path: Path) -> list[str]:
    names = recorded.get(key)
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise RunFolderError(f"{clean(str(path))}: the snapshot line's recorded {key} is {excerpt(names)}, not a "
                             f"list of names")
    return names

