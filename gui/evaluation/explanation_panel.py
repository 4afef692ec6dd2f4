"""ExplanationPanel: why the network predicted what it did for one sample, as a map over the input."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QSlider, QVBoxLayout, QWidget

from engine.inspection.explanations import METHODS, gradcam_layers
from engine.inspection.explanation_images import overlay
from gui.evaluation.evaluation_job import EvaluationRun, explain_sample
from gui.views.images import to_pixmap
from gui.task_runner import TaskRunner
from models.shapes import analyze

VIEW_SIZE = 224
PREDICTED, TRUE = -1, -2  # target choices besides an explicit class


class ExplanationPanel(QWidget):
    """`show_sample(run, index)` explains sample `index` of an evaluation. The method, target (predicted,
    true or any class), Grad-CAM layer and opacity are chosen here; maps are computed off the GUI thread on
    an inspection copy built from the run's weights (the newest request wins); opacity only re-blends.
    `explained` is emitted with each map shown (tests, screenshots)."""

    explained = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("explanationPanel")
        self._run: EvaluationRun | None = None
        self._index: int | None = None
        self.map: np.ndarray | None = None  # the map shown, (H, W)
        self._pending: tuple = ("saliency", 0, None)  # (method, target, layer) of the newest request
        self._runner = TaskRunner(self, name="ConvScope explanation")
        self._runner.finished.connect(self._on_finished)
        self._runner.failed.connect(self._on_failed)

        self.method = QComboBox()
        self.target = QComboBox()
        self.layer = QComboBox()
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(60)
        self.caption = QLabel("Click a sample to explain its prediction.")
        self.caption.setWordWrap(True)
        self.caption.setObjectName("explanationCaption")
        self.image = QLabel()
        self.image.setObjectName("explanationImage")
        self.image.setFixedSize(VIEW_SIZE, VIEW_SIZE)
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setStyleSheet("background: #f3f4f6;")
        form = QFormLayout()
        form.addRow("Method", self.method)
        form.addRow("Target class", self.target)
        form.addRow("Grad-CAM layer", self.layer)
        form.addRow("Opacity", self.opacity)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 6)
        layout.addLayout(form)
        layout.addWidget(self.image, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.caption)
        layout.addStretch(1)
        self.method.currentIndexChanged.connect(self._on_choice_changed)
        self.target.currentIndexChanged.connect(self._on_choice_changed)
        self.layer.currentIndexChanged.connect(self._on_choice_changed)
        self.opacity.valueChanged.connect(self._redraw)
        self._set_enabled(False)

    # -- data in ----------------------------------------------------------------------------------------------
    def set_run(self, run: EvaluationRun | None) -> None:
        """A new evaluation: the choices follow its network (CAM only for a pooling head, Grad-CAM's layers)."""
        self._run, self._index, self.map = run, None, None
        self._runner.cancel()
        self.image.clear()
        self.caption.setText("Click a sample to explain its prediction.")
        blockers = [self.method.blockSignals(True), self.target.blockSignals(True), self.layer.blockSignals(True)]
        method = self.method.currentData()
        self.method.clear()
        self.target.clear()
        self.layer.clear()
        if run is not None:
            layers = gradcam_layers(run.architecture)
            for key, entry in METHODS.items():
                if entry.unavailable(run.architecture) is None:
                    self.method.addItem(entry.title, key)
            self.method.setCurrentIndex(max(0, self.method.findData(method)))
            self.target.addItem("predicted class", PREDICTED)
            self.target.addItem("true class", TRUE)
            for k, name in enumerate(run.class_names):
                self.target.addItem(f"{k}: {name}", k)
            labels = analyze(run.architecture).layers
            for number in layers:
                la = labels[number - 1]
                self.layer.addItem(f"{number}: {la.type} {'x'.join(map(str, la.output_shape))}", number)
            self.layer.setCurrentIndex(self.layer.count() - 1)  # the last conv: the usual Grad-CAM choice
        for box, was in zip((self.method, self.target, self.layer), blockers):
            box.blockSignals(was)
        self._set_enabled(False)

    def show_sample(self, index: int) -> None:
        """Explain sample `index` of the current run with the chosen method and target."""
        if self._run is None or not 0 <= index < len(self._run.predictions):
            return
        self._index = index
        self._set_enabled(True)
        self._request()

    def shutdown(self) -> None:
        self._runner.shutdown()

    @property
    def is_busy(self) -> bool:
        return self._runner.is_busy

    def target_class(self) -> int | None:
        if self._run is None or self._index is None:
            return None
        choice = self.target.currentData()
        if choice == PREDICTED:
            return int(self._run.predictions.predicted[self._index])
        if choice == TRUE:
            return int(self._run.predictions.labels[self._index])
        return int(choice)

    # -- computing --------------------------------------------------------------------------------------------
    def _set_enabled(self, on: bool) -> None:
        for widget in (self.method, self.target, self.opacity):
            widget.setEnabled(on)
        self.layer.setEnabled(on and self._needs_layer())

    def _needs_layer(self) -> bool:
        method = METHODS.get(self.method.currentData())
        return method is not None and method.needs_layer

    @Slot(int)
    def _on_choice_changed(self, _index: int) -> None:
        self.layer.setEnabled(self._index is not None and self._needs_layer())
        if self._index is not None:
            self._request()

    def _request(self) -> None:
        run, index, method = self._run, self._index, self.method.currentData()
        target = self.target_class()
        if run is None or index is None or method is None or target is None:
            return
        layer = self.layer.currentData() if METHODS[method].needs_layer else None
        where = f", layer {layer}" if layer else ""
        self.caption.setText(f"Computing {METHODS[method].title} for class {run.class_names[target]}{where}\u2026")
        self._pending = (method, target, layer)
        self._runner.submit(explain_sample, run.architecture, run.weights, run.images[index], target, method, layer,
                            run.normalization)

    @Slot(object)
    def _on_finished(self, attribution: np.ndarray) -> None:
        self.map = attribution
        method, target, layer = self._pending
        run, index = self._run, self._index
        predicted, true = int(run.predictions.predicted[index]), int(run.predictions.labels[index])
        names = run.class_names
        where = f" at layer {layer}" if layer else ""
        sign = (" Red raises the class score, blue lowers it." if float(attribution.min()) < 0 else
                " Brighter: matters more.")
        self.caption.setText(f"{METHODS[method].title}{where} for class {names[target]} on sample #{index} "
                             f"(true {names[true]}, predicted {names[predicted]} at "
                             f"{run.predictions.confidence[index]:.0%}).{sign}")
        self._redraw()
        self.explained.emit(attribution)

    @Slot(object)
    def _on_failed(self, exc: object) -> None:
        self.map = None
        self.image.clear()
        self.caption.setText(f"Cannot explain this sample: {exc}")

    @Slot()
    def _redraw(self, *_args: object) -> None:
        if self.map is None or self._run is None or self._index is None:
            return
        picture = overlay(self._run.thumbnails[self._index], self.map, self.opacity.value() / 100)
        self.image.setPixmap(to_pixmap(picture, VIEW_SIZE))

    def overlay_image(self) -> np.ndarray | None:
        """The picture shown, as uint8 (H, W, 3) at the input's size (tests)."""
        if self.map is None or self._run is None or self._index is None:
            return None
        return overlay(self._run.thumbnails[self._index], self.map, self.opacity.value() / 100)
