"""File > Attach to Run Folder: the window follows a run started from the command line, and can steer it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from engine.events import STOPPED
from engine.run_folder import read_run_log
from engine.network.weights import load_state_dict
from gui.document.document_io import DISCARD

WAIT_MS = 120_000  # a training child may start cold (a torch import) on a busy machine
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def cli_run(tmp_path):
    """`main.py train` in a terminal of its own, writing tmp_path/run; stopped at the end of the test."""
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "train", str(ROOT / "resources/presets/lenet5.json"),
                             "--dataset", "mnist", "--epochs", "50", "--batch-size", "128", "--out", str(out)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield proc, out
    proc.kill()
    proc.wait()


def test_attach_follows_a_command_line_run_and_steers_it(qtbot, window, cli_run):
    proc, out = cli_run
    qtbot.waitUntil(lambda: len(read_run_log(out).of_kind("snapshot")) >= 1, timeout=WAIT_MS)
    window.document.ask_unsaved_changes = lambda: DISCARD
    window.document.ask_open_folder = lambda: out
    batches = []
    window.session.batch_ended.connect(lambda e: batches.append(e.step))
    with qtbot.waitSignal(window.session.snapshot_taken, timeout=WAIT_MS):
        window.window_actions.attach.trigger()
    session, panel = window.session, window.training_panel
    assert session.is_attached and session.can_control and panel.pause_button.isEnabled()
    assert "Following the run in" in panel.outcome()[1]
    qtbot.waitUntil(lambda: len(batches) >= 2, timeout=WAIT_MS)  # the curves follow the log, from its start
    assert batches[0] == 1 and batches == sorted(batches)
    assert window.live_views.filters.image_for("layer 1 (conv2d)") is not None
    # Pause reaches the other process through its control file ...
    panel.pause_button.click()
    qtbot.waitUntil(lambda: session.is_waiting, timeout=WAIT_MS)
    assert read_run_log(out).of_kind("paused")
    # ... and Stop ends it there; the window ends with the run's own final weights.
    with qtbot.waitSignal(session.finished, timeout=WAIT_MS) as finished:
        panel.stop_button.click()
    assert finished.args[0].reason == STOPPED and proc.wait(timeout=60) == 0
    final = load_state_dict(out / "weights.safetensors")
    kept = window.workspace.trained.state
    assert all(torch.equal(kept[k], final[k]) for k in final)
    assert window.workspace.history.batches[-1].step == read_run_log(out).of_kind("batch")[-1]["step"]
    assert not window.isWindowModified()  # the run's folder holds what it made: nothing unsaved to ask about


def test_leaving_an_attached_run_does_not_stop_it(qtbot, window, cli_run):
    proc, out = cli_run
    qtbot.waitUntil(lambda: (out / "events.jsonl").is_file() and read_run_log(out).started is not None,
                    timeout=WAIT_MS)
    window.document.ask_unsaved_changes = lambda: DISCARD
    with qtbot.waitSignal(window.session.started, timeout=WAIT_MS):
        window.document.attach(out)
    assert window.session.is_attached
    with qtbot.waitSignal(window.session.finished, timeout=WAIT_MS) as finished:
        window.new_network()
    assert "stopped following the run" in finished.args[0].message
    assert proc.poll() is None  # the command-line run goes on
    steps = len(read_run_log(out).of_kind("batch"))
    qtbot.waitUntil(lambda: len(read_run_log(out).of_kind("batch")) > steps, timeout=WAIT_MS)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write into any folder")
def test_a_read_only_run_folder_is_followed_without_controls(qtbot, window, cli_run):
    proc, out = cli_run
    qtbot.waitUntil(lambda: (out / "events.jsonl").is_file() and read_run_log(out).started is not None,
                    timeout=WAIT_MS)
    window.document.ask_unsaved_changes = lambda: DISCARD
    os.chmod(out, 0o555)  # someone else's folder: readable, not writable
    try:
        with qtbot.waitSignal(window.session.started, timeout=WAIT_MS):
            window.document.attach(out)
        panel = window.training_panel
        assert window.session.is_attached and not window.session.can_control
        assert not panel.pause_button.isEnabled() and not panel.stop_button.isEnabled()
        assert "read-only" in panel.outcome()[1]
    finally:
        os.chmod(out, 0o755)


def test_an_attached_folder_with_a_damaged_snapshot_line_is_followed_and_left_safely(qtbot, window, tmp_path, caplog):
    """A classmate's folder whose newest snapshot line says "step": "x": leaving it once crashed the window
    (ValueError in the session's shutdown, then a segfault), and unsaved work was lost."""
    import json

    from tests.engine.training_data import train_tiny_run

    _, _, out = train_tiny_run(tmp_path)
    events = out / "events.jsonl"
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    lines = [line for line in lines if line["kind"] != "finished"]  # as if its writer were still running
    good = [line for line in lines if line["kind"] == "snapshot"][-1]
    events.write_text("".join(json.dumps(line) + "\n" for line in [*lines, {**good, "step": "x"}]))
    window.document.ask_unsaved_changes = lambda: DISCARD
    with qtbot.waitSignal(window.session.started, timeout=WAIT_MS):
        window.document.attach(out)
    qtbot.waitUntil(lambda: "step is 'x', not a count" in caplog.text, timeout=WAIT_MS)  # read, named, left out
    assert window.session.is_attached
    with qtbot.waitSignal(window.session.finished, timeout=WAIT_MS) as finished:
        window.new_network()
    assert "stopped following the run" in finished.args[0].message
    assert finished.args[0].step == good["step"]  # the last good snapshot's
    assert window.isVisible() and not window.session.is_running
