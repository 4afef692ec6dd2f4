"""engine/network/weights.py and import_weights: safe loading (a malicious pickle never runs), clear mismatch messages."""

import builtins
import os
import pickle

import pytest
import torch

from engine.network.builder import build_model
from engine.export.torch_formats import import_weights
from engine.network.weights import WeightsError, apply_state_dict, load_state_dict, load_weights, save_weights
from models.presets import load_preset


class RunsShell:
    """Unpickling this runs a shell command (the classic malicious-checkpoint payload)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class RunsPython:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return builtins.exec, (f"open({str(self.marker)!r}, 'w').close()",)


@pytest.mark.parametrize("payload", [RunsShell, RunsPython])
@pytest.mark.parametrize("container", ["torch.save", "legacy torch.save", "raw pickle"])
def test_malicious_pt_is_refused_without_running_it(tmp_path, payload, container):
    marker = tmp_path / "pwned"
    evil = {"0.weight": torch.zeros(6, 1, 5, 5), "trap": payload(marker)}
    path = tmp_path / "weights.pt"
    if container == "torch.save":
        torch.save(evil, path)
    elif container == "legacy torch.save":
        torch.save(evil, path, _use_new_zipfile_serialization=False)
    else:
        path.write_bytes(pickle.dumps(evil, protocol=2))
    # Control: the payload really runs when unpickled unsafely (so the test would catch a regression).
    control = tmp_path / "control"
    pickle.loads(pickle.dumps(payload(control)))
    assert control.exists()

    with pytest.raises(WeightsError) as info:
        load_state_dict(path)
    message = str(info.value)
    assert "refused" in message and str(path) in message
    # The blocked callable is named; torch's advice to load the file unsafely is never repeated.
    assert {RunsShell: f"{os.system.__module__}.system", RunsPython: "builtins.exec"}[payload] in message
    assert not any(advice in message for advice in ("weights_only", "add_safe_globals", "safe_globals",
                                                    "trusted source"))
    with pytest.raises(WeightsError, match="refused"):
        import_weights(load_preset("lenet5"), path)
    assert not marker.exists()


def test_shape_mismatch_names_tensor_and_both_shapes():
    model = build_model(load_preset("lenet5"))
    state = dict(model.state_dict())
    state["3.weight"] = torch.zeros(16, 6, 3, 3)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(WeightsError) as info:
        apply_state_dict(model, {k: torch.ones_like(v) if k != "3.weight" else v for k, v in state.items()},
                         source="w.pt")
    assert str(info.value) == ("w.pt: tensor '3.weight' has shape (16, 6, 3, 3) but the architecture needs "
                               "(16, 6, 5, 5)")
    # Nothing changed on error: not even the tensors that did fit.
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_missing_and_unexpected_tensors_are_named():
    model = build_model(load_preset("lenet5"))
    state = dict(model.state_dict())
    del state["0.bias"]
    state["extra.weight"] = torch.zeros(1)
    with pytest.raises(WeightsError, match=r"missing 0\.bias; unexpected extra\.weight"):
        apply_state_dict(model, state)


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_save_then_load_weights_restores_every_tensor(tmp_path, suffix):
    torch.manual_seed(1)
    source = build_model(load_preset("fully_conv"))
    path = tmp_path / f"w{suffix}"
    save_weights(source, path)
    torch.manual_seed(2)
    target = build_model(load_preset("fully_conv"))
    load_weights(target, path)
    for name, tensor in source.state_dict().items():
        assert torch.equal(target.state_dict()[name], tensor), name


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_import_weights_into_the_current_architecture(tmp_path, suffix):
    arch = load_preset("keras_mnist")
    torch.manual_seed(3)
    source = build_model(arch).eval()
    save_weights(source, tmp_path / f"w{suffix}")
    state = import_weights(arch, tmp_path / f"w{suffix}")
    target = build_model(arch).eval()
    target.load_state_dict(state)
    x = torch.rand(4, 1, 28, 28)
    assert torch.equal(target(x), source(x))


def test_import_weights_with_other_shapes_names_tensor_and_both_shapes(tmp_path):
    lenet = load_preset("lenet5")
    save_weights(build_model(lenet), tmp_path / "lenet.safetensors")
    # A 3x3 first kernel with padding 1: same output shape, so only tensor 0.weight differs.
    smaller = lenet.with_layers([lenet.layers[0].replace(kernel_size=3, padding=1), *lenet.layers[1:]])
    with pytest.raises(WeightsError) as info:
        import_weights(smaller, tmp_path / "lenet.safetensors")
    message = str(info.value)
    assert "lenet.safetensors" in message and "'0.weight'" in message
    assert "(6, 1, 5, 5)" in message and "(6, 1, 3, 3)" in message


def test_import_weights_of_another_architecture_names_missing_and_unexpected(tmp_path):
    save_weights(build_model(load_preset("lenet5")), tmp_path / "lenet.safetensors")
    with pytest.raises(WeightsError, match=r"lenet\.safetensors: the weights do not fit this architecture: missing 8\.weight"):
        import_weights(load_preset("keras_mnist"), tmp_path / "lenet.safetensors")


def test_import_weights_accepts_a_checkpoint_with_a_state_dict_key(tmp_path):
    arch = load_preset("lenet5")
    model = build_model(arch)
    torch.save({"state_dict": model.state_dict(), "epoch": 3}, tmp_path / "ckpt.pt")
    state = import_weights(arch, tmp_path / "ckpt.pt")
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())


@pytest.mark.parametrize("name, content, expected", [
    ("w.safetensors", b"\x00" * 40, "not a valid safetensors file"),
    ("w.pt", b"not a torch file", "not a readable PyTorch file"),
    ("w.h5", b"", "unknown weights format"),
])
def test_unreadable_files_are_refused_with_the_reason(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(WeightsError, match=expected):
        load_state_dict(path)


def test_an_empty_or_cut_pt_says_so_instead_of_an_unknown_problem(tmp_path):
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(WeightsError, match=r"empty\.pt: not a readable PyTorch file \(it ends too early: empty, or "
                                           r"cut short"):
        load_state_dict(tmp_path / "empty.pt")


class CallsSubprocess:
    def __reduce__(self):
        import subprocess
        return subprocess.call, (["true"],)


@pytest.mark.parametrize("legacy", [False, True])
def test_a_protocol_2_pickle_names_the_python_3_callable(tmp_path, legacy):
    """Protocol 2 writes subprocess.call as Python 2's commands.call; the message names what would really run."""
    path = tmp_path / "w.pt"
    torch.save({"trap": CallsSubprocess()}, path, pickle_protocol=2, _use_new_zipfile_serialization=not legacy)
    with pytest.raises(WeightsError, match=r"it would call subprocess\.call when loaded") as info:
        load_state_dict(path)
    assert "commands" not in str(info.value)


def test_a_pt_holding_something_other_than_tensors_is_refused(tmp_path):
    torch.save([1, 2, 3], tmp_path / "list.pt")
    with pytest.raises(WeightsError, match="expected a state dict"):
        load_state_dict(tmp_path / "list.pt")
