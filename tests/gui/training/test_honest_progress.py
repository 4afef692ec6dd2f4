"""Issue 15 item 8: the progress line and the outcome agree on the step a run ended at."""

from __future__ import annotations

from engine.events import STOPPED
from gui.document.document_io import DISCARD

WAIT_MS = 120_000  # a training child may start cold (a torch import) on a busy machine


def test_a_stopped_run_names_the_same_step_in_the_progress_line_and_the_outcome(qtbot, window):
    panel = window.training_panel
    with qtbot.waitSignal(panel.dataset_changed, timeout=WAIT_MS):
        panel.select_dataset("mnist")
    panel.set_config(panel.config().replace(epochs=50, batch_size=64))
    window.document.ask_unsaved_changes = lambda: DISCARD
    with qtbot.waitSignal(window.session.batch_ended, timeout=WAIT_MS):
        panel.train_button.click()
    qtbot.waitUntil(lambda: len(window.workspace.history.batches) >= 3, timeout=WAIT_MS)
    with qtbot.waitSignal(window.session.finished, timeout=WAIT_MS) as finished:
        panel.stop_button.click()  # lands between batch lines: the log samples them
    result = finished.args[0]
    assert result.reason == STOPPED and result.step > 0
    state, outcome = panel.outcome()
    assert state == STOPPED and f"step {result.step}" in outcome
    assert f"step {result.step:,} of" in panel.progress_label.text()
    assert window.workspace.history.batches[-1].step == result.step  # the curves reach it too
