"""FIFOs where a run folder's files, an architecture file or a weights file belong (issue 27): each reader refuses
them at once with one `error:` line naming the file (exit 2), never waits for a writer, never skips them silently."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from engine.run_folder import newest_snapshot
from gui.training.run_outcome import final_weights
from tests.engine.training_data import train_tiny_run

ROOT = Path(__file__).resolve().parents[2]
FIFO_REFUSED = "cannot read (a FIFO (named pipe), not a regular file)"
ARCHITECTURE_FIFO_REFUSED = "cannot read: a FIFO (named pipe), not a regular file"  # as models/ words read errors


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(architecture file, dataset, a finished run folder) from the real CLI."""
    return train_tiny_run(tmp_path_factory.mktemp("fifo"))


@pytest.fixture
def run(trained, tmp_path) -> Path:
    folder = tmp_path / "run"
    shutil.copytree(trained[2], folder)
    return folder


def replace_with_fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def cli(*args: str) -> subprocess.CompletedProcess:
    """`python main.py ARGS`; the timeout only turns a hang (the bug) into a failure, it is never waited out."""
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.mark.parametrize("name", ["architecture.json", "settings.json", "metrics.csv", "weights.safetensors"])
def test_a_fifo_in_a_finished_run_folder_is_refused_by_evaluate(run, name):
    replace_with_fifo(run / name)
    refused = ARCHITECTURE_FIFO_REFUSED if name == "architecture.json" else FIFO_REFUSED
    assert f"{name}: {refused}" in one_error_line(cli("evaluate", str(run)))


def test_a_fifo_as_the_event_log_of_a_run_without_weights_is_an_error_not_missing_weights(run, tmp_path):
    (run / "weights.safetensors").unlink()
    replace_with_fifo(run / "events.jsonl")
    assert f"events.jsonl: {FIFO_REFUSED}" in one_error_line(cli("evaluate", str(run)))
    result = cli("export", str(run), "--format", "safetensors", "--out", str(tmp_path / "w.safetensors"))
    assert f"events.jsonl: {FIFO_REFUSED}" in one_error_line(result)
    assert not (tmp_path / "w.safetensors").exists()


def test_summary_of_a_fifo_is_refused(tmp_path):
    os.mkfifo(tmp_path / "net.json")
    assert f"net.json: {ARCHITECTURE_FIFO_REFUSED}" in one_error_line(cli("summary", str(tmp_path / "net.json")))


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_weights_given_as_a_fifo_are_refused(trained, tmp_path, suffix):
    os.mkfifo(tmp_path / f"w{suffix}")
    result = cli("evaluate", str(trained[0]), "--weights", str(tmp_path / f"w{suffix}"))
    assert f"w{suffix}: {FIFO_REFUSED}" in one_error_line(result)


def test_the_window_does_not_follow_a_linked_final_weights_file(trained, run, tmp_path, caplog):
    """An attached folder's weights.safetensors that links elsewhere is refused; the newest snapshot stands in."""
    elsewhere = tmp_path / "elsewhere.safetensors"
    shutil.copy(run / "weights.safetensors", elsewhere)
    (run / "weights.safetensors").unlink()
    (run / "weights.safetensors").symlink_to(elsewhere)
    with caplog.at_level(logging.WARNING):
        weights = final_weights(run)
    assert "weights.safetensors: cannot read (a symbolic link, which is not followed here)" in caplog.text
    snapshot = newest_snapshot(run)[1]
    assert weights is not None and all(torch.equal(weights[k], snapshot[k]) for k in snapshot)
