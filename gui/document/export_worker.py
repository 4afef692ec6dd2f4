"""The runner that writes one export (a format of engine/export/formats.py) off the GUI thread."""

from __future__ import annotations

import re
from pathlib import Path

import torch
from PySide6.QtCore import QObject, Signal, Slot

from engine.export.formats import ExportFormat
from engine.export.target import ExportError
from engine.metrics import MetricsHistory
from engine.normalization import Normalization
from engine.project.project_file import ProjectError
from engine.network.weights import WeightsError
from gui.task_runner import TaskRunner
from models.architecture import Architecture

Weights = dict[str, torch.Tensor]


def file_stem(name: str) -> str:
    """A safe lower-case file stem (also a valid Python module name): 'LeNet-5' -> 'lenet_5'."""
    stem = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")
    return ("net_" + stem if stem[:1].isdigit() else stem) or "network"


def _write(fmt: ExportFormat, architecture: Architecture, weights: Weights | None, history: MetricsHistory,
           out: Path, options: dict, normalization: Normalization | None) -> list[Path]:
    """On the job thread, with frozen inputs only: the files written, or one ExportError sentence."""
    try:
        return fmt.export(architecture, weights, history, out, options, normalization)
    except (ExportError, WeightsError, ProjectError):
        raise
    except Exception as exc:  # the user gets a sentence, never a traceback lost in a thread
        raise ExportError(f"{out}: the {fmt.label} export failed unexpectedly ({type(exc).__name__}: {exc})") from exc


class ExportRunner(QObject):
    """Runs one export at a time off the GUI thread; `exported` / `failed` arrive on the GUI thread.

    An export is never superseded: `start` refuses while one runs. Owned by the window, which calls
    `wait()` when it closes so that no export outlives it.
    """

    exported = Signal(object)    # list[Path]: every file written
    failed = Signal(str)         # the error, naming the file and what to do

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks = TaskRunner(self, name="ConvScope export")
        self._tasks.finished.connect(self._on_finished)
        self._tasks.failed.connect(self._on_failed)

    @property
    def is_busy(self) -> bool:
        return self._tasks.is_busy

    def start(self, fmt: ExportFormat, architecture: Architecture, weights: Weights | None,
              history: MetricsHistory, out: Path, options: dict | None = None,
              normalization: Normalization | None = None) -> None:
        if self.is_busy:
            raise RuntimeError("an export is already running; wait for it to finish")
        self._tasks.submit(_write, fmt, architecture, weights, history, Path(out), dict(options or {}),
                           normalization)

    def wait(self, timeout_ms: int = -1) -> bool:
        """Block until the running export (if any) has finished writing; True if none is left."""
        return self._tasks.wait(None if timeout_ms < 0 else timeout_ms / 1000)

    @Slot(object)
    def _on_finished(self, paths: list[Path]) -> None:
        self.exported.emit(paths)

    @Slot(object)
    def _on_failed(self, exc: object) -> None:
        self.failed.emit(str(exc))
