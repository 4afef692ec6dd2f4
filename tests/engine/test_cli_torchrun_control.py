"""`torchrun --nproc_per_node=2 main.py train --paused` (gloo, 2 CPU processes) obeys control.json and Ctrl-C.

Started paused, rank 0 waits at the first boundary and tells rank 1 "still paused" every HEARTBEAT seconds.
Rank 1 used to take that message for "go" and start its first batch (an all-reduce) against rank 0's next
heartbeat (a broadcast): both hung, Resume and Step were never obeyed, and Ctrl-C left the ranks to torchrun's
SIGKILL 30 s later with no `finished` line.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.run_folder import read_run_log, write_command
from engine.training.distributed import HEARTBEAT

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 120.0  # seconds: two processes importing torch on a loaded 2-core machine; a bound, not a speed test
# 8,000 training images in global batches of 500 (250 a rank): 16 steps an epoch.
STEPS = 16
pytestmark = pytest.mark.slow


def torchrun(out: Path, logs: Path) -> subprocess.Popen:
    """Two ranks started paused, in a session of their own so that a signal can go to torchrun's process group
    as a terminal's Ctrl-C does; output to files, not pipes."""
    args = ["train", "resources/presets/lenet5.json", "--dataset", "mnist", "--epochs", "1", "--batch-size", "500",
            "--device", "cpu", "--out", str(out), "--paused"]
    return subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                             "main.py", *args], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=open(f"{logs}.out", "w"), stderr=open(f"{logs}.err", "w"), start_new_session=True)


def end(proc: subprocess.Popen) -> None:
    """Never leave ranks behind: torchrun passes SIGTERM on to its workers; SIGKILL the group only if that fails."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wait_for(proc: subprocess.Popen, check, what: str, logs: Path):
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        if proc.poll() is not None:
            pytest.fail(f"torchrun exited ({proc.returncode}) before {what}: {Path(f'{logs}.err').read_text()}")
        time.sleep(0.05)
    pytest.fail(f"no {what} within {DEADLINE} s: {Path(f'{logs}.err').read_text()}")


def kinds(out: Path) -> list[str]:
    return [e["kind"] for e in read_run_log(out).events] if (out / "events.jsonl").is_file() else []


def across_heartbeats() -> None:
    """Stay paused long enough for rank 0 to send rank 1 "still paused" a few times: the message rank 1
    misread. A minimum dwell, not a race: nothing asserted depends on the ranks being quick."""
    time.sleep(3 * HEARTBEAT)


def test_a_paused_start_steps_and_resumes_through_control_json_on_every_rank(tmp_path):
    out, logs = tmp_path / "run", tmp_path / "torchrun"
    proc = torchrun(out, logs)
    try:
        wait_for(proc, lambda: "paused" in kinds(out), "the paused line", logs)
        across_heartbeats()
        assert "batch" not in kinds(out)  # nothing trained before the first command
        write_command(out, "step")
        wait_for(proc, lambda: kinds(out).count("paused") == 2, "a second pause after one step", logs)
        assert [e["step"] for e in read_run_log(out).of_kind("batch")] == [1]
        across_heartbeats()
        write_command(out, "resume")
        proc.wait(timeout=DEADLINE)
    finally:
        end(proc)
    err = Path(f"{logs}.err").read_text()
    assert proc.returncode == 0, err
    finished = read_run_log(out).finished
    assert finished is not None and finished["reason"] == "completed", err
    assert finished["step"] == STEPS and finished["summary"]["world_size"] == 2


def test_ctrl_c_to_torchrun_while_paused_ends_every_rank_with_a_finished_line(tmp_path):
    out, logs = tmp_path / "run", tmp_path / "torchrun"
    proc = torchrun(out, logs)
    try:
        wait_for(proc, lambda: "paused" in kinds(out), "the paused line", logs)
        across_heartbeats()
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: torchrun passes it on to each rank
        proc.wait(timeout=DEADLINE)
    finally:
        end(proc)
    err = Path(f"{logs}.err").read_text()
    # torchrun waits 30 s for its workers, then kills them and says so: the ranks must end on their own.
    assert "forcefully exiting" not in err, err
    assert "stopping after this batch" in err and "KeyboardInterrupt" not in err, err
    finished = read_run_log(out).finished
    assert finished is not None and finished["reason"] == "stopped" and finished["step"] == 0, err
    assert (out / "weights.safetensors").is_file() and (out / "summary.json").is_file()
