"""Loads datasets off the GUI thread through a TaskRunner: only the newest request reports."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal, Slot

from engine.datasets import DatasetError, load_dataset
from gui.task_runner import SHUTDOWN_WAIT_S, TaskRunner

log = logging.getLogger(__name__)


def _load(source: str, val_fraction: float, seed: int):
    """On the job thread: any failure becomes one DatasetError sentence, never a traceback lost in a thread."""
    try:
        return load_dataset(source, val_fraction=val_fraction, seed=seed)
    except DatasetError:
        raise
    except Exception as exc:  # shown in the panel as one line
        log.exception("loading %s failed", source)
        raise DatasetError(f"{source}: could not be read ({type(exc).__name__}: {exc})") from exc


class DatasetLoader(QObject):
    """`load(source, val_fraction=, seed=)` returns at once; `loaded(Dataset)` or `failed(message)` follows.

    A newer request supersedes an older one: the older load finishes in the background and its result
    is dropped, so the signals always describe the newest request. `shutdown()` waits for every load
    (window close), so none is left running when the window goes.
    """

    loaded = Signal(object)    # engine.datasets.Dataset
    failed = Signal(str)       # one sentence naming the file or set and what is wrong

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks = TaskRunner(self, name="ConvScope dataset loader")
        self._tasks.finished.connect(self._on_finished)
        self._tasks.failed.connect(self._on_failed)

    def load(self, source: str, *, val_fraction: float = 0.2, seed: int = 0) -> None:
        self._tasks.submit(_load, source, val_fraction, seed)

    def shutdown(self, timeout_s: float = SHUTDOWN_WAIT_S) -> bool:
        """Drop the pending result and wait for every load to end; True if all ended."""
        return self._tasks.shutdown(timeout_s)

    @Slot(object)
    def _on_finished(self, dataset: object) -> None:
        self.loaded.emit(dataset)

    @Slot(object)
    def _on_failed(self, exc: object) -> None:
        self.failed.emit(str(exc))
