"""The .convscope project file: round trip, refusal of damaged files (naming the member), atomic save."""

import hashlib
import io
import json
import os
import zipfile

import pytest
import torch

from engine.network.builder import build_model
from engine.config import TrainConfig
from engine.metrics import MetricsHistory
from engine.project.project_file import (ARCHITECTURE, MANIFEST, METRICS, SETTINGS, WEIGHTS, Project, ProjectError,
                            load_project, save_project)
from engine.project.sources import open_project_or_run
from models import architecture_file
from models.presets import PRESET_KEYS, load_preset


def random_state(arch, seed=0):
    """Weights as after training: random parameters and (for batch norm) non-trivial running statistics."""
    torch.manual_seed(seed)
    model = build_model(arch)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if tensor.is_floating_point():
                tensor.copy_(torch.rand_like(tensor) + 0.5 if "running_var" in name else torch.randn_like(tensor))
            else:
                tensor.fill_(7)
    return {k: v.clone() for k, v in model.state_dict().items()}


def sample_project(key="lenet5", weights=True):
    arch = load_preset(key)
    history = MetricsHistory(batches=[(1, 1, 2.3, 0.1), (2, 1, 1.9, 0.25)],
                             epochs=[(1, 2, 2.1, 0.175, 1.8, 0.3)])
    config = TrainConfig(dataset="fashion", learning_rate=0.01, batch_size=32, epochs=3, seed=42)
    return Project(arch, config, history, random_state(arch) if weights else None, {"ui": {"probe_index": 3}})


def rewrite(path, replace=None, drop=(), add=None, resign=True):
    """A copy of the project zip at `path` with members replaced, dropped or added (a hand-damaged file).

    With `resign` (unless the manifest itself is replaced), the manifest's checksums are updated to match, as a
    careful hand-editor would, so the test reaches the member's own check; `resign=False` leaves them stale.
    """
    with zipfile.ZipFile(path) as zf:
        members = {info.filename: zf.read(info) for info in zf.infolist()}
    members.update(replace or {})
    for name in drop:
        members.pop(name)
    members.update(add or {})
    if resign and MANIFEST in members and MANIFEST not in (replace or {}):
        manifest = json.loads(members[MANIFEST])
        manifest["members"] = {name: {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                               for name, data in members.items() if name != MANIFEST and name not in drop}
        members[MANIFEST] = json.dumps(manifest).encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    path.write_bytes(buf.getvalue())


@pytest.mark.parametrize("key", PRESET_KEYS)
def test_round_trip_keeps_architecture_settings_history_weights_and_extras(tmp_path, key):
    project = sample_project(key)
    path = tmp_path / "net.convscope"
    save_project(project, path)
    loaded = load_project(path)
    assert architecture_file.to_dict(loaded.architecture) == architecture_file.to_dict(project.architecture)
    assert loaded.config == project.config
    assert loaded.history == project.history
    assert loaded.extras == {"ui": {"probe_index": 3}}
    assert loaded.weights.keys() == project.weights.keys()
    for name, tensor in project.weights.items():
        assert torch.equal(loaded.weights[name], tensor), name
    # The loaded weights drive a network to the same outputs as the original.
    a, b = build_model(project.architecture).eval(), build_model(loaded.architecture).eval()
    a.load_state_dict(project.weights)
    b.load_state_dict(loaded.weights)
    x = torch.rand(2, *project.architecture.input.as_tuple())
    assert torch.equal(a(x), b(x))


def test_file_is_one_deflated_zip_of_json_csv_and_safetensors_only(tmp_path):
    from safetensors.torch import load as load_safetensors_bytes
    path = tmp_path / "p.convscope"
    save_project(sample_project(), path)
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        assert names == {MANIFEST, ARCHITECTURE, SETTINGS, METRICS, WEIGHTS, "extras/ui.json"}
        assert all(info.compress_type == zipfile.ZIP_DEFLATED for info in zf.infolist())
        manifest = json.loads(zf.read(MANIFEST))
        assert manifest["format"] == "convscope.project" and manifest["version"] == 2
        assert {"app_version", "created"} <= set(manifest)
        # Every member is read by its own plain format's parser: nothing is a pickle.
        assert json.loads(zf.read(SETTINGS))["learning_rate"] == 0.01
        assert json.loads(zf.read(ARCHITECTURE))["format"] == "convscope.architecture"
        assert json.loads(zf.read("extras/ui.json")) == {"probe_index": 3}
        assert MetricsHistory.from_csv(zf.read(METRICS).decode()).epochs == [(1, 2, 2.1, 0.175, 1.8, 0.3)]
        assert set(load_safetensors_bytes(zf.read(WEIGHTS))) == set(sample_project().weights)


def test_untrained_project_has_no_weights_member_and_loads_with_none(tmp_path):
    path = tmp_path / "untrained.convscope"
    save_project(Project(load_preset("tiny_vgg")), path)
    with zipfile.ZipFile(path) as zf:
        assert WEIGHTS not in zf.namelist()
    loaded = load_project(path)
    assert loaded.weights is None and loaded.history == MetricsHistory() and loaded.config == TrainConfig()


def test_loading_does_not_move_the_global_random_seed(tmp_path):
    path = tmp_path / "p.convscope"
    save_project(sample_project(), path)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    load_project(path)
    assert torch.equal(torch.rand(3), expected)


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "p.convscope"
    save_project(sample_project(), path)
    return path


def refusal(path):
    with pytest.raises(ProjectError) as info:
        load_project(path)
    message = str(info.value)
    assert str(path) in message
    return message


def test_truncated_zip_is_refused(saved):
    saved.write_bytes(saved.read_bytes()[: saved.stat().st_size // 2])
    assert "not a zip archive, or truncated" in refusal(saved)


def test_not_a_zip_is_refused(saved):
    saved.write_text("hello")
    assert "not a ConvScope project" in refusal(saved)


@pytest.mark.parametrize("member", [MANIFEST, ARCHITECTURE, SETTINGS, METRICS])
def test_missing_member_is_named(saved, member):
    rewrite(saved, drop=[member])
    assert f"missing member {member}" in refusal(saved)


@pytest.mark.parametrize("member", [MANIFEST, SETTINGS, "extras/ui.json"])
def test_bad_json_names_member_line_and_column(saved, member):
    rewrite(saved, replace={member: b'{\n  "format": oops\n}'})
    message = refusal(saved)
    assert f"{member}: not valid JSON" in message and "line 2, column 13" in message


def test_newer_format_version_asks_for_an_update(saved):
    manifest = {"format": "convscope.project", "version": 3, "app_version": "9.0", "created": "2030-01-01"}
    rewrite(saved, replace={MANIFEST: json.dumps(manifest).encode()})
    message = refusal(saved)
    assert "manifest.json" in message and "version 3" in message and "update ConvScope" in message


def test_wrong_format_name_is_refused(saved):
    rewrite(saved, replace={MANIFEST: b'{"format": "something.else", "version": 2}'})
    assert "not a ConvScope project" in refusal(saved)


def test_bad_architecture_names_the_member_and_the_layer(saved):
    data = json.loads(architecture_file.dumps(load_preset("lenet5")))
    data["layers"][0]["type"] = "conv9d"
    rewrite(saved, replace={ARCHITECTURE: json.dumps(data).encode()})
    message = refusal(saved)
    assert "architecture.json" in message and "layer 1" in message and "conv9d" in message


def test_bad_setting_names_the_member_and_setting(saved):
    rewrite(saved, replace={SETTINGS: b'{"learning_rate": -1.0}'})
    message = refusal(saved)
    assert "settings.json" in message and "learning_rate" in message


def test_bad_metrics_names_the_member(saved):
    rewrite(saved, replace={METRICS: b"step,loss\n1,2\n"})
    assert "metrics.csv" in refusal(saved)


def test_weights_that_do_not_fit_name_the_tensor_and_both_shapes(saved):
    from engine.network.weights import state_dict_to_safetensors
    state = random_state(load_preset("lenet5"))
    state["0.weight"] = torch.zeros(8, 1, 5, 5)
    rewrite(saved, replace={WEIGHTS: state_dict_to_safetensors(state)})
    message = refusal(saved)
    assert "weights.safetensors" in message and "'0.weight'" in message
    assert "(8, 1, 5, 5)" in message and "(6, 1, 5, 5)" in message


def test_missing_tensor_is_named(saved):
    from engine.network.weights import state_dict_to_safetensors
    state = random_state(load_preset("lenet5"))
    del state["3.bias"]
    rewrite(saved, replace={WEIGHTS: state_dict_to_safetensors(state)})
    assert "missing 3.bias" in refusal(saved)


def test_garbage_weights_are_refused(saved):
    rewrite(saved, replace={WEIGHTS: b"\x00" * 100})
    assert "weights.safetensors: not valid safetensors" in refusal(saved)


@pytest.mark.parametrize("name", ["../evil.json", "/etc/evil.json", "extras/../../x.json"])
def test_path_traversal_names_are_refused(saved, name):
    rewrite(saved, add={name: b"{}"})
    assert "unsafe name" in refusal(saved)


def test_member_over_its_size_cap_is_refused_before_unpacking(saved, monkeypatch):
    import engine.project.project_file as project_module
    # 2 MB of zeros deflates to about 2 kB: a small zip bomb against a lowered cap.
    rewrite(saved, replace={"extras/big.json": b"[" + b" " * 2_000_000 + b"]"})
    monkeypatch.setattr(project_module, "EXTRA_CAP", 1_000_000)
    assert "extras/big.json" in refusal(saved) and "limit" in refusal(saved)


def test_a_header_that_understates_the_size_is_caught(saved, monkeypatch):
    import engine.project.project_file as project_module
    monkeypatch.setitem(project_module.MEMBER_CAPS, METRICS, 10)
    # Declare 5 bytes in the central directory (under the cap) for a member that holds more.
    data = bytearray(saved.read_bytes())
    pos = data.find(b"PK\x01\x02")
    while pos != -1:
        name_len = int.from_bytes(data[pos + 28:pos + 30], "little")
        if data[pos + 46:pos + 46 + name_len] == METRICS.encode():
            data[pos + 24:pos + 28] = (5).to_bytes(4, "little")  # uncompressed size field
        pos = data.find(b"PK\x01\x02", pos + 4)
    saved.write_bytes(bytes(data))
    message = refusal(saved)
    assert "metrics.csv" in message and "damaged" in message


def test_corrupted_member_bytes_are_reported(saved):
    data = bytearray(saved.read_bytes())
    with zipfile.ZipFile(saved) as zf:
        info = zf.getinfo(WEIGHTS)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0xFF
    saved.write_bytes(bytes(data))
    message = refusal(saved)
    assert "weights.safetensors" in message


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(ProjectError, match="cannot read"):
        load_project(tmp_path / "none.convscope")


def test_save_refuses_weights_that_do_not_fit_and_writes_nothing(tmp_path):
    project = sample_project()
    project.weights["0.bias"] = torch.zeros(3)
    path = tmp_path / "p.convscope"
    with pytest.raises(ProjectError, match=r"'0.bias' has shape \(3,\) but the architecture needs \(6,\)"):
        save_project(project, path)
    assert list(tmp_path.iterdir()) == []


def test_save_into_a_missing_folder_says_so(tmp_path):
    with pytest.raises(ProjectError, match="does not exist"):
        save_project(sample_project(), tmp_path / "nope" / "p.convscope")


def test_failure_mid_write_leaves_the_old_file_byte_identical_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "p.convscope"
    save_project(sample_project("lenet5", weights=False), path)
    before = path.read_bytes()
    real_fdopen = os.fdopen
    seen_temp = []

    class DiskFull(io.RawIOBase):
        """Writes half of what it is given to the real temporary file, then fails like a full disk."""

        def __init__(self, fd, mode):
            self.f = real_fdopen(fd, mode)

        def write(self, data):
            self.f.write(bytes(data)[: len(data) // 2])
            self.f.flush()
            seen_temp.extend(p.name for p in tmp_path.iterdir() if p != path)
            raise OSError(28, "No space left on device")

        def close(self):
            self.f.close()

    project = sample_project("tiny_vgg")  # built first: reading the preset opens files through os.fdopen too
    monkeypatch.setattr(os, "fdopen", DiskFull)
    with pytest.raises(ProjectError, match="No space left on device.*unchanged"):
        save_project(project, path)
    monkeypatch.undo()
    assert seen_temp, "the failure must happen while the temporary file exists"
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["p.convscope"]
    assert load_project(path).weights is None


def test_open_project_or_run_reads_a_run_folder(tmp_path):
    from engine.network.weights import state_dict_to_safetensors
    arch = load_preset("keras_mnist")
    state = random_state(arch)
    architecture_file.save(arch, tmp_path / "architecture.json")
    (tmp_path / "weights.safetensors").write_bytes(state_dict_to_safetensors(state))
    (tmp_path / "metrics.csv").write_text(MetricsHistory(batches=[(1, 1, 0.5, 0.9)]).to_csv())
    project = open_project_or_run(tmp_path)
    assert project.architecture == arch and project.history.batches == [(1, 1, 0.5, 0.9)]
    assert all(torch.equal(project.weights[k], v) for k, v in state.items())


def test_open_project_or_run_explains_a_folder_without_architecture(tmp_path):
    with pytest.raises(ProjectError, match="architecture.json is missing"):
        open_project_or_run(tmp_path)
