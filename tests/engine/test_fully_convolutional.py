"""Fully connected as convolution: same outputs on the training size, the original on every crop of a larger image."""

from __future__ import annotations

import json

import pytest
import torch

from engine.network.builder import build_model
from engine.network.fully_convolutional import NotFullyConvolutional, fully_convolutional, score_map_architecture
from main import main
from models import architecture_file
from models.architecture import Architecture, InputShape
from models.layers import (Conv2dSpec, DropoutSpec, FlattenSpec, GlobalAvgPool2dSpec, LinearSpec,
                           LocallyConnected2dSpec, MaxPool2dSpec, ReluSpec, SoftmaxSpec)
from models.presets import load_preset
from tests.engine.training_data import evaluate_json, train_tiny_run


def lenet_like(softmax: bool = False) -> Architecture:
    """Valid convolutions only (no padding), so a crop of a larger image is exactly what one score position sees."""
    layers = [Conv2dSpec(4, 3), ReluSpec(), MaxPool2dSpec(2), Conv2dSpec(6, 3, stride=(1, 2)), ReluSpec(),
              MaxPool2dSpec(2), FlattenSpec(), LinearSpec(20), ReluSpec(), DropoutSpec(0.3), LinearSpec(3)]
    return Architecture("lenet-like", InputShape(2, 18, 22), tuple(layers + [SoftmaxSpec()] * softmax))


def trained_pair(arch: Architecture):
    torch.manual_seed(0)
    original = build_model(arch).eval()
    rewrite = fully_convolutional(arch)
    rewritten = build_model(rewrite.architecture).eval()
    rewritten.load_state_dict(rewrite.convert_state(original.state_dict()))
    return original, rewrite, rewritten


def test_the_rewritten_architecture_has_no_linear_layer_and_no_flatten():
    rewrite = fully_convolutional(lenet_like(softmax=True))
    types = [type(s) for s in rewrite.architecture.layers]
    assert LinearSpec not in types and FlattenSpec not in types
    # 18x22 -> 16x20 -> 8x10 -> 6x4 -> 3x2: the first linear layer's kernel is that whole 6x3x2 map.
    assert rewrite.architecture.layers[6] == Conv2dSpec(20, (3, 2))
    assert rewrite.architecture.layers[9] == Conv2dSpec(3, 1)
    assert types[-2:] == [GlobalAvgPool2dSpec, SoftmaxSpec]
    assert rewrite.stride == (4, 8) and rewrite.window == (18, 22)


@pytest.mark.parametrize("softmax", [False, True])
def test_on_the_training_size_the_outputs_equal_the_originals(softmax):
    original, _, rewritten = trained_pair(lenet_like(softmax))
    x = torch.randn(5, 2, 18, 22)
    with torch.no_grad():
        torch.testing.assert_close(rewritten(x), original(x), atol=1e-5, rtol=0)


@pytest.mark.parametrize("softmax", [False, True])
def test_each_score_position_is_the_original_on_its_crop(softmax):
    arch = lenet_like(softmax)
    original, rewrite, _ = trained_pair(arch)
    height, width = 18 + 2 * 4, 22 + 3 * 8  # room for 3 x 4 windows at the network's stride
    mapper = build_model(score_map_architecture(rewrite.architecture, height, width)).eval()
    mapper.load_state_dict(rewrite.convert_state(original.state_dict()))
    x = torch.randn(2, 2, height, width)
    with torch.no_grad():
        scores = mapper(x)
        assert scores.shape == (2, 3, 3, 4)
        (sh, sw), (h, w) = rewrite.stride, rewrite.window
        for i in range(3):
            for j in range(4):
                crop = x[:, :, i * sh:i * sh + h, j * sw:j * sw + w]
                torch.testing.assert_close(scores[:, :, i, j], original(crop), atol=1e-5, rtol=0)


def test_a_plain_multilayer_perceptron_becomes_a_sliding_window():
    arch = Architecture("mlp", InputShape(1, 6, 6), (FlattenSpec(), LinearSpec(8), ReluSpec(), LinearSpec(2)))
    original, rewrite, _ = trained_pair(arch)
    assert rewrite.architecture.layers[0] == Conv2dSpec(8, 6) and rewrite.stride == (1, 1)
    mapper = build_model(score_map_architecture(rewrite.architecture, 7, 8)).eval()
    mapper.load_state_dict(rewrite.convert_state(original.state_dict()))
    x = torch.randn(1, 1, 7, 8)
    with torch.no_grad():
        torch.testing.assert_close(mapper(x)[:, :, 1, 2], original(x[:, :, 1:7, 2:8]), atol=1e-5, rtol=0)


@pytest.mark.parametrize("arch, words", [
    (load_preset("fully_conv"), "has no flatten layer"),
    (Architecture("lc", InputShape(1, 8, 8), (LocallyConnected2dSpec(2, 3), FlattenSpec(), LinearSpec(3))),
     r"layer 1 \(locally_connected2d\) has weights of its own for each position"),
    (Architecture("none", InputShape(1, 8, 8), (Conv2dSpec(2, 3), FlattenSpec())), "no linear layer after its flatten"),
])
def test_networks_it_cannot_rewrite_are_refused_with_the_reason(arch, words):
    with pytest.raises(NotFullyConvolutional, match=words):
        fully_convolutional(arch)


def test_an_image_smaller_than_the_window_is_refused_naming_the_layer():
    rewrite = fully_convolutional(lenet_like())
    with pytest.raises(ValueError, match=r"2x16x22 images: layer 7 \(conv2d\)"):
        score_map_architecture(rewrite.architecture, 16, 22)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return train_tiny_run(tmp_path_factory.mktemp("fully_convolutional"))


def test_the_command_writes_a_run_that_evaluates_to_the_same_accuracy(run, tmp_path, capsys):
    _, _, folder = run
    out = tmp_path / "fc"
    capsys.readouterr()
    assert main(["fully-convolutional", str(folder), "--out", str(out)]) == 0
    assert "1 linear layer(s) as convolutions (the first with a 4x4x4 kernel)" in capsys.readouterr().out
    arch = architecture_file.load(out / "architecture.json")
    assert not any(isinstance(s, (LinearSpec, FlattenSpec)) for s in arch.layers)
    assert json.loads((out / "settings.json").read_text()) == json.loads((folder / "settings.json").read_text())
    before, after = evaluate_json(capsys, str(folder)), evaluate_json(capsys, str(out))
    assert after["samples"] == before["samples"] > 0
    assert after["accuracy"] == before["accuracy"] and after["confusion_matrix"] == before["confusion_matrix"]
    assert after["loss"] == pytest.approx(before["loss"], abs=1e-5)


def test_the_command_refuses_a_network_it_cannot_rewrite_and_writes_nothing(tmp_path, capsys):
    from engine.network.weights import save_weights

    folder = tmp_path / "gap"
    folder.mkdir()
    architecture_file.save(load_preset("fully_conv"), folder / "architecture.json")
    save_weights(build_model(load_preset("fully_conv")), folder / "weights.safetensors")
    capsys.readouterr()
    assert main(["fully-convolutional", str(folder), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "has no flatten layer" in err
    assert not (tmp_path / "out").exists()
    architecture_file.save(load_preset("fully_conv"), tmp_path / "untrained.json")
    assert main(["fully-convolutional", str(tmp_path / "untrained.json"), "--out", str(tmp_path / "out")]) == 2
    assert "has no trained weights" in capsys.readouterr().err
