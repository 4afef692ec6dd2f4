"""Standalone Python export: the generated module, imported in a fresh process, matches the app's model."""

import ast
import json
import subprocess
import sys

import pytest
import torch
from safetensors.torch import save_file

from engine.export.python_source import class_name, export_python, generate_source
from engine.export.target import ExportError, example_input
from engine.export.torch_formats import export_state_dict
from models.presets import PRESET_KEYS, load_preset
from tests.engine.trained_models import trained_like

# Imports a generated module by path, runs it on saved inputs and reports the largest difference from the
# app's outputs, and which project packages got loaded (none may be).
CHECK = r"""
import importlib.util, json, sys
import torch
from safetensors.torch import load_file
results = {}
for key, py_path, pt_path, io_path in json.loads(sys.argv[1]):
    spec = importlib.util.spec_from_file_location("net_" + key, py_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    data = load_file(io_path)
    with torch.no_grad():
        default = module.load()            # weights beside the module
        from_pt = module.load(pt_path)     # a state-dict .pt
        results[key] = {
            "diff": (default(data["x"]) - data["y"]).abs().max().item(),
            "diff_pt": (from_pt(data["x"]) - data["y"]).abs().max().item(),
            "training": default.training,
            "keys": sorted(default.state_dict()),
            "input_shape": list(module.INPUT_SHAPE),
        }
results["loaded"] = sorted({m.split(".")[0] for m in sys.modules} & {"engine", "models", "gui", "PySide6"})
print(json.dumps(results))
"""


def test_generated_modules_match_the_app_models_in_a_fresh_process(tmp_path):
    jobs, expected_keys = [], {}
    for key in PRESET_KEYS:
        arch, model = trained_like(key)
        folder = tmp_path / key
        folder.mkdir()
        py_path, weights_path = export_python(arch, model, folder / f"{key}_net.py")
        assert weights_path == folder / f"{key}_net.safetensors" and weights_path.exists()
        export_state_dict(arch, model, folder / "weights.pt")
        x = example_input(arch, 4, seed=1)
        with torch.no_grad():
            y = model.eval()(x)
        save_file({"x": x, "y": y.contiguous()}, folder / "io.safetensors")
        jobs.append((key, str(py_path), str(folder / "weights.pt"), str(folder / "io.safetensors")))
        expected_keys[key] = sorted(model.state_dict())
    out = subprocess.run([sys.executable, "-c", CHECK, json.dumps(jobs)], cwd=tmp_path, capture_output=True,
                         text=True, timeout=240)
    assert out.returncode == 0, out.stderr
    results = json.loads(out.stdout)
    assert results.pop("loaded") == []
    for key in PRESET_KEYS:
        r = results[key]
        assert r["diff"] <= 1e-6 and r["diff_pt"] <= 1e-6, (key, r)
        assert r["training"] is False
        assert r["keys"] == expected_keys[key]
        assert r["input_shape"] == list(load_preset(key).input.as_tuple())


@pytest.mark.parametrize("key", PRESET_KEYS)
def test_generated_source_imports_only_torch_safetensors_and_pathlib(key):
    tree = ast.parse(generate_source(load_preset(key)))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported <= {"torch", "safetensors", "pathlib"}


def test_source_is_readable_shapes_params_helpers_and_docstring():
    arch = load_preset("all_conv")
    source = generate_source(arch)
    assert source.startswith(f'"""{arch.name}: a standalone PyTorch network')
    assert "Input: 1x28x28" in source
    assert "class AllConvolutionalNet(nn.Sequential):" in source
    assert "class PaddedConv2d(nn.Conv2d):" in source and "class GlobalAvgPool2d" not in source
    assert "# layer 3 (conv2d): -> 16x14x14, 2,320 params" in source
    assert "def load(weights_path=None):" in source
    assert "class GlobalAvgPool2d(nn.Module):" in generate_source(load_preset("fully_conv"))


@pytest.mark.parametrize("name, expected", [("Keras MNIST convnet", "KerasMnistConvnet"),
                                            ("LeNet-5", "Lenet5"), ("3 layers", "Net3Layers"),
                                            ("", "Network"), ("class", "Class")])
def test_class_names_are_valid_identifiers(name, expected):
    assert class_name(name) == expected and class_name(name).isidentifier()


def test_python_export_refuses_a_wrong_suffix_and_missing_weights(tmp_path):
    arch, model = trained_like("lenet5")
    with pytest.raises(ExportError, match="must end in .py"):
        export_python(arch, model, tmp_path / "net.txt")
    with pytest.raises(ExportError, match="no trained weights"):
        export_python(arch, None, tmp_path / "net.py")
    assert list(tmp_path.iterdir()) == []
