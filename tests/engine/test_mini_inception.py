"""The Mini Inception preset: two modules of parallel 1x1, 3x3, 5x5 and pool+1x1 branches, concatenated; its
summary's parameters are the built module's, and it trains on the bundled colour set."""

import json
import subprocess
import sys
from pathlib import Path

import torch

from engine.datasets import load_dataset
from engine.events import STOPPED
from engine.network.builder import GraphNet, build_model
from engine.config import TrainConfig
from engine.training.hooks import Callback
from engine.training.trainer import Trainer
from models import graph
from models.layers import ConcatSpec, Conv2dSpec, MaxPool2dSpec
from models.presets import load_preset, made_for, preset_path

ROOT = Path(__file__).resolve().parents[2]


def test_the_summarys_parameters_are_the_built_modules():
    result = subprocess.run([sys.executable, "main.py", "summary", str(preset_path("mini_inception")), "--json"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    model = build_model(load_preset("mini_inception"))
    assert isinstance(model, GraphNet) and not data["errors"]
    assert data["total_params"] == sum(p.numel() for p in model.parameters()) == 19_114
    assert [la["output_shape"] for la in data["layers"] if la["type"] == "concat"] == [[32, 16, 16], [64, 8, 8]]
    with torch.no_grad():
        assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


def test_each_module_concatenates_a_1x1_3x3_5x5_and_pooling_branch_of_one_input():
    """Each branch ends in conv -> relu; the pooling branch's conv reads a 3x3 max pool of stride 1, padding 1."""
    arch = load_preset("mini_inception")
    sources = graph.sources(arch)
    concats = [n for n, spec in enumerate(arch.layers, start=1) if isinstance(spec, ConcatSpec)]
    assert len(concats) == 2
    for number in concats:
        kinds, reads = [], set()
        for relu in sources[number - 1]:
            (conv,) = sources[relu - 1]
            (first,) = sources[conv - 1]
            assert arch.layers[relu - 1].TYPE == "relu" and isinstance(arch.layers[conv - 1], Conv2dSpec)
            pool = arch.layers[first - 1] if first else None
            if isinstance(pool, MaxPool2dSpec) and pool.stride == 1:
                assert (pool.kernel_size, pool.padding, arch.layers[conv - 1].kernel_size) == (3, 1, 1)
                kinds.append("pool")
                (first,) = sources[first - 1]
            else:
                kinds.append(arch.layers[conv - 1].kernel_size)
            reads.add(first)
        assert kinds == [1, 3, 5, "pool"] and len(reads) == 1  # every branch reads the module's input
    assert made_for("mini_inception") == "shapes-rgb"


def test_one_training_step_on_shapes_rgb():
    class StopAtOne(Callback):
        def on_batch_end(self, event):
            self.loss = event.loss
            trainer.control.stop()

    stop = StopAtOne()
    arch = load_preset("mini_inception")
    config = TrainConfig(epochs=1, batch_size=32, snapshot_interval=1e9, device="cpu", threads=1, seed=0)
    trainer = Trainer(arch, load_dataset("shapes-rgb"), config, [stop], log_interval=0.0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        before = {k: v.clone() for k, v in build_model(arch).state_dict().items()}
    finished = trainer.fit()
    assert finished.reason == STOPPED and finished.step == 1
    assert 0 < stop.loss < 10 and torch.isfinite(torch.tensor(stop.loss))
    after = trainer.model.state_dict()
    assert any(not torch.equal(after[k].cpu(), before[k]) for k in after if k.endswith("weight"))
