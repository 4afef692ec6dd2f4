"""The snapshot timeline store: its thinning rule, its budget, its precision and a log that names only real files."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from engine.config import TrainConfig
from engine.run_folder import RunFolderWriter, newest_snapshot, read_run_log
from engine.run_folder.reader import RunLog
from engine.run_folder.timeline import (BFLOAT16, FLOAT32, START_RATIO, TimelineStore, load_timeline_weights,
                                        thin_steps, timeline)
from engine.training.trainer import Trainer
from engine.network.weights import load_state_dict
from tests.engine.training_data import tiny_arch, tiny_dataset


def state_at(step: int, n: int = 1000) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(step)
    return {"w": torch.randn(n, generator=g), "count": torch.tensor(step, dtype=torch.int64)}


class Recorder:
    """Feeds a store and, after every add, checks the log against the disk (the invariant readers rely on)."""

    def __init__(self, folder: Path, budget_mb: float) -> None:
        (folder / "snapshots").mkdir(parents=True, exist_ok=True)
        self.folder, self.lines = folder, [{"kind": "started"}]
        self.store = TimelineStore(folder, budget_mb, self._log)

    def _log(self, line: dict) -> None:
        if line["kind"] == "dropped":
            assert (self.folder / line["file"]).is_file()  # the line comes before the deletion
        self.lines.append(line)

    def log(self) -> RunLog:
        log = RunLog()
        log.add(self.lines)
        return log

    def add(self, step: int) -> None:
        self.store.add(step, step // 10, state_at(step), {"kind": "snapshot", "probe_index": 0})
        listed = timeline(self.folder, self.log())
        on_disk = sorted(p.name for p in (self.folder / "snapshots").iterdir())
        assert sorted(Path(e.file).name for e in listed) == on_disk
        assert [e.step for e in listed] == sorted(e.step for e in listed)
        assert [e.dtype for e in listed] == [BFLOAT16] * (len(listed) - 1) + [FLOAT32]
        assert sum((self.folder / e.file).stat().st_size for e in listed) == self.store.bytes_on_disk


def test_with_room_the_walk_keeps_every_step_early_and_widens_later(tmp_path):
    rec = Recorder(tmp_path, budget_mb=1000)
    for step in range(0, 200):
        rec.add(step)
    steps = [e.step for e in timeline(tmp_path, rec.log())]
    # gap(s) = max(1, (s + 1) / 32): every step up to 32, then 34 (33 - 32 < 33/32), and so on, by hand:
    assert steps[:34] == list(range(33)) + [34]
    expected, last = [0], 0
    for s in range(1, 199):
        if s - last >= max(1.0, START_RATIO * (last + 1)):
            expected.append(s)
            last = s
    assert steps == expected + [199]
    gaps = [b - a for a, b in zip(steps[:-2], steps[1:-1])]
    assert gaps == sorted(gaps) and gaps[-1] >= 6  # dense early, wider later (the newest aside)
    assert thin_steps(list(range(199)), START_RATIO) == expected


def test_a_tight_budget_is_kept_after_every_snapshot_and_the_newest_stays_exact(tmp_path):
    budget_mb = 0.05  # room for the newest (about 4 kB) and about 20 bfloat16 snapshots (about 2 kB each)
    rec = Recorder(tmp_path, budget_mb)
    for step in range(0, 1200, 3):
        rec.add(step)
        assert rec.store.bytes_on_disk <= budget_mb * 1_000_000
    listed = timeline(tmp_path, rec.log())
    assert 8 <= len(listed) <= 26 and listed[0].step == 0 and listed[-1].step == 1197
    newest = load_state_dict(tmp_path / listed[-1].file)
    assert torch.equal(newest["w"], state_at(1197)["w"]) and newest["w"].dtype == torch.float32
    for entry in listed[:-1]:
        stored = load_state_dict(tmp_path / entry.file)
        assert stored["w"].dtype == torch.bfloat16 and torch.equal(stored["w"], state_at(entry.step)["w"].bfloat16())
        assert int(stored["count"]) == entry.step  # integer buffers (e.g. batch-norm counts) keep their type
        widened = load_timeline_weights(tmp_path, entry)
        assert widened["w"].dtype == torch.float32
    gaps = [b - a for a, b in zip([e.step for e in listed[:-2]], [e.step for e in listed[1:-1]])]
    assert gaps[-1] > gaps[0]  # widening: the later steps are spread wider than the first ones


def test_a_budget_smaller_than_one_snapshot_keeps_only_the_newest(tmp_path):
    rec = Recorder(tmp_path, budget_mb=0.001)
    for step in range(10):
        rec.add(step)
    assert [(e.step, e.dtype) for e in timeline(tmp_path, rec.log())] == [(9, FLOAT32)]


def test_a_training_run_writes_a_timeline_that_readers_replay(tmp_path):
    config = TrainConfig(epochs=3, batch_size=16, snapshot_interval=0.0, device="cpu", threads=1,
                         snapshot_budget_mb=1)
    trainer = Trainer(tiny_arch(), tiny_dataset(), config)
    writer = RunFolderWriter(tmp_path, trainer.model, tiny_arch(), config)
    writer.start()
    trainer.callbacks.append(writer)
    trainer.fit()
    writer.close()
    log = read_run_log(tmp_path)
    listed = timeline(tmp_path)
    assert listed == writer.timeline.entries()
    assert {p.name for p in (tmp_path / "snapshots").iterdir()} == {Path(e.file).name for e in listed}
    snapshot_steps = [e["step"] for e in log.of_kind("snapshot")]
    assert listed[0].step == 0 and listed[-1].step == snapshot_steps[-1] == trainer.global_step
    assert len(log.of_kind("compressed")) + len(log.of_kind("dropped")) >= len(listed) - 1
    snapshot, weights = newest_snapshot(tmp_path)
    assert snapshot.step == trainer.global_step
    assert all(torch.equal(weights[k], v) for k, v in trainer.model.state_dict().items())
    # Epochs are those of the snapshot lines (the timeline's labels for scrubbing).
    by_step = {e["step"]: e["epoch"] for e in log.of_kind("snapshot")}
    assert all(entry.epoch == by_step[entry.step] for entry in listed)


def test_the_budget_is_a_train_option_and_a_setting_with_a_range(tmp_path, capsys):
    from main import main
    from models import architecture_file

    arch = tmp_path / "tiny.json"
    architecture_file.save(tiny_arch(), arch)
    assert main(["train", str(arch), "--snapshot-budget", "0", "--out", str(tmp_path / "run")]) == 2
    assert "snapshot_budget_mb must be 1 to 1,000,000 MB, not 0" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
    assert TrainConfig.from_dict({"snapshot_budget_mb": 50}).snapshot_budget_mb == 50
    assert TrainConfig().snapshot_budget_mb == 300


def test_a_retired_snapshot_of_a_blown_up_weight_stays_finite_and_the_log_names_its_type(tmp_path):
    # float16 tops out at 65,504: a weight of 1e6 after a blow-up came back as inf, and health printed nan.
    (tmp_path / "snapshots").mkdir()
    lines = [{"kind": "started"}]
    store = TimelineStore(tmp_path, 100, lines.append)
    huge = {"w": torch.tensor([1e6, -3e30, 0.5]), "b": torch.tensor([1.0], dtype=torch.float64)}
    store.add(0, 0, huge, {})
    store.add(1, 0, state_at(1), {})
    assert [line for line in lines if line["kind"] == "compressed"] == [
        {"kind": "compressed", "step": 0, "file": "snapshots/step-000000.safetensors", "dtype": "bfloat16"}]
    log = RunLog()
    log.add(lines)
    retired = timeline(tmp_path, log)[0]
    assert (retired.step, retired.dtype) == (0, BFLOAT16)
    widened = load_timeline_weights(tmp_path, retired)
    assert {t.dtype for t in widened.values()} == {torch.float32} and bool(torch.isfinite(widened["w"]).all())
    assert torch.allclose(widened["w"], huge["w"], rtol=1 / 128)  # bfloat16 keeps 8 bits of mantissa


def test_older_logs_with_float16_lines_still_read_and_a_type_that_cannot_hold_weights_is_refused(tmp_path):
    (tmp_path / "snapshots").mkdir()
    lines = [{"kind": "started"}]
    store = TimelineStore(tmp_path, 100, lines.append, older_dtype=torch.float16)
    store.add(0, 0, state_at(0), {})
    store.add(1, 0, state_at(1), {})
    log = RunLog()
    log.add(lines)
    assert [e.dtype for e in timeline(tmp_path, log)] == ["float16", FLOAT32]
    assert load_timeline_weights(tmp_path, timeline(tmp_path, log)[0])["w"].dtype == torch.float32
    with pytest.raises(ValueError, match="older snapshots are kept in one of"):
        TimelineStore(tmp_path, 100, lines.append, older_dtype=torch.int8)
