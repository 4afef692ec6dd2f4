"""Snapshot lines are checked once, where the log is read: typed records, damaged lines left out and named."""

from __future__ import annotations

import json
import math

import pytest
import torch
from safetensors.torch import save_file

from engine.run_folder import RunFolderError, newest_snapshot, read_run_log, recover_unfinished
from engine.run_folder.layout import FORMAT, VERSION
from engine.run_folder.records import SnapshotRecord, snapshot_record
from engine.inspection.timeline_histograms import gradient_norm_curves

GOOD = {"kind": "snapshot", "step": 8, "epoch": 1, "file": "snapshots/step-000008.safetensors", "probe_index": 3,
        "gradient_norms": {"layer 1 (conv2d)": 0.5, "layer 3 (linear)": None}}


def test_a_good_line_becomes_a_typed_record():
    record = snapshot_record(GOOD)
    assert isinstance(record, SnapshotRecord)
    assert (record.step, record.epoch, record.file, record.probe_index) == (8, 1, GOOD["file"], 3)
    norms = record.gradient_norms
    assert norms["layer 1 (conv2d)"] == 0.5 and math.isnan(norms["layer 3 (linear)"])  # null is how NaN is written
    assert snapshot_record({**GOOD, "probe_index": None, "gradient_norms": None}).probe_index == 0


@pytest.mark.parametrize("field, value, message", [
    ("step", "x", r"step is 'x', not a count"),
    ("step", -1, r"step is -1, not a count"),
    ("step", True, r"step is True, not a count"),
    ("epoch", 1.5, r"epoch is 1.5, not a count"),
    ("probe_index", "\x1b]0;PWNED\x07", r"probe_index is '\\x1b\]0;PWNED\\x07', not a count"),
    ("file", "../../other-run/weights.safetensors", r"names '\.\./\.\./other-run/weights\.safetensors', not a file"),
    ("file", "/etc/passwd", r"not a file under snapshots/"),
    ("file", "snapshots/" + "a" * 300, r"not a file under snapshots/"),
    ("file", "snapshots/a\x00b", r"not a file under snapshots/"),
    ("file", "snapshots/..", r"not a file under snapshots/"),
    ("file", 7, r"names 7, not a file"),
    ("gradient_norms", {"layer 1": 10 ** 400}, r"too large for a float"),
    ("gradient_norms", {"layer 1": "big"}, r"gradient norm of 'layer 1' is 'big', not a number"),
    ("gradient_norms", [1, 2], r"gradient_norms is \[1, 2\], not an object"),
])
def test_each_damaged_field_is_named_with_its_value_shown_short_and_escaped(field, value, message):
    with pytest.raises(RunFolderError, match=message) as caught:
        snapshot_record({**GOOD, field: value})
    assert "\x1b" not in str(caught.value) and len(str(caught.value)) < 200


def _write_run(folder, snapshot_lines):
    (folder / "snapshots").mkdir(parents=True, exist_ok=True)
    lines = [{"kind": "started", "format": FORMAT, "version": VERSION}]
    for line in snapshot_lines:
        lines.append(line)
        if isinstance(line.get("step"), int) and isinstance(line.get("file"), str) and "/" in line["file"]:
            save_file({"0.weight": torch.full((2,), float(line["step"]))}, str(folder / line["file"]))
    (folder / "events.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_a_damaged_newest_line_is_left_out_and_the_last_good_snapshot_stands(tmp_path):
    older = {**GOOD, "step": 4, "file": "snapshots/step-000004.safetensors"}
    _write_run(tmp_path, [older, {**GOOD, "step": "x"}])
    log = read_run_log(tmp_path)
    assert [s.step for s in log.snapshots] == [4] and log.damaged == 1
    assert "step is 'x'" in log.problems[0]
    assert [e["step"] for e in log.events if e["kind"] == "snapshot"] == [4]  # the timeline replays these
    snapshot, weights = newest_snapshot(tmp_path)
    assert snapshot.step == 4 and torch.equal(weights["0.weight"], torch.full((2,), 4.0))
    assert "step 4 (epoch 1)" in recover_unfinished(tmp_path)[2]
    steps, norms = gradient_norm_curves(log)["layer 1 (conv2d)"]
    assert list(steps) == [4] and list(norms) == [0.5]


def test_a_log_whose_only_snapshot_is_damaged_says_why(tmp_path):
    _write_run(tmp_path, [{**GOOD, "file": "../elsewhere.safetensors"}])
    with pytest.raises(RunFolderError, match=r"a snapshot line names '\.\./elsewhere\.safetensors'"):
        newest_snapshot(tmp_path)


def test_the_reasons_kept_are_bounded_while_the_count_goes_on(tmp_path):
    _write_run(tmp_path, [{**GOOD, "step": f"bad {i}"} for i in range(50)])
    log = read_run_log(tmp_path)
    assert log.damaged == 50 and len(log.problems) == 10 and "bad 49" in log.problems[-1]


def test_curve_lines_are_checked_where_the_log_is_read_and_a_damaged_one_is_left_out(tmp_path):
    """The window's fuzz found a batch line whose step was a file name (history() raised out of attach, every poll
    and the window's close) and one holding only its kind (its NaN step reached the progress bar and raised).
    Batch and epoch lines are checked as the log is read, as snapshot lines are: left out, named in problems."""
    from engine.run_folder.reader import RunLog

    good = {"kind": "batch", "epoch": 1, "step": 1, "batch": 1, "batches_per_epoch": 10, "loss": 2.3,
            "accuracy": 0.1, "samples_per_second": 900.0, "learning_rate": None}
    log = RunLog()
    log.add([{"kind": "started"}, good, {**good, "step": "snapshots/a.safetensors"}, {"kind": "batch"},
             {"kind": "epoch", "epoch": "1", "step": 1}, {**good, "step": 2}])
    assert [e["step"] for e in log.of_kind("batch")] == [1, 2] and log.of_kind("epoch") == []
    assert log.damaged == 3 and "a epoch line's epoch is '1', not a count" in log.problems[-1]
    history = log.history()  # never raises: what reached the events was checked
    assert [row.step for row in history.batches] == [1, 2]
