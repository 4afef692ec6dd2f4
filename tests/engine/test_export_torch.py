"""State-dict .pt, safetensors and TorchScript exports reload and give the app model's outputs exactly."""

import pytest
import torch
from safetensors.torch import load_file

from engine.network.builder import build_model
from engine.export.target import ExportError, example_input
from engine.export.torch_formats import (export_safetensors, export_state_dict, export_torchscript,
                                         load_torchscript)
from models.presets import PRESET_KEYS, load_preset
from tests.engine.trained_models import trained_like


def reference(arch, model, batch=3):
    x = example_input(arch, batch, seed=7)
    was_training = model.training
    with torch.no_grad():
        y = model.eval()(x)
    model.train(was_training)
    return x, y


@pytest.mark.parametrize("key", PRESET_KEYS)
def test_state_dict_pt_reloads_with_weights_only_and_gives_equal_outputs(tmp_path, key):
    arch, model = trained_like(key)
    path = export_state_dict(arch, model, tmp_path / "w.pt")
    state = torch.load(path, weights_only=True)
    assert type(state) is dict and set(state) == set(model.state_dict())
    fresh = build_model(arch).eval()
    fresh.load_state_dict(state)
    x, y = reference(arch, model)
    assert torch.equal(fresh(x), y)


@pytest.mark.parametrize("key", PRESET_KEYS)
def test_safetensors_reloads_and_gives_equal_outputs(tmp_path, key):
    arch, model = trained_like(key)
    path = export_safetensors(arch, model.state_dict(), tmp_path / "w.safetensors")
    fresh = build_model(arch).eval()
    fresh.load_state_dict(load_file(path))
    x, y = reference(arch, model)
    assert torch.equal(fresh(x), y)


@pytest.mark.parametrize("key", PRESET_KEYS)
def test_torchscript_loads_with_jit_load_in_eval_mode_and_gives_equal_outputs(tmp_path, key):
    arch, model = trained_like(key)
    path = export_torchscript(arch, model, tmp_path / "net.pt")
    scripted = load_torchscript(path)
    assert not scripted.training
    x, y = reference(arch, model)
    with torch.no_grad():
        assert torch.equal(scripted(x), y)
        torch.testing.assert_close(scripted(x[:1]), y[:1], rtol=0, atol=1e-6)  # another kernel path


def test_torchscript_export_raises_no_deprecation_warning(tmp_path, recwarn):
    arch, model = trained_like("all_conv")
    export_torchscript(arch, model, tmp_path / "net.pt")
    load_torchscript(tmp_path / "net.pt")
    assert not [w for w in recwarn if "torch.jit" in str(w.message)]


def test_export_leaves_the_live_model_in_train_mode_and_unchanged(tmp_path):
    arch, model = trained_like("fully_conv")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    export_torchscript(arch, model, tmp_path / "net.pt")
    assert model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_weights_that_do_not_fit_name_tensor_and_shapes_and_nothing_is_written(tmp_path):
    arch, model = trained_like("lenet5")
    state = dict(model.state_dict())
    state["7.weight"] = torch.zeros(120, 10)
    with pytest.raises(ExportError, match=r"'7.weight' has shape \(120, 10\) but the architecture needs \(120, 400\)"):
        export_safetensors(arch, state, tmp_path / "w.safetensors")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("export, name, expected", [
    (export_state_dict, "missing/w.pt", "does not exist"),
    (export_safetensors, "w.pt", "must end in .safetensors"),
    (export_state_dict, "w.txt", "must end in .pt or .pth"),
])
def test_bad_destinations_are_explained(tmp_path, export, name, expected):
    arch, model = trained_like("lenet5")
    with pytest.raises(ExportError, match=expected):
        export(arch, model, tmp_path / name)


def test_no_weights_is_explained(tmp_path):
    with pytest.raises(ExportError, match="no trained weights"):
        export_state_dict(load_preset("lenet5"), None, tmp_path / "w.pt")


def test_export_replaces_an_existing_file_atomically(tmp_path):
    arch, model = trained_like("lenet5")
    path = tmp_path / "w.safetensors"
    path.write_bytes(b"old")
    export_safetensors(arch, model, path)
    assert set(load_file(path)) == set(model.state_dict())
    assert [p.name for p in tmp_path.iterdir()] == ["w.safetensors"]
