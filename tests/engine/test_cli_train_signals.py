"""`train` ends on SIGTERM / SIGHUP at every phase as on Ctrl-C mid-training: 128 + the signal, a complete folder.

Right after start (torch importing, the dataset loading) the signal used to take Python's default action (killed,
no folder); during the final validation the handlers were already gone (killed, no `finished` line).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.run_folder import read_run_log

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
TIMEOUT = 120  # seconds: a generous bound for a busy 2-core machine, never a speed assertion
FOLDER_FILES = ("architecture.json", "weights.safetensors", "metrics.csv", "settings.json", "summary.json",
                "events.jsonl")
pytestmark = pytest.mark.slow


def train(out: Path, *extra: str, preset: str = "lenet5") -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "main.py"), "train", str(ROOT / f"resources/presets/{preset}.json"),
                             "--dataset", "mnist", "--epochs", "1", "--threads", "1", "--device", "cpu",
                             "--out", str(out), *extra], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)


def loading_torch(pid: int) -> bool:
    """True once process `pid` has mapped libtorch: it is importing torch, seconds before its first batch."""
    try:
        return "libtorch" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def assert_complete(out: Path) -> dict:
    missing = [name for name in FOLDER_FILES if not (out / name).is_file()]
    assert not missing, f"the run folder lacks {missing}"
    finished = read_run_log(out).finished
    assert finished is not None, "no finished line"
    assert finished["summary"] == json.loads((out / "summary.json").read_text())
    return finished


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads /proc/PID/maps (Linux)")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_while_the_run_starts_stops_it_before_the_first_batch_with_a_complete_folder(tmp_path, signum):
    out = tmp_path / "run"
    proc = train(out)
    try:
        deadline = time.monotonic() + TIMEOUT
        # The signal lands while torch loads: the dataset, the model and the run folder are still to come.
        while not loading_torch(proc.pid):
            assert proc.poll() is None and time.monotonic() < deadline, "train never loaded torch"
            time.sleep(0.005)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=TIMEOUT)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 128 + signum, err
    assert "Traceback" not in err and f"{signal.Signals(signum).name} received" in err, err
    finished = assert_complete(out)
    assert finished["reason"] == "stopped" and finished["step"] == 0, finished
    assert not read_run_log(out).of_kind("batch")  # stopped before any batch
    assert finished["summary"]["val_samples"] == 2000  # scored like any stopped run


def test_sigterm_during_the_final_validation_cuts_it_short_and_still_writes_the_folder(tmp_path):
    out = tmp_path / "run"
    # 9,000 validation images through a heavier preset: the final validation lasts seconds.
    proc = train(out, "--val-fraction", "0.9", "--batch-size", "512", preset="keras_mnist")
    try:
        seen = []
        for line in proc.stderr:
            seen.append(line)
            if line.startswith("final validation of the kept weights"):
                proc.send_signal(signal.SIGTERM)
                break
        _, rest = proc.communicate(timeout=TIMEOUT)
    finally:
        proc.kill()
        proc.wait()
    err = "".join(seen) + rest
    assert proc.returncode == 143, err
    assert "SIGTERM received: final validation skipped" in err and "Traceback" not in err, err
    finished = assert_complete(out)
    assert finished["reason"] == "completed" and finished["epochs_completed"] == 1
    assert finished["summary"]["val_samples"] == 0  # cut short: written without final scores
    assert len(read_run_log(out).of_kind("epoch")) == 1
