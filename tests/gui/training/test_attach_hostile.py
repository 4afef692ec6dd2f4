"""Attaching to a stranger's run folder (issue 27 item 7): the window's inspection thread reads a snapshot only
from the folder's own snapshots/, never through a link, and Pause never writes through a linked control.json."""

from __future__ import annotations

import pytest

from engine.config import TrainConfig
from engine.inspection.inspection_copy import InspectionCopy
from engine.run_folder import RunFolderError, RunFolderWriter, read_run_log
from engine.training.trainer import Trainer
from gui.training import training_session
from gui.training.training_session import TrainingSession
from tests.engine.training_data import tiny_arch, tiny_dataset


@pytest.fixture
def unfinished_run(tmp_path):
    """A run folder written by the real writer, with no finished line (as a run still going, or killed)."""
    trainer = Trainer(tiny_arch(), tiny_dataset(), TrainConfig(epochs=1, batch_size=32, device="cpu", threads=1,
                                                               snapshot_interval=0.0))
    writer = RunFolderWriter(tmp_path / "run", trainer.model, tiny_arch(), trainer.config)
    (tmp_path / "run").mkdir()
    writer.start()
    trainer.callbacks.append(writer)
    trainer.fit()
    writer.close()
    return tmp_path / "run"


def test_the_inspection_thread_refuses_a_snapshot_that_links_elsewhere(unfinished_run, tmp_path):
    snapshot = read_run_log(unfinished_run).newest_snapshot
    path = unfinished_run / snapshot.file
    other = tmp_path / "other.safetensors"
    path.rename(other)
    path.symlink_to(other)
    with pytest.raises(RunFolderError, match="a symbolic link, which is not followed here"):
        training_session._inspect(InspectionCopy(tiny_arch()), unfinished_run, snapshot, None, None, 0)


def test_pause_on_an_attached_folder_never_writes_through_a_linked_control_file(qtbot, unfinished_run, tmp_path):
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    (unfinished_run / "control.json").symlink_to(precious)
    session = TrainingSession()
    try:
        session.attach(unfinished_run, tiny_arch())
        assert session.is_attached
        session.pause()  # logged as refused; the window goes on following the run
        assert precious.read_text() == "keep me"
    finally:
        assert session.shutdown()


def test_a_damaged_finished_line_ends_the_attached_run_once_with_a_message(qtbot, unfinished_run):
    from engine.events import FAILED

    with open(unfinished_run / "events.jsonl", "a") as f:
        f.write('{"kind": "finished", "reason": "completed", "message": "done", "epochs_completed": "x", "step": 3}\n')
    session = TrainingSession()
    try:
        with qtbot.waitSignal(session.finished, timeout=10_000) as finished:
            session.attach(unfinished_run, tiny_arch())  # reads the whole log at once: the end is seen in here
        assert finished.args[0].reason == FAILED and not session.is_running
        assert "its last line is damaged" in finished.args[0].message
        assert "epochs_completed is 'x', not a count" in finished.args[0].message
    finally:
        assert session.shutdown()
