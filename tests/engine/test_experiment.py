"""Experiments: every variant and seed trained into its own run folder; the table agrees with `summary` and with
each run folder; the CLI overrides the spec's settings and refuses a bad spec in one line."""

from __future__ import annotations

import csv
import json

import pytest

from engine.experiments.runner import differing_columns, run_experiment
from main import main
from models import architecture_file
from models.experiment import from_dict
from tests.engine.training_data import tiny_arch, write_tiny_npz


@pytest.fixture
def spec_file(tmp_path):
    data = write_tiny_npz(tmp_path / "tiny.npz")
    spec = {"format": "convscope.experiment", "version": 1, "name": "tiny pooling",
            "base": architecture_file.to_dict(tiny_arch()), "vary": {"what": "pooling", "values": ["none", "max"]},
            "seeds": [0, 1], "training": {"dataset": str(data), "epochs": 2, "batch_size": 32, "device": "cpu",
                                          "threads": 1, "learning_rate": 0.01}}
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    return path


def summary_json(capsys, arch_path) -> dict:
    capsys.readouterr()
    assert main(["summary", str(arch_path), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.slow
def test_table_agrees_with_summary_and_each_run_folder(spec_file, tmp_path, capsys):
    spec = from_dict(json.loads(spec_file.read_text()))
    out = tmp_path / "exp"
    results = run_experiment(spec, out)
    assert [(r.variant, r.seed) for r in results] == [("pooling none", 0), ("pooling none", 1), ("pooling max", 0),
                                                      ("pooling max", 1)]
    with open(out / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:8] == ["variant", "seed", "params", "macs", "best_val_accuracy", "final_val_accuracy",
                                 "best_epoch", "seconds"]
    for row, result in zip(rows, results):
        folder = result.folder
        arch = architecture_file.load(folder / "architecture.json")
        assert arch == spec.variants()[0 if row["variant"] == "pooling none" else 1].architecture
        table = summary_json(capsys, folder / "architecture.json")
        assert (int(row["params"]), int(row["macs"])) == (table["total_params"], table["total_macs"])
        summary = json.loads((folder / "summary.json").read_text())
        assert float(row["final_val_accuracy"]) == pytest.approx(summary["final_val_accuracy"])
        settings = json.loads((folder / "settings.json").read_text())
        assert settings["seed"] == int(row["seed"]) and settings["epochs"] == 2
        assert 1 <= int(row["best_epoch"]) <= 2
        assert float(row["best_val_accuracy"]) >= float(row["final_val_accuracy"]) - 1e-9  # final = the last epoch
    assert int(rows[0]["params"]) > int(rows[2]["params"])  # no pooling: larger maps, more weights in the linear
    markdown = (out / "results.md").read_text()
    assert markdown.startswith("# tiny pooling") and "| pooling none |" in markdown
    header = markdown.splitlines()[2]  # for people: the titles the window's table shows, not results.csv's names
    assert header.startswith("| Variant |") and "Parameters" in header and "_" not in header
    assert "params" in differing_columns(results)


@pytest.mark.slow
def test_cli_overrides_and_refuses_a_bad_spec(spec_file, tmp_path, capsys):
    out = tmp_path / "cli"
    code = main(["experiment", str(spec_file), "--out", str(out), "--epochs", "1", "--seed", "5"])
    assert code == 0
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert folders == ["01-pooling-none-seed5", "02-pooling-max-seed5"]
    assert json.loads((out / "01-pooling-none-seed5" / "settings.json").read_text())["epochs"] == 1
    assert "| pooling max |" in capsys.readouterr().out
    bad = tmp_path / "bad.json"
    bad.write_text(spec_file.read_text().replace('"pooling"', '"colour"'))
    assert main(["experiment", str(bad), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'field "vary"."what"' in err


def test_a_variant_too_big_for_the_machine_is_refused_before_the_first_run(tmp_path):
    import torch

    from engine.training.memory_check import available_bytes
    from models.experiment import ExperimentError
    from tests.engine.training_data import huge_arch

    if (available_bytes(torch.device("cpu")) or 0) > 400 * 10**9:
        pytest.skip("this machine could hold the huge network")
    data = write_tiny_npz(tmp_path / "tiny.npz")
    spec = from_dict({"format": "convscope.experiment", "version": 1, "name": "too big",
                      "base": architecture_file.to_dict(huge_arch()), "vary": {"what": "pooling", "values": ["none"]},
                      "seeds": [0], "training": {"dataset": str(data), "epochs": 1, "device": "cpu"}})
    with pytest.raises(ExperimentError, match='"pooling none" cannot train on .*: this network needs about'):
        run_experiment(spec, tmp_path / "out")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["experiment.json"]  # nothing trained


def test_an_experiment_in_this_process_leaves_no_folder_locked(spec_file, tmp_path):
    """The window runs experiments' loops in its own process (the variants in children): a folder it finished must
    not stay locked until the window exits (a CLI run into it would be refused), nor any variant's."""
    from engine.run_folder import folder_lock
    from models.experiment import load

    out = tmp_path / "exp"
    results = run_experiment(load(spec_file), out, {"epochs": 1}, seeds=(0,))
    assert results and not folder_lock.holds(out)
    assert not any(folder_lock.holds(result.folder) for result in results)
