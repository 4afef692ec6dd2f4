"""The live run folder: read while `train` runs in a subprocess, after a SIGKILL, and steered by control.json."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from engine.network.builder import build_model
from engine.config import TrainConfig
from engine.events import STOPPED, BatchEnded, SnapshotTaken
from engine.project.sources import open_project_or_run
from engine.run_folder import (EVENTS, ControlFileWatcher, EventTail, RunFolderError, RunFolderWriter,
                               newest_snapshot, read_run_log, write_command)
from engine.training.trainer import Trainer
from engine.network.weights import load_state_dict
from main import main
from models import architecture_file
from tests.engine.training_data import tiny_arch, tiny_dataset, write_tiny_npz

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 90.0  # seconds: generous for a loaded 2-core machine; the polls return as soon as the folder is ready


@pytest.fixture
def inputs(tmp_path):
    arch = tmp_path / "tiny.json"
    architecture_file.save(tiny_arch(), arch)
    return arch, write_tiny_npz(tmp_path / "tiny.npz")


def start_training(arch: Path, data: Path, out: Path) -> subprocess.Popen:
    """`main.py train` for far more epochs than the test waits for; the test ends it. Its output goes to files
    (a pipe nobody reads while polling would fill and block the child)."""
    logs = out.parent / "train-output"
    return subprocess.Popen([sys.executable, "main.py", "train", str(arch), "--dataset", str(data), "--epochs",
                             "10000", "--batch-size", "16", "--device", "cpu", "--threads", "1", "--out", str(out)],
                            cwd=ROOT, stdout=open(f"{logs}.out", "w"), stderr=open(f"{logs}.err", "w"))


def child_stderr(out: Path) -> str:
    return (out.parent / "train-output.err").read_text()


def poll_until(proc: subprocess.Popen, check, what: str):
    """Poll `check()` until it returns something truthy; fail (with the child's stderr) at the deadline or if the
    child exits first."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        if proc.poll() is not None:
            pytest.fail(f"train exited ({proc.returncode}) before {what}")
        time.sleep(0.05)
    pytest.fail(f"no {what} within {DEADLINE} s")


def trained_snapshot(out: Path):
    """The log once it holds an epoch and a snapshot after step 0 (else None)."""
    log = read_run_log(out)
    snapshots = log.of_kind("snapshot")
    return log if log.of_kind("epoch") and snapshots and snapshots[-1]["step"] > 0 else None


def test_the_folder_grows_while_train_runs_and_a_stop_in_control_json_ends_it(inputs, tmp_path):
    arch, data = inputs
    out = tmp_path / "run"
    proc = start_training(arch, data, out)
    try:
        first = poll_until(proc, lambda: trained_snapshot(out), "epoch and snapshot in the log")
        assert first.started["format"] == "convscope.run" and first.started["version"] == 1
        assert architecture_file.from_dict(first.started["architecture"]) == tiny_arch()
        assert first.started["settings"]["batch_size"] == 16 and first.finished is None
        seen = len(first.events)

        def later_epoch():
            log = read_run_log(out)
            return log if len(log.of_kind("epoch")) > len(first.of_kind("epoch")) else None

        grown = poll_until(proc, later_epoch, "a later epoch")
        assert len(grown.events) > seen and grown.events[:seen] == first.events  # append-only
        steps = [e["step"] for e in grown.of_kind("batch")]
        assert steps == sorted(steps) and steps[0] == 1
        snapshot = grown.of_kind("snapshot")[-1]
        assert (out / snapshot["file"]).is_file()
        assert set(load_state_dict(out / snapshot["file"])) == set(build_model(tiny_arch()).state_dict())
        on_disk = {p.name for p in (out / "snapshots").iterdir()}
        named = {Path(e["file"]).name for e in read_run_log(out).of_kind("snapshot")}
        assert len(on_disk - named) <= 1  # at most the one whose line is being written; no temporary files left
        write_command(out, "stop")
        proc.wait(timeout=DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, child_stderr(out)
    log = read_run_log(out)
    assert log.finished["reason"] == STOPPED and log.finished["summary"]["reason"] == STOPPED
    for name in ("architecture.json", "weights.safetensors", "metrics.csv", "settings.json", "summary.json"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == log.finished["step"] == log.of_kind("snapshot")[-1]["step"]
    # The newest snapshot is the final network, exactly (float32 on both sides).
    final = load_state_dict(out / "weights.safetensors")
    newest = load_state_dict(out / log.of_kind("snapshot")[-1]["file"])
    assert all(torch.equal(final[k], newest[k]) for k in final)


def test_a_sigkilled_run_leaves_a_folder_that_evaluate_and_export_accept(inputs, tmp_path, capsys):
    arch, data = inputs
    out = tmp_path / "run"
    proc = start_training(arch, data, out)
    try:
        poll_until(proc, lambda: trained_snapshot(out), "epoch and snapshot in the log")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=DEADLINE)
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "weights.safetensors").exists() and not (out / "summary.json").exists()
    log = read_run_log(out)
    assert log.finished is None
    newest = log.of_kind("snapshot")[-1]
    project = open_project_or_run(out)
    expected = load_state_dict(out / newest["file"])
    assert project.weights is not None and all(torch.equal(project.weights[k], expected[k]) for k in expected)
    assert f"step {newest['step']}" in project.notice and "last snapshot" in project.notice
    assert [row.step for row in project.history.epochs] == [e["step"] for e in log.of_kind("epoch")]

    assert main(["evaluate", str(out), "--json", "--device", "cpu"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["samples"] == 24 and "using its last snapshot" in captured.err
    exported = tmp_path / "net.safetensors"
    assert main(["export", str(out), "--format", "safetensors", "--out", str(exported)]) == 0
    assert "using its last snapshot" in capsys.readouterr().err
    again = load_state_dict(exported)
    assert all(torch.equal(again[k], expected[k]) for k in expected)


def write_a_run(folder: Path) -> None:
    trainer = Trainer(tiny_arch(), tiny_dataset(), TrainConfig(epochs=1, batch_size=32, device="cpu", threads=1))
    writer = RunFolderWriter(folder, trainer.model, tiny_arch(), trainer.config)
    writer.start()
    trainer.callbacks.append(writer)
    writer.finish(trainer.fit())


def test_the_reader_ignores_a_truncated_last_line_and_reads_it_once_complete(tmp_path):
    write_a_run(tmp_path)
    whole = (tmp_path / EVENTS).read_bytes()
    complete = read_run_log(tmp_path)
    assert complete.finished is not None and complete.events
    cut = len(whole) - 10  # inside the "finished" line, as a kill mid-write leaves it
    (tmp_path / EVENTS).write_bytes(whole[:cut])
    torn = read_run_log(tmp_path)
    assert torn.finished is None and torn.events == complete.events

    tail = EventTail(tmp_path / EVENTS)
    assert [r["kind"] for r in tail.poll()][-1] != "finished"
    assert tail.poll() == []
    with open(tmp_path / EVENTS, "ab") as f:
        f.write(whole[cut:])
    assert [r["kind"] for r in tail.poll()] == ["finished"]

    write_a_run(tmp_path)  # a new run in the same folder: the tail starts over from its "started" line
    again = tail.poll()
    assert again[0]["kind"] == "started" and again[-1]["kind"] == "finished"
    assert len(again) == len(complete.events) + 2


def test_bounded_polls_return_the_same_lines_as_one_read_a_few_at_a_time(tmp_path):
    write_a_run(tmp_path)
    whole = EventTail(tmp_path / EVENTS).poll()
    assert whole[0]["kind"] == "started" and whole[-1]["kind"] == "finished"
    size = (tmp_path / EVENTS).stat().st_size
    tail, polls, seen = EventTail(tmp_path / EVENTS), 0, []
    while len(seen) < len(whole):
        got = tail.poll(max_bytes=200)  # smaller than most lines: a line is kept back until it is complete
        seen += got
        polls += 1
        assert polls <= size // 200 + 2, "the reader stopped advancing"
    assert seen == whole
    assert polls > 1 and tail.poll(max_bytes=200) == []


def test_a_damaged_complete_line_is_a_clear_error(tmp_path):
    write_a_run(tmp_path)
    lines = (tmp_path / EVENTS).read_bytes().split(b"\n")
    lines[2] = b"{not json"
    (tmp_path / EVENTS).write_bytes(b"\n".join(lines))
    with pytest.raises(RunFolderError, match=r"events.jsonl: line 3: not a JSON line"):
        read_run_log(tmp_path)


def test_control_json_pauses_steps_and_stops_a_run_and_a_stale_command_is_not_obeyed(tmp_path):
    write_command(tmp_path, "stop")  # left by an earlier run in this folder: seen, never obeyed
    trainer = Trainer(tiny_arch(), tiny_dataset(), TrainConfig(epochs=10000, batch_size=16, device="cpu", threads=1))
    watcher = ControlFileWatcher(tmp_path, trainer.control, interval=0.01)
    watcher.start()
    result = []
    thread = threading.Thread(target=lambda: result.append(trainer.fit()))
    try:
        write_command(tmp_path, "pause")
        thread.start()
        assert trainer.control.wait_until_blocked(DEADLINE)
        paused_at = trainer.global_step
        assert trainer.control.wait_until_blocked(0.1) and trainer.global_step == paused_at  # still paused
        write_command(tmp_path, "step")
        deadline = time.monotonic() + DEADLINE
        while trainer.global_step == paused_at and time.monotonic() < deadline:
            time.sleep(0.01)
        assert trainer.control.wait_until_blocked(DEADLINE) and trainer.global_step == paused_at + 1
        write_command(tmp_path, "stop")
        thread.join(DEADLINE)
    finally:
        trainer.control.stop()
        thread.join()
        watcher.stop()
    assert result[0].reason == STOPPED and trainer.global_step == paused_at + 1  # stopped while paused: no batch
    assert json.loads((tmp_path / "control.json").read_text()) == {"command": "stop", "seq": 4}


def test_snapshots_go_to_the_timeline_store_older_ones_in_bfloat16_the_newest_in_float32(tmp_path):
    # The timeline store (tests/engine/test_timeline.py) replaced "the newest two and the last of each epoch":
    # early steps are all kept while the budget allows.
    trainer = Trainer(tiny_arch(), tiny_dataset(), TrainConfig(epochs=1, device="cpu", threads=1))
    writer = RunFolderWriter(tmp_path, trainer.model, tiny_arch(), trainer.config)
    writer.start()
    for step, epoch in [(0, 0), (1, 1), (2, 1), (3, 1), (4, 2), (5, 2), (6, 2)]:
        writer.on_snapshot(SnapshotTaken(step, epoch, {}, {}, {}, 0))
    writer.close()
    assert sorted(p.name for p in (tmp_path / "snapshots").iterdir()) == [
        f"step-00000{i}.safetensors" for i in range(7)]
    assert {load_state_dict(tmp_path / f"snapshots/step-00000{i}.safetensors")["0.weight"].dtype
            for i in range(6)} == {torch.bfloat16}
    snapshot, weights = newest_snapshot(tmp_path)
    assert snapshot.step == 6 and set(weights) == set(trainer.model.state_dict())
    assert all(torch.equal(weights[k], v) for k, v in trainer.model.state_dict().items())


def test_a_pause_names_the_step_of_the_weights_even_when_that_batch_was_not_logged(tmp_path):
    # Batch lines are sampled: a pause asked for just after a batch's log decision snapshots that batch without
    # its line. The window flaked on this (paused at step 5, last snapshot at step 6).
    trainer = Trainer(tiny_arch(), tiny_dataset(), TrainConfig(epochs=1, device="cpu", threads=1))
    writer = RunFolderWriter(tmp_path, trainer.model, tiny_arch(), trainer.config)
    writer.start()
    writer.on_batch_end(BatchEnded(1, 5, 5, 10, 1.0, 0.5, 100.0, 0.001))
    writer.on_snapshot(SnapshotTaken(6, 1, {}, {}, {}, 0))
    writer.on_wait(True)
    writer.close()
    log = read_run_log(tmp_path)
    assert log.of_kind("paused")[-1]["step"] == log.of_kind("snapshot")[-1]["step"] == 6


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_stop_train_like_ctrl_c_and_the_folder_is_written(inputs, tmp_path, signum, code):
    arch, data = inputs
    out = tmp_path / "run"
    proc = start_training(arch, data, out)
    try:
        poll_until(proc, lambda: read_run_log(out).of_kind("batch"), "a batch in the log")
        proc.send_signal(signum)
        proc.wait(timeout=DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, child_stderr(out)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["reason"] == STOPPED and (out / "weights.safetensors").is_file()
    assert read_run_log(out).finished is not None
    assert f"{signal.Signals(signum).name} received" in child_stderr(out)


def test_on_wait_reports_a_pause_once_however_many_timed_waits_it_spans():
    """Rank 0 of a torchrun job waits in slices of a second; the log must still get one paused/resumed pair."""
    import threading

    from engine.training.control import TrainingControl

    control, calls = TrainingControl(), []
    control.on_wait = calls.append
    control.pause()
    assert control.wait_at_boundary(timeout=0.01) is None
    assert control.wait_at_boundary(timeout=0.01) is None
    threading.Timer(0.05, control.step).start()
    assert control.wait_at_boundary() is True   # released by step(): one batch
    assert calls == [True, False]
    assert control.wait_at_boundary(timeout=0.01) is None  # paused again after the step: a new pause
    control.stop()
    assert control.wait_at_boundary() is False
    assert calls == [True, False, True, False]


def test_a_follower_keeps_the_good_lines_read_with_a_damaged_one_and_names_it(tmp_path):
    write_a_run(tmp_path)
    lines = (tmp_path / EVENTS).read_bytes().split(b"\n")
    lines[2] = b"{not json"
    (tmp_path / EVENTS).write_bytes(b"\n".join(lines))
    tail = EventTail(tmp_path / EVENTS)
    events = tail.poll()  # one read holds the damaged line and the good ones around it
    good = [line for i, line in enumerate(lines) if line and i != 2]
    assert len(events) == len(good) and events[-1]["kind"] == "finished"
    assert tail.damaged == 1 and "line 3: not a JSON line" in tail.problems[0]
    with open(tmp_path / EVENTS, "ab") as f:  # and it goes on following
        f.write(b'{"kind": "resumed", "step": 1}\n')
    assert [e["kind"] for e in tail.poll()] == ["resumed"] and tail.damaged == 1
