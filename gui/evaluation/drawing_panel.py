"""DrawingPanel: draw your own input and watch the trained network classify it as you draw."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QSplitter, QVBoxLayout, QWidget

from gui.evaluation.drawing_canvas import DrawingCanvas
from gui.evaluation.drawing_job import DrawnPrediction, ModelCache, predict_drawing, unsupported_input
from gui.task_runner import TaskRunner
from gui.views.activation_view import ActivationView
from gui.views.images import to_pixmap
from gui.views.probabilities import ProbabilityBars
from gui.workspace import Workspace

PREVIEW_SIZE = 140
MAPS_MIN_HEIGHT = 180  # the activation maps' part of the page, at least
TRAIN_FIRST = ("Train first: a drawing is classified by trained weights (train the network, or open a project "
               "or run that has them). You can draw already.")
DRAW_HINT = "Draw a digit on the black square: the prediction follows every stroke."
PREPROCESSING = ("The network sees your drawing as MNIST's digits were made: the ink cropped, scaled into a "
                 "20x20 box, put in a 28x28 field with its centre of mass in the middle")


class DrawingPanel(QWidget):
    """A canvas, what the network sees of it (28x28), the class probabilities and the activation maps.

    Follows the workspace: its trained weights (their network and input statistics) classify the drawing, its
    dataset names the classes; a new run's weights re-classify what is drawn. Each forward pass runs off the
    GUI thread on an inspection copy; while one runs, further strokes only mark the drawing changed and the
    newest drawing is submitted when it returns (so a fast stroke costs one pass at a time, not one per move).
    `predicted` is emitted with each DrawnPrediction shown.
    """

    predicted = Signal(object)

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("drawingPanel")
        self.workspace = workspace
        self.version = 0  # counts changes of the input (drawing, workspace); an older result is shown, then redone
        self.result: DrawnPrediction | None = None
        self._submitted: tuple[int, object] | None = None  # (version, weights) of the job in flight
        self._cache = ModelCache()
        self._runner = TaskRunner(self, name="ConvScope drawing")
        self._runner.finished.connect(self._on_finished)
        self._runner.failed.connect(self._on_failed)

        self.canvas = DrawingCanvas()
        self.clear_button = QPushButton("Clear")
        self.clear_button.setObjectName("clearDrawing")
        self.preview = QLabel()
        self.preview.setObjectName("drawingPreview")
        self.preview.setFixedSize(PREVIEW_SIZE, PREVIEW_SIZE)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setStyleSheet("background: #000000;")
        self.preview.setToolTip("The 28x28 image the network is given (before normalisation)")
        self.caption = QLabel()
        self.caption.setObjectName("drawingCaption")
        self.caption.setWordWrap(True)
        self.bars = ProbabilityBars()
        self.activations = ActivationView()

        seen = QVBoxLayout()
        seen.addWidget(_title("What the network sees (28x28)"))
        seen.addWidget(self.preview)
        seen.addStretch(1)
        drawing = QVBoxLayout()
        drawing.addWidget(_title("Draw here"))
        drawing.addWidget(self.canvas)
        drawing.addWidget(self.clear_button, 0, Qt.AlignmentFlag.AlignLeft)
        row = QHBoxLayout()
        row.addLayout(drawing)
        row.addLayout(seen)
        left = QVBoxLayout()
        left.addLayout(row)
        left.addWidget(self.caption)
        left.addStretch(1)
        top = QWidget()
        top_layout = QHBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addLayout(left)
        probabilities = QVBoxLayout()
        probabilities.addWidget(_title("Class probabilities"))
        probabilities.addWidget(self.bars, 1)
        top_layout.addLayout(probabilities, 1)
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(_title("Activation maps of the drawing"))
        bottom_layout.addWidget(self.activations, 1)
        # The top part scrolls when the splitter gives it less than it needs: a splitter does not honour the
        # wrapped caption's height, and under a 900-pixel window Clear and the caption were drawn over the canvas.
        bottom.setMinimumHeight(MAPS_MIN_HEIGHT)  # its maps scroll: they give way before the canvas does
        top_scroll = QScrollArea()
        top_scroll.setWidget(top)
        top_scroll.setWidgetResizable(True)
        top_scroll.setFrameShape(QFrame.Shape.NoFrame)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top_scroll)
        split.addWidget(bottom)
        split.setChildrenCollapsible(False)
        split.setSizes([520, 300])  # the canvas, its caption and all ten bars first; the maps scroll
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(split)

        self.canvas.changed.connect(self._on_drawing_changed)
        self.clear_button.clicked.connect(self.canvas.clear)
        workspace.events.trained.connect(self._on_workspace_changed)
        workspace.events.dataset.connect(self._on_workspace_changed)
        self._request()

    # -- state ------------------------------------------------------------------------------------------------
    def blocker(self) -> str | None:
        """Why the drawing cannot be classified now (no weights, or a network that takes other images)."""
        trained = self.workspace.trained
        if trained is None:
            return TRAIN_FIRST
        return unsupported_input(trained.architecture)

    @property
    def is_busy(self) -> bool:
        return self._runner.is_busy

    def shutdown(self) -> None:
        """Window close: no drawing job outlives it."""
        self._runner.shutdown()

    # -- requests ---------------------------------------------------------------------------------------------
    @Slot()
    def _on_drawing_changed(self) -> None:
        self.version += 1
        self._request()

    @Slot()
    def _on_workspace_changed(self, *_args: object) -> None:
        # A new dataset lends other statistics to weights that lack theirs: what is classified changed, so a job
        # in flight is as stale as one for an older drawing (it compared only the drawing and the weights).
        self.version += 1
        self._request()

    def _request(self) -> None:
        """Classify the drawing as it is now, unless a job is in flight (its return submits the newest)."""
        reason = self.blocker()
        if reason is not None or self.canvas.is_blank():
            self._runner.cancel()
            self._submitted, self.result = None, None
            self._show_nothing(reason or DRAW_HINT)
            return
        if self._runner.is_busy:
            return
        trained = self.workspace.trained
        self._submitted = (self.version, trained.state)
        self._runner.submit(predict_drawing, self._cache, trained.architecture, trained.state,
                            self._normalization(), self.canvas.ink(), self.version)

    def _normalization(self):
        """The statistics the weights were trained with; older files lack them: the dataset's, if it is grey."""
        trained, dataset = self.workspace.trained, self.workspace.dataset
        if trained.normalization is not None:
            return trained.normalization
        if dataset is not None and dataset.normalization.channels == 1:
            return dataset.normalization
        return None

    def _is_current(self) -> bool:
        trained = self.workspace.trained
        return (self._submitted is not None and trained is not None
                and self._submitted[0] == self.version and self._submitted[1] is trained.state)

    # -- results ----------------------------------------------------------------------------------------------
    @Slot(object)
    def _on_finished(self, result: DrawnPrediction) -> None:
        current = self._is_current()
        if self.blocker() is None and not self.canvas.is_blank():
            self._show(result)
        if not current:
            self._request()

    @Slot(object)
    def _on_failed(self, exc: object) -> None:
        current = self._is_current()
        self.result = None
        self._show_nothing(f"Cannot classify the drawing: {exc}")
        if not current:
            self._request()

    def _show(self, result: DrawnPrediction) -> None:
        self.result = result
        self.preview.setPixmap(to_pixmap(_uint8(result.pixels), PREVIEW_SIZE))
        probabilities = result.probabilities
        if probabilities.size:
            self.bars.show_probabilities(probabilities, self._class_names(probabilities.size), None)
        else:
            self.bars.clear()
        self.activations.show_activations(result.activations)
        self.caption.setText(self._describe(result))
        self.predicted.emit(result)

    def _show_nothing(self, message: str) -> None:
        self.preview.clear()
        self.bars.clear()
        self.activations.clear()
        self.caption.setText(message)

    def _class_names(self, count: int) -> list[str]:
        dataset = self.workspace.dataset
        names = [str(n) for n in dataset.class_names] if dataset is not None else []
        return names if len(names) == count else [str(k) for k in range(count)]

    def _describe(self, result: DrawnPrediction) -> str:
        normalization = result.normalization
        if normalization is None:
            scaled = ", given as raw [0, 1] pixels (these weights came without their input statistics)"
        else:
            scaled = (f", then normalised with the training statistics (mean {normalization.mean[0]:.3g}, "
                      f"std {normalization.std[0]:.3g})")
        trained = self.workspace.trained
        origin = trained.origin if trained is not None and trained.origin else "The last run's trained weights"
        verdict = ("" if result.probabilities.size else
                   " The network's output is not a vector of class scores, so there are no probabilities.")
        return f"{PREPROCESSING}{scaled}. {origin.rstrip('.')}.{verdict}"


def _title(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("viewTitle")
    return label


def _uint8(pixels: np.ndarray) -> np.ndarray:
    return np.round(np.clip(pixels, 0.0, 1.0) * 255).astype(np.uint8)[..., None]
