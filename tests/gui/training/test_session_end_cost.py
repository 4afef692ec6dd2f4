"""Ending a followed run costs nothing that grows with its log: the session keeps the curves as lines arrive."""

from __future__ import annotations

import json
import threading

import pytest
import torch

from engine.config import TrainConfig
from engine.events import COMPLETED
from engine.run_folder import RunFolderWriter, RunLog, read_run_log
from engine.run_folder import reader
from gui.training import training_session
from gui.training.training_session import TrainingSession
from tests.engine.training_data import tiny_arch, tiny_dataset

WAIT_MS = 120_000
EXTRA_BATCHES = 50_000  # an hour-long run's worth of batch lines


@pytest.fixture
def session(qtbot):
    s = TrainingSession()
    yield s
    assert s.shutdown(), "inspection thread did not end"


def long_run(folder, *, finished: bool) -> list[dict]:
    """A real tiny run's log with EXTRA_BATCHES more batch lines before its end (and its "finished" line only if
    `finished`); the writer's pid is this process, so an unfinished log reads as a live run."""
    from engine.training.trainer import Trainer

    trainer = Trainer(tiny_arch(), tiny_dataset(), TrainConfig(epochs=1, batch_size=32, device="cpu", threads=1))
    writer = RunFolderWriter(folder, trainer.model, tiny_arch(), trainer.config)
    writer.start()
    trainer.callbacks.append(writer)
    writer.finish(trainer.fit())
    lines = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
    end = [line for line in lines if line["kind"] == "finished"]
    body = [line for line in lines if line["kind"] != "finished"]
    last = [line for line in body if line["kind"] == "batch"][-1]
    body += [{**last, "step": last["step"] + i, "loss": 1.0 / i} for i in range(1, EXTRA_BATCHES + 1)]
    lines = body + (end if finished else [])
    (folder / "events.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    return lines


@pytest.fixture
def gui_thread_reads(monkeypatch):
    """Counts whole-log reads made on the GUI thread: read_run_log (what newest_snapshot and recover_unfinished
    read through) and RunLog.history called from the main thread."""
    calls: list[str] = []

    def counted(name, fn):
        def wrapper(*args, **kwargs):
            if threading.current_thread() is threading.main_thread():
                calls.append(name)
            return fn(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(reader, "read_run_log", counted("read_run_log", reader.read_run_log))
    monkeypatch.setattr(RunLog, "history", counted("history", RunLog.history))
    monkeypatch.setattr(training_session, "POLL_BYTES", 4 * 1024 * 1024)  # catch up in a few polls
    return calls


def is_newest_snapshot(folder, weights) -> bool:
    """The writer wrote no final weights file: the newest snapshot's weights stand in."""
    newest = reader.newest_snapshot(folder)[1]
    return weights is not None and weights.keys() == newest.keys() and all(torch.equal(weights[k], newest[k])
                                                                            for k in newest)


def test_a_finished_long_log_ends_without_reading_the_log_again(qtbot, session, tmp_path, gui_thread_reads):
    lines = long_run(tmp_path, finished=True)
    with qtbot.waitSignal(session.finished, timeout=WAIT_MS) as finished:
        session.attach(tmp_path, tiny_arch())
    assert gui_thread_reads == []
    result = finished.args[0]
    assert result.reason == COMPLETED
    whole = read_run_log(tmp_path)  # read here, after the end, to compare: the session's curves are the log's
    assert session.history == whole.history()
    assert len(session.history.batches) > EXTRA_BATCHES
    assert session.history.batches[-1].step == [line for line in lines if line["kind"] == "batch"][-1]["step"]
    assert is_newest_snapshot(tmp_path, session.final_state)


def test_leaving_a_long_live_log_does_not_read_it_again(qtbot, session, tmp_path, gui_thread_reads):
    lines = long_run(tmp_path, finished=False)
    batches = sum(line["kind"] == "batch" for line in lines)
    steps = []
    session.batch_ended.connect(lambda e: steps.append(e.step))
    session.attach(tmp_path, tiny_arch())
    qtbot.waitUntil(lambda: len(steps) == batches, timeout=WAIT_MS)
    assert session.is_attached  # the writer (this process) is alive: the run is followed, not ended
    with qtbot.waitSignal(session.finished, timeout=WAIT_MS) as finished:
        assert session.stop_and_wait()
    assert gui_thread_reads == []
    assert session._log.events == []  # the lines were checked and dropped: the curves kept what they held
    result = finished.args[0]
    assert "stopped following the run" in result.message
    whole = read_run_log(tmp_path)
    assert session.history == whole.history() and result.epochs_completed == len(whole.of_kind("epoch")) == 1
    newest = whole.newest_snapshot
    assert result.step == newest.step and is_newest_snapshot(tmp_path, session.final_state)
