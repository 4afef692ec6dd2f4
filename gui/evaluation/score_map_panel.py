"""ScoreMapPanel: the trained network rewritten fully convolutional, sliding over a canvas three inputs wide."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from gui.evaluation.drawing_canvas import SIZE, DrawingCanvas
from gui.evaluation.fully_convolutional_save import FullyConvolutionalSave
from gui.evaluation.score_map_job import (TILES, ScoreMaps, canvas_pixels, compute_score_maps, rewrite_problem,
                                          tiled_pixels, wide_shape)
from gui.evaluation.score_maps_view import ScoreMapsView
from gui.task_runner import TaskRunner
from gui.workspace import Workspace

CANVAS_HEIGHT = SIZE  # the single drawing's canvas, three times as wide: one square per window of the network
TRAIN_FIRST = ("Train first: the score maps come from trained weights (train the network, or open a project or "
               "run that has them). You can draw already.")
CANNOT_REWRITE = ("This network cannot be rewritten as a fully convolutional one, so it cannot slide over a larger "
                  "image: {reason}.")
HINT = (f"Draw digits side by side on the wide canvas (about one per dashed square, each about the height of the "
        f"canvas' middle two thirds), or tile {TILES} validation samples.")
NO_DATASET = "Load a dataset in the training panel to tile its validation samples."


class ScoreMapPanel(QWidget):
    """A canvas TILES network inputs wide, the network's class probabilities at each window position, one map per
    class, and the arg-max class there.

    The network is the workspace's trained weights rewritten by engine/network/fully_convolutional.py (linear
    layers as convolutions, without the final average), so each position's scores are what the original network
    gives for the window of the training size there. "Tile validation samples" puts TILES validation images of
    the workspace's dataset side by side (exactly as the dataset holds them, until a stroke is drawn over them).
    Every forward pass runs on a TaskRunner thread; the newest input wins. `computed` carries each ScoreMaps shown.
    """

    computed = Signal(object)

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scoreMapPanel")
        self.workspace = workspace
        self.version = 0  # counts input changes; a result for an older version is shown, then redone
        self.result: ScoreMaps | None = None
        self.tiled_indices: list[int] = []  # the validation samples tiled, while they are the input
        self._tiles: np.ndarray | None = None  # (C, H, W) pixels of those samples, exactly as the dataset has them
        self._next_tile = 0
        self._placing = False  # the canvas is being given the tiles' picture: not a stroke
        self._submitted: tuple[int, object] | None = None  # (version, weights) of the job in flight
        self._runner = TaskRunner(self, name="ConvScope score maps")
        self._runner.finished.connect(self._on_finished)
        self._runner.failed.connect(self._on_failed)

        self.canvas = DrawingCanvas(width=TILES * CANVAS_HEIGHT, height=CANVAS_HEIGHT)
        self.canvas.setToolTip("Draw several digits side by side; every window of the network's input size is "
                               "classified")
        self.canvas.set_guides([k * CANVAS_HEIGHT for k in range(1, TILES)])
        self.clear_button = QPushButton("Clear")
        self.clear_button.setObjectName("clearScoreCanvas")
        self.tile_button = QPushButton(f"Tile {TILES} validation samples")
        self.tile_button.setObjectName("tileValidationSamples")
        self.tile_button.setToolTip("The next validation images of the loaded dataset, side by side")
        self.caption = QLabel()
        self.caption.setObjectName("scoreMapCaption")
        self.caption.setWordWrap(True)
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.view = ScoreMapsView()
        self.save_run = FullyConvolutionalSave(workspace)

        buttons = QHBoxLayout()
        buttons.addWidget(self.clear_button)
        buttons.addWidget(self.tile_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        title = QLabel("Draw several inputs side by side: the network slides over them")
        title.setObjectName("viewTitle")
        layout.addWidget(title)
        layout.addWidget(self.canvas, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addLayout(buttons)
        layout.addWidget(self.caption)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.save_run)

        self.canvas.changed.connect(self._on_canvas_changed)
        self.clear_button.clicked.connect(self.canvas.clear)
        self.tile_button.clicked.connect(self.tile_validation_samples)
        workspace.events.trained.connect(self._on_workspace_changed)
        workspace.events.dataset.connect(self._on_workspace_changed)
        self._request()

    # -- state ------------------------------------------------------------------------------------------------
    def blocker(self) -> str | None:
        """Why no score map can be computed now (no weights, or a network that cannot be rewritten)."""
        trained = self.workspace.trained
        if trained is None:
            return TRAIN_FIRST
        problem = rewrite_problem(trained.architecture)
        return None if problem is None else CANNOT_REWRITE.format(reason=problem.rstrip("."))

    @property
    def is_busy(self) -> bool:
        return self._runner.is_busy

    def shutdown(self) -> None:
        """Window close: no score-map job (or save) outlives it."""
        self._runner.shutdown()
        self.save_run.shutdown()

    # -- inputs -----------------------------------------------------------------------------------------------
    @Slot()
    def tile_validation_samples(self) -> None:
        """Put the next TILES validation samples side by side on the canvas and score them."""
        dataset, trained = self.workspace.dataset, self.workspace.trained
        if dataset is None or len(dataset.val) == 0:
            self.caption.setText(NO_DATASET)
            return
        if trained is not None and tuple(dataset.input_shape) != trained.architecture.input.as_tuple():
            self.caption.setText(f"{dataset.name} has {'x'.join(map(str, dataset.input_shape))} images but the "
                                 f"trained network takes {'x'.join(map(str, trained.architecture.input.as_tuple()))}: "
                                 f"load the dataset it was trained on to tile its samples.")
            return
        start = self._next_tile % len(dataset.val)
        indices = [(start + k) % len(dataset.val) for k in range(TILES)]
        self._next_tile = start + TILES
        tiles = tiled_pixels(dataset, indices)
        self._placing = True
        try:
            picture = Image.fromarray(np.ascontiguousarray(tiles.mean(axis=0)))
            self.canvas.set_picture(np.asarray(picture.resize((self.canvas.width(), self.canvas.height()),
                                                              Image.Resampling.NEAREST)))
        finally:
            self._placing = False
        self._tiles, self.tiled_indices = tiles, indices
        self.version += 1
        self._request()

    @Slot()
    def _on_canvas_changed(self) -> None:
        if self._placing:
            return
        self._tiles, self.tiled_indices = None, []  # a stroke over the tiles: the canvas is the input now
        self.version += 1
        self._request()

    @Slot()
    def _on_workspace_changed(self, *_args: object) -> None:
        self.version += 1  # the dataset's statistics or the weights changed: a job in flight is stale
        trained = self.workspace.trained
        if self._tiles is not None and (trained is None or self._tiles.shape != wide_shape(trained.architecture)):
            self._tiles, self.tiled_indices = None, []  # samples of another input size: the canvas stays
        self._request()

    def _input_pixels(self) -> np.ndarray | None:
        """(C, H, TILES * W) pixels in [0, 1] for the job, or None when there is nothing to score."""
        if self._tiles is not None:
            return self._tiles
        if self.canvas.is_blank():
            return None
        return canvas_pixels(self.canvas.ink(), wide_shape(self.workspace.trained.architecture))

    def _request(self) -> None:
        """Score the input as it is now, unless a job is in flight (its return submits the newest)."""
        reason = self.blocker()
        self.save_run.set_rewritable(reason is None)
        pixels = None if reason is not None else self._input_pixels()
        if pixels is None:
            self._runner.cancel()
            self._submitted, self.result = None, None
            self._show_nothing(reason or HINT)
            return
        if self._runner.is_busy:
            return
        trained = self.workspace.trained
        self._submitted = (self.version, trained.state)
        self._runner.submit(compute_score_maps, trained.architecture, trained.state, self._normalization(), pixels,
                            self.version)

    def _normalization(self):
        """The statistics the weights were trained with; older files lack them: the dataset's, if it fits."""
        trained, dataset = self.workspace.trained, self.workspace.dataset
        if trained.normalization is not None:
            return trained.normalization
        if dataset is not None and dataset.normalization.channels == trained.architecture.input.channels:
            return dataset.normalization
        return None

    def _is_current(self) -> bool:
        trained = self.workspace.trained
        return (self._submitted is not None and trained is not None
                and self._submitted[0] == self.version and self._submitted[1] is trained.state)

    # -- results ----------------------------------------------------------------------------------------------
    @Slot(object)
    def _on_finished(self, result: ScoreMaps) -> None:
        current = self._is_current()
        if current:
            self._show(result)
        else:
            self._request()

    @Slot(object)
    def _on_failed(self, exc: object) -> None:
        current = self._is_current()
        self.result = None
        self._show_nothing(f"Cannot compute the score maps: {exc}")
        if not current:
            self._request()

    def _show(self, result: ScoreMaps) -> None:
        self.result = result
        names = self._class_names(result.probabilities.shape[0])
        pixels = result.pixels[0] if result.pixels.shape[0] == 1 else result.pixels.transpose(1, 2, 0)
        self.view.show_maps(pixels, result.probabilities, result.predicted, names, result.stride, result.window)
        self.caption.setText(self._describe(result, names))
        self.computed.emit(result)

    def _show_nothing(self, message: str) -> None:
        self.view.clear()
        self.caption.setText(message)

    def _class_names(self, count: int) -> list[str]:
        dataset = self.workspace.dataset
        names = [str(n) for n in dataset.class_names] if dataset is not None else []
        return names if len(names) == count else [str(k) for k in range(count)]

    def _describe(self, result: ScoreMaps, names: list[str]) -> str:
        _, rows, cols = result.probabilities.shape
        (wh, ww), (sh, sw) = result.window, result.stride
        text = (f"The network's linear layers as convolutions, without the final average: each of the {rows}x{cols} "
                f"positions scores the {wh}x{ww} window there, {sh}x{sw} pixels apart (the maps: softmax "
                f"probabilities at each position).")
        if self.tiled_indices:
            labels = self.workspace.dataset.val.labels if self.workspace.dataset is not None else None
            samples = ", ".join(f"#{i}" + (f" ({names[int(labels[i])]})" if labels is not None
                                           and int(labels[i]) < len(names) else "") for i in self.tiled_indices)
            text += f" Validation samples {samples}, side by side."
        return text
