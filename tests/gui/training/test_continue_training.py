"""Issue 28 item 7: "Continue training" tells the truth. A run that continues from trained weights follows their
history in the curves, the workspace's history (what a project saves), the progress line and the caption, while
the run folder keeps its own steps (the trainer's schedules run over this run's epochs)."""

from __future__ import annotations

import math

from engine.config import TrainConfig
from engine.events import COMPLETED, BatchEnded, SnapshotTaken
from engine.metrics import MetricsHistory
from gui.document.document_io import DISCARD
from gui.training.continued_run import ContinuedRun, last_position
from gui.training.run_status import RunStatus
from gui.training.weights_prompts import CONTINUE, FRESH

WAIT_MS = 120_000  # a training child may start cold (a torch import) on a busy machine


def _run(qtbot, window, answer: str | None = None):
    """Train to the end (1 epoch); `answer` is the reply to Continue / Fresh / Cancel. Returns what the caption
    and the progress line said at the run's first snapshot. The run starts paused before its first batch (Step
    from idle, with the one batch it lets through held back): the window draws only the newest snapshot of a
    burst, so a run going at full speed may never show its step-0 snapshot."""
    window.training.ask_continue_training = lambda: answer
    window.session.step = lambda: None
    try:
        with qtbot.waitSignal(window.session.snapshot_taken, timeout=WAIT_MS):
            window.training_panel.step_button.click()
    finally:
        del window.session.step
    seen = {"caption": window.live_views.caption.text(), "progress": window.training_panel.progress_label.text()}
    with qtbot.waitSignal(window.session.finished, timeout=WAIT_MS) as finished:
        window.session.resume()
    assert finished.args[0].reason == COMPLETED
    window.live_views.flush()
    return seen


def test_continuing_keeps_the_history_and_says_so_and_fresh_starts_again(qtbot, window):
    panel, live = window.training_panel, window.live_views
    with qtbot.waitSignal(panel.dataset_changed, timeout=WAIT_MS):
        panel.select_dataset("mnist")
    panel.set_config(panel.config().replace(epochs=1, batch_size=256, snapshot_interval=0.0))
    window.document.ask_unsaved_changes = lambda: DISCARD

    first = _run(qtbot, window)
    assert first["caption"].startswith("Before training: the initial weights (step 0)")
    earlier = window.workspace.history
    last_step, last_epoch = earlier.batches[-1].step, earlier.batches[-1].epoch
    assert (last_step, last_epoch) == (32, 1)
    first_steps = list(live.curves.train_curve()[0])

    second = _run(qtbot, window, CONTINUE)
    assert second["caption"].startswith(f"Continuing from the trained weights (step {last_step})")
    assert second["progress"] == f"Continuing from step {last_step} (epoch {last_epoch})\u2026"
    steps = list(live.curves.train_curve()[0])
    continued = steps[len(first_steps):]  # the trainer always logs a run's first batch and an epoch's last
    assert steps[:len(first_steps)] == first_steps  # the earlier points stay ...
    assert continued[0] == last_step + 1 and continued[-1] == 2 * last_step  # ... and the run's follow them
    assert steps == sorted(set(steps))
    assert list(live.curves.val_curve()[0]) == [last_step, 2 * last_step]

    history = window.workspace.history  # what a saved project holds: both runs
    assert [b.step for b in history.batches] == steps
    assert {b.epoch for b in history.batches} == {1, 2}
    assert [(e.epoch, e.step) for e in history.epochs] == [(1, last_step), (2, 2 * last_step)]
    assert len(history.learning_rates) == len(history.batches)
    progress = panel.progress_label.text()
    assert progress.startswith(f"Continued: epoch 1 of 1 of this run (epoch 2 overall) \u00b7 step {last_step} "
                               f"of {last_step} ({2 * last_step} overall)")
    assert f"Trained: {2 * last_step} steps, 2 epochs" in _trained_line(window)

    third = _run(qtbot, window, FRESH)  # fresh weights: a history of their own, from step 1
    assert third["caption"].startswith("Before training: the initial weights (step 0)")
    assert third["progress"] == "Starting\u2026"
    fresh = list(live.curves.train_curve()[0])  # the trainer logs the first and last batch, others by time
    assert (fresh[0], fresh[-1]) == (1, last_step) and fresh == sorted(set(fresh))
    assert [b.step for b in window.workspace.history.batches] == fresh
    assert panel.progress_label.text().startswith(f"Epoch 1 of 1 \u00b7 step {last_step} of {last_step}")


def _trained_line(window) -> str:
    """What the panel says of the trained weights when they come back on screen (ShownRun's words)."""
    from gui.training.shown_run import trained_text
    return trained_text(window.workspace.history)


def test_a_run_stopped_mid_epoch_is_continued_in_the_next_epoch():
    earlier = MetricsHistory([(1, 1, 2.0, 0.1), (2, 1, 1.9, 0.2)], [], [0.1])  # stopped in epoch 1, one rate lost
    assert last_position(earlier) == (2, 1) and last_position(MetricsHistory()) == (0, 0)
    continued = ContinuedRun.after(earlier)
    event = BatchEnded(epoch=1, step=1, batch=1, batches_per_epoch=5, loss=1.0, accuracy=0.5,
                       samples_per_second=10.0, learning_rate=0.05)
    assert (continued.shift(event).step, continued.shift(event).epoch) == (3, 2)
    snapshot = SnapshotTaken(step=0, epoch=0, weights={}, activations={}, gradient_norms={}, probe_index=0)
    assert (continued.shift(snapshot).step, continued.shift(snapshot).epoch) == (2, 1)

    own = MetricsHistory()
    own.record_batch(event)
    whole = continued.combined(own)
    assert [(b.step, b.epoch) for b in whole.batches] == [(1, 1), (2, 1), (3, 2)]
    assert whole.learning_rates[0] == 0.1 and math.isnan(whole.learning_rates[1]) and whole.learning_rates[2] == 0.05
    assert len(earlier.batches) == 2  # the earlier history itself is left as it was


def test_the_progress_line_of_a_continued_run_counts_both_ways(qtbot):
    status = RunStatus()
    qtbot.addWidget(status)
    event = BatchEnded(epoch=1, step=7, batch=7, batches_per_epoch=10, loss=1.0, accuracy=0.5,
                       samples_per_second=100.0)
    status.show_progress(event, TrainConfig(epochs=5), paused=False, continued_from=(30, 3))
    assert status.progress.text().startswith("Continuing: epoch 1 of 5 of this run (epoch 4 overall) \u00b7 "
                                             "step 7 of 50 (37 overall)")
    status.show_progress(event, TrainConfig(epochs=5), paused=False)
    assert status.progress.text().startswith("Epoch 1 of 5 \u00b7 step 7 of 50")
