"""`python main.py evaluate`: a run folder or an architecture + weights, text and JSON, and clean errors."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from engine.cli.evaluate_command import confusion_table
from main import main
from models import architecture_file
from models.layers import Conv2dSpec
from tests.engine.training_data import CLASSES, evaluate_json, tiny_arch, train_tiny_run


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One trained run folder (2 epochs on the tiny set, 20% held out) shared by the tests below."""
    return train_tiny_run(tmp_path_factory.mktemp("evaluate"))


def test_the_run_folder_evaluates_to_the_accuracy_training_reported(run, capsys):
    _, data, out = run
    summary = json.loads((out / "summary.json").read_text())
    # The dataset, seed and split fraction come from the run's settings, so this is the held-out split.
    result = evaluate_json(capsys, str(out))
    assert set(result) == {"accuracy", "loss", "samples", "confusion_matrix", "dataset", "split", "per_class", "mistakes"}
    assert result["split"] == "val" and result["dataset"] == str(data)
    assert result["samples"] == summary["val_samples"] == 24
    assert result["accuracy"] == pytest.approx(summary["final_val_accuracy"])
    assert result["loss"] == pytest.approx(summary["final_val_loss"], rel=1e-6)
    matrix = np.array(result["confusion_matrix"])
    assert matrix.shape == (3, 3) and matrix.sum() == 24
    assert np.trace(matrix) / 24 == pytest.approx(result["accuracy"])


def test_an_architecture_with_explicit_weights_gives_the_same_result(run, capsys):
    arch, data, out = run
    from_folder = evaluate_json(capsys, str(out), "--dataset", str(data))
    explicit = evaluate_json(capsys, str(arch), "--weights", str(out / "weights.safetensors"), "--dataset", str(data),
                             "--seed", "2", "--split", "val")
    assert explicit == from_folder


def test_text_output_has_the_numbers_and_a_labelled_confusion_table(run, capsys):
    _, _, out = run
    capsys.readouterr()
    assert main(["evaluate", str(out)]) == 0
    text = capsys.readouterr().out
    assert "the validation split training held out (24 images)" in text and "accuracy" in text
    assert "0 top-left" in text and "2 bottom" in text


def test_confusion_table_layout():
    table = confusion_table(np.array([[5, 1, 0], [0, 3, 0], [2, 0, 0]]), CLASSES)
    lines = table.splitlines()
    assert lines[1].split() == ["true", "\\", "predicted", "0", "1", "2", "recall"]
    assert lines[2].split() == ["0", "top-left", "5", "1", "0", "83.3%"]
    assert lines[4].split() == ["2", "bottom", "2", "0", "0", "0.0%"]


@pytest.mark.parametrize("case, pattern", [
    ("no-weights", "has no trained weights; pass --weights"),
    ("no-test-split", "has no test split; use --split val or --split all"),
    ("weights-mismatch", "do not fit this architecture|has shape"),
    ("bad-weights-file", "unknown weights format"),
    ("bad-dataset", "not a dataset name"),
])
def test_bad_input_exits_2_with_one_clear_line(run, tmp_path, capsys, case, pattern):
    arch, data, out = run
    args = [str(out), "--dataset", str(data)]
    if case == "no-weights":
        args = [str(arch), "--dataset", str(data)]
    elif case == "no-test-split":
        args += ["--split", "test"]
    elif case == "weights-mismatch":  # 6 filters where the weights have 4
        wide = tmp_path / "wide.json"
        layers = (Conv2dSpec(out_channels=6, kernel_size=3, padding=1),) + tiny_arch().layers[1:]
        architecture_file.save(tiny_arch().with_layers(layers), wide)
        args = [str(wide), "--weights", str(out / "weights.safetensors"), "--dataset", str(data)]
    elif case == "bad-weights-file":
        args += ["--weights", str(tmp_path / "weights.bin")]
    elif case == "bad-dataset":
        args = [str(out), "--dataset", "no-such-set"]
    capsys.readouterr()
    assert main(["evaluate", *args]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    assert re.search(pattern, lines[0])
