"""RunWriter: a user's own PyTorch loop writes a run folder that read_run_log, evaluate and Open read."""

from __future__ import annotations

import copy
import json
import subprocess
import time
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from engine.network.builder import build_model
from engine.datasets import load_dataset
from engine.project.project_file import ProjectError
from engine.project.sources import open_project_or_run
from engine.run_folder import (RunFolderError, RunWriter, RunWriterError, newest_snapshot, read_run_log,
                               recorded_snapshot, recover_unfinished)
from engine.network.weights import apply_state_dict, load_state_dict
from models import architecture_file

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def mnist():
    return load_dataset("mnist")


def small_cnn() -> nn.Sequential:
    return nn.Sequential(
        nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(inplace=True), nn.MaxPool2d(2)),
        nn.Flatten(), nn.Linear(4 * 13 * 13, 10))


def plain_loop(model: nn.Module, data, run: RunWriter, epochs: int = 2, n: int = 512, batch: int = 64) -> list:
    """An ordinary PyTorch loop over the first `n` training images; returns what it logged."""
    torch.manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    images, labels = data.train.images[:n], data.train.labels[:n]
    logged, step = [], 0
    for epoch in range(1, epochs + 1):
        model.train()
        for i in range(0, n, batch):
            x, y = images[i:i + batch], labels[i:i + batch]
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            accuracy = (logits.argmax(1) == y).float().mean().item()
            run.log_batch(step, loss, accuracy, batch_size=batch)
            logged.append(("batch", step, epoch, loss.item(), accuracy))
        model.eval()
        with torch.no_grad():
            val = model(data.val.images[:500])
        val_loss = F.cross_entropy(val, data.val.labels[:500]).item()
        val_acc = (val.argmax(1) == data.val.labels[:500]).float().mean().item()
        run.log_epoch(epoch, loss.item(), val_loss, val_acc)
        logged.append(("epoch", step, epoch, val_loss, val_acc))
    return logged


def test_a_plain_pytorch_loop_writes_a_folder_that_parses_evaluates_and_opens(tmp_path, mnist):
    model, folder = small_cnn(), tmp_path / "mine"
    with RunWriter(model, folder, probe=mnist.val.images[:8], settings={"dataset": "mnist", "seed": 0,
                   "val_fraction": 0.2, "batch_size": 64, "note": "mine"}, normalization=mnist.normalization) as run:
        assert run.rebuilt and run.why_recorded is None
        logged = plain_loop(model, mnist, run)

    log = read_run_log(folder)
    assert log.started["writer"] == "RunWriter" and log.started["user_settings"]["note"] == "mine"
    assert log.finished["reason"] == "completed" and log.finished["step"] == 16
    history = log.history()
    # Exactly: a float's JSON text reads back as the same float.
    assert [(b.step, b.epoch, b.loss, b.accuracy) for b in history.batches] == [
        (s, e, loss, acc) for kind, s, e, loss, acc in logged if kind == "batch"]
    assert [(r.step, r.epoch, r.val_loss, r.val_accuracy) for r in history.epochs] == [
        (s, e, loss, acc) for kind, s, e, loss, acc in logged if kind == "epoch"]
    assert [(s["step"], s["epoch"]) for s in log.of_kind("snapshot")] == [(0, 0), (8, 1), (16, 2)]
    assert all(b["samples_per_second"] is None or b["samples_per_second"] > 0 for b in log.of_kind("batch"))
    last = log.of_kind("snapshot")[-1]
    assert set(last["gradient_norms"]) == {"layer 1 (conv2d)", "layer 5 (linear)"}  # the window's layer labels
    assert all(v > 0 for v in last["gradient_norms"].values()) and len(last["probabilities"]) == 10
    assert torch.equal(load_state_dict(folder / "probe.safetensors")["probe/input"], mnist.val.images[:8])

    # The window's way: rebuild ConvScope's network from the folder; it computes what the user's model does.
    project = open_project_or_run(folder)
    rebuilt = build_model(project.architecture)
    apply_state_dict(rebuilt, project.weights)
    model.eval()
    with torch.no_grad():
        assert torch.allclose(rebuilt.eval()(mnist.val.images[:200]), model(mnist.val.images[:200]), atol=1e-5)
        correct = int((model(mnist.val.images).argmax(1) == mnist.val.labels).sum())
    assert project.normalization == mnist.normalization and len(project.history.batches) == 16

    done = subprocess.run([sys.executable, "main.py", "evaluate", str(folder), "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["samples"] == len(mnist.val) and result["accuracy"] == pytest.approx(correct / len(mnist.val))


def test_every_known_layer_kind_is_rebuilt_with_the_models_own_outputs(tmp_path):
    torch.manual_seed(1)
    model = nn.Sequential(
        nn.Conv2d(3, 6, 3, padding="same", bias=False), nn.BatchNorm2d(6), nn.LeakyReLU(0.2),
        nn.Sequential(nn.Conv2d(6, 6, (3, 5), stride=2, padding=(1, 2), groups=2), nn.ELU(0.5),
                      nn.AvgPool2d(2, stride=1, padding=1)),
        nn.Conv2d(6, 8, 2, padding="same"), nn.Tanh(), nn.MaxPool2d(3, stride=2, padding=1), nn.Dropout(0.3),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 7), nn.Sigmoid(), nn.Linear(7, 5), nn.Softmax(dim=1))
    x = torch.randn(16, 3, 12, 12)
    for _ in range(3):  # move the batch-norm running statistics off their start
        model(x).sum().backward()
    with RunWriter(model, tmp_path, input_shape=(3, 12, 12)) as run:
        assert run.rebuilt, run.why_recorded
    arch = architecture_file.load(tmp_path / "architecture.json")
    assert [type(s).TYPE for s in arch.layers] == [
        "conv2d", "batchnorm2d", "leaky_relu", "conv2d", "elu", "avgpool2d", "conv2d", "tanh", "maxpool2d", "dropout",
        "global_avgpool2d", "linear", "sigmoid", "linear", "softmax"]  # AdaptiveAvgPool2d(1) + Flatten: one layer
    line, weights = newest_snapshot(tmp_path)
    rebuilt = build_model(arch)
    apply_state_dict(rebuilt, weights)
    model.eval()
    with torch.no_grad():
        assert torch.allclose(rebuilt.eval()(x), model(x), atol=1e-6)
    assert set(weights) == set(rebuilt.state_dict())


@pytest.mark.parametrize("model, where", [
    (nn.Sequential(nn.Conv2d(1, 2, 3, dilation=2), nn.Flatten(), nn.Linear(2 * 4 * 4, 3)), "0 (Conv2d): dilation"),
    (nn.Sequential(nn.Conv2d(1, 2, 3), nn.GELU(), nn.Flatten(), nn.Linear(2 * 6 * 6, 3)), "1 (GELU)"),
    (nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 6 * 6, 3)), None),
])
def test_a_model_convscope_cannot_rebuild_gets_recorded_snapshots_and_says_why(tmp_path, model, where):
    run = RunWriter(model, tmp_path, probe=torch.randn(2, 1, 8, 8))
    run.close()
    if where is None:
        assert run.rebuilt and (tmp_path / "architecture.json").is_file()
        return
    assert not run.rebuilt and where in run.why_recorded
    log = read_run_log(tmp_path)
    assert log.started["architecture"] is None and log.started["inspection"]["kind"] == "recorded"
    assert not (tmp_path / "architecture.json").exists()


class Residual(nn.Module):
    """conv -> relu -> (conv + skip) -> relu -> pool -> linear: no Sequential can say this."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(1, 4, 3, padding=1)
        self.act = nn.ReLU(inplace=True)  # used twice, and in place: the recorded conv output must be pre-ReLU
        self.block = nn.Conv2d(4, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.head = nn.Linear(4 * 14 * 14, 10)

    def forward(self, x):
        a = self.act(self.stem(x))
        b = self.act(self.block(a) + a)
        return self.head(self.pool(b).flatten(1))


def by_hand(model: Residual, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """The same forward pass without hooks or in-place operations: the oracle for the recorded activations."""
    with torch.no_grad():
        stem = F.conv2d(x, model.stem.weight, model.stem.bias, padding=1)
        a = F.relu(stem)
        block = F.conv2d(a, model.block.weight, model.block.bias, padding=1)
        b = F.relu(block + a)
        pool = F.max_pool2d(b, 2)
        head = pool.flatten(1) @ model.head.weight.T + model.head.bias
    return {"stem": stem, "act": a, "block": block, "act#2": b, "pool": pool, "head": head}


def test_a_residual_model_records_activations_equal_to_a_hook_free_recomputation(tmp_path, mnist):
    torch.manual_seed(0)
    model = Residual()
    probe = mnist.val.images[:8]
    run = RunWriter(model, tmp_path, probe=probe, settings={"dataset": "mnist"})
    assert not run.rebuilt and "Residual, not an nn.Sequential" in run.why_recorded
    plain_loop(model, mnist, run, epochs=1, n=128, batch=32)
    at_snapshot = copy.deepcopy(model)  # the epoch-end snapshot (step 4) holds these weights
    model.train()
    F.cross_entropy(model(probe), mnist.val.labels[:8]).backward()
    with torch.no_grad():
        model.stem.weight -= 0.1 * model.stem.weight.grad  # the weights move on after that snapshot
    run.snapshot(5)
    assert not any(m._forward_hooks for m in model.modules()) and model.training  # hooks gone, mode restored
    run.close()

    log = read_run_log(tmp_path)
    line = [s for s in log.snapshots if s.step == 4][0]
    assert line.recorded == {"activations": ["stem", "act", "block", "act#2", "pool", "head"],
                                "filters": ["stem", "block"], "samples": 8,
                                "types": {"stem": "Conv2d", "act": "ReLU", "block": "Conv2d", "pool": "MaxPool2d",
                                          "head": "Linear"}}
    expected = by_hand(at_snapshot.eval(), probe)
    for index in (0, 5):
        event = recorded_snapshot(tmp_path, line, probe_index=index)
        assert list(event.activations) == list(expected)
        for name, tensor in expected.items():
            assert torch.allclose(torch.from_numpy(event.activations[name]), tensor[index], atol=1e-5), name
        assert torch.equal(torch.from_numpy(event.weights["stem"]), at_snapshot.stem.weight.detach())
        assert torch.allclose(torch.from_numpy(event.probabilities), F.softmax(expected["head"][index], 0),
                              atol=1e-6)
        assert event.step == 4 and event.probe_index == index and set(event.gradient_norms) == {"stem", "block",
                                                                                                 "head"}
    with pytest.raises(RunFolderError, match="probe sample 8 asked for"):
        recorded_snapshot(tmp_path, line, probe_index=8)
    sidecar = load_state_dict(tmp_path / line.file)
    assert all(torch.equal(sidecar[k], v) for k, v in at_snapshot.state_dict().items())  # its own names, exact


def test_a_loop_that_dies_leaves_a_folder_its_last_snapshot_stands_in_for(tmp_path, mnist):
    model = small_cnn()
    run = RunWriter(model, tmp_path, probe=mnist.val.images[:2], settings={"dataset": "mnist"})
    plain_loop(model, mnist, run, epochs=1, n=128, batch=64)
    run._file.close()  # as a kill leaves it: no final files, no "finished" line
    weights, history, notice = recover_unfinished(tmp_path)
    assert "did not finish" in notice and "step 2" in notice and len(history.batches) == 2
    rebuilt = build_model(architecture_file.load(tmp_path / "architecture.json"))
    apply_state_dict(rebuilt, weights)
    with torch.no_grad():
        assert torch.allclose(rebuilt.eval()(mnist.val.images[:50]), model.eval()(mnist.val.images[:50]), atol=1e-6)


def test_a_recorded_run_in_a_folder_that_held_a_rebuilt_one_leaves_no_stale_network(tmp_path):
    RunWriter(small_cnn(), tmp_path, probe=torch.zeros(1, 1, 28, 28)).close()
    assert (tmp_path / "architecture.json").is_file()
    run = RunWriter(Residual(), tmp_path, probe=torch.zeros(1, 1, 28, 28))
    assert not any((tmp_path / name).exists() for name in ("architecture.json", "weights.safetensors", "summary.json"))
    run.log_batch(np.int64(1), np.float32(0.5), np.float64(0.25))  # numpy scalars are numbers too
    run.close()
    assert read_run_log(tmp_path).history().batches[0].loss == 0.5
    with pytest.raises(ProjectError, match="architecture.json is missing"):
        open_project_or_run(tmp_path)


def test_an_exception_in_the_loop_finishes_the_log_as_failed_and_propagates(tmp_path):
    with pytest.raises(ZeroDivisionError):
        with RunWriter(small_cnn(), tmp_path, probe=torch.zeros(1, 1, 28, 28)) as run:
            run.log_batch(1, 2.5)
            1 / 0
    finished = read_run_log(tmp_path).finished
    assert finished["reason"] == "failed" and "ZeroDivisionError" in finished["message"]
    assert (tmp_path / "weights.safetensors").is_file()


@pytest.mark.parametrize("kwargs, message", [
    ({"probe": [[1.0]]}, "probe must be a float tensor"),
    ({"probe": torch.zeros(1, 1, 28, 28), "input_shape": (1, 8, 8)}, "differs from the probe"),
    ({"settings": {"epochs": 0}}, "settings: epochs must be 1 to 10000"),
    ({"normalization": {"mean": [0.5]}}, "normalization:"),
])
def test_bad_arguments_are_refused_by_name(tmp_path, kwargs, message):
    with pytest.raises(RunWriterError, match=message):
        RunWriter(small_cnn(), tmp_path, **kwargs)


def test_bad_values_in_the_loop_are_refused_by_name(tmp_path):
    run = RunWriter(small_cnn(), tmp_path)
    with pytest.raises(RunWriterError, match="loss must be one number"):
        run.log_batch(1, torch.zeros(3))
    with pytest.raises(RunWriterError, match="step must be a whole number"):
        run.log_batch(-1, 0.5)
    run.close()
    assert not run.rebuilt and "input shape is unknown" in run.why_recorded


@pytest.mark.slow
def test_the_readme_example_runs_as_printed(tmp_path, monkeypatch):
    # The example of docs/run-folder.md (tests/test_docs.py leaves it to this test, which checks what it wrote).
    page = (ROOT / "docs" / "run-folder.md").read_text(encoding="utf-8")
    section = page[page.index("## Your own training loop"):]
    code = section[section.index("```python\n") + len("```python\n"):section.index("```\n", 10)]
    monkeypatch.chdir(tmp_path)  # its folder, runs/mine, lands here
    exec(compile(code, "docs/run-folder.md example", "exec"), {})
    log = read_run_log(tmp_path / "runs" / "mine")
    assert log.finished["reason"] == "completed" and len(log.of_kind("epoch")) == 2
    assert log.history().epochs[-1].val_accuracy > 0.8  # 2 epochs of a small CNN on MNIST
    assert open_project_or_run(tmp_path / "runs" / "mine").weights is not None


def test_control_json_pauses_snapshots_and_stops_a_users_loop(tmp_path):
    import threading

    from engine.run_folder import write_command

    write_command(tmp_path, "stop")  # left by an earlier run: never obeyed
    model = small_cnn()
    run = RunWriter(model, tmp_path, probe=torch.zeros(1, 1, 28, 28))
    steps: list[int] = []

    def loop():
        step = 0
        while step < 100_000:
            step += 1
            steps.append(step)
            if not run.log_batch(step, 1.0):
                break
        run.finish()

    write_command(tmp_path, "pause")
    thread = threading.Thread(target=loop)
    thread.start()
    try:
        assert run.control.wait_until_blocked(60)
        paused_at = len(steps)
        write_command(tmp_path, "snapshot")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(
                s["step"] == paused_at for s in read_run_log(tmp_path).of_kind("snapshot")):
            time.sleep(0.01)  # the watcher thread hears the command within 0.2 s
        assert len(steps) == paused_at  # a snapshot while paused, and still paused
        write_command(tmp_path, "stop")
        thread.join(60)
    finally:
        run.control.stop()
        thread.join()
    log = read_run_log(tmp_path)
    assert len(steps) == paused_at and log.finished["reason"] == "stopped"
    assert [e["kind"] for e in log.events if e["kind"] in ("paused", "resumed")] == ["paused", "resumed"]
    assert any(s["step"] == paused_at for s in log.of_kind("snapshot"))
