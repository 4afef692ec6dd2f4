"""`python main.py summary`: the table, --json, and exit status 2 with one line for a bad file."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args):
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_summary_prints_the_lenet5_table_with_totals():
    result = run("summary", "resources/presets/lenet5.json")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    conv1 = next(line for line in lines if line.split()[:2] == ["1", "conv2d"])
    assert conv1.split()[2:] == ["6x28x28", "4,704", "150", "6", "156", "117,600", "5x5"]
    total = next(line for line in lines if line.split()[:1] == ["total"])
    assert "61,706" in total


def test_summary_json_has_the_documented_keys():
    result = run("summary", "resources/presets/keras_mnist.json", "--json")
    data = json.loads(result.stdout)
    assert data["total_params"] == 34826
    first = data["layers"][0]
    assert {k: first[k] for k in ("index", "type", "output_shape", "params", "macs")} == {
        "index": 1, "type": "conv2d", "output_shape": [32, 26, 26], "params": 320, "macs": 26 * 26 * 32 * 9}
    assert any("maxpool2d" in w for w in data["warnings"])


def test_invalid_file_exits_2_with_one_clear_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "convscope.architecture", "version": 1, "input": {"channels": 1, "height": 8, '
                   '"width": 8}, "layers": [{"type": "conv2d", "out_channels": 2}]}')
    result = run("summary", str(bad))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().count("\n") == 0
    assert "layer 1 (conv2d): field 'kernel_size' is required" in result.stderr


def test_help_lists_every_subcommand():
    result = run("--help")
    assert result.returncode == 0
    for command in ("summary", "train", "evaluate", "export", "download"):
        assert command in result.stdout


def test_summary_prints_the_memory_to_train_at_a_batch_size():
    result = run("summary", "resources/presets/lenet5.json", "--batch-size", "4096")
    assert result.returncode == 0, result.stderr
    memory = next(line for line in result.stdout.splitlines() if line.startswith("memory: "))
    # 61,706 float32 parameters are 247 kB, as are their gradients; Adam keeps two moments.
    assert memory.startswith("memory: about ") and "(weights 247 kB, gradients 247 kB, adam state 494 kB, " \
                                                   "activations at batch 4096 " in memory


def test_summary_json_has_the_memory_estimate():
    data = json.loads(run("summary", "resources/presets/lenet5.json", "--json", "--batch-size", "8").stdout)
    memory = data["memory"]
    assert memory["batch_size"] == 8 and memory["optimizer"] == "adam"
    assert memory["weights_bytes"] == memory["gradients_bytes"] == 4 * 61706
    assert memory["optimizer_state_bytes"] == 2 * 4 * 61706
    assert memory["total_bytes"] == 4 * 4 * 61706 + max(memory["activations_bytes"], memory["evaluation_bytes"])


def test_a_design_too_big_for_the_machine_is_named_by_summary_and_refused_by_train(tmp_path):
    """Issue 27 item 11: conv 4096 then linear 65536 on 32x32 colour images is 275 billion parameters. summary
    warns with the figure (train would refuse it), and train refuses it before allocating anything."""
    arch = {"format": "convscope.architecture", "version": 1, "name": "too big",
            "input": {"channels": 3, "height": 32, "width": 32},
            "layers": [{"type": "conv2d", "out_channels": 4096, "kernel_size": 3, "padding": 1}, {"type": "flatten"},
                       {"type": "linear", "out_features": 65536}, {"type": "linear", "out_features": 10}]}
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(arch))
    table = run("summary", str(path))
    assert table.returncode == 0, table.stderr  # a valid design: the warning does not make it an error
    warning = next(line for line in table.stdout.splitlines() if line.startswith("warning: "))
    assert "this network needs about 4.4 TB to train" in warning and "layer 3 (linear)" in warning
    assert warning.endswith("`train` refuses it before allocating anything")
    assert json.loads(run("summary", str(path), "--json").stdout)["memory_warning"] == warning[len("warning: "):] \
        .removesuffix("; `train` refuses it before allocating anything")
    assert json.loads(run("summary", "resources/presets/lenet5.json", "--json").stdout)["memory_warning"] is None
    train = run("train", str(path), "--dataset", "shapes-rgb", "--epochs", "1", "--out", str(tmp_path / "run"))
    assert train.returncode == 2 and "needs about 5.5 TB to train" in train.stderr
    assert not (tmp_path / "run").exists()


def test_summary_shows_each_layers_receptive_field_and_json_has_field_jump_and_start():
    """Issue 29 item 1. LeNet-5 by hand: conv 5x5 p2 -> 5 (centred on pixel 0); pool 2 -> 5 + 1 = 6, jump 2, start
    0.5; conv 5x5 -> 6 + 4*2 = 14, start 0.5 + 2*2 = 4.5; pool 2 -> 14 + 2 = 16, jump 4, start 5.5."""
    lines = run("summary", "resources/presets/lenet5.json").stdout.splitlines()
    assert lines[2].split()[-2:] == ["Receptive", "field"]
    table = {line.split()[0]: line.split()[-1] for line in lines if line.split()[:1] and line.split()[0].isdigit()}
    assert [table[str(i)] for i in range(0, 8)] == ["1x1", "5x5", "5x5", "6x6", "14x14", "14x14", "16x16", "16x16"]
    assert next(line for line in lines if line.split()[:2] == ["8", "linear"]).endswith("28x28 (all)")
    data = json.loads(run("summary", "resources/presets/lenet5.json", "--json").stdout)
    fields = [(la["receptive_field"], la["jump"], la["start"]) for la in data["layers"]]
    assert fields[:7] == [([5, 5], [1, 1], [0, 0]), ([5, 5], [1, 1], [0, 0]), ([6, 6], [2, 2], [0.5, 0.5]),
                          ([14, 14], [2, 2], [4.5, 4.5]), ([14, 14], [2, 2], [4.5, 4.5]),
                          ([16, 16], [4, 4], [5.5, 5.5]), ([16, 16], None, None)]
    assert fields[7:] == [([28, 28], None, None)] * 5
    formulas = run("summary", "resources/presets/lenet5.json", "--formulas").stdout
    assert "layer 4 (conv2d): receptive field: 6 + (5 - 1)*2 = 14" in formulas
    assert "layer 4 (conv2d): start: 0.5 + ((5 - 1)/2 - 0)*2 = 4.5" in formulas


def test_summary_json_fields_are_null_from_a_layer_error_on(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "convscope.architecture", "version": 1, "input": {"channels": 1, "height": 8,
                                                                                          "width": 8},
                               "layers": [{"type": "conv2d", "out_channels": 2, "kernel_size": 3},
                                          {"type": "conv2d", "out_channels": 2, "kernel_size": 9}]}))
    result = run("summary", str(bad), "--json")
    assert result.returncode == 1
    layers = json.loads(result.stdout)["layers"]
    assert layers[0]["receptive_field"] == [3, 3]
    assert (layers[1]["receptive_field"], layers[1]["jump"], layers[1]["start"]) == (None, None, None)
    table = run("summary", str(bad)).stdout
    assert next(line for line in table.splitlines() if line.split()[:1] == ["2"]).split()[-1] == "?"


def test_summary_of_a_graph_has_the_receptive_field_column():
    """ResNet-20: each add sees the union of its branches' fields, which is the conv path's (the shortcut's field
    sits inside it): 3 + 2*2 = 7 after the first block's two 3x3 convs; the last add 81x81 (jump 4)."""
    data = json.loads(run("summary", "resources/presets/resnet20.json", "--json").stdout)
    adds = [la for la in data["layers"] if la["type"] == "add"]
    assert [la["receptive_field"][0] for la in adds] == [7, 11, 15, 21, 29, 37, 49, 65, 81]
    assert adds[-1]["jump"] == [4, 4] and adds[-1]["start"] == [0, 0]
    table = run("summary", "resources/presets/resnet20.json").stdout.splitlines()
    assert table[2].split()[-2:] == ["Receptive", "field"]
    assert next(line for line in table if line.split()[:2] == ["9", "add"]).endswith("7x7")
    formulas = run("summary", "resources/presets/resnet20.json", "--formulas").stdout
    assert "layer 9 (add): first unit's pixels -3..3 and -1..1" in formulas
