"""`python main.py train`: the run folder, its contents, Ctrl-C, and exit 2 with one line for bad input."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from engine.network.builder import build_model
from engine.metrics import MetricsHistory
from engine.network.weights import load_weights
from main import main
from models import architecture_file
from tests.engine.training_data import huge_arch, tiny_arch, write_tiny_npz

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def inputs(tmp_path):
    arch = tmp_path / "tiny.json"
    architecture_file.save(tiny_arch(), arch)
    return arch, write_tiny_npz(tmp_path / "tiny.npz")


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


def test_train_writes_the_run_folder(inputs, tmp_path, capsys):
    arch, data = inputs
    out = tmp_path / "run"
    code = main(["train", str(arch), "--dataset", str(data), "--epochs", "2", "--batch-size", "16", "--lr", "0.01",
                 "--seed", "5", "--device", "cpu", "--threads", "1", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert sorted(p.name for p in out.iterdir()) == ["architecture.json", "events.jsonl", "metrics.csv",
                                                     "settings.json", "snapshots", "summary.json",
                                                     "weights.safetensors"]  # the live log (test_run_folder.py)
    assert architecture_file.load(out / "architecture.json") == tiny_arch()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["reason"] == "completed" and summary["epochs"] == 2 and summary["device"] == "cpu"
    assert summary["val_samples"] == 24 and 0 <= summary["final_val_accuracy"] <= 1
    assert summary["samples_per_second"] > 0 and summary["seconds"] > 0
    assert summary["config"]["seed"] == 5 and summary["config"]["learning_rate"] == 0.01
    history = MetricsHistory.from_csv((out / "metrics.csv").read_text())
    assert [row[0] for row in history.epochs] == [1, 2] and history.batches
    assert summary["final_val_accuracy"] == history.epochs[-1][5]  # completed: the saved weights are the last
    model = build_model(tiny_arch())
    load_weights(model, out / "weights.safetensors")
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert "epoch 2/2" in captured.err and "samples/s" in captured.err
    assert f"wrote {out}" in captured.out


def test_options_left_out_take_the_run_folders_settings(inputs, tmp_path, capsys):
    arch, data = inputs
    first = tmp_path / "first"
    assert main(["train", str(arch), "--dataset", str(data), "--epochs", "1", "--batch-size", "32", "--seed", "7",
                 "--device", "cpu", "--threads", "1", "--out", str(first)]) == 0
    second = tmp_path / "second"
    assert main(["train", str(first), "--out", str(second)]) == 0
    config = json.loads((second / "summary.json").read_text())["config"]
    assert (config["dataset"], config["batch_size"], config["seed"]) == (str(data), 32, 7)
    assert "starting from the trained weights" in capsys.readouterr().err


@pytest.mark.parametrize("case, pattern", [
    ("missing-arch", "nope.json: cannot read: No such file"),
    ("invalid-arch", "not valid JSON"),
    ("bad-dataset", "no such file or folder, and not a dataset name"),
    ("shape-mismatch", "input is 1x28x28 .* has 1x8x8 images"),
    ("bad-setting", "learning_rate must be in"),
    ("out-is-a-file", "exists and is not a folder"),
])
def test_bad_input_exits_2_with_one_clear_line(inputs, tmp_path, capsys, case, pattern):
    arch, data = inputs
    args = {"arch": str(arch), "dataset": str(data), "out": str(tmp_path / "run"), "extra": []}
    if case == "missing-arch":
        args["arch"] = str(tmp_path / "nope.json")
    elif case == "invalid-arch":
        (tmp_path / "bad.json").write_text("{ not json")
        args["arch"] = str(tmp_path / "bad.json")
    elif case == "bad-dataset":
        args["dataset"] = str(tmp_path / "missing.npz")
    elif case == "shape-mismatch":
        architecture_file.save(tiny_arch(size=28), tmp_path / "big.json")
        args["arch"] = str(tmp_path / "big.json")
    elif case == "bad-setting":
        args["extra"] = ["--lr", "-1"]
    elif case == "out-is-a-file":
        (tmp_path / "run").write_text("")
    code = main(["train", args["arch"], "--dataset", args["dataset"], "--out", args["out"], "--device", "cpu",
                 *args["extra"]])
    assert code == 2
    assert re.search(pattern, one_error_line(capsys))


def test_ctrl_c_stops_cleanly_and_still_writes_the_folder(inputs, tmp_path):
    arch, data = inputs
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "main.py", "train", str(arch), "--dataset", str(data), "--epochs",
                             "10000", "--device", "cpu", "--threads", "1", "--out", str(out)],
                            cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        for line in proc.stderr:  # the first progress line means training has started
            if "step 1 " in line:
                break
        proc.send_signal(signal.SIGINT)
        out_text, err_text = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err_text
    assert "Traceback" not in err_text and "stopping after this batch" in err_text
    summary = json.loads((out / "summary.json").read_text())
    assert summary["reason"] == "stopped" and summary["steps"] >= 1
    assert (out / "weights.safetensors").is_file()


# Issue 16 item 5: a network too big for the machine is refused before anything is built, with one sentence.
TOO_BIG = re.compile(r"^error: this network needs about [\d.]+ GB to train \(weights 69 GB, gradients 69 GB, "
                     r"adam state 137 GB, activations at batch 16 .*\), but this machine has [\d.]+ [kMGT]?B free; "
                     r"use fewer features / channels .* in layer 4 \(linear\)")


def needs_less_memory_than_the_huge_network():
    from engine.training.memory_check import available_bytes

    if (available_bytes(torch.device("cpu")) or 0) > 400 * 10**9:
        pytest.skip("this machine could hold the huge network")


def test_a_network_too_big_for_the_machine_is_refused_before_it_is_built(inputs, tmp_path):
    needs_less_memory_than_the_huge_network()
    _, data = inputs
    arch = tmp_path / "huge.json"
    architecture_file.save(huge_arch(), arch)
    out = tmp_path / "run"
    result = subprocess.run([sys.executable, "main.py", "train", str(arch), "--dataset", str(data), "--batch-size",
                             "16", "--device", "cpu", "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)  # a bound for a busy machine; building the model would fail, not hang
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert TOO_BIG.search(result.stderr), result.stderr
    assert not out.exists()  # refused runs leave no folder


def test_the_windows_training_worker_gets_the_same_refusal(inputs, tmp_path):
    needs_less_memory_than_the_huge_network()
    _, data = inputs
    architecture_file.save(huge_arch(), tmp_path / "huge.json")
    job = json.dumps({"argv": [str(tmp_path / "huge.json"), "--dataset", str(data), "--batch-size", "16",
                               "--device", "cpu", "--out", str(tmp_path / "run")]})
    result = subprocess.run([sys.executable, "main.py", "train-worker"], cwd=ROOT, input=job + "\n",
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert TOO_BIG.search(result.stderr.strip().splitlines()[-1]), result.stderr  # the line the window shows


def test_lenet5_is_not_refused(tmp_path):
    out = tmp_path / "run"
    result = subprocess.run([sys.executable, "main.py", "train", "resources/presets/lenet5.json", "--dataset", "mnist",
                             "--epochs", "1", "--device", "cpu", "--threads", "1", "--out", str(out)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and "needs about" not in result.stderr, result.stderr
    assert json.loads((out / "summary.json").read_text())["reason"] == "completed"


def test_the_final_validation_scores_every_image_and_a_failure_in_it_keeps_the_run():
    from engine.cli.train_command import final_validation
    from engine.config import TrainConfig
    from engine.training.trainer import Trainer
    from tests.engine.training_data import tiny_dataset

    dataset = tiny_dataset(n_val=2500)  # more than one validation batch of 1000
    trainer = Trainer(tiny_arch(), dataset, TrainConfig(device="cpu"))
    final, failure = final_validation(trainer, dataset)
    assert failure is None and final.samples == 2500 and final.confusion.sum() == 2500
    wrong = tiny_dataset(size=16)  # 16x16 images: the linear layer cannot take them (a real RuntimeError)
    final, failure = final_validation(trainer, wrong)
    assert final.samples == 0 and failure.startswith("the final validation failed (RuntimeError: ")
    assert "the run folder is written" in failure
