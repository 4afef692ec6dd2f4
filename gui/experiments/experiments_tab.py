"""The Experiments tab: pick what to vary in the current network, run the variants, compare curves and numbers.

Each variant trains in a child `main.py train` (engine/experiments/runner.py, the CLI's path as well) and leaves a
full run folder; the experiment's loop, which starts the children one after another and follows their folders,
runs on a TaskRunner thread, so nothing of it blocks the GUI thread and nothing trains in the window's process.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QListWidget,
                               QPushButton, QSpinBox, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout,
                               QWidget)

from engine.config import TrainConfig
from engine.experiments.results_reader import read_experiment
from engine.experiments.runner import (ExperimentControl, RunResult, cell_text, differing_columns, results_csv,
                                      results_markdown, run_experiment)
from engine.training.device import choose_threads
from gui.experiments.folder_memory import FolderMemory
from gui.experiments.run_list import RunList
from engine.experiments.results_table import column_title
from gui.experiments.variant_editor import VariantEditor
from gui.task_runner import TaskRunner
from gui.views.variant_curves import VariantCurves
from models import architecture_file
from models.architecture import Architecture
from models.experiment import VARY, ExperimentError, ExperimentSpec, Variant, from_dict
from models.network import Network
from models.plural import counted
from models.shapes import analyze

DEFAULT_VALUES = {"pooling": "none, avg, max", "activation": "relu, tanh, sigmoid", "kernel_size": "3, 5",
                  "batchnorm": "true, false", "dropout": "true, false", "optimizer": "adam, sgd",
                  "learning_rate": "0.01, 0.001", "connectivity": "fully_connected, locally_connected, convolution"}


def parse_values(text: str) -> list:
    """'none, avg' -> ['none', 'avg']; numbers and true / false as JSON reads them."""
    values = []
    for token in (t.strip() for t in text.split(",")):
        if not token:
            continue
        try:
            values.append(json.loads(token))
        except ValueError:
            values.append(token)
    return values


class _Relay(QObject):
    """Signals the experiment's thread emits; Qt queues them to the tab's slots on the GUI thread."""

    run_started = Signal(int, int, str, int)     # n, total, variant, seed
    batch_ended = Signal(str, int, object)       # variant, seed, BatchEnded (the newest, at most ten a second)
    epoch_ended = Signal(str, int, int, float)   # variant, seed, epoch, validation accuracy
    run_finished = Signal(object)                # RunResult


class ExperimentsTab(QWidget):
    """Vary one thing of `network` (pooling, activation, kernel size, batch norm, dropout, optimizer, learning
    rate), see the variants with their parameters, run them with the Training panel's settings (`config()`) and
    the seeds given, one child process after another, and watch each run's progress, the overlaid validation
    curves and the results table (only the columns that differ), read from the runs' folders. Open reads an experiment folder back; Copy gives CSV or
    Markdown. Seams for tests: `ask_output_folder()`, `ask_experiment_folder()`."""

    def __init__(self, network: Network, config: Callable[[], TrainConfig], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._network, self._config = network, config
        self._runner = TaskRunner(self, name="ConvScope experiment")
        self._relay = _Relay(self)
        self._control: ExperimentControl | None = None  # the running experiment's
        self._live: dict[tuple[str, int], list[float]] = {}
        self.folders = FolderMemory()  # where the folder choosers open
        self.results: list[RunResult] = []
        self.edited: dict[str, Architecture] = {}  # variant label -> the architecture the user edited it into
        self.title = ""
        self.what_box = QComboBox()
        for what in VARY:
            self.what_box.addItem(what, what)
        self.values_edit = QLineEdit(DEFAULT_VALUES["pooling"])
        self.seeds_edit = QLineEdit("0")
        self.epochs_box = QSpinBox()
        self.epochs_box.setRange(1, 1000)
        self.epochs_box.setValue(2)
        self.preview = QListWidget()
        self.preview.setMaximumHeight(120)
        self.runs = RunList()
        self.run_button, self.stop_button = QPushButton("Run experiment"), QPushButton("Stop")
        self.open_button = QPushButton("Open experiment\u2026")
        self.copy_csv_button, self.copy_md_button = QPushButton("Copy as CSV"), QPushButton("Copy as Markdown")
        self.stop_button.setEnabled(False)
        self.status_label = QLabel("Pick what to vary; the variants are listed below.")
        self.status_label.setWordWrap(True)
        self.curves = VariantCurves()
        self.table = QTableWidget()
        form = QFormLayout()
        form.addRow("Vary", self.what_box)
        form.addRow("Values", self.values_edit)
        form.addRow("Seeds", self.seeds_edit)
        form.addRow("Epochs", self.epochs_box)
        buttons = QHBoxLayout()
        for b in (self.run_button, self.stop_button, self.open_button, self.copy_csv_button, self.copy_md_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addLayout(form)
        left_layout.addWidget(QLabel("Variants (double-click one to edit its architecture)"))
        left_layout.addWidget(self.preview)
        left_layout.addWidget(QLabel("Runs"))
        left_layout.addWidget(self.runs)
        left_layout.addStretch(1)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(self.curves)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.status_label)
        layout.addWidget(split, 2)
        layout.addWidget(self.table, 1)

        self.what_box.currentIndexChanged.connect(self._on_what_changed)
        self.values_edit.editingFinished.connect(self.update_preview)
        self.seeds_edit.editingFinished.connect(self.update_preview)  # the status line counts seeds and epochs
        self.epochs_box.valueChanged.connect(self.update_preview)
        self.run_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.open_button.clicked.connect(self._on_open)
        self.copy_csv_button.clicked.connect(lambda: QGuiApplication.clipboard().setText(results_csv(self.results)))
        self.copy_md_button.clicked.connect(
            lambda: QGuiApplication.clipboard().setText(results_markdown(self.title, self.results)))
        self._relay.run_started.connect(self._on_run_started)
        self._relay.batch_ended.connect(self._on_batch_ended)
        self._relay.epoch_ended.connect(self._on_epoch_ended)
        self._relay.run_finished.connect(self._on_run_finished)
        self._runner.finished.connect(self._on_finished)
        self._runner.failed.connect(self._on_failed)
        self.preview.itemDoubleClicked.connect(lambda item: self.edit_variant(self.preview.row(item)))
        network.changed.connect(self._on_network_changed)
        self.update_preview()

    # -- the spec --------------------------------------------------------------------------------------------
    def spec(self) -> ExperimentSpec:
        """The experiment the form describes; ExperimentError naming what is wrong."""
        seeds = parse_values(self.seeds_edit.text())
        return from_dict({"format": "convscope.experiment", "version": 1,
                          "name": f"{self._network.architecture.name}: {self.what_box.currentData()}",
                          "base": architecture_file.to_dict(self._network.architecture),
                          "vary": {"what": self.what_box.currentData(), "values": parse_values(self.values_edit.text())},
                          "seeds": seeds or [0], "training": {}})

    def variants(self) -> list[Variant]:
        """The spec's variants, with the user's edits in place of their architectures."""
        return [replace(v, architecture=self.edited[v.label]) if v.label in self.edited else v
                for v in self.spec().variants()]

    def edit_variant(self, row: int) -> bool:
        """Open variant `row`'s architecture for editing; True if an edit was kept."""
        try:
            variant = self.variants()[row]
        except (ExperimentError, IndexError):
            return False
        edited = self.ask_variant_architecture(variant.label, variant.architecture)
        if edited is None:
            return False
        self.edited[variant.label] = edited
        self.update_preview()
        return True

    def ask_variant_architecture(self, label: str, architecture: Architecture) -> Architecture | None:
        editor = VariantEditor(label, architecture, self)
        return editor.edited if editor.exec() else None

    def _on_network_changed(self, _architecture: object) -> None:
        if self.edited:  # edits of the old network's variants would silently undo this change
            self.edited.clear()
            self.status_label.setText("The network changed: the edited variants are built afresh from it.")
        self.update_preview()

    @Slot(int)
    def _on_what_changed(self, _index: int) -> None:
        self.values_edit.setText(DEFAULT_VALUES[self.what_box.currentData()])
        self.update_preview()

    @Slot()
    def update_preview(self) -> None:
        self.preview.clear()
        try:
            spec = self.spec()
        except ExperimentError as exc:
            self.status_label.setText(f"Cannot run: {exc}")
            self.run_button.setEnabled(False)
            return
        for v in self.variants():
            a = analyze(v.architecture)
            layers = " \u2192 ".join(s.TYPE for s in v.architecture.layers)
            edited = " (edited)" if v.label in self.edited else ""
            self.preview.addItem(f"{v.label}{edited}: {a.total_params:,} params, {a.total_macs:,} mult-adds   "
                                 f"({layers})")
        self.run_button.setEnabled(not self._runner.is_busy)
        if not self._runner.is_busy:
            runs = f"{counted(len(spec.variants()), 'variant')} x {counted(len(spec.seeds), 'seed')}"
            self.status_label.setText(f"{runs}, {counted(self.epochs_box.value(), 'epoch')} each, with the Training "
                                      "panel's settings.")

    # -- running ---------------------------------------------------------------------------------------------
    def ask_output_folder(self) -> str:
        return QFileDialog.getExistingDirectory(self, "Folder for the experiment (one run folder per variant)",
                                                str(self.folders.start()))

    def ask_experiment_folder(self) -> str:
        return QFileDialog.getExistingDirectory(self, "Open an experiment folder", str(self.folders.start()))

    @Slot()
    def start(self) -> bool:
        try:
            spec = self.spec()
        except ExperimentError as exc:
            self.status_label.setText(f"Cannot run: {exc}")
            return False
        folder = self.ask_output_folder()
        if not folder:
            return False
        self.folders.remember(folder)
        variants = self.variants()
        config = self._config().replace(epochs=self.epochs_box.value())
        if config.threads == 0:  # automatic: as the window's Train, each child leaves the window a core
            config = config.replace(threads=choose_threads(0))
        overrides = config.to_dict()
        control = self._control = ExperimentControl()
        self.results, self._live, self.title = [], {}, spec.name
        self.runs.plan([(v.label, seed) for v in variants for seed in spec.seeds], config.epochs)
        self._show_results()
        relay = self._relay

        def job(state):  # on the TaskRunner's thread: the hooks only emit the relay's signals
            return run_experiment(spec, folder, overrides, variants=variants, control=control,
                                  on_start=relay.run_started.emit, on_batch=relay.batch_ended.emit,
                                  on_epoch=lambda label, seed, e: relay.epoch_ended.emit(label, seed, e.epoch,
                                                                                        e.val_accuracy),
                                  on_result=relay.run_finished.emit)

        self._runner.submit_with_state(job)
        self.run_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.status_label.setText(f"Running {spec.name} into {folder}\u2026")
        return True

    @Slot()
    def stop(self) -> None:
        """The running variant's child stops after its batch (and keeps its row); no later variant starts."""
        if self._control is not None:
            self._control.stop()
            self.stop_button.setEnabled(False)
            self.status_label.setText("Stopping after the running variant's current batch\u2026")

    def shutdown(self) -> None:
        """Window close: end the running child fast (no final validation) and wait for the experiment's thread."""
        if self._control is not None:
            self._control.abort()
        self._runner.shutdown()

    @property
    def is_running(self) -> bool:
        return self._runner.is_busy

    @Slot(int, int, str, int)
    def _on_run_started(self, n: int, total: int, label: str, seed: int) -> None:
        self.runs.started(label, seed)
        if self._control is not None and not self._control.stopped:
            self.status_label.setText(f"Running [{n}/{total}] {label}, seed {seed}\u2026")

    @Slot(str, int, object)
    def _on_batch_ended(self, label: str, seed: int, event: object) -> None:
        self.runs.progress(label, seed, event)

    @Slot(str, int, int, float)
    def _on_epoch_ended(self, label: str, seed: int, _epoch: int, accuracy: float) -> None:
        self._live.setdefault((label, seed), []).append(accuracy)
        self._draw_curves()

    @Slot(object)
    def _on_run_finished(self, result: RunResult) -> None:
        self.results.append(result)
        self.runs.finished(result)
        self._show_results()

    @Slot(object)
    def _on_finished(self, results) -> None:
        self.run_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        stopped = " (stopped)" if self._control is not None and self._control.stopped else ""
        self._control = None
        self.runs.ended()
        self.status_label.setText(f"Done{stopped}: {counted(len(results), 'run')}; results.csv and results.md "
                                  "written.")

    @Slot(object)
    def _on_failed(self, error: object) -> None:
        self.run_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self._control = None
        self.runs.ended()
        self.status_label.setText(f"The experiment failed: {error}")

    # -- results ---------------------------------------------------------------------------------------------
    @Slot()
    def _on_open(self) -> None:
        folder = self.ask_experiment_folder()
        if folder:
            self.open_folder(folder)

    def open_folder(self, folder: str | Path) -> bool:
        try:
            self.title, self.results = read_experiment(folder)
        except ExperimentError as exc:
            self.status_label.setText(f"Cannot open: {exc}")
            return False
        self._live = {}
        self.folders.remember(folder)
        self._show_results()
        self.status_label.setText(f"Opened {self.title}: {counted(len(self.results), 'run')}.")
        return True

    def curve_data(self) -> dict[str, list[np.ndarray]]:
        curves: dict[str, list[np.ndarray]] = {}
        finished = {(r.variant, r.seed) for r in self.results}
        for r in self.results:
            curves.setdefault(r.variant, []).append(np.array([e.val_accuracy for e in r.history.epochs]))
        for (label, seed), values in self._live.items():
            if (label, seed) not in finished:
                curves.setdefault(label, []).append(np.array(values))
        return curves

    def _draw_curves(self) -> None:
        self.curves.set_curves(self.curve_data())

    def _show_results(self) -> None:
        columns = differing_columns(self.results) if self.results else ["variant"]
        self.table.clear()
        self.table.setColumnCount(len(columns))
        self.table.setHorizontalHeaderLabels([column_title(name) for name in columns])
        for c, name in enumerate(columns):  # results.csv's name, for whoever reads the file next
            self.table.horizontalHeaderItem(c).setToolTip(f"{name} in results.csv")
        self.table.setRowCount(len(self.results))
        for r, result in enumerate(self.results):
            row = result.row()
            for c, name in enumerate(columns):
                self.table.setItem(r, c, QTableWidgetItem(cell_text(name, row[name])))
        self.table.resizeColumnsToContents()
        self._draw_curves()
