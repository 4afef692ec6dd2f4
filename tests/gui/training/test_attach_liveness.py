"""Attach shows the truth (issue 26 item 7): a paused run as paused, a run whose process died as ended within
seconds, a live one as live. Each against a real `main.py train --out DIR` child."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from engine.events import FAILED
from engine.run_folder import read_run_log
from engine.run_folder.reader import recover_unfinished
from gui.document.document_io import DISCARD

WAIT_MS = 120_000  # a training child may start cold (a torch import) on a busy machine
ENDED_MS = 20_000  # "within a few seconds" (the session asks after the pid every second), generously bounded
ROOT = Path(__file__).resolve().parents[3]


def _train(out: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, str(ROOT / "main.py"), "train", str(ROOT / "resources/presets/lenet5.json"),
                             "--dataset", "mnist", "--epochs", "50", "--batch-size", "128", "--threads", "1",
                             "--out", str(out), *extra], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture
def runs(tmp_path):
    started = []

    def start(*extra: str) -> tuple[subprocess.Popen, Path]:
        out = tmp_path / f"run{len(started)}"
        started.append(_train(out, *extra))
        return started[-1], out

    yield start
    for proc in started:
        proc.kill()
        proc.wait()


def _attach(qtbot, window, out: Path) -> None:
    window.document.ask_unsaved_changes = lambda: DISCARD
    with qtbot.waitSignal(window.session.started, timeout=WAIT_MS):
        window.document.attach(out)


def test_a_paused_run_is_shown_paused(qtbot, window, runs):
    """Was "Starting..." with a Pause button: the session knew only the pauses it asked for itself."""
    proc, out = runs("--paused")
    qtbot.waitUntil(lambda: (out / "events.jsonl").is_file() and bool(read_run_log(out).of_kind("paused")),
                    timeout=WAIT_MS)
    _attach(qtbot, window, out)
    session, panel = window.session, window.training_panel
    qtbot.waitUntil(lambda: session.is_paused and session.is_waiting, timeout=WAIT_MS)
    assert panel.pause_button.text() == "Resume"
    qtbot.waitUntil(lambda: panel.progress_label.text() == "Paused before the first batch", timeout=WAIT_MS)
    # While paused the writer says it is alive now and then (for followers on other hosts) ...
    qtbot.waitUntil(lambda: bool(read_run_log(out).of_kind("alive")), timeout=WAIT_MS)
    assert session.is_attached and proc.poll() is None  # ... and the quiet run is not taken for dead
    # The toolbar's twin says the same, and Resume there reaches the run as the panel's button would.
    toolbar_pause = window.window_actions.pause_short
    assert toolbar_pause.text() == "Resume" and toolbar_pause.isEnabled()
    toolbar_pause.trigger()
    qtbot.waitUntil(lambda: not session.is_waiting and bool(read_run_log(out).of_kind("resumed")), timeout=WAIT_MS)
    assert panel.pause_button.text() == "Pause" and toolbar_pause.text() == "Pause"


def test_a_run_whose_process_was_killed_is_shown_ended_within_seconds(qtbot, window, runs):
    """Was "Following..." with live buttons for as long as one watched: the log had no liveness signal."""
    proc, out = runs()
    qtbot.waitUntil(lambda: (out / "events.jsonl").is_file() and bool(read_run_log(out).of_kind("snapshot")),
                    timeout=WAIT_MS)
    assert "is still running" in recover_unfinished(out)[2]  # Open's notice: not "killed, or still running"
    started = read_run_log(out).started
    assert started["process"]["pid"] == proc.pid and started["process"]["heartbeat"] > 0
    _attach(qtbot, window, out)
    session, panel = window.session, window.training_panel
    with qtbot.waitSignal(session.snapshot_taken, timeout=WAIT_MS):
        pass
    assert session.is_attached and panel.pause_button.isEnabled()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with qtbot.waitSignal(session.finished, timeout=ENDED_MS) as finished:
        pass
    result = finished.args[0]
    assert result.reason == FAILED and f"pid {proc.pid}" in result.message and "is gone" in result.message
    assert not session.is_running and not panel.pause_button.isEnabled() and not panel.stop_button.isEnabled()
    assert panel.outcome()[0] == FAILED
    assert window.workspace.trained is not None  # its last snapshot is kept
    assert "its process was killed" in recover_unfinished(out)[2]


def test_a_run_on_another_host_is_ended_when_its_heartbeat_stops(qtbot, window, runs):
    """Another host's pid cannot be asked about: a log silent for several of its writer's heartbeats is ended.
    The folder is a real run's, its started line rewritten as if written elsewhere with a short heartbeat."""
    proc, out = runs()
    qtbot.waitUntil(lambda: (out / "events.jsonl").is_file() and bool(read_run_log(out).of_kind("snapshot")),
                    timeout=WAIT_MS)
    proc.kill()
    proc.wait()
    events = out / "events.jsonl"
    lines = events.read_text().splitlines()
    first = json.loads(lines[0])
    first["process"] = {**first["process"], "host": "elsewhere.example", "heartbeat": 0.2}
    events.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    _attach(qtbot, window, out)
    with qtbot.waitSignal(window.session.finished, timeout=ENDED_MS) as finished:
        pass
    assert finished.args[0].reason == FAILED and "on elsewhere.example" in finished.args[0].message


def test_an_old_log_without_the_writer_is_followed_as_before(qtbot, window, runs):
    """A started line without `process` (an older ConvScope): liveness is unknown, so the run stays followed."""
    proc, out = runs()
    qtbot.waitUntil(lambda: (out / "events.jsonl").is_file() and bool(read_run_log(out).of_kind("snapshot")),
                    timeout=WAIT_MS)
    proc.kill()
    proc.wait()
    events = out / "events.jsonl"
    lines = events.read_text().splitlines()
    first = json.loads(lines[0])
    del first["process"]
    events.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    assert "killed, or still running" in recover_unfinished(out)[2]
    _attach(qtbot, window, out)
    session = window.session
    polls = []
    session._timer.timeout.connect(lambda: polls.append(1))
    qtbot.waitUntil(lambda: len(polls) >= 30, timeout=WAIT_MS)  # 30 polls: well past a liveness check
    assert session.is_attached
