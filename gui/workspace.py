"""The workspace: what the window works on, in one Qt-free object that every panel reads and observes.

napari's ViewerModel idea: the state lives in a plain evented object, not in widgets and lambdas. The
dataset loaded, the trained weights (with the network and the statistics they were trained with), the
curves, the probe sample and the run folder followed are fields; `workspace.events.<field>` emits the new
value when one is replaced. Panels read the fields when they compute and connect to the events to follow;
a test builds a Workspace without a window.

Fields are replaced, never mutated in place, and only on the GUI thread (observers run on the thread that
sets a field, and they touch widgets). A job that needs a field takes its value when it is submitted.
Change is by identity: setting a field to the object it holds already emits nothing.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from psygnal import evented

from engine.metrics import MetricsHistory
from models.architecture import Architecture

if TYPE_CHECKING:  # the window opens before torch is imported (gui/engine_loader.py)
    import torch

    from engine.datasets.dataset import Dataset
    from engine.normalization import Normalization


@dataclass(frozen=True, eq=False)
class TrainedWeights:
    """A CPU state dict and what it belongs to: the network as it was trained (the editable one may have
    changed since), the input statistics it expects (None for older files), and where it came from when no
    run of this window made it (an opened file: the caption the views show)."""

    state: dict[str, torch.Tensor]
    architecture: Architecture
    normalization: Normalization | None = None
    origin: str | None = None

    def fit(self, architecture: Architecture) -> bool:
        """True when these weights were trained as `architecture` (same input and layers; the name may differ)."""
        return (architecture.input, architecture.layers) == (self.architecture.input, self.architecture.layers)


_BY_IDENTITY = {name: operator.is_ for name in ("dataset", "trained", "history", "followed_run")}


@evented(equality_operators=_BY_IDENTITY)
@dataclass(eq=False)
class Workspace:
    dataset: Dataset | None = None                  # the loaded dataset; None while none is (or it failed)
    trained: TrainedWeights | None = None           # the last run's or an opened project's weights
    history: MetricsHistory = field(default_factory=MetricsHistory)  # their curves (a running run's so far)
    probe_index: int = 0                            # the validation sample the views and the Explainer probe
    followed_run: Path | None = None                # the run folder being written or followed

    def trained_for(self, architecture: Architecture) -> TrainedWeights | None:
        """The trained weights if they belong to `architecture` as it is now (not edited since), else None."""
        trained = self.trained
        return trained if trained is not None and trained.fit(architecture) else None

    def probe_in(self, dataset: Dataset | None) -> int:
        """The probe index within `dataset`'s validation split (0 when it holds fewer samples)."""
        if dataset is None:
            return 0
        return self.probe_index if self.probe_index < len(dataset.val) else 0

    def extras(self) -> dict:
        """What a project file keeps of the workspace beyond weights and curves: the probe sample."""
        return {"ui": {"probe_index": self.probe_index}}

    def set_extras(self, extras: object) -> None:
        """A project's extras: its probe sample, when it holds a valid one."""
        ui = extras.get("ui") if isinstance(extras, dict) else None
        probe = ui.get("probe_index") if isinstance(ui, dict) else None
        if isinstance(probe, int) and not isinstance(probe, bool) and probe >= 0:
            self.probe_index = probe
