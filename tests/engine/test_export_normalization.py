"""Exports take [0, 1] pixels and normalise inside, with the training statistics; weights files keep their names."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from engine.export.onnx_format import export_onnx
from engine.export.python_source import export_python
from engine.export.torch_formats import export_safetensors, export_torchscript, load_torchscript
from engine.normalization import Normalization, PixelInput
from engine.project.project_file import Project, save_project
from main import main
from tests.engine.trained_models import trained_like

# Three channels with distinct statistics, so a channel mix-up or a missing step changes the answer.
STATS = Normalization((0.49, 0.48, 0.45), (0.25, 0.24, 0.26))


@pytest.fixture(scope="module")
def network():
    arch, model = trained_like("tiny_vgg")
    return arch, model.eval()


def pixels(arch, n=4):
    return torch.rand((n, *arch.input.as_tuple()), generator=torch.Generator().manual_seed(1))


def expected(model, x):
    """Oracle: the app's network on inputs normalised by hand."""
    mean = torch.tensor(STATS.mean).view(1, 3, 1, 1)
    std = torch.tensor(STATS.std).view(1, 3, 1, 1)
    with torch.no_grad():
        return model((x - mean) / std)


def test_torchscript_takes_pixels(tmp_path, network):
    arch, model = network
    export_torchscript(arch, model, tmp_path / "net.pt", normalization=STATS)
    x = pixels(arch)
    with torch.no_grad():
        torch.testing.assert_close(load_torchscript(tmp_path / "net.pt")(x), expected(model, x))


def test_onnx_takes_pixels_and_carries_the_statistics(tmp_path, network):
    import onnx
    import onnxruntime
    arch, model = network
    path = export_onnx(arch, model, tmp_path / "net.onnx", normalization=STATS)
    loaded = onnx.load(str(path))
    onnx.checker.check_model(loaded, full_check=True)
    metadata = {entry.key: entry.value for entry in loaded.metadata_props}
    assert metadata == {"convscope.mean": "[0.49, 0.48, 0.45]", "convscope.std": "[0.25, 0.24, 0.26]"}
    x = pixels(arch)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (scores,) = session.run(None, {"input": x.numpy()})
    np.testing.assert_allclose(scores, expected(model, x).numpy(), rtol=1e-4, atol=1e-5)


def test_python_module_takes_pixels_and_keeps_the_state_dict_names(tmp_path, network):
    arch, model = network
    py_path, weights_path = export_python(arch, model, tmp_path / "tiny_vgg.py", normalization=STATS)
    assert "pixels in [0, 1]" in py_path.read_text()
    spec = importlib.util.spec_from_file_location("tiny_vgg_pixels", py_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        exported = module.load()
    finally:
        del sys.modules[spec.name]
    assert list(exported.state_dict()) == list(model.state_dict())
    x = pixels(arch)
    with torch.no_grad():
        torch.testing.assert_close(exported(x), expected(model, x))
    assert safe_open(str(weights_path), "pt").metadata() == STATS.metadata()


def test_safetensors_keeps_names_and_records_the_statistics(tmp_path, network):
    arch, model = network
    path = export_safetensors(arch, model, tmp_path / "w.safetensors", normalization=STATS)
    assert sorted(load_file(path)) == sorted(model.state_dict())
    with safe_open(str(path), "pt") as f:
        assert f.metadata() == {"convscope.mean": "[0.49, 0.48, 0.45]", "convscope.std": "[0.25, 0.24, 0.26]"}


def test_pixel_input_adds_no_state_dict_keys(network):
    _, model = network
    assert list(PixelInput(model, STATS).state_dict()) == [f"network.{k}" for k in model.state_dict()]


def test_the_cli_exports_pixels_by_default_and_normalized_on_request(tmp_path, network, capsys):
    arch, model = network
    project = tmp_path / "net.convscope"
    save_project(Project(arch, weights=model.state_dict(), normalization=STATS), project)
    x = pixels(arch)
    assert main(["export", str(project), "--format", "torchscript", "--out", str(tmp_path / "p.pt")]) == 0
    assert main(["export", str(project), "--format", "torchscript", "--out", str(tmp_path / "n.pt"),
                 "--input", "normalized"]) == 0
    assert capsys.readouterr().err == ""
    with torch.no_grad():
        torch.testing.assert_close(load_torchscript(tmp_path / "p.pt")(x), expected(model, x))
        torch.testing.assert_close(load_torchscript(tmp_path / "n.pt")(x), model(x))


def test_an_older_project_without_statistics_exports_normalized_inputs_with_a_note(tmp_path, network, capsys):
    arch, model = network
    project = tmp_path / "old.convscope"
    save_project(Project(arch, weights=model.state_dict()), project)
    capsys.readouterr()
    assert main(["export", str(project), "--format", "torchscript", "--out", str(tmp_path / "o.pt")]) == 0
    assert "stores no input normalisation" in capsys.readouterr().err
    x = pixels(arch)
    with torch.no_grad():
        torch.testing.assert_close(load_torchscript(tmp_path / "o.pt")(x), model(x))
