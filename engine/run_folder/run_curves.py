"""RunCurves: a followed run's curves and counts, kept line by line as its log is read (no re-read at the end)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.events import BatchEnded, EpochEnded
from engine.metrics import MetricsHistory
from engine.run_folder.records import batch_event, epoch_event


class RunCurves:
    """What RunLog.history() and a scan for the newest step would give at a run's end, kept up to date as each new
    line arrives, so ending a run costs nothing that grows with its log (a follower of an hour-long run ends in
    no time instead of re-reading tens of thousands of lines on the GUI thread).

    `read(record)` checks a batch or epoch line exactly as RunLog.add does (a damaged one raises RunFolderError and
    is kept out); a "started" line (a new run in the same folder) starts over, as RunLog does."""

    def __init__(self) -> None:
        self.history = MetricsHistory()
        self.last_step = 0  # the step of the newest batch line read (0 before any)

    @property
    def epochs(self) -> int:
        """Epoch lines read (as len(RunLog.of_kind("epoch")) counts them)."""
        return len(self.history.epochs)

    def read(self, record: Mapping[str, Any]) -> BatchEnded | EpochEnded | None:
        """The event a batch or epoch line reads as, now on the curves; None for any other line."""
        kind = record["kind"]
        if kind == "batch":
            event = batch_event(record)
            self.history.record_batch(event)
            self.last_step = int(event.step)  # a count: batch_event refuses anything else
            return event
        if kind == "epoch":
            event = epoch_event(record)
            self.history.record_epoch(event)
            return event
        if kind == "started":
            self.history, self.last_step = MetricsHistory(), 0
        return None
