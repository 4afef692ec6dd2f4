"""`torchrun --nproc_per_node=2 main.py train` (gloo, 2 CPU processes): identical ranks, one run folder, stop.

Each rank saves its final state where CONVSCOPE_RANK_STATE_DIR points (engine.training.distributed.dump_rank_state), so
the test compares what every process holds, not only what rank 0 wrote.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.datasets.catalog import RESOURCE_DIR
from engine.training.device import choose_threads
from engine.training.distributed import STATE_DUMP_VARIABLE
from engine.project.sources import open_project_or_run
from engine.run_folder import read_run_log, write_command
from engine.network.weights import load_state_dict
from main import main
from models import architecture_file
from models.architecture import Architecture, InputShape
from models.layers import BatchNorm2dSpec, Conv2dSpec, FlattenSpec, LinearSpec, MaxPool2dSpec, ReluSpec

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 120.0  # seconds: two processes importing torch on a loaded 2-core machine
pytestmark = pytest.mark.slow


def bn_arch() -> Architecture:
    """Batch norm, so the ranks have running statistics of their own to reconcile."""
    return Architecture("tiny-bn", InputShape(1, 28, 28),
                        (Conv2dSpec(out_channels=4, kernel_size=3, padding=1), BatchNorm2dSpec(), ReluSpec(),
                         MaxPool2dSpec(kernel_size=2), FlattenSpec(), LinearSpec(out_features=10)))


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ddp-inputs")
    architecture_file.save(bn_arch(), folder / "bn.json")
    with np.load(RESOURCE_DIR / "mnist10k.npz") as bundled:  # a slice of the bundled MNIST: fast, learnable
        np.savez_compressed(folder / "mnist1200.npz", images=bundled["images"][:1200],
                            labels=bundled["labels"][:1200])
    return folder / "bn.json", folder / "mnist1200.npz"


def settings(arch: Path, data: Path, out: Path, epochs: int) -> list[str]:
    # 960 training images in batches of 45: 22 per epoch, the last of 15; each batch splits 23 / 22.
    return ["train", str(arch), "--dataset", str(data), "--epochs", str(epochs), "--batch-size", "45",
            "--lr", "0.01", "--seed", "3", "--device", "cpu", "--out", str(out)]


def torchrun(args: list[str], states: Path, logs: Path) -> subprocess.Popen:
    """Two ranks on this machine (--standalone: a free local rendezvous port); output to files, not pipes."""
    states.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), STATE_DUMP_VARIABLE: str(states)}
    return subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                             "main.py", *args], cwd=ROOT, env=env,
                            stdout=open(f"{logs}.out", "w"), stderr=open(f"{logs}.err", "w"))


def end(proc: subprocess.Popen) -> None:
    """Never leave ranks behind: torchrun passes SIGTERM on to its workers (each in a session of its own, so a
    SIGKILL of torchrun alone would orphan them); SIGKILL only if that fails."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def finish(proc: subprocess.Popen, logs: Path) -> str:
    try:
        proc.wait(timeout=DEADLINE)
    finally:
        end(proc)
    err = Path(f"{logs}.err").read_text()
    assert proc.returncode == 0, err
    return err


def rank_states(states: Path) -> list[dict[str, torch.Tensor]]:
    found = sorted(states.glob("rank-*.safetensors"))
    assert [p.name for p in found] == ["rank-0.safetensors", "rank-1.safetensors"]
    return [load_state_dict(p) for p in found]


def assert_identical(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, f"the ranks differ in {different}"


def test_two_ranks_end_identical_and_score_like_one_process(inputs, tmp_path):
    arch, data = inputs
    out, states, logs = tmp_path / "ddp", tmp_path / "states", tmp_path / "torchrun"
    err = finish(torchrun(settings(arch, data, out, epochs=2), states, logs), logs)
    assert "Traceback" not in err
    assert "2 ranks (gloo, batch [23, 22])" in err

    rank0, rank1 = rank_states(states)
    assert_identical(rank0, rank1)  # parameters and batch-norm buffers alike
    assert rank0["1.num_batches_tracked"].item() == 44  # each rank counted its own batches: the buffers moved
    assert_identical(rank0, load_state_dict(out / "weights.safetensors"))  # rank 0 wrote what every rank holds

    summary = json.loads((out / "summary.json").read_text())
    assert (summary["world_size"], summary["backend"], summary["batch_per_rank"]) == (2, "gloo", [23, 22])
    assert summary["threads"] == choose_threads(0, ranks_here=2)
    assert summary["reason"] == "completed" and summary["steps"] == 44 and summary["val_samples"] == 240
    log = read_run_log(out)
    assert log.started["world_size"] == 2 and log.finished["reason"] == "completed"
    assert [e["epoch"] for e in log.of_kind("epoch")] == [1, 2]
    project = open_project_or_run(out)
    assert project.architecture == bn_arch() and project.weights is not None

    single = tmp_path / "single"
    assert main(settings(arch, data, single, epochs=2) + ["--threads", "1"]) == 0
    alone = json.loads((single / "summary.json").read_text())
    assert alone["world_size"] == 1 and alone["backend"] is None and alone["steps"] == 44
    # The same global batches and seed: only batch norm's per-shard batch statistics tell the runs apart.
    assert alone["final_val_accuracy"] > 0.7
    assert abs(summary["final_val_accuracy"] - alone["final_val_accuracy"]) <= 0.05


def poll(proc: subprocess.Popen, check, what: str, logs: Path):
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        if proc.poll() is not None:
            pytest.fail(f"torchrun exited ({proc.returncode}) before {what}: {Path(f'{logs}.err').read_text()}")
        time.sleep(0.05)
    pytest.fail(f"no {what} within {DEADLINE} s")


def last_step(out: Path) -> int:
    batches = read_run_log(out).of_kind("batch")
    return batches[-1]["step"] if batches else 0


def settled(out: Path, quiet: float = 2.5):
    """The last logged step once the log has not grown for `quiet` seconds (longer than the pause heartbeat)."""
    path = out / "events.jsonl"
    size, since = path.stat().st_size, time.monotonic()
    while time.monotonic() - since < quiet:
        time.sleep(0.1)
        if path.stat().st_size != size:
            return None
    return last_step(out)


def test_pause_step_and_stop_through_control_json_reach_every_rank(inputs, tmp_path):
    arch, data = inputs
    out, states, logs = tmp_path / "ddp", tmp_path / "states", tmp_path / "torchrun"
    proc = torchrun(settings(arch, data, out, epochs=1000), states, logs)
    try:
        poll(proc, lambda: (out / "events.jsonl").is_file() and last_step(out) >= 3, "a few batches", logs)
        write_command(out, "pause")
        paused_at = poll(proc, lambda: settled(out), "a pause", logs)  # both ranks wait across heartbeats
        write_command(out, "step")
        poll(proc, lambda: last_step(out) > paused_at, "the single step", logs)
        write_command(out, "stop")
        err = finish(proc, logs)
    finally:
        end(proc)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["reason"] == "stopped" and summary["steps"] == paused_at + 1, err
    assert read_run_log(out).finished["reason"] == "stopped"
    rank0, rank1 = rank_states(states)
    assert_identical(rank0, rank1)


def test_ctrl_c_on_torchrun_stops_every_rank_after_the_batch_and_rank_0_writes_the_folder(inputs, tmp_path):
    """torchrun hands SIGINT to each worker; the other rank leaves it to rank 0, which stops them all."""
    arch, data = inputs
    out, states, logs = tmp_path / "ddp", tmp_path / "states", tmp_path / "torchrun"
    proc = torchrun(settings(arch, data, out, epochs=1000), states, logs)
    try:
        poll(proc, lambda: (out / "events.jsonl").is_file() and last_step(out) >= 3, "a few batches", logs)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=DEADLINE)
    finally:
        end(proc)
    err = Path(f"{logs}.err").read_text()
    assert "stopping after this batch" in err, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["reason"] == "stopped" and read_run_log(out).finished["reason"] == "stopped"
    rank0, rank1 = rank_states(states)  # both ranks got as far as saving: neither died on the signal
    assert_identical(rank0, rank1)
    assert_identical(rank0, load_state_dict(out / "weights.safetensors"))
