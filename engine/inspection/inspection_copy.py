"""The inspection copy: a model of its own, rebuilt from a snapshot's weights, that the views may probe.

The window never touches the model that trains (it lives in another process); it computes what the
log does not carry (any probe's activations and probabilities) on this copy, off the GUI thread.
One copy serves one architecture; calls are serialised, so jobs from several threads may share it.
"""

from __future__ import annotations

import threading

import numpy as np
import torch

from engine.network.builder import build_model
from engine.events import SnapshotTaken
from engine.network.probes import capture_snapshot, probe_layout
from engine.network.weights import apply_state_dict
from models.architecture import Architecture
from models.shapes import analyze


class InspectionCopy:
    """`show(weights, probe, ...)` loads `weights` (a state dict for `arch`) and returns a SnapshotTaken.

    Making one costs nothing: the model is built by the first `show`, on the job thread that calls it."""

    def __init__(self, arch: Architecture) -> None:
        self.arch = arch
        self._model: torch.nn.Module | None = None
        self._layout = None
        self._lock = threading.Lock()

    def _built(self) -> torch.nn.Module:
        if self._model is None:  # under the lock: jobs from several threads build it once
            analysis = analyze(self.arch)
            self._model = build_model(self.arch, analysis).eval()
            self._layout = probe_layout(self._model, analysis)
        return self._model

    def show(self, weights: dict[str, torch.Tensor], probe: torch.Tensor | None, *, step: int, epoch: int,
             probe_index: int, gradient_norms: dict[str, float] | None = None) -> SnapshotTaken:
        """The network with `weights` on one probe sample (C, H, W), or its filters alone when `probe` is None.
        WeightsError if the weights do not fit. `gradient_norms` come from the trainer (the copy has none)."""
        with self._lock, torch.no_grad():
            apply_state_dict(self._built(), weights)
            if probe is None:
                filters = {la.label: la.module.weight.detach().numpy().copy() for la in self._layout if la.is_conv}
                event = SnapshotTaken(step, epoch, filters, {}, {}, probe_index)
            else:
                event = capture_snapshot(self._model, self._layout, probe, step=step, epoch=epoch,
                                         probe_index=probe_index)
        if gradient_norms is None:
            return event
        norms = {label: float(gradient_norms.get(label, event.gradient_norms.get(label, 0.0)) or 0.0)
                 for label in event.gradient_norms}
        return SnapshotTaken(event.step, event.epoch, event.weights, event.activations, norms, event.probe_index,
                             np.asarray(event.probabilities))


def initial_snapshot(arch: Architecture, seed: int, probe: torch.Tensor, *, probe_index: int) -> SnapshotTaken:
    """The untrained network on one probe sample, with the very weights a run seeded with `seed` starts from."""
    analysis = analyze(arch)
    with torch.random.fork_rng(devices=[]):  # seeded as the Trainer seeds its model, the global RNG untouched
        torch.manual_seed(seed)
        model = build_model(arch, analysis)
    return capture_snapshot(model, probe_layout(model, analysis), probe, step=0, epoch=0, probe_index=probe_index)
