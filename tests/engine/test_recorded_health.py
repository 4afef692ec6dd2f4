"""`health` on a RunWriter folder of a model ConvScope cannot rebuild: figures from the recorded activations."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from engine.inspection.recorded_health import recorded_health
from engine.run_folder import RunWriter, read_run_log

ROOT = Path(__file__).resolve().parents[2]


class Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(1, 4, 3, padding=1)
        self.act = nn.ReLU()
        self.block = nn.Conv2d(4, 4, 3, padding=1)
        self.squash = nn.Tanh()
        self.head = nn.Linear(4 * 8 * 8, 3)

    def forward(self, x):
        a = self.act(self.stem(x))
        b = self.act(self.block(a) + a)
        return self.head(self.squash(4 * b).flatten(1))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("health") / "run"
    torch.manual_seed(0)
    model, x, y = Residual(), torch.randn(16, 1, 8, 8), torch.randint(0, 3, (16,))
    with torch.no_grad():
        model.block.bias -= 0.3  # some units of the second ReLU die on every probe input
    opt = torch.optim.SGD(model.parameters(), 0.05)
    with RunWriter(model, folder, probe=x[:6], control=False) as writer:
        for step in range(1, 4):
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            writer.log_batch(step, loss)
        writer.log_epoch(1, loss)
    return folder, model.eval(), x[:6]


def by_hand(model: Residual, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """The forward pass without hooks: the oracle for what was recorded."""
    with torch.no_grad():
        a = F.relu(F.conv2d(x, model.stem.weight, model.stem.bias, padding=1))
        b = F.relu(F.conv2d(a, model.block.weight, model.block.bias, padding=1) + a)
    return {"act": a, "act#2": b, "squash": torch.tanh(4 * b)}


def test_the_figures_are_those_of_the_recorded_modules_outputs(run):
    folder, model, probe = run
    snapshot = read_run_log(folder).newest_snapshot
    health = recorded_health(folder, snapshot)
    rows = {la.path: la for la in health.layers}
    assert [la.label for la in health.layers] == ["stem (conv2d)", "act (relu)", "block (conv2d)", "act#2 (relu)",
                                                  "squash (tanh)", "head (linear)"]
    expected = by_hand(model, probe)
    for name in ("act", "act#2"):
        dead = (expected[name].reshape(6, -1) == 0).all(dim=0).double().mean().item()
        assert rows[name].dead_fraction == pytest.approx(dead)
    saturated = (expected["squash"].abs() > 0.99).double().mean().item()
    assert rows["squash"].saturated_fraction == pytest.approx(saturated)
    assert rows["stem"].weight_mean == pytest.approx(model.stem.weight.double().mean().item())
    assert rows["block"].gradient_norm == snapshot.gradient_norms["block"]
    assert rows["act#2"].gradient_norm is None and health.samples == 6
    assert 0 < rows["act#2"].dead_fraction < 1 and 0 < rows["squash"].saturated_fraction < 1  # a real test


def test_the_health_command_reads_a_recorded_folder_and_exits_0(run):
    folder = run[0]
    out = subprocess.run([sys.executable, str(ROOT / "main.py"), "health", str(folder), "--json"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert [la["path"] for la in report["layers"]] == ["stem", "act", "block", "act#2", "squash", "head"]
    refused = subprocess.run([sys.executable, str(ROOT / "main.py"), "health", str(folder), "--dataset", "mnist"],
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "cannot rebuild it" in refused.stderr


def test_recorded_run_tells_a_recorded_folder_from_its_first_line(run, tmp_path):
    from engine.run_folder.recording import CANNOT_REBUILD, newest_recorded_snapshot, recorded_run

    folder = run[0]
    found = recorded_run(folder)
    assert found.model == "Residual" and "not an nn.Sequential" in found.reason
    assert found.cannot_rebuild.startswith(CANNOT_REBUILD)
    rebuilt = tmp_path / "rebuilt"
    RunWriter(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 6 * 6, 3)), rebuilt,
              probe=torch.randn(2, 1, 8, 8), control=False).close()
    assert recorded_run(rebuilt) is None and recorded_run(tmp_path / "nothing") is None
    # A probe sample past the recorded batch falls back to its first, as the window's probe pick may be.
    assert newest_recorded_snapshot(folder, 99).probe_index == 0
    assert newest_recorded_snapshot(folder, 5).probe_index == 5
