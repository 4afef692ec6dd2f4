"""`train` as a child process: --paused, --stop-with-parent, the paused/resumed log lines, and train-worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from engine.run_folder import read_run_log, write_command

ROOT = Path(__file__).resolve().parents[2]
LENET = str(ROOT / "resources/presets/lenet5.json")
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
TIMEOUT = 120  # seconds: generous bounds for a busy machine, never a speed assertion


def wait_for(predicate, what: str):
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def kinds(out: Path) -> list[str]:
    return [e["kind"] for e in read_run_log(out).events]


def test_paused_start_waits_then_steps_and_stops_through_the_control_file(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "train", LENET, "--dataset", "mnist",
                             "--epochs", "5", "--out", str(out), "--paused"], env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: "paused" in kinds(out), "the paused line")
        assert "batch" not in kinds(out)  # nothing trained before the first command
        write_command(out, "step")
        wait_for(lambda: kinds(out).count("paused") == 2, "a second pause after one step")
        log = read_run_log(out)
        assert [e["step"] for e in log.of_kind("batch")] == [1] and log.of_kind("resumed")
        assert log.of_kind("paused")[-1]["step"] == 1
        write_command(out, "stop")
        assert proc.wait(timeout=TIMEOUT) == 0
    finally:
        proc.kill()
    finished = read_run_log(out).finished
    assert finished["reason"] == "stopped" and finished["step"] == 1
    assert finished["summary"]["val_samples"] == 2000  # an ordinary stop still scores the validation split


def test_stop_with_parent_ends_fast_when_stdin_closes(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "train", LENET, "--dataset", "mnist",
                             "--epochs", "50", "--out", str(out), "--stop-with-parent"], env=ENV,
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: "batch" in kinds(out), "the first batch")
    proc.stdin.close()
    assert proc.wait(timeout=TIMEOUT) == 0
    finished = read_run_log(out).finished
    assert finished["reason"] == "stopped"
    assert finished["summary"]["val_samples"] == 0  # fast: no final validation pass
    assert (out / "weights.safetensors").is_file() and (out / "metrics.csv").is_file()


def run_worker(stdin: bytes) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "train-worker"], input=stdin, env=ENV,
                          capture_output=True, timeout=TIMEOUT)


def test_a_worker_runs_the_job_it_is_given(tmp_path):
    out = tmp_path / "run"
    job = {"argv": [LENET, "--dataset", "mnist", "--epochs", "1", "--batch-size", "512", "--out", str(out)]}
    # The job line, then end of input: the worker treats that as its parent gone and stops fast.
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "train-worker"], env=ENV, stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proc.stdin.write((json.dumps(job) + "\n").encode())
    proc.stdin.flush()
    wait_for(lambda: (out / "events.jsonl").is_file() and read_run_log(out).finished, "the finished line")
    assert read_run_log(out).finished["reason"] == "completed"
    proc.stdin.close()
    assert proc.wait(timeout=TIMEOUT) == 0


def test_a_worker_without_a_job_exits_quietly_and_a_bad_job_is_refused():
    quiet = run_worker(b"")
    assert quiet.returncode == 0 and quiet.stderr == b""
    bad = run_worker(b"not json\n")
    assert bad.returncode == 2
    assert bad.stderr.decode().startswith('error: train-worker: expected one line {"argv": [...]}')
