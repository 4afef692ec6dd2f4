"""The network's health at the Timeline's step: dead, dormant and saturated units, gradient norms, warnings.

Computed off the GUI thread (engine/inspection/snapshot_health.py, what `main.py health` prints) on the run's probe
batch; a newer step supersedes a pending one, and the probe batch is read once per run folder."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from engine.inspection.recorded_health import recorded_health
from engine.run_folder import RunFolderError, read_run_log
from engine.run_folder.recording import recorded_run
from engine.run_folder.timeline import TimelineEntry
from engine.project.run_input import read_run_input
from engine.inspection.snapshot_health import SnapshotHealth, probe_images, snapshot_health
from gui.task_runner import TaskRunner

SETTLE_MS = 150  # while the slider is dragged, only the step it rests on is computed
COLUMNS = ("layer", "dead", "dormant", "saturated", "grad norm")


def _health_job(folder: Path, entry: TimelineEntry, read: tuple | None):
    """`read`: (source, probe) from an earlier step of the same folder, else None: reading a live run's source
    reads its whole log (its newest snapshot), so it is done once per folder, not once per step shown. A
    recorded run (RunWriter, no network to rebuild) is read from what its snapshot recorded instead."""
    if read is None and recorded_run(folder) is not None:
        read = ("recorded", None)
    if read is not None and read[0] == "recorded":
        snapshot = next((s for s in reversed(read_run_log(folder).snapshots) if s.file == entry.file), None)
        if snapshot is None:
            raise RunFolderError(f"{folder}: no snapshot line names {entry.file} any more")
        return folder, read, recorded_health(folder, snapshot)
    source, probe = read if read is not None else (read_run_input(folder), None)
    probe = probe if probe is not None else probe_images(source)
    return folder, (source, probe), snapshot_health(folder, source, entry, probe.images)


def _cell(value: float | None, fmt: str) -> str:
    return "\u2013" if value is None else format(value, fmt)


class HealthPanel(QWidget):
    """`show_entry(folder, entry)` computes and shows that snapshot's health; `shown` (SnapshotHealth or None)
    is what the table holds, and `computed` is emitted with it."""

    computed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shown: SnapshotHealth | None = None
        self._probes: dict[Path, tuple] = {}  # folder: (its run input, its probe batch), read once
        self._wanted: tuple[Path, TimelineEntry] | None = None
        self._runner = TaskRunner(self, name="ConvScope health")
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self.title = QLabel("Health")
        self.title.setObjectName("viewTitle")
        self.title.setWordWrap(True)
        self.warnings = QLabel()
        self.warnings.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setToolTip("dead: ReLU units 0 on every probe input; dormant: units whose mean |output| is under "
                              "2.5% of the layer's; saturated: sigmoid / tanh outputs at their limits; grad norm: "
                              "of the last training step before the snapshot (docs/command-line.md#health)")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.warnings)
        layout.addWidget(self.table, 1)
        self._settle.timeout.connect(self._compute)
        self._runner.finished.connect(self._on_finished)
        self._runner.failed.connect(self._on_failed)
        self.clear()

    def clear(self) -> None:
        self._wanted, self.shown = None, None
        self._settle.stop()
        self._runner.cancel()
        self.table.setRowCount(0)
        self.title.setText("Health")
        self.warnings.setText("Dead, dormant and saturated units at the shown step, once a run has snapshots.")

    def show_entry(self, folder: str | os.PathLike, entry: TimelineEntry) -> None:
        self._wanted = (Path(folder), entry)
        self._settle.start()

    def shutdown(self) -> None:
        self._settle.stop()
        self._runner.shutdown()

    @Slot()
    def _compute(self) -> None:
        if self._wanted is None:
            return
        folder, entry = self._wanted
        self.title.setText(f"Health at step {entry.step:,} (computing\u2026)")
        self._runner.submit(_health_job, folder, entry, self._probes.get(folder))

    @Slot(object)
    def _on_finished(self, result: tuple[Path, tuple, SnapshotHealth]) -> None:
        folder, read, health = result
        self._probes = {folder: read}  # one run at a time: an older folder's batch is let go
        self.shown = health
        self.title.setText(f"Health at step {health.step:,} (epoch {health.epoch}), {health.samples:,} probe images")
        self.warnings.setText("\n".join(f"\u26a0 {w.message}" for w in health.warnings) if health.warnings
                              else "No warnings: no layer has many dead, dormant or saturated units, and no "
                                   "gradient norm is far from the others.")
        rows = health.layers
        self.table.setRowCount(len(rows))
        for row, la in enumerate(rows):
            values = (la.label, _cell(la.dead_fraction, ".1%"), _cell(la.dormant_fraction, ".1%"),
                      _cell(la.saturated_fraction, ".1%"), _cell(la.gradient_norm, ".3g"))
            for column, text in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.computed.emit(health)

    @Slot(object)
    def _on_failed(self, exc: object) -> None:
        self.shown = None
        self.table.setRowCount(0)
        self.title.setText("Health")
        self.warnings.setText(f"Cannot compute the health here: {exc}")
