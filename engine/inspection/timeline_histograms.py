"""Histograms over a run's timeline: per layer, a step x bin matrix of its weights (TensorBoard's distributions idea).

Bins are shared by all steps of a layer (its min to max over the whole timeline), so a row is comparable with
every other row; counts are per snapshot. Gradient norms come from the snapshot lines as curves.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from engine.run_folder.reader import RunLog, read_run_log

BINS = 32


@dataclass(frozen=True)
class LayerDistribution:
    tensor: str             # the state-dict name, e.g. "0.weight"
    steps: np.ndarray       # (S,) the snapshots' steps
    edges: np.ndarray       # (BINS + 1,) shared bin edges
    counts: np.ndarray      # (S, BINS) int64


def _rows(values: list[np.ndarray], bins: int) -> tuple[np.ndarray, np.ndarray]:
    finite = [v[np.isfinite(v)] for v in values]
    present = [v for v in finite if v.size]
    low = min((float(v.min()) for v in present), default=0.0)
    high = max((float(v.max()) for v in present), default=1.0)
    if low == high:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, bins + 1)
    return edges, np.stack([np.histogram(v, bins=edges)[0] for v in finite]).astype(np.int64)


def distributions(steps: list[int], states: list[dict[str, torch.Tensor]], bins: int = BINS
                  ) -> dict[str, LayerDistribution]:
    """The step x bin matrices of every floating weight and bias tensor in `states` (one state per step)."""
    if not states:
        return {}
    names = [n for n, t in states[0].items() if t.is_floating_point() and n.endswith((".weight", ".bias"))]
    result = {}
    for name in names:
        values = [s[name].detach().double().numpy().ravel() for s in states if name in s]
        if len(values) != len(states):
            continue
        edges, counts = _rows(values, bins)
        result[name] = LayerDistribution(name, np.array(steps), edges, counts)
    return result


def gradient_norm_curves(log: RunLog | None = None, folder: str | os.PathLike | None = None
                         ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per layer label, (steps, norms) from every snapshot line (those thinned away too: the lines stay)."""
    log = read_run_log(Path(folder)) if log is None else log
    curves: dict[str, tuple[list[int], list[float]]] = {}
    for snapshot in log.snapshots:
        for label, value in snapshot.gradient_norms.items():
            steps, values = curves.setdefault(label, ([], []))
            steps.append(snapshot.step)
            values.append(value)
    return {k: (np.array(s), np.array(v)) for k, (s, v) in curves.items()}
