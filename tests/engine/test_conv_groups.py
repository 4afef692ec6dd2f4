"""Grouped and depthwise convolution against torch's own nn.Conv2d(groups=...) and through every export."""

import importlib.util
import sys

import numpy as np
import pytest
import torch
from torch import nn

from engine.network.builder import build_model
from engine.export.onnx_format import export_onnx
from engine.export.python_source import export_python
from engine.export.target import example_input
from engine.export.torch_formats import export_safetensors, export_state_dict, export_torchscript, load_torchscript
from engine.project.project_file import Project, load_project, save_project
from engine.network.weights import load_state_dict
from models.architecture import Architecture, InputShape
from models.layers import Conv2dSpec, FlattenSpec, LinearSpec, ReluSpec
from models.shapes import analyze


@pytest.mark.parametrize("c_in, out, kernel, groups, padding, stride", [
    (4, 8, 3, 2, 0, 1),          # grouped
    (6, 6, 3, 6, 1, 1),          # depthwise
    (3, 6, (3, 5), 3, "same", 2),  # depthwise multiplier 2, asymmetric "same" padding (PaddedConv2d)
    (8, 4, 1, 4, 0, 1),          # grouped pointwise
])
def test_params_and_shape_equal_torchs_own_grouped_conv(c_in, out, kernel, groups, padding, stride):
    arch = Architecture("g", InputShape(c_in, 9, 11), (Conv2dSpec(out, kernel, stride, padding, groups=groups),))
    la = analyze(arch).layers[0]
    built = build_model(arch)[0]
    reference = nn.Conv2d(c_in, out, kernel, stride, groups=groups)  # torch, independently of the builder
    assert built.groups == groups
    assert la.params == sum(p.numel() for p in reference.parameters()) == sum(p.numel() for p in built.parameters())
    assert la.weights == reference.weight.numel()
    assert tuple(built(torch.zeros(2, c_in, 9, 11)).shape[1:]) == la.output_shape


def _grouped_net():
    arch = Architecture("grouped", InputShape(4, 8, 8),
                        (Conv2dSpec(8, 3, padding=1, groups=2), ReluSpec(),
                         Conv2dSpec(8, 3, stride=2, padding="same", groups=8), ReluSpec(),
                         FlattenSpec(), LinearSpec(3)))
    torch.manual_seed(0)
    return arch, build_model(arch).eval()


def test_every_export_keeps_the_groups(tmp_path):
    arch, model = _grouped_net()
    x = example_input(arch, 3, seed=2)
    with torch.no_grad():
        expected = model(x)
    for writer, suffix in ((export_state_dict, ".pt"), (export_safetensors, ".safetensors")):
        fresh = build_model(arch)
        fresh.load_state_dict(load_state_dict(writer(arch, model, tmp_path / f"w{suffix}")))
        torch.testing.assert_close(fresh.eval()(x), expected)
    scripted = load_torchscript(export_torchscript(arch, model, tmp_path / "net.pt"))
    torch.testing.assert_close(scripted(x), expected)
    py_path, _ = export_python(arch, model, tmp_path / "grouped_net.py")
    assert "groups=2" in py_path.read_text() and "groups=8" in py_path.read_text()
    spec = importlib.util.spec_from_file_location("grouped_net", py_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with torch.no_grad():
        torch.testing.assert_close(module.load()(x), expected)
    sys.modules.pop("grouped_net", None)
    save_project(Project(arch, weights=model.state_dict()), tmp_path / "g.convscope")
    assert load_project(tmp_path / "g.convscope").architecture == arch


def test_onnx_keeps_the_groups(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    onnx = pytest.importorskip("onnx")
    arch, model = _grouped_net()
    path = export_onnx(arch, model, tmp_path / "net.onnx")
    groups = sorted(a.i for node in onnx.load(str(path)).graph.node if node.op_type == "Conv"
                    for a in node.attribute if a.name == "group")
    assert groups == [2, 8]
    x = example_input(arch, 2, seed=3)
    (out,) = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"input": x.numpy()})
    with torch.no_grad():
        np.testing.assert_allclose(out, model(x).numpy(), atol=1e-5, rtol=0)
