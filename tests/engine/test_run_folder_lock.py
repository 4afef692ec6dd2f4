"""One run per folder (issue 26 item 8): a second writer of a folder another live process writes is refused,
naming the folder and that writer; a lock left by a killed run does not block (engine/run_folder/folder_lock.py)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from torch import nn

from engine.run_folder import RunWriter, RunWriterError, read_run_log, write_command
from engine.run_folder import folder_lock
from engine.run_folder.layout import EVENTS, WRITER_LOCK
from engine.run_folder.run_output import RunOutputError, prepare_output_dir, release_output_dir

ROOT = Path(__file__).resolve().parents[2]
LENET = str(ROOT / "resources/presets/lenet5.json")
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
TIMEOUT = 120  # seconds: generous bounds for a busy machine, never a speed assertion
REFUSAL = "another run is writing this folder"


def train(out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "main.py"), "train", LENET, "--dataset", "mnist",
                             "--epochs", "1", "--threads", "1", "--device", "cpu", "--out", str(out), *extra],
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def started_lines(out: Path) -> int:
    """How many runs began in the folder's log (RunLog keeps only the newest, so count the raw lines)."""
    return sum(json.loads(line)["kind"] == "started" for line in (out / EVENTS).read_text().splitlines())


def wait_for(predicate, what: str):
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def paused(out: Path) -> bool:
    if not (out / EVENTS).is_file():  # the log is not there yet
        return False
    return any(e["kind"] == "paused" for e in read_run_log(out).events)


def started_paused(out: Path) -> subprocess.Popen:
    """A real `train` holding `out`: paused before its first batch, so it writes the folder until told to go on."""
    proc = train(out, "--paused")
    wait_for(lambda: paused(out) or proc.poll() is not None, "the paused line")
    assert proc.poll() is None, f"the first run ended early: {proc.communicate()[1][-2000:]}"
    return proc


def test_a_second_train_into_a_folder_being_written_exits_2_naming_the_first_while_the_first_completes(tmp_path):
    out = tmp_path / "run"
    first = started_paused(out)
    try:
        second = train(out)
        _, err = second.communicate(timeout=TIMEOUT)
        assert second.returncode == 2, err[-2000:]
        assert f"error: {out}: {REFUSAL} (pid {first.pid} on {socket.gethostname()} since " in err
        assert "give another folder (--out), or stop that run first" in err
        write_command(out, "resume")
        _, err = first.communicate(timeout=TIMEOUT)
        assert first.returncode == 0, err[-2000:]
    finally:
        first.kill()
        first.wait()
    assert started_lines(out) == 1  # the second run wrote nothing
    assert read_run_log(out).finished["reason"] == "completed"
    assert not (out / WRITER_LOCK).exists()  # a finished run leaves its folder without the lock file


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL is POSIX")
def test_the_lock_of_a_killed_run_does_not_block_a_new_run(tmp_path):
    out = tmp_path / "run"
    killed = started_paused(out)
    killed.kill()  # SIGKILL: no handler runs, the lock file stays behind
    killed.communicate(timeout=TIMEOUT)
    assert (out / WRITER_LOCK).exists()
    again = train(out)
    _, err = again.communicate(timeout=TIMEOUT)
    assert again.returncode == 0, err[-2000:]
    assert read_run_log(out).finished["reason"] == "completed"


def test_run_writer_refuses_a_folder_a_train_is_writing(tmp_path):
    out = tmp_path / "run"
    proc = started_paused(out)
    try:
        model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
        with pytest.raises(RunWriterError, match=rf"{REFUSAL} \(pid {proc.pid} "):
            RunWriter(model, out, input_shape=(1, 2, 2))
        write_command(out, "stop")
        assert proc.wait(timeout=TIMEOUT) == 0
    finally:
        proc.kill()
        proc.wait()
    assert started_lines(out) == 1
    assert read_run_log(out).finished["reason"] == "stopped"


HOLDER = """
import sys
from engine.run_folder.run_output import prepare_output_dir
prepare_output_dir(sys.argv[1])
print("held", flush=True)
sys.stdin.read()  # holds the lock until the test closes stdin
"""


def test_prepare_output_dir_is_refused_while_another_process_holds_the_folder_and_free_after(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], env=ENV, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(RunOutputError, match=rf"^{tmp_path}: {REFUSAL} \(pid {holder.pid} on "):
            prepare_output_dir(tmp_path)
        assert not folder_lock.holds(tmp_path)
    finally:
        holder.stdin.close()
        holder.wait(timeout=TIMEOUT)
    prepare_output_dir(tmp_path)  # the holder's exit freed it
    try:
        assert folder_lock.holds(tmp_path)
        prepare_output_dir(tmp_path)  # taking it again in the same process is no refusal
    finally:
        release_output_dir(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_run_writer_takes_the_lock_for_its_run_and_gives_it_back_at_finish(tmp_path):
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    with RunWriter(model, tmp_path, input_shape=(1, 2, 2)) as run:
        assert folder_lock.holds(tmp_path) and (tmp_path / WRITER_LOCK).is_file()
        run.log_batch(1, 0.5)
    assert not folder_lock.holds(tmp_path) and not (tmp_path / WRITER_LOCK).exists()
