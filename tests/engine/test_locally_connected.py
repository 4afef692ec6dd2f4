"""locally_connected2d: the course deck's count, a hand-loop oracle, honest arithmetic, training and every export."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from torch.utils.flop_counter import FlopCounterMode

from engine.export.onnx_format import export_onnx
from engine.export.python_source import export_python
from engine.export.torch_formats import export_safetensors, export_state_dict, export_torchscript, load_torchscript
from engine.network.builder import build_model
from engine.run_folder.model_conversion import check_conversion, convert_sequential
from models.architecture import Architecture, InputShape
from models.architecture_file import from_dict, to_dict
from models.layers import (Conv2dSpec, FlattenSpec, LinearSpec, LocallyConnected2dSpec, ReluSpec)
from models.shapes import analyze


def one_map(spec=None) -> Architecture:
    spec = spec or LocallyConnected2dSpec(out_channels=1, kernel_size=5)
    return Architecture("lc", InputShape(1, 28, 28), (spec, ReluSpec(), FlattenSpec(), LinearSpec(10)))


def test_one_5x5_map_on_28x28_has_the_decks_14976_parameters_and_conv2d_26():
    lc = analyze(one_map()).layers[0]
    conv = analyze(one_map(Conv2dSpec(1, 5))).layers[0]
    assert lc.output_shape == conv.output_shape == (1, 24, 24)
    assert lc.params == 25 * 24 * 24 + 24 * 24 == 14_976
    assert conv.params == 26
    assert lc.formula[-1] == "params: 1*24*24*(1*5*5 + 1) = 14976"


def hand_loop(x, weight, bias, stride, pad):
    """The layer by definition: each output value is its own filter's dot product with its window, plus its bias."""
    top, bottom, left, right = pad
    x = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    n = x.shape[0]
    c_out, out_h, out_w, _c_in, kh, kw = weight.shape
    out = np.zeros((n, c_out, out_h, out_w))
    for b in range(n):
        for o in range(c_out):
            for i in range(out_h):
                for j in range(out_w):
                    window = x[b, :, i * stride[0]:i * stride[0] + kh, j * stride[1]:j * stride[1] + kw]
                    out[b, o, i, j] = float((window * weight[o, i, j]).sum()) + bias[o, i, j]
    return out


@pytest.mark.parametrize("spec, shape", [
    (LocallyConnected2dSpec(2, 3), (3, 7, 6)),
    (LocallyConnected2dSpec(3, (2, 3), stride=(2, 1), padding=1), (2, 6, 5)),
    (LocallyConnected2dSpec(1, 4, stride=2, padding="same"), (1, 7, 7)),  # uneven zeros: one more after
])
def test_output_equals_the_hand_loop(spec, shape):
    arch = Architecture("lc", InputShape(*shape), (spec,))
    la = analyze(arch).layers[0]
    module = build_model(arch)[0]
    with torch.no_grad():
        module.weight.normal_()
        module.bias.normal_()
        x = torch.randn(2, *shape)
        got = module(x).numpy()
    expected = hand_loop(x.double().numpy(), module.weight.detach().double().numpy(), module.bias.detach().double().numpy(),
                         module.stride, la.padding)
    assert got.shape == (2, *la.output_shape)
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_reported_parameters_and_multiply_adds_are_the_built_modules():
    arch = one_map(LocallyConnected2dSpec(3, (3, 5), stride=2, padding=1))
    la = analyze(arch).layers[0]
    module = build_model(arch)[0]
    assert la.params == sum(p.numel() for p in module.parameters())
    assert la.biases == module.bias.numel() and la.weights == module.weight.numel()
    x = torch.randn(3, 1, 28, 28)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(x)
    assert counter.get_total_flops() == 2 * 3 * la.macs  # one multiply-add = 2 flops, batch of 3


def test_an_input_of_another_size_is_refused_with_the_reason():
    module = build_model(one_map())[0]
    with pytest.raises(ValueError, match="weights for 24x24 output positions"):
        module(torch.zeros(1, 1, 32, 32))


def test_a_few_steps_lower_the_loss():
    torch.manual_seed(0)
    arch = one_map()
    model = build_model(arch)
    x, y = torch.randn(32, 1, 28, 28), torch.randint(0, 10, (32,))
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(10):
        loss = torch.nn.functional.cross_entropy(model.logits(x), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    assert model[0].weight.grad.abs().sum() > 0


def test_the_architecture_file_round_trips():
    arch = one_map(LocallyConnected2dSpec(2, (3, 5), stride=(1, 2), padding="same"))
    assert from_dict(to_dict(arch)) == arch


@pytest.mark.parametrize("spec", [LocallyConnected2dSpec(2, 4, stride=2, padding=1),
                                  LocallyConnected2dSpec(2, 4, padding="same")])  # 1 zero before, 2 after
def test_a_users_sequential_of_it_converts_back(spec):
    arch = one_map(spec)
    model = build_model(arch).eval()
    conversion = convert_sequential(torch.nn.Sequential(*model), (1, 28, 28))
    assert conversion.arch.layers == arch.layers
    check_conversion(conversion, model, torch.randn(2, 1, 28, 28))


@pytest.fixture
def trained():
    torch.manual_seed(1)
    arch = one_map(LocallyConnected2dSpec(2, 5, stride=2, padding="same"))
    model = build_model(arch).eval()
    x = torch.randn(3, 1, 28, 28)
    with torch.no_grad():
        return arch, model, x, model(x)


def test_state_dict_safetensors_and_torchscript_exports_give_the_same_outputs(tmp_path, trained):
    arch, model, x, y = trained
    for path in (export_state_dict(arch, model, tmp_path / "w.pt"), export_safetensors(arch, model, tmp_path / "w.safetensors")):
        state = load_file(path) if path.suffix == ".safetensors" else torch.load(path, weights_only=True)
        assert state["0.weight"].shape == (2, 14, 14, 1, 5, 5) and state["0.bias"].shape == (2, 14, 14)
        rebuilt = build_model(arch).eval()
        rebuilt.load_state_dict(state)
        with torch.no_grad():
            torch.testing.assert_close(rebuilt(x), y)
    scripted = load_torchscript(export_torchscript(arch, model, tmp_path / "net.torchscript"))
    with torch.no_grad():
        torch.testing.assert_close(scripted(x), y)


def test_onnx_export_runs_in_onnxruntime_with_torch_outputs(tmp_path, trained, recwarn):
    ort = pytest.importorskip("onnxruntime")
    arch, model, x, y = trained
    session = ort.InferenceSession(str(export_onnx(arch, model, tmp_path / "net.onnx")),
                                   providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {"input": x.numpy()})
    np.testing.assert_allclose(out, y.numpy(), atol=1e-4)
    assert not [str(w.message) for w in recwarn]


def test_standalone_python_export_runs_without_convscope(tmp_path, trained):
    arch, model, x, y = trained
    py_path, _ = export_python(arch, model, tmp_path / "lc_net.py")
    torch.save({"x": x, "y": y}, tmp_path / "io.pt")
    script = ("import importlib.util, sys, torch\n"
              f"spec = importlib.util.spec_from_file_location('lc_net', {str(py_path)!r})\n"
              "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
              f"io = torch.load({str(tmp_path / 'io.pt')!r}, weights_only=True)\n"
              "with torch.no_grad():\n"
              "    diff = (m.load()(io['x']) - io['y']).abs().max().item()\n"
              "print(diff, sorted({k.split('.')[0] for k in sys.modules} & {'engine', 'models', 'gui'}))\n")
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    diff, loaded = out.stdout.split(" ", 1)
    assert float(diff) < 1e-5 and json.loads(loaded.replace("'", '"')) == []
