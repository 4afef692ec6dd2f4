"""engine/training/distributed.py without torchrun: detection, refusals, shards and weights, threads, a one-rank group."""

from __future__ import annotations

import json
import socket
import threading

import pytest
import torch
import torch.distributed as dist
import torch.nn.functional as F

from engine.training.device import MAX_AUTO_THREADS, choose_threads
from engine.training.distributed import DistributedError, ProcessGroupRanks, SingleProcess, join_ranks
from engine.training.control import TrainingControl
from engine.network.weights import load_state_dict
from main import main
from models import architecture_file
from tests.engine.training_data import tiny_arch, write_tiny_npz

TORCHRUN = {"RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "0"}


def ranks_of(world: int) -> list[ProcessGroupRanks]:
    """Every rank's view of a world (no process group needed for the arithmetic)."""
    return [ProcessGroupRanks(r, world, world, "gloo", torch.device("cpu")) for r in range(world)]


def test_without_torchrun_variables_training_stays_in_one_process():
    assert type(join_ranks("auto", environ={})) is SingleProcess


@pytest.mark.parametrize("environ, pattern", [
    ({"RANK": "0"}, "RANK set but not WORLD_SIZE, LOCAL_RANK: start several .* with torchrun"),
    ({**TORCHRUN, "WORLD_SIZE": "two"}, "must be whole numbers .*WORLD_SIZE='two'"),
    ({**TORCHRUN, "RANK": "2"}, "RANK=2, LOCAL_RANK=0 do not fit WORLD_SIZE=2"),
    ({**TORCHRUN, "MASTER_ADDR": "127.0.0.1"}, "cannot join the process group at 127.0.0.1:\\?.*MASTER_PORT"),
])
def test_an_incomplete_or_broken_torchrun_environment_is_refused_in_one_sentence(environ, pattern):
    with pytest.raises(DistributedError, match=pattern):
        join_ranks("cpu", environ=environ)
    assert not dist.is_initialized()


def test_mps_is_refused_under_torchrun():
    with pytest.raises(DistributedError, match="--device mps cannot train under torchrun"):
        join_ranks("mps", environ=TORCHRUN)


def test_train_reports_a_half_set_torchrun_environment_as_bad_input(tmp_path, monkeypatch, capsys):
    architecture_file.save(tiny_arch(), tmp_path / "tiny.json")
    monkeypatch.setenv("LOCAL_RANK", "1")
    for name in ("RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    code = main(["train", str(tmp_path / "tiny.json"), "--dataset", str(write_tiny_npz(tmp_path / "t.npz")),
                 "--device", "cpu", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "LOCAL_RANK set but not RANK, WORLD_SIZE" in err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("world, batch", [(2, 64), (2, 45), (3, 10), (4, 4)])
def test_each_global_batch_is_split_once_across_the_ranks(world, batch):
    order = torch.randperm(100, generator=torch.Generator().manual_seed(0))
    everyone = ranks_of(world)
    batches = everyone[0].batches(order, batch)
    assert len(batches) == everyone[0].batch_count(100, batch)
    skipped = order[sum(len(b) for b in batches):]
    assert len(skipped) < world and (len(skipped) == 0 or 100 % batch == len(skipped))  # only a tail < world
    for idx in batches:
        shards = [r.shard(idx) for r in everyone]
        assert sorted(torch.cat(shards).tolist()) == sorted(idx.tolist())  # every image once, on one rank
        assert max(map(len, shards)) - min(map(len, shards)) <= 1
    assert everyone[0].describe(batch)["batch_per_rank"] == [len(r.shard(torch.arange(batch))) for r in everyone]


def test_weighted_shard_losses_average_to_the_global_batch_mean():
    """DDP averages the ranks' gradients; the weights make that the single process's batch mean, even 23 / 22."""
    g = torch.Generator().manual_seed(1)
    logits, labels = torch.randn(45, 10, generator=g), torch.randint(0, 10, (45,), generator=g)
    everyone = ranks_of(2)
    idx = torch.arange(45)
    per_rank = [r.weighted(F.cross_entropy(logits[r.shard(idx)], labels[r.shard(idx)]), len(r.shard(idx)), 45)
                for r in everyone]
    assert torch.allclose(sum(per_rank) / 2, F.cross_entropy(logits, labels))


def test_too_small_a_batch_or_training_split_for_the_ranks_is_refused():
    rank = ranks_of(4)[0]
    assert rank.problems(64, 1000) == []
    assert "--batch-size 3 is smaller than the 4 ranks" in rank.problems(3, 1000)[0]
    assert "3 images, fewer than the 4 ranks" in rank.problems(64, 3)[0]


def test_ranks_on_one_machine_share_its_cores():
    assert choose_threads(0, cores=2, ranks_here=2) == 1   # not 2 x 2 threads on 2 cores
    assert choose_threads(0, cores=3, ranks_here=4) == 1
    assert choose_threads(0, cores=8, ranks_here=2) == MAX_AUTO_THREADS
    assert choose_threads(0, cores=6, ranks_here=2) == 3
    assert choose_threads(3, cores=2, ranks_here=2) == 3   # an explicit --threads wins


def test_a_timed_boundary_wait_says_still_paused_then_passes():
    control = TrainingControl()
    assert control.wait_at_boundary(0.01) is True
    control.pause()
    assert control.wait_at_boundary(0.01) is None and control.blocked
    threading.Timer(0.05, control.step).start()
    assert control.wait_at_boundary(30) is True  # the step
    control.stop()
    assert control.wait_at_boundary(0.01) is False


@pytest.fixture
def one_rank_group(monkeypatch):
    """torchrun's variables for a world of one, with a free port; the group is gone afterwards."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for name, value in {"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0", "LOCAL_WORLD_SIZE": "1",
                        "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}.items():
        monkeypatch.setenv(name, value)
    yield
    if dist.is_initialized():
        dist.destroy_process_group()


@pytest.mark.slow
def test_a_world_of_one_trains_exactly_like_one_process(tmp_path, one_rank_group, monkeypatch):
    """Through DDP, the shard, the loss weight, the decisions and the sharded validation: the same bits."""
    arch = tmp_path / "tiny.json"
    architecture_file.save(tiny_arch(dropout=True), arch)
    data = write_tiny_npz(tmp_path / "tiny.npz")
    args = ["--dataset", str(data), "--epochs", "2", "--batch-size", "20", "--seed", "4", "--device", "cpu",
            "--threads", "1"]
    assert main(["train", str(arch), *args, "--out", str(tmp_path / "ddp")]) == 0
    assert not dist.is_initialized()  # the command leaves no group behind
    ddp = json.loads((tmp_path / "ddp" / "summary.json").read_text())
    assert (ddp["world_size"], ddp["backend"], ddp["batch_per_rank"]) == (1, "gloo", [20])
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):  # the same command, now outside torchrun
        monkeypatch.delenv(name)
    assert main(["train", str(arch), *args, "--out", str(tmp_path / "plain")]) == 0
    plain = json.loads((tmp_path / "plain" / "summary.json").read_text())
    assert plain["world_size"] == 1 and plain["backend"] is None
    a, b = (load_state_dict(tmp_path / run / "weights.safetensors") for run in ("ddp", "plain"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert ddp["steps"] == plain["steps"] and ddp["final_val_accuracy"] == plain["final_val_accuracy"]
