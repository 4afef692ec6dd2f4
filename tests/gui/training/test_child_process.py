"""Training in a child process: a crash of the child is survived, the child never outlives the window,
the views follow the run folder, and the probe is recomputed in the window on the snapshot's weights."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.network.builder import build_model
from engine.training.device import choose_threads
from engine.events import COMPLETED, FAILED
from engine.network.probes import capture_snapshot, probe_layout
from engine.run_folder import read_run_log
from engine.network.weights import apply_state_dict, load_state_dict
from gui.document.document_io import DISCARD
from models.presets import load_preset
from models.shapes import analyze

WAIT_MS = 120_000  # a training child may start cold (a torch import) on a busy machine
ROOT = Path(__file__).resolve().parents[3]
LENET = load_preset("lenet5")


@pytest.fixture
def trainer_window(qtbot, window):
    panel = window.training_panel
    with qtbot.waitSignal(panel.dataset_changed, timeout=WAIT_MS):
        panel.select_dataset("mnist")
    panel.set_config(panel.config().replace(epochs=50, batch_size=256, snapshot_interval=0.0))
    window.document.ask_unsaved_changes = lambda: DISCARD
    return window


def exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_kill_9_of_the_child_is_survived_with_network_curves_and_last_snapshot(qtbot, trainer_window):
    window, panel = trainer_window, trainer_window.training_panel
    layers_before = window.network.layers
    with qtbot.waitSignal(window.session.snapshot_taken, timeout=WAIT_MS):
        panel.train_button.click()
    qtbot.waitUntil(lambda: len(window.workspace.history.batches) >= 3, timeout=WAIT_MS)
    folder = window.session.run_folder
    with qtbot.waitSignal(window.session.finished, timeout=WAIT_MS) as finished:
        os.kill(window.session.child_pid, signal.SIGKILL)
    result = finished.args[0]
    assert result.reason == FAILED
    assert "ended unexpectedly (killed by signal 9 (SIGKILL))" in result.message
    state, text = panel.outcome()
    assert state == "failed" and "killed by signal 9" in text
    # Nothing lost: the network, the curves the log held, the newest snapshot's weights as the trained state.
    assert window.network.layers == layers_before and window.canvas.isEnabled()
    log = read_run_log(folder)
    assert [b.step for b in window.workspace.history.batches] == [e["step"] for e in log.of_kind("batch")]
    snapshot = log.of_kind("snapshot")[-1]
    kept = window.workspace.trained.state
    expected = load_state_dict(folder / snapshot["file"])
    assert kept.keys() == expected.keys() and all(torch.equal(kept[k], expected[k]) for k in kept)
    assert f"step {snapshot['step']}" in result.message
    # ... and it can train again.
    assert window.train_action.isEnabled()
    window.training.ask_continue_training = lambda: "fresh"
    panel.set_config(panel.config().replace(epochs=1))
    with qtbot.waitSignal(window.session.finished, timeout=WAIT_MS) as again:
        window.train_action.trigger()
    assert again.args[0].reason == COMPLETED


def test_a_refused_start_says_why_in_the_panel(qtbot, trainer_window, tmp_path):
    window, panel = trainer_window, trainer_window.training_panel
    # The window has MNIST loaded; the child is told to load a dataset that is gone by now.
    panel.set_config(panel.config().replace(epochs=1))
    config = panel.config().replace(dataset=str(tmp_path / "gone.npz"))
    with qtbot.waitSignal(window.session.finished, timeout=WAIT_MS) as finished:
        window.session.start(LENET, panel.dataset, config)
    assert finished.args[0].reason == FAILED
    assert finished.args[0].message.startswith("cannot start training: ") and "gone.npz" in finished.args[0].message


def test_changing_the_probe_while_paused_recomputes_it_on_the_snapshot_weights(qtbot, trainer_window):
    window, panel = trainer_window, trainer_window.training_panel
    with qtbot.waitSignal(window.session.batch_ended, timeout=WAIT_MS):
        panel.train_button.click()
    panel.pause_button.click()
    qtbot.waitUntil(lambda: window.session.is_waiting, timeout=WAIT_MS)
    folder = window.session.run_folder
    paused_at = read_run_log(folder).of_kind("paused")[-1]["step"]
    assert read_run_log(folder).of_kind("snapshot")[-1]["step"] == paused_at  # pausing takes a snapshot
    with qtbot.waitSignal(window.session.snapshot_taken, timeout=WAIT_MS,
                          check_params_cb=lambda e: e.probe_index == 7) as shown:
        window.workspace.probe_index = 7
    event = shown.args[0]
    # Oracle: a model of our own with the newest snapshot's weights, on validation sample 7.
    line = read_run_log(folder).of_kind("snapshot")[-1]
    model = build_model(LENET)
    apply_state_dict(model, load_state_dict(folder / line["file"]))
    expected = capture_snapshot(model.eval(), probe_layout(model, analyze(LENET)), panel.dataset.val.images[7],
                                step=line["step"], epoch=line["epoch"], probe_index=7)
    assert event.step == line["step"]
    np.testing.assert_allclose(event.probabilities, expected.probabilities, atol=1e-6)
    for label, maps in expected.activations.items():
        np.testing.assert_allclose(event.activations[label], maps, atol=1e-5)
    assert event.gradient_norms == pytest.approx(line["gradient_norms"])  # the trainer's, from the log
    assert window.session.shutdown()


PARENT = textwrap.dedent("""
    import sys
    from PySide6.QtWidgets import QApplication
    from engine.config import TrainConfig
    from engine.datasets import load_dataset
    from gui.training.training_session import TrainingSession
    from models.presets import load_preset

    app = QApplication([])
    session = TrainingSession()
    def first_batch(_event):
        print(session.child_pid, flush=True)
        session.batch_ended.disconnect(first_batch)
    session.batch_ended.connect(first_batch)
    session.start(load_preset("lenet5"), load_dataset("mnist"), TrainConfig(epochs=50, batch_size=64))
    app.exec()
""")


def test_a_child_stops_when_the_window_process_is_killed(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CONVSCOPE_RUNS_DIR": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    parent = subprocess.Popen([sys.executable, "-c", PARENT], env=env, stdout=subprocess.PIPE, cwd=ROOT)
    try:
        child = int(parent.stdout.readline())
        assert exists(child)
        parent.kill()  # SIGKILL: the window gets no chance to stop anything
        parent.wait()
        deadline = time.monotonic() + 60  # a generous bound for a busy machine; it takes about a second
        while exists(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not exists(child), "the training child outlived its killed parent"
    finally:
        parent.kill()
    (run,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    log = read_run_log(run)
    assert log.finished is not None and log.finished["reason"] == "stopped"  # it wrote its folder and left
    assert (run / "weights.safetensors").is_file()


def test_a_warm_worker_takes_the_next_run_and_none_is_left_after_close(qtbot, tmp_path):
    from engine.config import TrainConfig
    from engine.datasets import load_dataset
    from gui.training.training_session import TrainingSession

    session = TrainingSession(runs_dir=tmp_path)
    try:
        session.prestart()
        spare = session._process.spare_pid()
        assert spare and exists(spare)
        with qtbot.waitSignal(session.finished, timeout=WAIT_MS) as finished:
            session.start(LENET, load_dataset("mnist"), TrainConfig(epochs=1, batch_size=512))
            assert session.child_pid == spare  # the waiting worker got the job
        assert finished.args[0].reason == COMPLETED and session.final_state is not None
        summary = json.loads((sorted(p for p in tmp_path.iterdir() if p.is_dir())[-1] / "summary.json").read_text())
        assert summary["threads"] == choose_threads(0)  # automatic: a core left to the window
        qtbot.waitUntil(lambda: session._process.spare_pid() is not None, timeout=WAIT_MS)  # one for next time
        again = session._process.spare_pid()
        assert again != spare and exists(again)
    finally:
        assert session.shutdown()
    assert not exists(again) and session._process.spare_pid() is None
