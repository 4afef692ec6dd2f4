"""What a layer wants: the input that maximises each channel of a conv layer (or each class of the output),
found by gradient ascent off the GUI thread (engine/inspection/activation_maximisation.py), shown as a grid."""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QProgressBar,
                               QPushButton, QSpinBox, QToolButton, QVBoxLayout, QWidget)

from engine.inspection.activation_maximisation import MaximisationConfig, MaximisationError, maximise, pixel_grid
from engine.inspection.layer_cases import explained_model
from engine.normalization import Normalization
from gui.views.images import to_pixmap
from gui.task_runner import TaskRunner
from models.layers import Conv2dSpec
from gui.workspace import Workspace
from models.network import Network

GRID_PIXELS = 420  # the grid is drawn about this wide, whatever the input size
GAP_GREY = 200     # between the tiles


def maximisable_layers(network: Network) -> list[tuple[int, str]]:
    """(1-based index, label) of every conv layer with a shape, then the output layer (its classes)."""
    analysis = network.analysis
    if not analysis.is_valid or not analysis.layers:
        return []
    layers = [(la.index, f"{la.label}: {la.output_shape[0]} channels")
              for spec, la in zip(network.architecture.layers, analysis.layers)
              if isinstance(spec, Conv2dSpec) and la.output_shape is not None]
    last = analysis.layers[-1]
    if last.output_shape is not None and len(last.output_shape) == 1:
        layers.append((last.index, f"{last.label}, the output: {last.output_shape[0]} classes"))
    return layers


def stretched(pixels: np.ndarray) -> np.ndarray:
    """Each image spread over [0, 1] (its own minimum to its own maximum): the regularised result stays near
    grey, where its pattern is hard to see. A flat image stays as it is."""
    low = pixels.min(axis=(1, 2, 3), keepdims=True)
    span = pixels.max(axis=(1, 2, 3), keepdims=True) - low
    return np.where(span > 1e-6, (pixels - low) / np.maximum(span, 1e-6), pixels)


def grid_image(pixels: np.ndarray) -> np.ndarray:
    """(N, C, H, W) in [0, 1] -> uint8 (H', W', 3), a near-square grid with grey gaps."""
    grid = pixel_grid(pixels)
    filled = np.where(np.isnan(grid), GAP_GREY / 255, grid)
    return np.round(filled * 255).astype(np.uint8)


def _maximise_job(arch, weights, seed, analysis, normalization, layer, config, *, state):
    model = explained_model(arch, weights, seed, analysis)  # a copy of its own: the GUI thread's stays untouched
    with torch.enable_grad():
        return maximise(model, arch.input.as_tuple(), normalization, layer, None, config,
                        progress=state.set_progress, is_cancelled=lambda: state.is_cancelled)


class MaximisationPanel(QWidget):
    """Pick a layer, press Show: every channel's (or class's) preferred input. Results are cached per weights,
    network, layer and settings, so going back to a layer is instant. Public for tests: `layer_box`,
    `show_button`, `progress`, `status`, `image`, `steps`, `l2`, `tv`, `result` (pixels, channels) or None;
    `finished` is emitted when a grid is shown."""

    finished = Signal()

    def __init__(self, network: Network, workspace: Workspace, *, seed: Callable[[], int],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._network, self.workspace, self._seed = network, workspace, seed
        self._runner = TaskRunner(self, name="ConvScope maximisation")
        self._cache: dict[tuple, tuple[object, np.ndarray, list[int]]] = {}
        self._pending: tuple | None = None
        self.result: tuple[np.ndarray, list[int]] | None = None

        self.layer_box = QComboBox()
        self.layer_box.setToolTip("A conv layer (one image per channel) or the output (one per class)")
        self.show_button = QPushButton("Show what it wants")
        self.show_button.setObjectName("primaryButton")
        self.show_button.setToolTip("Gradient ascent on the input: the image that excites each channel most")
        self.cancel_button = QPushButton("Cancel")
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.hide()
        self.steps = QSpinBox()
        self.steps.setRange(1, 4096)
        self.l2, self.tv = QDoubleSpinBox(), QDoubleSpinBox()
        for box, tip in ((self.l2, "Weight of the pull towards mid-grey (keeps the image plain)"),
                         (self.tv, "Weight of the total-variation penalty (keeps neighbours alike: no noise)")):
            box.setRange(0.0, 10.0)
            box.setDecimals(3)
            box.setSingleStep(0.01)
            box.setToolTip(tip)
        self.steps.setToolTip("Gradient-ascent steps (more: sharper, slower)")
        defaults = MaximisationConfig()
        self.steps.setValue(defaults.steps)
        self.l2.setValue(defaults.l2)
        self.tv.setValue(defaults.total_variation)
        self.advanced_button = QToolButton()
        self.advanced_button.setText("Advanced")
        self.advanced_button.setCheckable(True)
        self.advanced_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_button.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced = QWidget()
        form = QFormLayout(self.advanced)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Steps", self.steps)
        form.addRow("L2 towards grey", self.l2)
        form.addRow("Total variation", self.tv)
        self.advanced.hide()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)

        pickers = QHBoxLayout()
        pickers.addWidget(QLabel("Layer"))
        pickers.addWidget(self.layer_box, 1)
        pickers.addWidget(self.show_button)
        pickers.addWidget(self.cancel_button)
        pickers.addWidget(self.advanced_button)
        layout = QVBoxLayout(self)
        layout.addLayout(pickers)
        layout.addWidget(self.advanced)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.image, 1)

        self.show_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.advanced_button.toggled.connect(self._on_advanced_toggled)
        self.layer_box.currentIndexChanged.connect(self._show_cached)
        self._runner.progress.connect(lambda f: self.progress.setValue(round(100 * f)))
        self._runner.finished.connect(self._on_finished)
        self._runner.failed.connect(self._on_failed)
        network.changed.connect(self.refresh_layers)
        self._set_running(False)
        self.refresh_layers()

    # -- what to maximise -------------------------------------------------------------------------------------
    # -- what it reads of the workspace ----------------------------------------------------------------------
    def _weights(self) -> dict[str, torch.Tensor] | None:
        """The trained weights while they belong to the network as it is, else None (the initial weights)."""
        trained = self.workspace.trained_for(self._network.architecture)
        return trained.state if trained is not None else None

    def _normalization_now(self) -> Normalization | None:
        """The statistics the trained weights expect, else the loaded dataset's (what a run would use)."""
        trained, dataset = self.workspace.trained, self.workspace.dataset
        if trained is not None and trained.normalization is not None:
            return trained.normalization
        return getattr(dataset, "normalization", None)

    def _class_names_now(self) -> tuple[str, ...] | None:
        return getattr(self.workspace.dataset, "class_names", None)

    @Slot()
    def refresh_layers(self, *_args: object) -> None:
        current = self.layer_box.currentData()
        self.layer_box.blockSignals(True)
        self.layer_box.clear()
        for index, label in maximisable_layers(self._network):
            self.layer_box.addItem(label, index)
        position = self.layer_box.findData(current)
        self.layer_box.setCurrentIndex(position if position >= 0 else max(self.layer_box.count() - 2, 0))
        self.layer_box.blockSignals(False)
        self._show_cached()

    def _config(self) -> MaximisationConfig:
        return MaximisationConfig(steps=self.steps.value(), l2=self.l2.value(), total_variation=self.tv.value())

    def _key(self) -> tuple:
        weights = self._weights()
        arch = self._network.architecture
        initial_seed = self._seed() if weights is None else None  # untrained: the initial weights depend on it
        return (id(weights), initial_seed, arch.input, arch.layers, self.layer_box.currentData(), self._config())

    # -- running ------------------------------------------------------------------------------------------------
    @Slot()
    def start(self) -> None:
        layer = self.layer_box.currentData()
        normalization = self._normalization_now()
        if layer is None:
            self._say("The network has no conv layer or output to maximise (or it has an error).")
            return
        if normalization is None:
            self._say("No input statistics yet: load a dataset in the Training panel (the images are normalised "
                      "as in training).")
            return
        key = self._key()
        if key in self._cache:
            self._show_cached()
            return
        self._pending = key
        weights = self._weights()
        self.progress.setValue(0)
        self.progress.show()
        self._set_running(True)
        self._say(f"Maximising every channel of layer {layer}\u2026")
        self._runner.submit_with_state(_maximise_job, self._network.architecture, weights, self._seed(),
                                       self._network.analysis, normalization, layer, self._config())

    @Slot()
    def cancel(self) -> None:
        self._runner.cancel()
        self._pending = None
        self._set_running(False)
        self.progress.hide()
        self._say("Cancelled.")

    def shutdown(self) -> None:
        self._runner.shutdown()

    @Slot(object)
    def _on_finished(self, result: tuple[np.ndarray, list[int]]) -> None:
        key, self._pending = self._pending, None
        self._set_running(False)
        self.progress.hide()
        if key is not None:
            self._cache[key] = (self._weights(), *result)  # the weights held: their id stays theirs while cached
        self._display(*result)

    @Slot(object)
    def _on_failed(self, exc: object) -> None:
        self._pending = None
        self._set_running(False)
        self.progress.hide()
        reason = str(exc) if isinstance(exc, (MaximisationError, ValueError)) else f"{type(exc).__name__}: {exc}"
        self._say(f"Cannot maximise this layer: {reason}")

    # -- showing ------------------------------------------------------------------------------------------------
    @Slot()
    def _show_cached(self, *_args: object) -> None:
        cached = self._cache.get(self._key())
        if cached is not None:
            self._display(cached[1], cached[2])
            return
        self.result = None
        self.image.clear()
        which = "trained weights" if self._weights() is not None else "initial weights (train for learned ones)"
        self._say(f"Press Show to compute the inputs this layer responds to most, on the {which}.")

    def _display(self, pixels: np.ndarray, channels: list[int]) -> None:
        self.result = (pixels, channels)
        self.image.setPixmap(to_pixmap(grid_image(stretched(pixels)), GRID_PIXELS))
        names = self._class_names_now()
        is_output = self.layer_box.currentData() == len(self._network.architecture.layers)
        if is_output and names and len(names) == len(channels):
            order = ", ".join(names[c] for c in channels)
            self._say(f"One image per class, row by row: {order}. Each is stretched to its own contrast.")
        else:
            self._say(f"One image per channel, row by row: channels {channels[0]} to {channels[-1]}. Each is "
                      f"the input (from grey, {self.steps.value()} steps) that raises that channel's mean "
                      f"activation most, stretched to its own contrast.")
        self.finished.emit()

    def _set_running(self, running: bool) -> None:
        self.show_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.layer_box.setEnabled(not running)

    def _say(self, text: str) -> None:
        self.status.setText(text)

    @Slot(bool)
    def _on_advanced_toggled(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        self.advanced_button.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
