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
    assert conv1.split()[2:] == ["6x28x28", "4,704", "150", "6", "156", "117,600"]
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
