"""Which run's curves and outcome are on screen, kept true as the network and the dataset change."""

from __future__ import annotations

import logging

from engine.metrics import MetricsHistory
from gui.dataset_inputs import dataset_title
from gui.training.live_views import LiveViews
from gui.training.training_panel import TrainingPanel
from models.architecture import Architecture

log = logging.getLogger(__name__)

NETWORK_CHANGED = ("Not trained yet: the trained weights belong to the network before your change "
                   "(Undo goes back to it)")


def trained_text(history: MetricsHistory) -> str:
    """What the panel says of trained weights brought back on screen (their outcome line is not kept)."""
    if not history.batches:
        return "Trained weights (no curves came with them)"
    last = history.batches[-1]
    return f"Trained: {last.step:,} steps, {last.epoch} epoch{'s' if last.epoch != 1 else ''}"


def recorded_or_none(folder):
    """The folder as a RecordedRun (RunWriter, a model ConvScope cannot rebuild), else None; a first line that
    cannot be read is None here (the follower names it, and Open showed it in a dialog already)."""
    from engine.run_folder import RunFolderError
    from engine.run_folder.recording import recorded_run

    try:
        return recorded_run(folder)
    except (RunFolderError, OSError) as exc:
        log.warning("%s", exc)
        return None


def recorded_on_probe(folder, probe_index: int):
    """On a job thread: (no origin, the newest recorded snapshot for `probe_index`), as the idle views take it."""
    from engine.run_folder.recording import newest_recorded_snapshot

    return None, newest_recorded_snapshot(folder, probe_index)


class ShownRun:
    """The curves and the panel's progress and outcome describe one run: a network trained on a dataset.

    `set_run` names that run when it ends or is opened; `follow` is told the window's network and dataset
    after every change. When they are no longer the run's (a preset, an edit, another dataset), its curves go
    and the panel says the network is not trained yet; when they are the run's again (Undo, the dataset
    chosen again), its curves come back. The trained weights themselves are the controller's business.
    """

    def __init__(self, panel: TrainingPanel, live: LiveViews) -> None:
        self._panel, self._live = panel, live
        self._run: tuple | None = None  # (input, layers, dataset source) of the run; None: no run to show
        self._history = MetricsHistory()
        self._showing = False

    def set_run(self, arch: Architecture, source: str, history: MetricsHistory) -> None:
        """`history` of `arch` trained on dataset `source` is what the views and the panel now show."""
        self._run, self._history, self._showing = (arch.input, arch.layers, source), history, True

    def forget(self) -> None:
        """Nothing trained to show (New, a project without curves or weights)."""
        self._run, self._history, self._showing = None, MetricsHistory(), False

    def follow(self, arch: Architecture, source: str, *, keep_outcome: bool = False) -> None:
        """The window's network or dataset changed: hide the run if it is not theirs, or bring it back if it is.
        `keep_outcome`: the panel's outcome line stays (it says why a run just ended)."""
        if self._run is None:
            return
        inputs, layers, trained_on = self._run
        if (arch.input, arch.layers, source) == self._run:
            if not self._showing:
                self._showing = True
                self._live.set_history(self._history)
                self._panel.show_loaded(trained_text(self._history))
            return
        if self._showing:
            self._showing = False
            self._live.set_history(MetricsHistory())
        if (arch.input, arch.layers) != (inputs, layers):
            self._panel.show_untrained(NETWORK_CHANGED, keep_outcome=keep_outcome)
        else:
            self._panel.show_untrained(f"Not trained on this dataset yet: the weights and curves are of a run "
                                       f"on {dataset_title(trained_on)}", keep_outcome=keep_outcome)
