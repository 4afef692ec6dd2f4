"""The JSON architecture format: round trips, and one clear message for every kind of bad file."""

import json

import pytest
from hypothesis import given, settings

from models import architecture_file
from models.architecture import Architecture, InputShape
from models.architecture_file import ArchitectureFileError
from models.layers import Conv2dSpec, LinearSpec, MaxPool2dSpec
from models.presets import PRESET_KEYS, load_preset
from tests.models.strategies import architectures

ISSUE_EXAMPLE = """{"format": "convscope.architecture", "version": 1, "name": "LeNet-5",
 "input": {"channels": 1, "height": 28, "width": 28},
 "layers": [{"type": "conv2d", "out_channels": 6, "kernel_size": 5, "padding": 2},
            {"type": "relu"}, {"type": "maxpool2d", "kernel_size": 2},
            {"type": "flatten"}, {"type": "linear", "out_features": 10}]}"""


def test_the_documented_example_loads_with_pytorch_defaults_for_omitted_fields():
    arch = architecture_file.loads(ISSUE_EXAMPLE)
    assert arch.name == "LeNet-5" and arch.input == InputShape(1, 28, 28)
    conv = arch.layers[0]
    assert conv == Conv2dSpec(out_channels=6, kernel_size=5, stride=1, padding=2, bias=True)
    assert arch.layers[2] == MaxPool2dSpec(kernel_size=2, stride=None, padding=0)
    assert arch.layers[4] == LinearSpec(10, True)


@pytest.mark.parametrize("key", PRESET_KEYS)
def test_presets_round_trip(key, tmp_path):
    arch = load_preset(key)
    path = tmp_path / "a.json"
    architecture_file.save(arch, path)
    assert architecture_file.load(path) == arch


@settings(max_examples=60, deadline=None)
@given(architectures())
def test_any_architecture_round_trips(arch):
    assert architecture_file.loads(architecture_file.dumps(arch)) == arch


def test_pairs_are_written_as_lists_and_read_back_as_tuples():
    arch = Architecture("x", InputShape(), (Conv2dSpec(4, (3, 5), (1, 2), "same"),))
    data = architecture_file.to_dict(arch)
    assert data["layers"][0]["kernel_size"] == [3, 5]
    assert architecture_file.from_dict(json.loads(json.dumps(data))).layers[0].kernel_size == (3, 5)


def _with_layer(layer):
    data = json.loads(ISSUE_EXAMPLE)
    data["layers"].insert(1, layer)
    return json.dumps(data)


@pytest.mark.parametrize("text, message", [
    (_with_layer({"type": "conv3d"}), "layer 2: unknown layer type 'conv3d'; known types: conv2d,"),
    (_with_layer({"type": "relu", "inplace": True}), "layer 2 (relu): unknown field 'inplace'"),
    (_with_layer({"type": "conv2d", "kernel_size": 3}), "layer 2 (conv2d): field 'out_channels' is required"),
    (_with_layer({"type": "conv2d", "out_channels": 4, "kernel_size": "3"}),
     "layer 2 (conv2d): field 'kernel_size': expected a whole number or [height, width], got '3'"),
    (_with_layer({"type": "conv2d", "out_channels": 4.5, "kernel_size": 3}),
     "layer 2 (conv2d): field 'out_channels': expected a whole number, got 4.5"),
    (_with_layer({"type": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": "full"}),
     "field 'padding': expected a number, [height, width], \"valid\" or \"same\", got 'full'"),
    (_with_layer({"type": "conv2d", "out_channels": 0, "kernel_size": 3}),
     "layer 2 (conv2d): field 'out_channels': 0 is out of range; use 1 to 4096"),
    (_with_layer({"type": "conv2d", "out_channels": 4, "kernel_size": [3, 3, 3]}),
     "expected a number or [height, width], got a list of 3"),
    (_with_layer({"type": "linear", "out_features": 10, "bias": 1}),
     "layer 2 (linear): field 'bias': expected true or false, got 1"),
    (_with_layer({"type": "dropout", "p": -0.1}), "layer 2 (dropout): field 'p': -0.1 is out of range"),
    (_with_layer("relu"), "layer 2: expected an object"),
    (ISSUE_EXAMPLE.replace('"version": 1', '"version": 4'), "format version 4, newer than this ConvScope reads"),
    (ISSUE_EXAMPLE.replace('"format": "convscope.architecture"', '"format": "keras"'),
     "not a ConvScope architecture"),
    (ISSUE_EXAMPLE.replace('"height": 28', '"height": 0'), "input: field 'height' must be a whole number"),
    (ISSUE_EXAMPLE[:-5], "not valid JSON"),
    ("[]", "not a ConvScope architecture"),
])
def test_bad_files_are_refused_with_one_specific_message(text, message, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ArchitectureFileError) as info:
        architecture_file.load(path)
    assert message in str(info.value)
    assert str(info.value).startswith(str(path))
    assert "\n" not in str(info.value)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ArchitectureFileError, match="cannot read"):
        architecture_file.load(tmp_path / "nope.json")


def test_save_is_atomic_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "a.json"
    architecture_file.save(load_preset("lenet5"), path)
    before = path.read_bytes()

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr("os.fsync", broken_fsync)
    with pytest.raises(OSError):
        architecture_file.save(load_preset("tiny_vgg"), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_saved_files_get_the_usual_permissions_not_owner_only(tmp_path):
    import os
    path = tmp_path / "a.json"
    old = os.umask(0o022)
    try:
        architecture_file.save(load_preset("lenet5"), path)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644
