"""Exports of a graph (ResNet-20 and a small net with a concat, a shortcut and a trailing softmax): every format
gives the app's model's outputs, with the same tensor names."""

import json
import subprocess
import sys

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from engine.export.evolution import layer_output
from engine.export.images import export_activation_pngs
from engine.export.onnx_format import export_onnx
from engine.export.python_source import export_python
from engine.export.target import example_input
from engine.export.torch_formats import (export_safetensors, export_state_dict, export_torchscript,
                                         import_weights, load_torchscript)
from engine.network.builder import GraphNet, build_model
from engine.normalization import Normalization
from models import architecture_file
from models.presets import PRESET_DIR
from tests.engine.test_export_python import CHECK
from tests.engine.test_graph_builder import skip_block


def graph_model(which: str):
    arch = architecture_file.load(PRESET_DIR / "resnet20.json") if which == "resnet20" else skip_block(softmax=True)
    torch.manual_seed(0)
    model = build_model(arch)
    with torch.no_grad():  # batch-norm statistics other than the identity, so that eval mode is checked too
        for name, tensor in model.state_dict().items():
            if "running_var" in name:
                tensor.copy_(torch.rand_like(tensor) + 0.5)
            elif "running_mean" in name:
                tensor.copy_(torch.randn_like(tensor))
    assert isinstance(model, GraphNet)
    return arch, model


def expected(model, x):
    with torch.no_grad():
        return model.eval()(x)


@pytest.mark.parametrize("which", ["resnet20", "skip"])
def test_state_dict_and_safetensors_load_back_into_the_graph(which, tmp_path):
    arch, model = graph_model(which)
    export_state_dict(arch, model, tmp_path / "w.pt")
    export_safetensors(arch, model, tmp_path / "w.safetensors")
    for path in (tmp_path / "w.pt", tmp_path / "w.safetensors"):
        state = import_weights(arch, path)
        assert list(state) == list(model.state_dict())
        rebuilt = build_model(arch)
        rebuilt.load_state_dict(state)
        x = example_input(arch, 3, seed=1)
        torch.testing.assert_close(expected(rebuilt, x), expected(model, x))


@pytest.mark.parametrize("which", ["resnet20", "skip"])
def test_torchscript_of_a_graph_gives_the_models_outputs_for_other_batch_sizes(which, tmp_path):
    arch, model = graph_model(which)
    normalization = Normalization((0.5,) * arch.input.channels, (0.25,) * arch.input.channels)
    path = export_torchscript(arch, model, tmp_path / "net.torchscript", normalization)
    loaded = load_torchscript(path)
    x = example_input(arch, 5, seed=2)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), expected(model, (x - 0.5) / 0.25))


@pytest.mark.parametrize("which", ["resnet20", "skip"])
def test_onnx_of_a_graph_runs_in_onnxruntime_with_the_models_outputs(which, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    arch, model = graph_model(which)
    path = export_onnx(arch, model, tmp_path / "net.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = example_input(arch, 3, seed=3)
    (got,) = session.run(None, {"input": x.numpy()})
    torch.testing.assert_close(torch.from_numpy(got), expected(model, x), rtol=1e-4, atol=1e-5)


def test_python_export_of_graphs_runs_alone_with_the_models_outputs(tmp_path):
    jobs, keys = [], {}
    for which in ("resnet20", "skip"):
        arch, model = graph_model(which)
        folder = tmp_path / which
        folder.mkdir()
        py_path, _ = export_python(arch, model, folder / f"{which}_net.py")
        export_state_dict(arch, model, folder / "weights.pt")
        x = example_input(arch, 4, seed=1)
        save_file({"x": x, "y": expected(model, x).contiguous()}, folder / "io.safetensors")
        jobs.append((which, str(py_path), str(folder / "weights.pt"), str(folder / "io.safetensors")))
        keys[which] = sorted(model.state_dict())
        assert "x9 = self[8](x8, x3)" in py_path.read_text() or which == "skip"
    out = subprocess.run([sys.executable, "-c", CHECK, json.dumps(jobs)], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    results = json.loads(out.stdout)
    assert results["loaded"] == []  # torch only: no ConvScope package behind the generated module
    for which in ("resnet20", "skip"):
        assert results[which]["diff"] < 1e-5 and results[which]["diff_pt"] < 1e-5, which
        assert results[which]["keys"] == keys[which] and results[which]["training"] is False


def test_safetensors_metadata_of_a_graph_keeps_the_statistics(tmp_path):
    arch, model = graph_model("skip")
    normalization = Normalization((0.5,), (0.25,))
    path = export_safetensors(arch, model, tmp_path / "w.safetensors", normalization)
    assert sorted(load_file(path)) == sorted(model.state_dict())
    with safe_open(str(path), "pt") as f:
        assert f.metadata() == normalization.metadata()


def test_the_activation_evolution_reads_a_graphs_layer_as_the_graph_computes_it():
    arch, model = graph_model("skip")
    model.eval()
    sample = example_input(arch, 1, seed=4)[0]
    with torch.no_grad():
        every = model.layer_outputs(sample[None])
    for number in (4, 6, 9):  # the add, the concat, the softmax
        assert torch.allclose(torch.from_numpy(layer_output(model, number, sample)), every[number][0])


def test_activation_pngs_of_a_graph_have_one_image_per_layer(tmp_path):
    arch, model = graph_model("skip")
    paths = export_activation_pngs(arch, model, example_input(arch, 1, seed=5)[0].numpy(), tmp_path / "maps")
    assert [p.name for p in paths][3:6] == ["layer4_add_activations.png", "layer5_conv2d_activations.png",
                                            "layer6_concat_activations.png"]
    assert all(p.stat().st_size > 0 for p in paths) and len(paths) == 9
