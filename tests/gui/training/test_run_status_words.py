"""Issue 28 item 9: the progress line promises no time left from one Step's rate, nor while paused."""

from __future__ import annotations

import pytest

from engine.config import TrainConfig
from engine.events import BatchEnded
from gui.training.run_status import ETA_AFTER_STEPS, RunStatus


@pytest.fixture
def status(qtbot):
    widget = RunStatus()
    qtbot.addWidget(widget)
    return widget


def batch(step: int, rate: float = 3.0) -> BatchEnded:
    return BatchEnded(1, step, step, 750, 2.3, 0.1, rate, 0.001)


def test_no_time_left_after_one_step_or_while_paused(status):
    config = TrainConfig(epochs=5)
    status.show_progress(batch(1), config, paused=True)  # Step: one batch at start-up speed, then paused
    assert "left" not in status.progress.text() and "step 1 of 3,750" in status.progress.text()
    status.show_progress(batch(1), config, paused=False)
    assert "left" not in status.progress.text()
    status.show_progress(batch(ETA_AFTER_STEPS, rate=6400.0), config, paused=False)
    assert "left" in status.progress.text()
    status.show_progress(batch(ETA_AFTER_STEPS, rate=6400.0), config, paused=True)
    assert "left" not in status.progress.text() and status.progress.text().startswith("Paused")
