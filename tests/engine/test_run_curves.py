"""RunCurves keeps, line by line, what RunLog.history() and the newest step give from the whole log."""

from __future__ import annotations

import pytest

from engine.run_folder import RunFolderError, RunLog
from engine.run_folder.run_curves import RunCurves


def batch(step, loss=0.5, **changes):
    return {"kind": "batch", "epoch": 1, "step": step, "batch": step, "batches_per_epoch": 10, "loss": loss,
            "accuracy": 0.25, "samples_per_second": 100.0, "learning_rate": 0.01, **changes}


def epoch(n, step):
    return {"kind": "epoch", "epoch": n, "step": step, "train_loss": 0.5, "train_accuracy": 0.5, "val_loss": None,
            "val_accuracy": 0.5}


def test_the_curves_equal_the_whole_logs_history_across_a_restart_and_damaged_lines():
    lines = [{"kind": "started"}, batch(1), batch(2), epoch(1, 2), {"kind": "started"}, batch(1, loss=None),
             {**batch(2), "step": "x"}, batch(3), epoch(1, 3), {"kind": "alive"}, batch(4, epoch=-1)]
    curves, run_log, events = RunCurves(), RunLog(), []
    for line in lines:
        run_log.add([line])
        try:
            events.append(curves.read(line))
        except RunFolderError:
            events.append("damaged")
    assert curves.history.to_csv() == run_log.history().to_csv()  # as text: NaN (a null loss) equals itself
    assert [b.step for b in curves.history.batches] == [1, 3]  # the restart dropped the first run's lines
    assert curves.epochs == 1 and curves.last_step == 3  # the damaged batch lines count for neither
    assert events.count("damaged") == 2 and events[-2] is None  # an "alive" line reads as no event


def test_a_damaged_line_raises_and_is_kept_off_the_curves():
    curves = RunCurves()
    with pytest.raises(RunFolderError, match="not a count"):
        curves.read(batch(True))
    assert curves.history.batches == [] and curves.last_step == 0


def test_a_run_log_that_keeps_no_events_still_checks_and_counts_every_line():
    lines = [{"kind": "started"}, batch(1), {**batch(2), "step": "x"}, {"kind": "snapshot", "step": "y"}, epoch(1, 1),
             {"kind": "finished"}]
    kept, dropped = RunLog(), RunLog(keep_events=False)
    kept.add(lines)
    dropped.add(lines)
    assert dropped.events == [] and len(kept.events) == 2
    assert (dropped.started, dropped.finished, dropped.snapshots, dropped.problems, dropped.damaged) == \
        (kept.started, kept.finished, kept.snapshots, kept.problems, kept.damaged) and dropped.damaged == 2
