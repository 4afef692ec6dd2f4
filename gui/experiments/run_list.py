"""The Experiments tab's list of runs (variant x seed): waiting, training (epoch, batch, percent), done or not run."""

from __future__ import annotations

from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from engine.events import BatchEnded
from engine.experiments.results_table import RunResult

WAITING, STARTING, NOT_RUN = "waiting", "starting\u2026", "not run"


class RunList(QListWidget):
    """One line per run of the experiment, updated in place: a progress update sets one item's text, so the cost
    per update does not grow with the run's length."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMaximumHeight(140)
        self._rows: dict[tuple[str, int], QListWidgetItem] = {}
        self._state: dict[tuple[str, int], str] = {}
        self._epochs = 1

    def plan(self, runs: list[tuple[str, int]], epochs: int) -> None:
        """The runs about to go, in the order they will run, each `waiting`."""
        self.clear()
        self._rows, self._state, self._epochs = {}, {}, max(1, epochs)
        for label, seed in runs:
            self._rows[(label, seed)] = QListWidgetItem(self)
            self._set(label, seed, WAITING)

    def started(self, label: str, seed: int) -> None:
        self._set(label, seed, STARTING)

    def progress(self, label: str, seed: int, event: BatchEnded) -> None:
        per_epoch = event.batches_per_epoch
        if per_epoch:  # unknown in some logs: then no percent
            done = ((event.epoch - 1) * per_epoch + event.batch) / (self._epochs * per_epoch)
            text = f"epoch {event.epoch}/{self._epochs}, batch {event.batch}/{per_epoch} ({min(done, 1.0):.0%})"
        else:
            text = f"epoch {event.epoch}/{self._epochs}, batch {event.batch}"
        self._set(label, seed, text)

    def finished(self, result: RunResult) -> None:
        best = "n/a" if result.best_val_accuracy is None else f"{result.best_val_accuracy:.2%}"
        self._set(result.variant, result.seed, f"done: best validation accuracy {best}")

    def ended(self) -> None:
        """The experiment ended (finished, stopped or failed): a run still waiting or going is marked not run."""
        for (label, seed), state in self._state.items():
            if not state.startswith("done"):
                self._set(label, seed, NOT_RUN if state in (WAITING, STARTING) else f"{state}, ended")

    def state(self, label: str, seed: int) -> str:
        return self._state[(label, seed)]

    def _set(self, label: str, seed: int, state: str) -> None:
        item = self._rows.get((label, seed))
        if item is None:
            return
        self._state[(label, seed)] = state
        item.setText(f"{label}, seed {seed}: {state}")
