"""Every loader raises only its own documented error, in one short printable line, for hostile or broken input."""

import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import torch

from engine.network.builder import build_model
from engine.datasets.dataset import DatasetError
from engine.datasets.npz import read_npz
from engine.datasets.raw import resolve_class_names
from engine.metrics import MetricsFormatError, MetricsHistory
from engine.project.project_file import METRICS, SETTINGS, ProjectError, load_project, save_project
from engine.network.weights import WeightsError, load_state_dict, load_weights
from models import architecture_file
from models.architecture_file import ArchitectureFileError
from models.presets import load_preset
from tests.engine.test_project import rewrite, sample_project

LENET = json.loads(architecture_file.dumps(load_preset("lenet5")))


def short_printable(message: str) -> None:
    assert len(message) < 400, len(message)
    assert "\x1b" not in message and "\x07" not in message
    message.encode("utf-8")  # no lone surrogate: printing it cannot raise UnicodeEncodeError


def arch_refusal(text: str) -> str:
    with pytest.raises(ArchitectureFileError) as info:
        architecture_file.loads(text)
    short_printable(str(info.value))
    return str(info.value)


def with_layer(layer) -> str:
    return json.dumps({**LENET, "layers": [layer]})


def test_a_list_where_a_type_name_belongs_is_refused():
    assert "layer 1" in arch_refusal(with_layer({"type": ["relu"]}))


@pytest.mark.parametrize("kind", [{"a": 1}, 3, None, True])
def test_any_non_text_type_is_refused(kind):
    assert "unknown layer type" in arch_refusal(with_layer({"type": kind}))


def test_json_nested_a_thousand_deep_is_refused():
    text = json.dumps(LENET).replace('"name"', '"x": ' + "[" * 1000 + "]" * 1000 + ', "name"', 1)
    assert "nested" in arch_refusal(text)


def test_json_nested_deeply_inside_a_field_is_refused():
    assert "nested" in arch_refusal(with_layer({"type": "dropout", "p": json.loads("[" * 100 + "]" * 100)}))


def test_an_integer_of_thousands_of_digits_is_refused():
    text = with_layer({"type": "linear", "out_features": 1}).replace('"out_features": 1', '"out_features": ' + "9" * 5000)
    assert "digits" in arch_refusal(text)


def test_duplicate_keys_are_refused_naming_the_key():
    text = '{"format": "convscope.architecture", "version": 1, "version": 1, "input": {}, "layers": []}'
    assert "'version' appears twice" in arch_refusal(text)


def test_nan_is_refused():
    assert "NaN" in arch_refusal(with_layer({"type": "dropout", "p": 0.5}).replace("0.5", "NaN"))


def test_a_lone_surrogate_in_the_name_is_refused_printably():
    message = arch_refusal(json.dumps({**LENET, "name": "\ud800net"}))
    assert "name" in message and "\\ud800" in message


def test_terminal_escapes_in_a_type_name_are_not_printed():
    message = arch_refusal(with_layer({"type": "\x1b]0;pwned\x07\x1b[31mrelu"}))
    assert "\\x1b" in message


def test_a_huge_value_is_quoted_as_a_short_excerpt():
    arch_refusal(with_layer({"type": "x" * 1_000_000}))
    arch_refusal(with_layer({"type": "dropout", "p": list(range(100_000))}))
    arch_refusal(json.dumps({**LENET, "name": "n" * 100_000}))


# ---------------------------------------------------------------------------------------------------- projects

@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "p.convscope"
    save_project(sample_project(), path)
    return path


def project_refusal(path) -> str:
    with pytest.raises(ProjectError) as info:
        load_project(path)
    short_printable(str(info.value))
    return str(info.value)


def test_every_flipped_byte_of_compressed_data_is_a_project_error(saved):
    """Flips inside a deflate stream raise zlib.error from zipfile (an invalid block, a bad distance)."""
    data = saved.read_bytes()
    with zipfile.ZipFile(saved) as zf:
        info = zf.getinfo(SETTINGS)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    with zipfile.ZipFile(saved) as zf:
        original = zf.read(SETTINGS)
    for offset in range(info.compress_size):
        damaged = bytearray(data)
        damaged[start + offset] ^= 0xFF
        saved.write_bytes(bytes(damaged))
        if offset == info.compress_size - 1 and unchanged(saved, original):
            continue  # the final byte's spare bits: zipfile flushes the same bytes out, nothing is damaged
        assert "settings.json" in project_refusal(saved)


def unchanged(path, original: bytes) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.read(SETTINGS) == original
    except Exception:  # noqa: BLE001 - any failure to read means the flip did damage it
        return False


def test_a_bad_zip_version_field_is_a_project_error(saved):
    data = bytearray(saved.read_bytes())
    central = data.find(b"PK\x01\x02")
    data[central + 6:central + 8] = (100).to_bytes(2, "little")  # "version needed to extract" 10.0
    saved.write_bytes(bytes(data))
    assert "not a zip archive" in project_refusal(saved)


def test_a_metrics_field_over_128_kb_is_a_project_error(saved):
    header = MetricsHistory().to_csv()
    rewrite(saved, replace={METRICS: (header + "batch,1,1," + "1" * 200_000 + ",0.5,,,,\n").encode()})
    assert "metrics.csv" in project_refusal(saved)


def test_a_long_metrics_cell_is_quoted_short():
    with pytest.raises(MetricsFormatError) as info:
        MetricsHistory.from_csv(MetricsHistory().to_csv() + "batch,1,1," + "x" * 100_000 + ",0.5,,,,\n")
    short_printable(str(info.value))


def test_a_dataset_name_with_terminal_escapes_is_refused(saved):
    rewrite(saved, replace={SETTINGS: json.dumps({"dataset": "\x1b[2J"}).encode()})
    assert "dataset" in project_refusal(saved)


# ----------------------------------------------------------------------------------------------------- weights

def lenet_state():
    return build_model(load_preset("lenet5")).state_dict()


def weights_refusal(state, tmp_path) -> str:
    path = tmp_path / "w.pt"
    torch.save(state, path)
    with pytest.raises(WeightsError) as info:
        load_weights(build_model(load_preset("lenet5")), path)
    short_printable(str(info.value))
    return str(info.value)


def test_integer_keys_in_a_state_dict_are_refused(tmp_path):
    state = dict(lenet_state())
    state[7] = torch.zeros(1)
    assert "key 7" in weights_refusal(state, tmp_path)


@pytest.mark.parametrize("make, word", [
    (lambda t: t.to_sparse(), "sparse"),
    (lambda t: torch.empty(t.shape, device="meta"), "meta"),
    (lambda t: torch.quantize_per_tensor(t, 0.1, 0, torch.qint8), "quantized"),
])
@pytest.mark.filterwarnings("ignore::UserWarning")  # quantized tensors are deprecated, and still found in files
def test_sparse_meta_and_quantized_tensors_are_refused(tmp_path, make, word):
    state = dict(lenet_state())
    state["0.weight"] = make(state["0.weight"].detach())
    assert word in weights_refusal(state, tmp_path)


def test_a_state_dict_from_a_safetensors_file_is_checked_too(tmp_path):
    from safetensors.torch import save_file
    path = tmp_path / "w.safetensors"
    save_file({"0.weight": torch.zeros(2, dtype=torch.bool)}, str(path))
    with pytest.raises(WeightsError, match="dtype torch.bool"):
        load_state_dict(path)


# ---------------------------------------------------------------------------------------------------- datasets

def test_uint64_labels_that_would_wrap_to_minus_one_are_refused(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, images=np.zeros((2, 4, 4), np.uint8), labels=np.array([0, 2**64 - 1], np.uint64))
    with pytest.raises(DatasetError, match="out of range"):
        read_npz(path)


def test_a_label_of_a_hundred_million_is_refused_before_naming_classes(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, images=np.zeros((2, 4, 4), np.uint8), labels=np.array([0, 10**8]))
    with pytest.raises(DatasetError, match="at most 10,000 classes"):
        read_npz(path)


def test_class_names_are_cleaned_for_printing():
    from engine.datasets.raw import RawImages
    raw = RawImages(np.zeros((2, 4, 4, 1), np.uint8), np.array([0, 1]), "d.npz")
    names = resolve_class_names(["\x1b[31mcat", "dog\ud800"], [raw])
    for name in names:
        short_printable(name)


# --------------------------------------------------------------------------------------------------------- CLI

def test_the_cli_prints_one_clean_line_for_a_hostile_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(with_layer({"type": "\x1b[2J" + "x" * 10_000}), encoding="utf-8")
    result = subprocess.run([sys.executable, "main.py", "summary", str(bad)], capture_output=True, text=True)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in result.stderr
    short_printable(lines[0])


def test_a_pt_file_with_a_compressed_member_is_refused_unread(tmp_path):
    """torch.save stores its members; a deflated one could unpack to any size inside torch's own reader."""
    plain, packed = tmp_path / "plain.pt", tmp_path / "w.pt"
    torch.save(lenet_state(), plain)
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    with pytest.raises(WeightsError, match="compressed"):
        load_state_dict(packed)


def test_run_folder_weights_larger_than_the_architecture_can_need_are_refused_unread(tmp_path):
    from engine.project.sources import open_project_or_run
    architecture_file.save(load_preset("lenet5"), tmp_path / "architecture.json")
    with open(tmp_path / "weights.safetensors", "wb") as f:
        f.truncate(64 << 20)  # sparse: no disk used, and it must not be read either
    with pytest.raises(ProjectError, match="more than the architecture's tensors can need"):
        open_project_or_run(tmp_path)
