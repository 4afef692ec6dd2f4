"""TimelineIndex, fed a real run's log a few lines at a time, agrees with timeline() and gradient_norm_curves()
reading the whole log at once."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.config import TrainConfig
from engine.inspection.timeline_histograms import gradient_norm_curves
from engine.run_folder import EVENTS, EventTail, RunFolderWriter
from engine.run_folder.timeline import timeline
from engine.run_folder.timeline_index import TimelineIndex
from engine.training.trainer import Trainer
from models.architecture_file import ArchitectureFileError
from tests.engine.training_data import tiny_arch, tiny_dataset


def write_run(folder, epochs: int = 12):
    """A snapshot every step: past step 32 the store's gap drops some, so every kind of line is there."""
    config = TrainConfig(epochs=epochs, batch_size=16, learning_rate=0.01, snapshot_interval=0.0, device="cpu",
                         threads=1)
    trainer = Trainer(tiny_arch(), tiny_dataset(), config)
    writer = RunFolderWriter(folder, trainer.model, tiny_arch(), config)
    writer.start()
    trainer.callbacks.append(writer)
    writer.finish(trainer.fit())
    writer.close()


@pytest.mark.parametrize("max_bytes", [61, 997, None])
def test_fed_a_few_lines_at_a_time_it_lists_what_timeline_lists(tmp_path, max_bytes):
    write_run(tmp_path)
    kinds = [json.loads(line)["kind"] for line in (tmp_path / EVENTS).read_text().splitlines()]
    assert {"snapshot", "compressed", "dropped", "batch", "finished"} <= set(kinds)  # every case is exercised
    index, tail = TimelineIndex(), EventTail(tmp_path / EVENTS)
    versions = []
    size = (tmp_path / EVENTS).stat().st_size
    for _ in range(size // (max_bytes or size) + 2):  # a poll within max_bytes may end inside a line: [] then
        index.add(tail.poll(max_bytes))
        versions.append(index.version)
    assert index.entries() == timeline(tmp_path) and len(index.entries()) >= 2
    assert index.snapshot_lines == kinds.count("snapshot")
    expected = gradient_norm_curves(folder=tmp_path)
    assert expected and set(index.norms) == set(expected)
    for label, (steps, values) in expected.items():
        np.testing.assert_array_equal(index.norms[label][0], steps)
        np.testing.assert_array_equal(index.norms[label][1], values)
    assert index.finished is not None and index.architecture == tiny_arch()
    assert versions == sorted(versions)


def test_batch_lines_change_nothing_and_a_new_started_line_starts_over(tmp_path):
    write_run(tmp_path, epochs=1)
    records = EventTail(tmp_path / EVENTS).poll()
    index = TimelineIndex()
    index.add(records)
    version = index.version
    assert not index.add([r for r in records if r["kind"] == "batch"])  # nothing a timeline reads
    assert index.version == version
    assert index.add(records[:1])  # the started line again: a new run in the folder
    assert index.entries() == [] and index.norms == {} and index.finished is None and index.version > version


def test_a_damaged_snapshot_line_is_left_out_and_a_bad_architecture_is_said(tmp_path):
    index = TimelineIndex()
    index.add([{"kind": "started", "architecture": {"format": "x"}},
               {"kind": "snapshot", "step": "seven", "epoch": 0, "file": "snapshots/step-7.safetensors"},
               {"kind": "snapshot", "step": 3, "epoch": 0, "file": "../outside.safetensors"}])
    assert index.entries() == [] and index.snapshot_lines == 0
    with pytest.raises(ArchitectureFileError):
        index.architecture
