"""GifExport: the Timeline's "Export GIF…": a layer's filters, or the probe's activations, one frame per snapshot.

The frames are the CLI's (`export --format filters-gif / activations-gif`, engine/export/evolution.py, written
with Pillow); here they are made on a TaskRunner thread with progress, after asking where and, for an existing
file, whether to replace it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QProgressBar, QToolButton, QWidget

from engine.export.evolution import export_activations_gif, export_filters_gif
from engine.inspection.probe_batch import run_probe_sample
from gui.task_runner import TaskRunner, TaskState
from models.architecture import Architecture

FILTERS, ACTIVATIONS = "filters", "activations"


@dataclass(frozen=True)
class GifJob:
    """What one export needs, taken from the tab when it is asked for (the job never sees a widget)."""

    kind: str                  # FILTERS or ACTIVATIONS
    architecture: Architecture
    folder: Path
    layer: int                 # 1-based, as `summary` numbers layers (0: the first conv layer, for filters)
    out: Path


def write_gif(job: GifJob, state: TaskState) -> tuple[Path, int]:
    """On a TaskRunner thread: the GIF written; (its path, its frame count read back with Pillow)."""
    from PIL import Image

    if job.kind == FILTERS:
        out = export_filters_gif(job.architecture, job.folder, job.out, layer=job.layer, progress=state.set_progress)
    else:  # the probe the run's newest snapshot shows, normalised with the run's stored statistics
        sample, label = run_probe_sample(job.folder, None, -1)
        out = export_activations_gif(job.architecture, job.folder, job.out, sample, layer=job.layer, label=label,
                                     progress=state.set_progress)
    with Image.open(out) as image:
        return out, image.n_frames


class GifExport(QObject):
    """The "Export GIF…" button (a menu: filters of a layer, activations of the probe) and its progress bar.

    `start(job)` runs it; `ask_path(suggested)` and `ask_overwrite(path)` are the dialog seams (tests answer
    them). `written(path, frames)` or `failed(message)` tells how it went."""

    written = Signal(object, int)
    failed = Signal(str)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)  # the dialogs' parent is Qt's parent(): no Python reference back (no cycle)
        self.button = QToolButton(parent)
        self.button.setText("Export GIF…")
        self.button.setToolTip("One frame per snapshot on disk, the step above each (as `export --format "
                               "filters-gif` / `activations-gif` writes them)")
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.button)
        self.filters_action = QAction("Filters of the chosen layer over the timeline…", menu)
        self.activations_action = QAction("Activations of the probe over the timeline…", menu)
        menu.addAction(self.filters_action)
        menu.addAction(self.activations_action)
        self.button.setMenu(menu)
        self.progress = QProgressBar(parent)
        self.progress.setRange(0, 100)
        self.progress.setMaximumWidth(120)
        self.progress.hide()
        self._runner = TaskRunner(self, name="ConvScope GIF export")
        self._runner.progress.connect(self._on_progress)
        self._runner.finished.connect(self._on_finished)
        self._runner.failed.connect(self._on_failed)
        self.set_available(False)

    @property
    def is_busy(self) -> bool:
        return self._runner.is_busy

    def set_available(self, available: bool) -> None:
        """Exports need a run folder with snapshots; one at a time."""
        self.button.setEnabled(available and not self._runner.is_busy)

    def ask_path(self, suggested: Path) -> Path | None:
        # Qt's own overwrite question is off: ask_overwrite asks it, the same way for a typed or chosen name.
        name, _ = QFileDialog.getSaveFileName(self.parent(), "Export GIF", str(suggested), "GIF animation (*.gif)",
                                              options=QFileDialog.Option.DontConfirmOverwrite)
        return Path(name) if name else None

    def ask_overwrite(self, path: Path) -> bool:
        answer = QMessageBox.question(self.parent(), "Replace the file?", f"{path} exists. Replace it?")
        return answer == QMessageBox.StandardButton.Yes

    def start(self, kind: str, architecture: Architecture, folder: Path, layer: int) -> bool:
        """Ask where, then write the GIF off the GUI thread; False when the user backed out."""
        out = self.ask_path(folder.parent / f"{folder.name}-{kind}.gif")
        if out is None:
            return False
        if out.suffix.lower() != ".gif":
            out = out.with_name(out.name + ".gif")
        if out.exists() and not self.ask_overwrite(out):
            return False
        self.progress.setValue(0)
        self.progress.show()
        self._runner.submit_with_state(write_gif, GifJob(kind, architecture, folder, layer, out))
        self.button.setEnabled(False)
        return True

    def shutdown(self) -> None:
        self._runner.shutdown()

    @Slot(float)
    def _on_progress(self, fraction: float) -> None:
        self.progress.setValue(round(100 * fraction))

    @Slot(object)
    def _on_finished(self, result: tuple[Path, int]) -> None:
        self.progress.hide()
        self.button.setEnabled(True)
        self.written.emit(*result)

    @Slot(object)
    def _on_failed(self, exc: object) -> None:
        self.progress.hide()
        self.button.setEnabled(True)
        self.failed.emit(str(exc))
