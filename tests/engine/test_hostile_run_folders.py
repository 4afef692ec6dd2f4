"""Run folders from strangers (issue 27): what a damaged, hostile or unlucky folder does to `evaluate`, `export`,
`health` and `train`. Each refusal is one short, printable `error:` line naming the file, never a hang, a
traceback, or weights read from outside the folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from engine.run_folder import (EventTail, RunFolderError, newest_snapshot, read_run_log, recover_unfinished,
                               snapshot_tensors, write_command)
from engine.run_folder.control_file import ControlFileWatcher
from engine.run_folder.records import finished_event
from engine.training.control import TrainingControl
from tests.engine.training_data import train_tiny_run

ROOT = Path(__file__).resolve().parents[2]
NEWEST = "snapshots/step-000012.safetensors"  # the tiny run's last snapshot (2 epochs of 6 batches)
ESCAPES = "\x1b]0;PWNED\x07\x1b[2J"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(architecture file, dataset, a finished run folder) from the real CLI, shared by the tests below."""
    return train_tiny_run(tmp_path_factory.mktemp("hostile"))


@pytest.fixture
def killed(trained, tmp_path):
    """A copy of the run as a kill leaves it: no final weights, no finished line; the newest snapshot stands in."""
    folder = tmp_path / "killed"
    shutil.copytree(trained[2], folder)
    (folder / "weights.safetensors").unlink()
    (folder / "summary.json").unlink()
    lines = (folder / "events.jsonl").read_text().splitlines(keepends=True)
    (folder / "events.jsonl").write_text("".join(line for line in lines if '"finished"' not in line))
    return folder


def lines_of(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]


def write_lines(folder: Path, lines: list[dict]) -> None:
    (folder / "events.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))


def edit_newest_snapshot_line(folder: Path, **changes) -> None:
    lines = lines_of(folder)
    newest = max(i for i, line in enumerate(lines) if line["kind"] == "snapshot")
    lines[newest].update(changes)
    write_lines(folder, lines)


def cli(*args: str) -> subprocess.CompletedProcess:
    """`python main.py ARGS`; the timeout only turns a hang (the bug) into a failure, it is never waited out."""
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def one_error_line(result: subprocess.CompletedProcess) -> str:
    """The refusal: exit 2, one `error:` line on stderr, short and printable, no traceback."""
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert lines[0].isprintable() and len(lines[0]) < 600
    return lines[0]


def command(name: str, folder: Path, tmp_path: Path) -> list[str]:
    out = ["--format", "safetensors", "--out", str(tmp_path / "w.safetensors")] if name == "export" else []
    return [name, str(folder), *out]


# -- item 3: only regular files are opened --------------------------------------------------------------------

@pytest.mark.parametrize("name", ["evaluate", "health", "export"])
def test_a_fifo_as_the_newest_snapshot_is_refused_not_waited_on(killed, tmp_path, name):
    (killed / NEWEST).unlink()
    os.mkfifo(killed / NEWEST)
    line = one_error_line(cli(*command(name, killed, tmp_path)))
    assert "step-000012.safetensors: cannot read (a FIFO (named pipe), not a regular file)" in line


def test_a_fifo_as_the_event_log_is_refused_by_health(killed):
    (killed / "events.jsonl").unlink()
    os.mkfifo(killed / "events.jsonl")
    assert "events.jsonl: cannot read (a FIFO (named pipe), not a regular file)" in one_error_line(
        cli("health", str(killed)))
    with pytest.raises(RunFolderError, match="FIFO"):
        EventTail(killed / "events.jsonl").poll()


def test_train_into_a_folder_whose_control_file_is_a_fifo_trains(trained, tmp_path):
    arch, data, _ = trained
    out = tmp_path / "run"
    out.mkdir()
    os.mkfifo(out / "control.json")
    result = cli("train", str(arch), "--dataset", str(data), "--epochs", "1", "--batch-size", "32", "--device", "cpu",
                 "--threads", "1", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert read_run_log(out).finished is not None


def test_the_control_watcher_reads_nothing_from_a_fifo_or_an_oversized_file(tmp_path):
    os.mkfifo(tmp_path / "control.json")
    control = TrainingControl()
    watcher = ControlFileWatcher(tmp_path, control)  # reads the file's seq: must not wait for a writer
    watcher.check()
    assert not control.stop_requested
    (tmp_path / "control.json").unlink()
    (tmp_path / "control.json").write_text(json.dumps({"command": "stop", "seq": 1, "pad": "x" * 10_000}))
    watcher.check()
    assert not control.stop_requested


# -- item 7: paths stay inside ---------------------------------------------------------------------------------

def test_a_snapshot_that_links_to_another_runs_weights_is_refused(trained, killed, tmp_path):
    (killed / NEWEST).unlink()
    (killed / NEWEST).symlink_to(trained[2] / "weights.safetensors")
    line = one_error_line(cli("evaluate", str(killed)))
    assert "step-000012.safetensors: cannot read (a symbolic link, which is not followed here)" in line
    with pytest.raises(RunFolderError, match="symbolic link"):
        snapshot_tensors(killed, NEWEST)


def test_a_snapshots_folder_that_is_a_link_is_refused(trained, killed, tmp_path):
    shutil.rmtree(killed / "snapshots")
    (killed / "snapshots").symlink_to(trained[2] / "snapshots")
    line = one_error_line(cli(*command("export", killed, tmp_path)))
    assert "snapshots: a symbolic link; snapshots are read only from the run folder's own snapshots/ folder" in line


@pytest.mark.parametrize("file", ["../weights.safetensors", "snapshots/../../x.safetensors", "/etc/passwd",
                                  "snapshots/a/b.safetensors", "snapshots/x.pt"])
def test_the_sidecar_reader_refuses_a_name_that_leaves_snapshots(killed, file):
    with pytest.raises(RunFolderError, match="not a file under snapshots/"):
        snapshot_tensors(killed, file)


def test_a_control_file_that_is_a_link_is_not_written_through(tmp_path):
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    (tmp_path / "control.json").symlink_to(target)
    with pytest.raises(RunFolderError, match="control.json: not a regular file"):
        write_command(tmp_path, "pause")
    assert target.read_text() == "keep me"


# -- items 2 and 5: values from the log are checked where the line is read ------------------------------------

def test_a_snapshot_name_with_terminal_escapes_never_reaches_the_terminal(killed, tmp_path):
    name = f"snapshots/step{ESCAPES}.safetensors"
    os.rename(killed / NEWEST, killed / name)
    edit_newest_snapshot_line(killed, file=name)
    result = cli("export", str(killed), "--format", "summary-md", "--out", str(tmp_path / "s.md"))
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    # The older snapshot stands in, and the notice says why instead of passing it off as the newest.
    assert "using its last snapshot, step 0 (epoch 0); 1 damaged line(s) left out" in result.stderr
    assert "\\x1b]0;PWNED\\x07" in result.stderr


def test_a_snapshot_name_too_long_for_the_file_system_is_a_damaged_line(killed):
    name = "snapshots/" + "\u00e9" * 190 + ".safetensors"  # 200 characters, 392 bytes: over any file system's 255
    lines = [line for line in lines_of(killed) if line["kind"] != "snapshot"]
    write_lines(killed, lines + [{"kind": "snapshot", "step": 12, "epoch": 2, "file": name}])
    line = one_error_line(cli("evaluate", str(killed)))
    assert "a printable name of at most 200 bytes" in line


def test_a_deeply_nested_line_is_a_damaged_line_not_a_recursion_error(killed):
    with open(killed / "events.jsonl", "a") as f:
        f.write("[" * 100_000 + "]" * 100_000 + "\n")
    tail = EventTail(killed / "events.jsonl")
    good = tail.poll()
    assert good and tail.damaged == 1 and "nested more than 64 levels deep" in tail.problems[0]
    line = one_error_line(cli("evaluate", str(killed)))
    assert "events.jsonl: line " in line and "not a JSON line (nested more than 64 levels deep)" in line


def test_a_gradient_norm_of_401_digits_is_a_damaged_line(killed):
    lines = (killed / "events.jsonl").read_text().splitlines()
    newest = max(i for i, line in enumerate(lines) if '"snapshot"' in line)
    record = json.loads(lines[newest])
    record["gradient_norms"] = {"layer 1 (conv2d)": 0}
    lines[newest] = json.dumps(record).replace('": 0}', '": ' + "9" * 401 + "}")
    (killed / "events.jsonl").write_text("\n".join(lines) + "\n")
    assert "not a JSON line (a number of 401 digits (at most 100))" in one_error_line(cli("health", str(killed)))


def test_a_finished_message_is_cut_short_and_escaped_for_the_window():
    finished = finished_event({"kind": "finished", "reason": "completed", "message": ESCAPES + "x" * 5000,
                               "epochs_completed": 2, "step": 12})
    assert finished.message.isprintable() and len(finished.message) < 400  # 300 characters, escapes widened
    assert finished.message.startswith("\\x1b]0;PWNED\\x07")


def test_the_newest_snapshot_and_recovery_read_a_plain_killed_run(killed):
    snapshot, weights = newest_snapshot(killed)
    assert snapshot.step == 12 and torch.equal(weights["0.weight"], snapshot_tensors(killed, NEWEST)["0.weight"])
    assert recover_unfinished(killed)[2].endswith("using its last snapshot, step 12 (epoch 2)")


def test_a_damaged_sidecar_is_named(killed):
    save_file({"0.weight": torch.zeros(2)}, str(killed / NEWEST))
    (killed / NEWEST).write_bytes((killed / NEWEST).read_bytes()[:20])
    with pytest.raises(RunFolderError, match=r"step-000012\.safetensors: not a valid safetensors file"):
        newest_snapshot(killed)
