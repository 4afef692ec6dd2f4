"""Lessons, experiment specs and experiment folders from strangers (issue 27): `convolve` and `experiment` refuse
them in one printable line, never hang on a FIFO, never read outside the spec's folder, never print invalid JSON;
Experiments > Open's reader raises only ExperimentError."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.experiments.results_reader import read_experiment
from engine.experiments.runner import CSV_COLUMNS
from models import architecture_file
from models.experiment import ExperimentError, from_dict
from models.lesson import LessonError
from models.lesson import from_dict as lesson_from_dict
from tests.engine.training_data import tiny_arch

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str) -> subprocess.CompletedProcess:
    """`python main.py ARGS`; the timeout only turns a hang (the bug) into a failure, it is never waited out."""
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and lines[0].isprintable(), result.stderr
    return lines[0]


# -- lessons --------------------------------------------------------------------------------------------------

def test_a_fifo_named_as_a_lesson_is_refused(tmp_path):
    os.mkfifo(tmp_path / "lesson.json")
    assert "lesson.json: cannot read: a FIFO (named pipe), not a regular file" in one_error_line(
        cli("convolve", str(tmp_path / "lesson.json")))


def test_a_lesson_name_too_long_for_the_file_system_is_refused_in_one_line():
    assert "no such file, and not a built-in lesson" in one_error_line(cli("convolve", "x" * 300))


def lesson(operation: str, value: float) -> dict:
    data = {"format": "convscope.lesson", "version": 1, "title": "big", "operation": operation,
            "input": [[value, value], [value, value]]}
    if operation == "conv":
        return {**data, "kernels": [{"weights": [[10, 10], [10, -10]], "bias": 0}]}
    return {**data, "kernel_size": 2}


@pytest.mark.parametrize("operation, value", [("conv", 1e308), ("avgpool", 1.5e308)])
def test_convolve_json_never_prints_nan_or_infinity_for_an_overflowing_lesson(tmp_path, operation, value):
    path = tmp_path / "big.json"
    path.write_text(json.dumps(lesson(operation, value)))
    result = cli("convolve", str(path), "--json")
    assert result.stdout == ""
    assert "numbers this large overflow" in one_error_line(result)


def test_the_largest_lessons_that_stay_finite_still_load():
    assert lesson_from_dict(lesson("maxpool", 1.7e308)).input.max() == 1.7e308  # no arithmetic: nothing overflows
    assert lesson_from_dict(lesson("avgpool", 1e307)) is not None
    with pytest.raises(LessonError, match='field "input": numbers this large overflow'):
        lesson_from_dict(lesson("avgpool", 1e308))


# -- experiment specs -----------------------------------------------------------------------------------------

def spec(base) -> dict:
    return {"format": "convscope.experiment", "version": 1, "name": "t", "base": base,
            "vary": {"what": "pooling", "values": ["max"]}}


def run_spec(tmp_path: Path, base) -> str:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec(base)))
    return one_error_line(cli("experiment", str(path), "--out", str(tmp_path / "out")))


def test_an_experiment_base_that_is_a_fifo_is_refused(tmp_path):
    os.mkfifo(tmp_path / "base.json")
    assert 'field "base":' in (line := run_spec(tmp_path, "base.json"))
    assert "a FIFO (named pipe), not a regular file" in line


def test_an_experiment_base_may_not_leave_the_specs_folder(tmp_path):
    line = run_spec(tmp_path, "../../../../etc/shadow")
    assert "'../../../../etc/shadow' leads outside the spec's folder" in line


def test_an_experiment_base_with_a_nul_byte_is_refused(tmp_path):
    assert "holds a NUL character" in run_spec(tmp_path, "a\0b.json")


def test_an_experiment_base_that_is_a_link_is_refused_inside_or_out(tmp_path):
    outside = tmp_path / "elsewhere" / "net.json"
    outside.parent.mkdir()
    architecture_file.save(tiny_arch(), outside)
    folder = tmp_path / "spec"
    folder.mkdir()
    (folder / "out.json").symlink_to(outside)          # resolves outside: refused as leaving the folder
    (folder / "copy.json").symlink_to(folder / "real.json")
    architecture_file.save(tiny_arch(), folder / "real.json")
    with pytest.raises(ExperimentError, match="leads outside the spec's folder"):
        from_dict(spec("out.json"), folder)
    with pytest.raises(ExperimentError, match="a symbolic link, which is not followed here"):
        from_dict(spec("copy.json"), folder)
    assert from_dict(spec("real.json"), folder).base == tiny_arch()  # a plain file inside is read


def test_the_built_in_experiment_still_reads_its_preset_from_resources():
    result = cli("experiment", "pooling-comparison", "--out", "/nonexistent/x", "--epochs", "0")
    assert "epochs must be 1 to" in one_error_line(result)  # the spec and its base loaded; the setting is refused


# -- experiment folders (Experiments > Open) --------------------------------------------------------------------

ROW = {"variant": "pooling max", "seed": "0", "params": "100", "macs": "1000", "best_val_accuracy": "0.5",
       "final_val_accuracy": "0.5", "best_epoch": "1", "seconds": "1.5", "samples_per_second": "100.0",
       "folder": "01-pooling-max-seed0"}


def experiment_folder(tmp_path: Path, spec_text: str = '{"name": "t"}', rows: list[dict] | None = None) -> Path:
    folder = tmp_path / "exp"
    folder.mkdir(exist_ok=True)
    (folder / "experiment.json").write_text(spec_text)
    with open(folder / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows([ROW] if rows is None else rows)
    return folder


def test_a_plain_experiment_folder_reads_back(tmp_path):
    name, results = read_experiment(experiment_folder(tmp_path))
    assert name == "t" and [(r.variant, r.seed, r.best_epoch) for r in results] == [("pooling max", 0, 1)]


@pytest.mark.parametrize("spec_text, message", [
    ("[" * 100_000 + "]" * 100_000, "nested more than 64 levels deep"),
    ('{"name": "\\u001b]0;PWNED\\u0007"}', r'field "name": expected one line of text, got .*\\x1b'),
    ('{"name": 1}', 'field "name"'),
])
def test_a_damaged_experiment_json_is_an_experiment_error(tmp_path, spec_text, message):
    with pytest.raises(ExperimentError, match=message):
        read_experiment(experiment_folder(tmp_path, spec_text))


@pytest.mark.parametrize("change, message", [
    ({"variant": "x" * 131_073}, "not valid CSV"),       # over csv's 128 kB field limit
    ({"folder": ".."}, "'\\.\\.' is not the name of a run folder"),
    ({"folder": "../other"}, "is not the name of a run folder"),
    ({"seed": "9" * 5000}, "column seed: '9999"),
    ({"seconds": "inf"}, "column seconds: 'inf' is not a number"),
    ({"variant": "\x1b[2J"}, "column variant"),
])
def test_a_damaged_results_row_is_an_experiment_error_naming_the_row(tmp_path, change, message):
    with pytest.raises(ExperimentError, match=message) as caught:
        read_experiment(experiment_folder(tmp_path, rows=[{**ROW, **change}]))
    assert str(caught.value).isprintable() and len(str(caught.value)) < 400


def test_a_run_folder_that_is_a_link_is_not_read(tmp_path):
    folder = experiment_folder(tmp_path)
    (tmp_path / "other").mkdir()
    (folder / ROW["folder"]).symlink_to(tmp_path / "other")
    with pytest.raises(ExperimentError, match="row 1: column folder: .* is a symbolic link"):
        read_experiment(folder)


def test_a_fifo_as_results_csv_is_refused(tmp_path):
    folder = experiment_folder(tmp_path)
    (folder / "results.csv").unlink()
    os.mkfifo(folder / "results.csv")
    with pytest.raises(ExperimentError, match="results.csv: cannot read \\(a FIFO"):
        read_experiment(folder)
