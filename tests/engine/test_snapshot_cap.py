"""A snapshot is read up to the weights limit of the run's architecture (issue 27 item 4), as a project's weights
member is; without an architecture (a recorded run's), up to the generic ceiling."""

from __future__ import annotations

import json
import tracemalloc

import pytest

from engine.run_folder import EVENTS, FORMAT, SNAPSHOTS, VERSION, RunFolderError, newest_snapshot
from models import architecture_file
from models.weights_size import weights_cap
from tests.engine.training_data import tiny_arch

SPARSE = 64 << 20  # bytes of zeros on disk: far over a tiny network's weights, far under the generic ceiling


def sparse_run(folder, architecture) -> None:
    started = {"kind": "started", "format": FORMAT, "version": VERSION, "architecture": architecture}
    snapshot = {"kind": "snapshot", "step": 1, "epoch": 1, "file": f"{SNAPSHOTS}/step-000001.safetensors"}
    (folder / EVENTS).write_text(json.dumps(started) + "\n" + json.dumps(snapshot) + "\n")
    (folder / SNAPSHOTS).mkdir()
    with open(folder / SNAPSHOTS / "step-000001.safetensors", "wb") as f:
        f.truncate(SPARSE)


def peak_mib_raising(folder) -> tuple[float, str]:
    tracemalloc.start()
    try:
        with pytest.raises(RunFolderError) as caught:
            newest_snapshot(folder)
        return tracemalloc.get_traced_memory()[1] / 2**20, str(caught.value)
    finally:
        tracemalloc.stop()


def test_a_snapshot_over_its_architectures_limit_is_refused_without_reading_it_whole(tmp_path):
    sparse_run(tmp_path, architecture_file.to_dict(tiny_arch()))
    mib, message = peak_mib_raising(tmp_path)
    cap = weights_cap(tiny_arch())
    assert f"larger than {cap:,} bytes, the most the run's architecture can need" in message
    assert "the newest snapshot the run log names" in message
    assert mib < 16, f"a {SPARSE >> 20} MiB snapshot of a {cap:,}-byte network: peak {mib:.1f} MiB"


def test_without_an_architecture_the_generic_ceiling_applies(tmp_path):
    sparse_run(tmp_path, None)
    mib, message = peak_mib_raising(tmp_path)
    assert "not a valid safetensors file" in message and mib >= SPARSE >> 20  # read, then found damaged
