"""The user's network as the Explainer sees it: its conv and pooling layers, on the probe sample."""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from PySide6.QtCore import QObject, Signal, Slot

from engine.network.builder import ConvNet
from engine.inspection.layer_cases import LayerCase, explained_model, layer_case, window_layers
from gui.workspace import Workspace
from models.network import Network
from models.unit_fields import UnitFields


class CaseUnavailable(ValueError):
    """Why the network cannot be stepped through now (one sentence saying what to do)."""


class NetworkCases(QObject):
    """Builds `LayerCase`s of the network being edited: with the workspace's trained weights when they belong
    to the network as it is, or else the initial weights a run with `seed()` starts from, on the workspace's
    probe sample of its dataset's validation split. `invalidate()` drops the cached model and emits `changed`;
    it runs when the network, the trained weights, the dataset or the probe change (connect it to whatever
    else changes what is shown, e.g. the seed)."""

    changed = Signal()

    def __init__(self, network: Network, workspace: Workspace, *, seed: Callable[[], int],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._network, self.workspace, self._seed = network, workspace, seed
        self._model: tuple[object, ConvNet] | None = None  # (the key it was built for, the model)
        self._fields: UnitFields | None = None
        network.changed.connect(self.invalidate)
        for event in (workspace.events.trained, workspace.events.dataset, workspace.events.probe_index):
            event.connect(self.invalidate)

    def _weights(self) -> dict[str, torch.Tensor] | None:
        trained = self.workspace.trained_for(self._network.architecture)
        return trained.state if trained is not None else None

    @Slot()
    def invalidate(self, *_args: object) -> None:
        self._model = None
        self.changed.emit()

    def layers(self) -> list[tuple[int, str]]:
        analysis = self._network.analysis
        return window_layers(self._network.architecture, analysis) if analysis.is_valid else []

    def frozen_filters(self, index: int) -> tuple[int, ...]:
        """The filters of layer `index` (1-based) that are hand-set and frozen (conv2d frozen_init)."""
        spec = self._network.architecture.layers[index - 1]
        return spec.frozen_filters() if hasattr(spec, "frozen_filters") else ()

    def weights_text(self) -> str:
        if self._weights() is not None:
            return "trained weights"
        return f"initial weights (seed {self._seed()}): train to step through learned filters"

    def unit_fields(self) -> UnitFields:
        """The receptive fields of the network as it is (computed once per architecture)."""
        arch = self._network.architecture
        if self._fields is None or self._fields.arch is not arch:
            self._fields = UnitFields(arch, self._network.analysis)
        return self._fields

    def probe_image(self) -> np.ndarray | None:
        """The probe sample as uint8 (H, W) or (H, W, 3), as the Training tab shows it; None without one."""
        dataset, probe = self.workspace.dataset, self.workspace.probe_index
        if dataset is None or not 0 <= probe < len(dataset.val.labels):
            return None
        return dataset.to_uint8(dataset.val.images_at(probe))

    def probe_text(self) -> str:
        return f"probe sample {self.workspace.probe_index} of the validation split"

    def case(self, index: int) -> LayerCase:
        """Layer `index` (1-based) on the probe sample; CaseUnavailable says what is missing."""
        network = self._network
        arch, analysis = network.architecture, network.analysis
        if not analysis.is_valid:
            raise CaseUnavailable(f"the network has an error: {analysis.first_error or 'no layers'}")
        dataset = self.workspace.dataset
        if dataset is None:
            raise CaseUnavailable("no dataset is loaded yet: choose one in the Training panel (the probe sample "
                                  "comes from it), or pick a lesson")
        if tuple(dataset.input_shape) != arch.input.as_tuple():
            raise CaseUnavailable("the network's input does not match the dataset's images; fix the input "
                                  "shape, or pick a lesson")
        probe = self.workspace.probe_index
        images = dataset.val.images
        if not 0 <= probe < len(images):
            raise CaseUnavailable(f"probe sample {probe} is not in the validation split; pick another in the "
                                  f"Training tab")
        weights, seed = self._weights(), self._seed()
        key = (id(weights), seed, arch)
        if self._model is None or self._model[0] != key:
            self._model = (key, explained_model(arch, weights, seed, analysis))
        return layer_case(self._model[1], arch, index, images[probe], analysis)
