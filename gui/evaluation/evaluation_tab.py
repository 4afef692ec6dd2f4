"""The "Evaluation" tab: accuracy, per-class precision and recall, the clickable confusion matrix, galleries
of the samples behind each cell, the hardest examples and the most confident mistakes, and explanations; on a
second page, a drawing of the user's own classified live (gui/evaluation/drawing_panel.py); on a third, the network
made fully convolutional, sliding over a canvas of several inputs (gui/evaluation/score_map_panel.py)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QHeaderView, QLabel, QProgressBar, QPushButton,
                               QSplitter, QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget)

from gui.evaluation.confusion_view import ConfusionMatrixView
from gui.evaluation.drawing_panel import DrawingPanel
from gui.evaluation.evaluation_job import SPLIT_TITLES, EvaluationRun, evaluate_split
from gui.evaluation.explanation_panel import ExplanationPanel
from gui.evaluation.score_map_panel import ScoreMapPanel
from gui.evaluation.sample_gallery import MAX_SHOWN, SampleGallery
from gui.task_runner import TaskRunner
from gui.workspace import Workspace

NO_WEIGHTS = "Train the network (or open a project or run with trained weights) to evaluate it."
NO_DATASET = "Load a dataset in the training panel to evaluate on it."
STALE = " \u00b7 the weights or dataset changed since: Evaluate again"
HARDEST_SHOWN = 100


def _titled(title: str, widget: QWidget, *extra: QWidget) -> QWidget:
    box = QWidget()
    label = QLabel(title)
    label.setObjectName("viewTitle")
    head = QHBoxLayout()
    head.addWidget(label, 1)
    for w in extra:
        head.addWidget(w)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    layout.addLayout(head)
    layout.addWidget(widget, 1)
    return box


class EvaluationTab(QWidget):
    """Evaluates the workspace's trained weights on its dataset's validation or test split.

    Evaluation runs off the GUI thread (a TaskRunner) with progress; it starts when the tab is shown with
    weights it has not scored yet, or with Evaluate. A click on a confusion cell lists its samples sorted by
    confidence (toggle: least confident first) with their top-3 probabilities; "Hardest examples" (highest
    loss) and "Most confident mistakes" list those. A click on a listed sample makes it the probe (for the
    validation split) and explains it. `evaluated` is emitted with each EvaluationRun shown.
    """

    evaluated = Signal(object)

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("evaluationTab")
        self.workspace = workspace
        self.run: EvaluationRun | None = None
        self._cell: tuple[int, int] | None = None
        self._listing = "cell"  # what the gallery lists: "cell", "hardest" or "mistakes"
        self._runner = TaskRunner(self, name="ConvScope evaluation")
        self._runner.finished.connect(self._on_finished)
        self._runner.failed.connect(self._on_failed)
        self._runner.progress.connect(self._on_progress)

        self.split = QComboBox()
        self.split.setObjectName("evaluationSplit")
        self.evaluate_button = QPushButton("Evaluate")
        self.evaluate_button.setObjectName("evaluateButton")
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setMaximumWidth(180)
        self.progress.hide()
        self.summary = QLabel(NO_WEIGHTS)
        self.summary.setObjectName("evaluationSummary")
        self.summary.setWordWrap(True)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Evaluate on"))
        bar.addWidget(self.split)
        bar.addWidget(self.evaluate_button)
        bar.addWidget(self.progress)
        bar.addWidget(self.summary, 1)

        self.confusion = ConfusionMatrixView()
        self.normalized = QCheckBox("Row-normalised")
        self.normalized.setToolTip("Each row as shares of its true class (the diagonal is then the recall)")
        self.metrics = QTableWidget(0, 4)
        self.metrics.setObjectName("classMetrics")
        self.metrics.setHorizontalHeaderLabels(["class", "precision", "recall", "support"])
        self.metrics.verticalHeader().hide()
        self.metrics.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.metrics.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.gallery = SampleGallery()
        self.hardest_button = QPushButton("Hardest examples")
        self.hardest_button.setToolTip(f"The {HARDEST_SHOWN} samples with the highest loss")
        self.mistakes_button = QPushButton("Confident mistakes")
        self.mistakes_button.setToolTip("Wrong predictions made with the most confidence: likely mislabelled images")
        self.order = QComboBox()
        self.order.addItem("most confident first", True)
        self.order.addItem("least confident first", False)
        self.explanation = ExplanationPanel()

        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(_titled("Confusion matrix", self.confusion, self.normalized))
        self.confusion.setToolTip("Rows: the true class; columns: the predicted class. Click a cell for its samples")
        left.addWidget(_titled("Per class", self.metrics))
        left.setSizes([520, 260])
        middle = QWidget()
        buttons = QHBoxLayout()  # the buttons, then the order under them: the three in a row made the room
        buttons.addWidget(self.hardest_button)  # wider than the space beside the docks
        buttons.addWidget(self.mistakes_button)
        buttons.addStretch(1)
        order = QHBoxLayout()
        order.addWidget(QLabel("Order"))
        order.addWidget(self.order, 1)
        middle_layout = QVBoxLayout(middle)
        middle_layout.setContentsMargins(0, 0, 0, 0)
        middle_layout.addLayout(buttons)
        middle_layout.addLayout(order)
        middle_layout.addWidget(self.gallery, 1)
        columns = QSplitter(Qt.Orientation.Horizontal)
        columns.addWidget(left)
        columns.addWidget(_titled("Samples", middle))
        columns.addWidget(_titled("Explanation", self.explanation))
        columns.setSizes([520, 360, 300])
        for splitter in (left, columns):
            splitter.setChildrenCollapsible(False)
        scores = QWidget()
        scores_layout = QVBoxLayout(scores)
        scores_layout.setContentsMargins(6, 6, 6, 6)
        scores_layout.addLayout(bar)
        scores_layout.addWidget(columns, 1)
        self.drawing = DrawingPanel(workspace)  # a page of its own: beside the three columns it would not fit
        self.pages = QTabWidget()
        self.pages.setObjectName("evaluationPages")
        self.pages.setDocumentMode(True)
        self.pages.addTab(scores, "Scores on a split")
        self.pages.addTab(self.drawing, "Draw your own input")
        self.score_maps = ScoreMapPanel(workspace)
        self.pages.addTab(self.score_maps, "Score map on a larger canvas")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages, 1)

        self.evaluate_button.clicked.connect(self.evaluate)
        self.normalized.toggled.connect(self.confusion.set_normalized)
        self.confusion.cell_clicked.connect(self.show_cell)
        self.hardest_button.clicked.connect(self.show_hardest)
        self.mistakes_button.clicked.connect(self.show_mistakes)
        self.order.currentIndexChanged.connect(self._on_order_changed)
        self.gallery.sample_clicked.connect(self.pick_sample)
        self._set_results_enabled(False)
        self._recorded: tuple = (None, None)  # (followed folder, its RecordedRun or None): read once

    # -- evaluating -------------------------------------------------------------------------------------------
    def refresh_splits(self) -> None:
        """Offer the splits the loaded dataset has (validation always, test when it has one)."""
        dataset, current = self.workspace.dataset, self.split.currentData() or "val"
        self.split.blockSignals(True)
        self.split.clear()
        self.split.addItem("Validation split", "val")
        if dataset is not None and dataset.test is not None:
            self.split.addItem("Test split", "test")
        self.split.setCurrentIndex(max(0, self.split.findData(current)))
        self.split.blockSignals(False)

    def is_stale(self) -> bool:
        """True when the trained weights or the dataset are not those of the results shown."""
        trained, dataset = self.workspace.trained, self.workspace.dataset
        if trained is None or dataset is None:
            return False
        return self.run is None or self.run.weights is not trained.state or self.run.dataset is not dataset

    @Slot()
    def evaluate(self) -> None:
        """Score the current weights on the chosen split, off the GUI thread."""
        self.refresh_splits()
        trained, dataset = self.workspace.trained, self.workspace.dataset
        if trained is None:
            self.summary.setText(self._no_weights())
            return
        if dataset is None:
            self.summary.setText(NO_DATASET)
            return
        split = self.split.currentData() or "val"
        self.progress.setValue(0)
        self.progress.show()
        self.evaluate_button.setEnabled(False)
        self.summary.setText(f"Evaluating on the {SPLIT_TITLES[split]} of {dataset.name}\u2026")
        self._runner.submit_with_state(evaluate_split, trained.architecture, trained.state, dataset,
                                       trained.normalization, split)

    def evaluate_if_stale(self) -> None:
        if self.is_stale() and not self._runner.is_busy:
            self.evaluate()
        elif self.workspace.trained is None and self.run is None:
            self.summary.setText(self._no_weights())

    def _no_weights(self) -> str:
        """Why there is nothing to score: no trained weights, or a run shown that the window cannot rebuild."""
        from engine.run_folder import RunFolderError
        from engine.run_folder.recording import recorded_run

        folder = self.workspace.followed_run
        if folder is not None and self._recorded[0] != folder:
            try:
                self._recorded = (folder, recorded_run(folder))
            except (RunFolderError, OSError):
                self._recorded = (folder, None)
        recorded = self._recorded[1] if folder is not None and self._recorded[0] == folder else None
        if recorded is None:
            return NO_WEIGHTS
        return (f"Cannot evaluate the run shown: {recorded.cannot_rebuild}. Score it in your own script, or "
                f"train a network of your own here.")

    @property
    def is_busy(self) -> bool:
        return self._runner.is_busy

    def shutdown(self) -> None:
        """Window close: no evaluation or explanation thread outlives it."""
        self._runner.shutdown()
        self.explanation.shutdown()
        self.drawing.shutdown()
        self.score_maps.shutdown()

    @Slot(object)
    def on_training_finished(self, _result: object) -> None:
        """A run ended: new weights to score, if the tab is on screen (else when it is next shown)."""
        if self.isVisible():
            self.evaluate_if_stale()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self.evaluate_if_stale()

    @Slot(float)
    def _on_progress(self, fraction: float) -> None:
        self.progress.setValue(round(100 * fraction))

    @Slot(object)
    def _on_failed(self, exc: object) -> None:
        self.progress.hide()
        self.evaluate_button.setEnabled(True)
        self.summary.setText(f"Cannot evaluate: {exc}")

    @Slot(object)
    def _on_finished(self, run: EvaluationRun) -> None:
        self.progress.hide()
        self.evaluate_button.setEnabled(True)
        self.run = run
        predictions = run.predictions
        confusion = predictions.confusion()
        losses = float(predictions.losses.mean()) if len(predictions) else float("nan")
        self.summary.setText(f"Accuracy {predictions.accuracy:.2%} \u00b7 loss {losses:.4f} \u00b7 "
                             f"{len(predictions):,} images of the {SPLIT_TITLES[run.split]} of {run.dataset.name}")
        names = [f"{k} {name}" if name != str(k) else name for k, name in enumerate(run.class_names)]
        self.confusion.set_matrix(confusion, names)
        self._fill_metrics(confusion, names)
        self.explanation.set_run(run)
        self._set_results_enabled(True)
        self.gallery.clear("Click a cell of the confusion matrix to see its samples.")
        self._cell = None
        self.evaluated.emit(run)

    def _fill_metrics(self, confusion: np.ndarray, names: list[str]) -> None:
        from engine.scoring.predictions import class_metrics

        metrics = class_metrics(confusion)
        self.metrics.setRowCount(len(names))
        for k, name in enumerate(names):
            cells = [name, _share(metrics.precision[k]), _share(metrics.recall[k]), f"{int(metrics.support[k]):,}"]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.metrics.setItem(k, column, item)

    def _set_results_enabled(self, on: bool) -> None:
        for widget in (self.hardest_button, self.mistakes_button, self.order, self.normalized):
            widget.setEnabled(on)

    # -- galleries --------------------------------------------------------------------------------------------
    @Slot(int, int)
    def show_cell(self, true_class: int, predicted_class: int) -> None:
        """List the samples of one confusion cell, sorted by confidence (the order box says which way)."""
        if self.run is None:
            return
        self._cell, self._listing = (true_class, predicted_class), "cell"
        names = self.run.class_names
        indices = self.run.predictions.cell(true_class, predicted_class, bool(self.order.currentData()))
        self._show(f"True {names[true_class]}, predicted {names[predicted_class]}", indices)

    @Slot()
    def show_hardest(self) -> None:
        if self.run is not None:
            self._listing = "hardest"
            self._show("Hardest examples (highest loss first)", self.run.predictions.hardest(HARDEST_SHOWN))

    @Slot()
    def show_mistakes(self) -> None:
        if self.run is not None:
            self._listing = "mistakes"
            self._show("Most confident mistakes", self.run.predictions.confident_mistakes())

    @Slot(int)
    def _on_order_changed(self, _index: int) -> None:
        if self._listing == "cell" and self._cell is not None:
            self.show_cell(*self._cell)

    def _show(self, title: str, indices: np.ndarray) -> None:
        run = self.run
        predictions, names = run.predictions, run.class_names
        lines = []
        for i in indices[:MAX_SHOWN]:
            i = int(i)
            top = " \u00b7 ".join(f"{names[c]} {p:.0%}" for c, p in predictions.top(i))
            lines.append(f"#{i}  true {names[int(predictions.labels[i])]}  loss {predictions.losses[i]:.2f}\n{top}")
        self.gallery.show_samples(title, indices, run.thumbnails, lines)

    @Slot(int)
    def pick_sample(self, index: int) -> None:
        """Make a validation sample the probe of the Training tab, and explain it here."""
        if self.run is None:
            return
        if self.run.split == "val":
            self.workspace.probe_index = index
        self.explanation.show_sample(index)


def _share(value: float) -> str:
    return f"{value:.1%}" if np.isfinite(value) else "\u2013"
