"""Health figures against independent computations: a dead ReLU layer, a saturated sigmoid, training that kills ReLUs."""

from __future__ import annotations

import json

import numpy as np
import torch
import torch.nn.functional as F

from engine.network.builder import build_model
from engine.config import TrainConfig
from engine.inspection.health import LayerHealth, Thresholds, histogram, network_health, warnings_for
from engine.run_folder import RunFolderWriter, read_run_log
from engine.training.trainer import Trainer
from main import main
from models.architecture import Architecture, InputShape
from models.layers import Conv2dSpec, FlattenSpec, LinearSpec, ReluSpec, SigmoidSpec, TanhSpec
from tests.engine.training_data import tiny_arch, write_tiny_npz

MLP = Architecture("mlp", InputShape(1, 4, 4), (FlattenSpec(), LinearSpec(out_features=10), ReluSpec(),
                                                LinearSpec(out_features=6), SigmoidSpec(), LinearSpec(out_features=6),
                                                TanhSpec(), LinearSpec(out_features=3)))


def inputs(n: int = 64, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, 1, 4, 4)).astype(np.float32)


def test_a_large_negative_bias_kills_relu_units_and_huge_weights_saturate_sigmoid_and_tanh():
    model = build_model(MLP)
    with torch.no_grad():
        model[1].bias[:4] = -1000.0     # 4 of 10 features can never be positive on these inputs
        model[3].weight.mul_(200.0)     # sigmoid inputs far from 0
        model[5].weight.mul_(0.001)     # tanh stays in its linear range
        model[5].bias.zero_()
    x = inputs()
    layers = network_health(MLP, model, torch.from_numpy(x))
    # Independent numpy forward pass.
    w1, b1 = (model[1].weight.detach().numpy().astype(np.float64), model[1].bias.detach().numpy())
    h = np.maximum(x.reshape(len(x), -1) @ w1.T + b1, 0)
    w2, b2 = model[3].weight.detach().numpy().astype(np.float64), model[3].bias.detach().numpy()
    s = 1 / (1 + np.exp(-(h @ w2.T + b2)))
    w3, b3 = model[5].weight.detach().numpy().astype(np.float64), model[5].bias.detach().numpy()
    t = np.tanh(s @ w3.T + b3)
    relu, sigmoid, tanh = layers[2], layers[4], layers[6]
    assert relu.dead_fraction == np.mean((h == 0).all(axis=0)) >= 0.4
    unit_mean, layer_mean = np.abs(h).mean(axis=0), np.abs(h).mean()
    assert relu.dormant_fraction == np.mean(unit_mean < 0.025 * layer_mean)
    saturated = (s < 0.01) | (s > 0.99)
    assert abs(sigmoid.saturated_fraction - saturated.mean()) < 1e-9 and sigmoid.saturated_fraction > 0.5
    assert abs(sigmoid.saturated_unit_fraction - saturated.all(axis=0).mean()) < 1e-9
    assert sigmoid.dead_fraction is None and tanh.saturated_fraction == np.mean(np.abs(t) > 0.99) == 0.0
    assert layers[1].weight_mean == float(np.mean(w1)) or abs(layers[1].weight_mean - np.mean(w1)) < 1e-9
    assert abs(layers[1].weight_std - np.std(w1)) < 1e-9 and layers[0].weight_mean is None
    kinds = {(w.layer, w.kind) for w in warnings_for(layers)}
    assert (3, "dead") in kinds and (5, "saturated") in kinds and not any(k[0] == 7 for k in kinds)
    message = next(w.message for w in warnings_for(layers) if w.kind == "dead")
    assert message.startswith("layer 3 (relu): 40% of units dead") and "leaky ReLU" in message


def test_conv_units_are_channel_by_position():
    arch = Architecture("c", InputShape(1, 6, 6), (Conv2dSpec(out_channels=3, kernel_size=3, padding=1), ReluSpec(),
                                                   FlattenSpec(), LinearSpec(out_features=2)))
    model = build_model(arch)
    with torch.no_grad():
        model[0].bias[1] = -500.0  # one channel of three dead at every position
    x = torch.from_numpy(np.random.default_rng(1).standard_normal((32, 1, 6, 6)).astype(np.float32))
    relu = network_health(arch, model, x)[1]
    direct = F.relu(F.conv2d(x, model[0].weight.detach(), model[0].bias.detach(), padding=1))
    assert relu.dead_fraction == float((direct == 0).all(dim=0).double().mean()) >= 1 / 3


def test_gradient_norms_far_from_the_others_warn_and_the_thresholds_are_settings():
    layers = [LayerHealth(1, "conv2d", gradient_norm=1e-6), LayerHealth(3, "linear", gradient_norm=0.5),
              LayerHealth(5, "linear", gradient_norm=0.7), LayerHealth(7, "linear", gradient_norm=2e3)]
    kinds = [(w.layer, w.kind) for w in warnings_for(layers)]
    assert kinds == [(1, "vanishing"), (7, "exploding")]
    assert warnings_for(layers, Thresholds(vanishing_ratio=1e-9, exploding_ratio=1e9)) == []
    edges, counts = histogram(np.array([0.0, 1.0, 1.0, 3.0, np.nan]), bins=3)
    assert list(counts) == [1, 2, 1] and edges[0] == 0.0 and edges[-1] == 3.0


def train_run(folder, lr: float):
    data = write_tiny_npz(folder / "tiny.npz")
    config = TrainConfig(dataset=str(data), epochs=2, batch_size=16, learning_rate=lr, device="cpu", threads=1)
    from engine.datasets import load_dataset
    dataset = load_dataset(config.dataset, val_fraction=config.val_fraction, seed=config.seed)
    trainer = Trainer(tiny_arch(), dataset, config)
    writer = RunFolderWriter(folder, trainer.model, tiny_arch(), config, dataset.normalization)
    writer.start()
    trainer.callbacks.append(writer)
    trainer.fit()
    writer.close()
    return trainer, dataset


def test_health_json_on_a_killed_run_and_a_healthy_run_matches_a_direct_torch_computation(tmp_path, capsys):
    # lr 2 kills a quarter of the ReLUs; lr 10 explodes the loss, which is a divergence rolled back to step 0
    for name, lr in (("killed", 2.0), ("healthy", 0.01)):
        folder = tmp_path / name
        folder.mkdir()
        trainer, dataset = train_run(folder, lr)
        capsys.readouterr()
        assert main(["health", str(folder), "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["step"] == trainer.global_step and report["samples"] == len(dataset.val.images)
        for layer in report["layers"]:
            assert {"index", "type", "dead_fraction", "dormant_fraction", "saturated_fraction", "gradient_norm",
                    "weight_mean", "weight_std"} <= set(layer)
        relu = report["layers"][1]
        assert relu["type"] == "relu" and report["layers"][0]["dead_fraction"] is None
        with torch.no_grad():
            out = F.relu(trainer.model.eval()[0](dataset.val.images[:512]))
        assert relu["dead_fraction"] == float((out == 0).all(dim=0).double().mean())
        line = read_run_log(folder).of_kind("snapshot")[-1]  # the norms of the last step before the snapshot
        assert report["layers"][0]["gradient_norm"] == line["gradient_norms"]["layer 1 (conv2d)"]
        assert report["layers"][1]["gradient_norm"] is None
        if name == "killed":
            assert relu["dead_fraction"] >= 0.2  # a quarter of the units (seeded, one thread: deterministic)
        else:
            assert relu["dead_fraction"] < 0.05 and report["layers"][0]["gradient_norm"] > 0
    assert main(["health", str(tmp_path / "healthy"), "--step", "999999"]) == 2
    assert "--step 999999: no snapshot of that step is kept; the nearest are" in capsys.readouterr().err
    assert main(["health", str(tmp_path / "healthy"), "--step", "0"]) == 0
    assert "at step 0 (epoch 0)" in capsys.readouterr().out
