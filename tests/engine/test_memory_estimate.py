"""The memory estimate against torch itself (parameters, forward-hook outputs, optimiser state) and the refusal."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from engine.network.builder import build_model
from engine.config import TrainConfig
from engine.training.memory_check import available_bytes, memory_problem, training_memory_problem
from engine.training.optimizers import make_optimizer
from engine.training.trainer import Trainer, TrainingSetupError
from models import architecture_file
from models.architecture import Architecture, InputShape
from models.layers import LinearSpec
from models.memory_estimate import ACTIVATION_FACTOR, estimate_memory, format_bytes, optimizer_copies
from models.shapes import analyze
from tests.engine.training_data import huge_arch, random_dataset, tiny_arch, tiny_dataset

PRESETS = sorted((Path(__file__).resolve().parents[2] / "resources" / "presets").glob("*.json"))
ARCHS = [pytest.param(architecture_file.load(p), id=p.stem) for p in PRESETS] + [
    pytest.param(tiny_arch(dropout=True, softmax=True), id="tiny-softmax")]


@pytest.mark.parametrize("arch", ARCHS)
def test_weights_are_4_bytes_per_parameter_of_the_built_model(arch):
    model = build_model(arch)
    assert estimate_memory(analyze(arch), 8).weights == 4 * sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("arch", ARCHS)
def test_activations_are_the_factor_times_every_layer_output_seen_by_forward_hooks(arch):
    model = build_model(arch)
    seen = []
    for child in model:
        child.register_forward_hook(lambda module, inputs, output: seen.append(output.numel()))
    batch = 5
    model.logits(torch.randn(batch, *arch.input.as_tuple()))  # what training runs (no trailing softmax)
    assert estimate_memory(analyze(arch), batch).activations == ACTIVATION_FACTOR * 4 * sum(seen)


@pytest.mark.parametrize("optimizer, momentum", [("adam", 0.9), ("adamw", 0.0), ("sgd", 0.9), ("sgd", 0.0),
                                                 ("rmsprop", 0.0), ("rmsprop", 0.9)])
def test_optimizer_state_is_what_torchs_optimizer_keeps_after_a_step(optimizer, momentum):
    arch = tiny_arch()
    model = build_model(arch)
    config = TrainConfig(optimizer=optimizer, momentum=momentum)
    opt = make_optimizer(model.parameters(), config)
    x, y = torch.randn(4, *arch.input.as_tuple()), torch.tensor([0, 1, 2, 0])
    F.cross_entropy(model.logits(x), y).backward()
    opt.step()
    params = {id(p): p for p in model.parameters()}
    kept = sum(t.numel() * t.element_size() for p, state in opt.state.items() for t in state.values()
               if torch.is_tensor(t) and t.shape == params[id(p)].shape)  # not Adam's scalar step count
    estimate = estimate_memory(analyze(arch), 4, optimizer, momentum)
    assert estimate.optimizer_state == kept == optimizer_copies(optimizer, momentum) * estimate.weights


def test_total_counts_the_larger_of_training_and_validation_activations():
    analysis = analyze(architecture_file.load(PRESETS[0]))
    small, large = estimate_memory(analysis, 1, evaluation_batch=1000), estimate_memory(analysis, 4096)
    assert small.total == small.weights * 4 + small.evaluation  # adam: weights, gradients, 2 moments
    assert large.total == large.weights * 4 + large.activations
    assert set(large.to_json()) >= {"weights_bytes", "activations_bytes", "optimizer_state_bytes", "total_bytes"}


def test_an_invalid_network_has_no_estimate():
    bad = Architecture("bad", InputShape(1, 8, 8), (LinearSpec(out_features=3),))  # no flatten
    with pytest.raises(ValueError, match="flatten"):
        estimate_memory(analyze(bad), 1)


@pytest.mark.parametrize("n, text", [(0, "0 B"), (999, "999 B"), (1000, "1.0 kB"), (1234, "1.2 kB"),
                                     (12_345_678, "12 MB"), (842 * 10**9, "842 GB"), (1_700_000_000_000, "1.7 TB")])
def test_format_bytes(n, text):
    assert format_bytes(n) == text


def test_the_refusal_says_what_it_needs_what_there_is_and_what_to_do():
    analysis, config = analyze(huge_arch()), TrainConfig()
    message = memory_problem(analysis, config, torch.device("cpu"), available=8 * 10**9)
    assert message.startswith("this network needs about 277 GB to train (weights 69 GB, gradients 69 GB, "
                              "adam state 137 GB, activations at batch 64 ")
    assert "this machine has 8.0 GB free" in message and "layer 4 (linear)" in message
    wide = memory_problem(analyze(tiny_arch()), config.replace(batch_size=60000), torch.device("cpu"),
                          available=10**6)
    assert "smaller batch size (now 60000)" in wide and "layer 1 (conv2d)" in wide
    assert memory_problem(analysis, config, torch.device("cpu"), available=10**15) is None


def test_cpu_memory_is_known_here_and_an_unknown_device_refuses_nothing():
    assert 0 < available_bytes(torch.device("cpu")) < 2**60
    assert available_bytes(torch.device("meta")) is None


def test_the_trainer_refuses_the_huge_network_before_building_it():
    # Building would try to allocate 69 GB of weights; the refusal comes first (this machine has less).
    if (available_bytes(torch.device("cpu")) or 0) > 500 * 10**9:
        pytest.skip("this machine could hold the huge network")
    with pytest.raises(TrainingSetupError, match="this network needs about .* to train"):
        Trainer(huge_arch(), tiny_dataset(), TrainConfig(device="cpu"))


def test_the_trainer_accepts_lenet5():
    lenet = architecture_file.load(next(p for p in PRESETS if p.stem == "lenet5"))
    Trainer(lenet, random_dataset((1, 28, 28), 10), TrainConfig(device="cpu"))


def test_on_a_gpu_the_dataset_counts_and_on_the_cpu_the_rollback_copy():
    # The arithmetic only (`available` given): this machine may have no GPU to ask.
    dataset, arch = tiny_dataset(n_train=96, n_val=32), huge_arch()
    analysis, config = analyze(arch), TrainConfig()
    stored = 96 * 64 * 4 + 96 * 8 + 2 * 32 * 64 * 4 + 32 * 8  # float32 train, labels, val + probe copies
    gpu = training_memory_problem(analysis, config, torch.device("cuda", 0), dataset, available=10**9)
    assert f"dataset {format_bytes(stored)})" in gpu and "but the GPU (cuda:0) has 1.0 GB free" in gpu
    cpu = training_memory_problem(analysis, config.replace(keep="best"), torch.device("cpu"), dataset,
                                  available=10**9, processes_here=2)
    assert "rollback and best-epoch copies 137 GB), in each of 2 processes, but this machine has" in cpu
    weights = estimate_memory(analysis, 64).weights
    fits = estimate_memory(analysis, 64, evaluation_batch=1000).total + weights  # + the rollback copy
    assert training_memory_problem(analysis, config, torch.device("cpu"), dataset, available=fits) is None
    assert training_memory_problem(analysis, config, torch.device("cpu"), dataset, available=fits - 1)


def test_a_cgroup_limit_lowers_the_room_and_its_reclaimable_cache_does_not(tmp_path):
    from engine.training.memory_check import _cgroup_room

    group = tmp_path / "cg" / "user.slice" / "app"
    group.mkdir(parents=True)
    membership = tmp_path / "cgroup"
    membership.write_text("0::/user.slice/app\n")
    (group / "memory.max").write_text("8000000000\n")
    (group / "memory.current").write_text("7000000000\n")
    (group / "memory.stat").write_text("anon 1000000000\ninactive_file 5000000000\nactive_file 1000000000\n")
    assert _cgroup_room(tmp_path / "cg", membership) == 8_000_000_000 - 7_000_000_000 + 5_000_000_000
    (group / "memory.max").write_text("max\n")
    assert _cgroup_room(tmp_path / "cg", membership) is None
    assert _cgroup_room(tmp_path / "missing", membership) is None
