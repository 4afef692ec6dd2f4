"""Issue 26 item 5: every experiment variant trains in a child `main.py train` and leaves a full run folder that
`health`, the run-log reader and the Timeline read; a stop ends the running child and starts no later variant; the
caller's own torch thread count is never touched."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from engine.experiments.runner import ExperimentControl, run_experiment
from engine.run_folder import read_run_log
from engine.run_folder.records import writer_process
from models import architecture_file
from models.experiment import from_dict
from tests.engine.training_data import tiny_arch, write_tiny_npz

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def tiny_spec(tmp_path, epochs: int, threads: int):
    data = write_tiny_npz(tmp_path / "tiny.npz")
    return from_dict({"format": "convscope.experiment", "version": 1, "name": "tiny pooling",
                      "base": architecture_file.to_dict(tiny_arch()),
                      "vary": {"what": "pooling", "values": ["none", "max"]}, "seeds": [3],
                      "training": {"dataset": str(data), "epochs": epochs, "batch_size": 32, "device": "cpu",
                                   "threads": threads, "learning_rate": 0.01}})


def other_thread_count() -> int:
    """A thread count the children are told to use that differs from this process's own."""
    return 1 if torch.get_num_threads() != 1 else 2


def assert_full_run_folder(folder: Path) -> None:
    """The oracle is the run folder format's own reader and `main.py health` run as a user runs it."""
    log = read_run_log(folder)
    kinds = {e["kind"] for e in log.events}
    assert log.started is not None and log.finished is not None and {"batch", "epoch", "snapshot"} <= kinds
    assert log.snapshots and all((folder / s.file).is_file() for s in log.snapshots)
    for name in ("architecture.json", "settings.json", "summary.json", "metrics.csv", "weights.safetensors"):
        assert (folder / name).is_file(), name
    health = subprocess.run([sys.executable, str(ROOT / "main.py"), "health", str(folder), "--json"], env=ENV,
                            capture_output=True, text=True, timeout=120)
    assert health.returncode == 0, health.stderr
    report = json.loads(health.stdout)
    assert report["step"] == log.newest_snapshot.step and report["layers"]


def test_each_variant_is_a_full_run_folder_trained_by_a_child(tmp_path):
    before = torch.get_num_threads()
    threads = other_thread_count()
    epochs_seen: list[tuple[str, int]] = []
    results = run_experiment(tiny_spec(tmp_path, 2, threads), tmp_path / "exp",
                             on_epoch=lambda label, seed, e: epochs_seen.append((label, e.epoch)))
    assert torch.get_num_threads() == before  # nothing trained here
    assert [(r.variant, r.seed) for r in results] == [("pooling none", 3), ("pooling max", 3)]
    assert epochs_seen == [("pooling none", 1), ("pooling none", 2), ("pooling max", 1), ("pooling max", 2)]
    for result in results:
        assert_full_run_folder(result.folder)
        log = read_run_log(result.folder)
        assert writer_process(log.started).pid != os.getpid()  # a child wrote it
        summary = json.loads((result.folder / "summary.json").read_text())
        assert summary["threads"] == threads and summary["config"]["seed"] == 3
        assert result.final_val_accuracy == pytest.approx(summary["final_val_accuracy"])
        # the row's curve is the log's: the table is built from the folder
        assert [e.val_accuracy for e in result.history.epochs] == pytest.approx(
            [e["val_accuracy"] for e in log.of_kind("epoch")])


def test_a_stop_ends_the_running_child_and_starts_no_later_variant(tmp_path):
    control = ExperimentControl()
    starts: list[str] = []

    def on_batch(label, seed, event) -> None:
        control.stop()  # as the window's Stop does, from any thread

    results = run_experiment(tiny_spec(tmp_path, 500, 1), tmp_path / "exp", control=control,
                             on_start=lambda n, total, label, seed: starts.append(label), on_batch=on_batch)
    assert starts == ["pooling none"]
    folders = sorted(p.name for p in (tmp_path / "exp").iterdir() if p.is_dir())
    assert folders == ["01-pooling-none-seed3"]
    log = read_run_log(tmp_path / "exp" / folders[0])
    assert log.finished["reason"] == "stopped" and log.finished["epochs_completed"] < 500
    with pytest.raises(ProcessLookupError):  # the child is gone
        os.kill(writer_process(log.started).pid, 0)
    assert [r.variant for r in results] == ["pooling none"]  # a stopped variant keeps its row
    assert (tmp_path / "exp" / "results.csv").read_text().count("\n") == 2


def test_a_child_that_refuses_its_job_fails_the_experiment_with_its_words(tmp_path):
    from models.experiment import ExperimentError

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the child would train")
    spec = tiny_spec(tmp_path, 1, 1)
    # The parent leaves a device it lacks for the child to refuse, in the child's own words.
    with pytest.raises(ExperimentError, match=r'"pooling none" \(seed 3\) did not finish: .*exit status 2: error: '
                                              r'.*cuda'):
        run_experiment(spec, tmp_path / "exp", {"device": "cuda"})
    assert not (tmp_path / "exp" / "02-pooling-max-seed3").exists()


def test_health_names_the_variant_folders_of_an_experiment_folder_and_an_old_variant_folder(tmp_path, capsys):
    from main import main

    exp = tmp_path / "exp"
    old = exp / "01-pooling-none-seed0"
    old.mkdir(parents=True)
    (exp / "experiment.json").write_text('{"name": "t"}')
    architecture_file.save(tiny_arch(), old / "architecture.json")
    assert main(["health", str(exp)]) == 2
    err = capsys.readouterr().err
    assert "an experiment folder; health reads one run, give one of its variant folders (01-pooling-none-seed0)" \
        in err and err.count("\n") == 1
    assert main(["health", str(old)]) == 2
    assert "a variant folder without a run log" in capsys.readouterr().err


def test_sigterm_to_the_cli_stops_its_running_variant_and_starts_no_later_one(tmp_path):
    import signal
    import time

    spec = tiny_spec(tmp_path, 1000, 1)
    path = tmp_path / "spec.json"
    data = {"format": "convscope.experiment", "version": 1, "name": spec.name,
            "base": architecture_file.to_dict(spec.base), "vary": {"what": "pooling", "values": ["none", "max"]},
            "seeds": [3], "training": spec.training}
    path.write_text(json.dumps(data))
    out = tmp_path / "exp"
    first = out / "01-pooling-none-seed3"
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "experiment", str(path), "--out", str(out)],
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not ((first / "events.jsonl").is_file() and read_run_log(first).of_kind("batch")):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)  # to the experiment alone: it stops its child through the control file
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert "SIGTERM received: the experiment stops after this variant's current batch" in stderr
    assert read_run_log(first).finished["reason"] == "stopped"
    assert not (out / "02-pooling-max-seed3").exists()
    assert "| pooling none |" in stdout and "pooling max" not in stdout


@pytest.mark.parametrize("text, message", [
    ("{", "summary.json: not valid JSON"),
    ('{"final_val_accuracy": 0.5, "seconds": "soon", "samples_per_second": 10}', "field seconds: 'soon' is not"),
    ("[1, 2]", "summary.json: expected a JSON object"),
])
def test_a_damaged_variant_summary_is_one_error_naming_the_file(tmp_path, text, message):
    from engine.experiments.results_reader import variant_result
    from models.experiment import ExperimentError

    assert variant_result(tmp_path, "v", 0, 1, 1) is None  # no summary yet: the child wrote no folder
    (tmp_path / "summary.json").write_text(text)
    with pytest.raises(ExperimentError, match=re.escape(message)):
        variant_result(tmp_path, "v", 0, 1, 1)
