"""The training bridge: engine events arrive as Qt signals on the GUI thread; control and shutdown."""

import numpy as np
import pytest
from PySide6.QtCore import QThread

from engine.config import TrainConfig
from engine.datasets import load_dataset
from engine.events import COMPLETED, DIVERGED, STOPPED
from gui.training.training_session import TrainingSession
from models.presets import load_preset

WAIT_MS = 120_000  # a training child may start cold (a torch import) on a busy machine


@pytest.fixture(scope="module")
def mnist():
    return load_dataset("mnist")


@pytest.fixture
def session(qtbot):
    s = TrainingSession()
    yield s
    assert s.shutdown(), "training thread did not end"


def small_config(**changes):
    return TrainConfig(**{"epochs": 1, "batch_size": 256, "snapshot_interval": 0.0, **changes})


def test_a_run_delivers_batch_epoch_snapshot_and_finished_on_the_gui_thread(qtbot, session, mnist):
    seen = {"batch": [], "epoch": [], "snapshot": [], "threads": set()}
    gui_thread = QThread.currentThread()

    def record(kind):
        def slot(event):
            seen[kind].append(event)
            seen["threads"].add(QThread.currentThread() is gui_thread)
        return slot

    session.batch_ended.connect(record("batch"))
    session.epoch_ended.connect(record("epoch"))
    session.snapshot_taken.connect(record("snapshot"))
    arch = load_preset("lenet5")
    with qtbot.waitSignal(session.finished, timeout=WAIT_MS) as finished:
        session.start(arch, mnist, small_config())
        assert session.is_running
    assert finished.args[0].reason == COMPLETED
    assert seen["threads"] == {True}
    assert seen["batch"][-1].batch == seen["batch"][-1].batches_per_epoch == 32  # 8000 / 256, rounded up
    assert len(seen["epoch"]) == 1 and 0 < seen["epoch"][0].val_accuracy <= 1
    snapshot = seen["snapshot"][-1]
    assert snapshot.weights["layer 1 (conv2d)"].shape == (6, 1, 5, 5)
    assert snapshot.activations["layer 3 (maxpool2d)"].shape == (6, 14, 14)
    assert not session.is_running
    assert session.final_state["0.weight"].shape == (6, 1, 5, 5)
    np.testing.assert_array_equal(session.final_state["0.weight"].numpy(), snapshot.weights["layer 1 (conv2d)"])
    assert len(session.history.epochs) == 1


def test_pause_step_resume(qtbot, session, mnist):
    batches = []
    session.batch_ended.connect(lambda e: batches.append(e.step))
    session.start(load_preset("lenet5"), mnist, small_config(), paused=True)
    assert session.is_paused
    with qtbot.waitSignal(session.batch_ended, timeout=WAIT_MS):
        session.step()
    assert batches == [1]
    with qtbot.waitSignal(session.batch_ended, timeout=WAIT_MS):
        session.step()
    assert batches == [1, 2]
    with qtbot.waitSignal(session.finished, timeout=WAIT_MS) as finished:
        session.resume()
    assert finished.args[0].reason == COMPLETED


def test_stop_ends_the_run_with_reason_stopped(qtbot, session, mnist):
    session.start(load_preset("lenet5"), mnist, small_config(epochs=50))
    qtbot.waitSignal(session.batch_ended, timeout=WAIT_MS).wait()
    with qtbot.waitSignal(session.finished, timeout=WAIT_MS) as finished:
        session.stop()
    assert finished.args[0].reason == STOPPED


def test_a_diverging_run_reports_its_message(qtbot, session, mnist):
    with qtbot.waitSignal(session.finished, timeout=WAIT_MS) as finished:
        session.start(load_preset("lenet5"), mnist, small_config(optimizer="sgd", learning_rate=10.0, momentum=0.99))
    result = finished.args[0]
    assert result.reason == DIVERGED
    assert "learning rate 10" in result.message
    assert all(np.isfinite(t.numpy()).all() for t in session.final_state.values())


def test_a_bad_setup_fails_with_a_clear_reason(qtbot, session, mnist):
    with qtbot.waitSignal(session.finished, timeout=WAIT_MS) as finished:
        session.start(load_preset("tiny_vgg"), mnist, small_config())
    assert finished.args[0].reason == "failed"
    assert "cannot start training" in finished.args[0].message


def test_shutdown_during_a_run_stops_it_and_leaves_no_thread(qtbot, session, mnist):
    session.start(load_preset("lenet5"), mnist, small_config(epochs=50))
    qtbot.waitSignal(session.batch_ended, timeout=WAIT_MS).wait()
    with qtbot.waitSignal(session.finished, timeout=WAIT_MS) as finished:
        assert session.shutdown(timeout_ms=WAIT_MS)
    assert finished.args[0].reason == STOPPED
    assert not session.is_running


def test_attaching_to_a_long_log_catches_up_in_bounded_reads(qtbot, session, monkeypatch, tmp_path):
    from engine.run_folder import RunFolderWriter, read_run_log
    from engine.training.trainer import Trainer
    from gui.training import training_session
    from tests.engine.training_data import tiny_arch, tiny_dataset

    trainer = Trainer(tiny_arch(), tiny_dataset(), TrainConfig(epochs=3, batch_size=8, device="cpu", threads=1))
    writer = RunFolderWriter(tmp_path, trainer.model, tiny_arch(), trainer.config)
    writer.start()
    trainer.callbacks.append(writer)
    writer.finish(trainer.fit())
    logged = [e["step"] for e in read_run_log(tmp_path).of_kind("batch")]
    monkeypatch.setattr(training_session, "POLL_BYTES", 2000)  # a few lines per poll instead of ~1,000

    steps = []
    session.batch_ended.connect(lambda e: steps.append(e.step))
    with qtbot.waitSignal(session.finished, timeout=WAIT_MS) as finished:
        session.attach(tmp_path, tiny_arch())
        assert 0 < len(steps) < len(logged), "the first read took the whole log at once"
    assert steps == logged
    assert finished.args[0].reason == COMPLETED
