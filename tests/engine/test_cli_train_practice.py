"""`train` with the schedule, optimiser and regularisation options: settings.json, summary.json, metrics.csv."""

from __future__ import annotations

import json
import math

import pytest

from engine.metrics import MetricsHistory
from main import main
from models import architecture_file
from tests.engine.training_data import tiny_arch, write_tiny_npz

OPTIONS = ["--optimizer", "sgd", "--momentum", "0.8", "--nesterov", "--schedule", "step", "--step-size", "1",
           "--gamma", "0.5", "--warmup-epochs", "1", "--label-smoothing", "0.1", "--clip-grad", "5",
           "--augment", "flip,crop"]
CHOSEN = {"optimizer": "sgd", "momentum": 0.8, "nesterov": True, "schedule": "step", "step_size": 1, "gamma": 0.5,
          "warmup_epochs": 1, "label_smoothing": 0.1, "clip_grad": 5.0, "augment": "flip,crop"}


def test_the_options_reach_settings_summary_and_the_rate_column(tmp_path, capsys):
    arch = tmp_path / "tiny.json"
    architecture_file.save(tiny_arch(), arch)
    data = write_tiny_npz(tmp_path / "tiny.npz")  # 96 train images: 6 batches of 16 an epoch
    out = tmp_path / "run"
    assert main(["train", str(arch), "--dataset", str(data), "--epochs", "3", "--batch-size", "16", "--lr", "0.04",
                 "--device", "cpu", "--threads", "1", "--out", str(out), *OPTIONS]) == 0
    assert "sgd, schedule step, augmentation crop + flip" in capsys.readouterr().err
    settings = json.loads((out / "settings.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    for name, value in CHOSEN.items():
        assert settings[name] == value and summary["config"][name] == value, name
    history = MetricsHistory.from_csv((out / "metrics.csv").read_text())
    by_step = {row.step: history.learning_rate(i) for i, row in enumerate(history.batches)}
    # warm-up over epoch 1 (steps 1-6 use 0.04 * k / 7), then 0.04, halved every epoch
    assert by_step[1] == pytest.approx(0.04 / 7) and by_step[6] == pytest.approx(0.04 * 6 / 7)
    assert by_step[12] == pytest.approx(0.04) and by_step[18] == pytest.approx(0.02)

    # A second run from the folder keeps them; a flag overrides one
    again = tmp_path / "again"
    assert main(["train", str(out), "--epochs", "1", "--schedule", "cosine", "--device", "cpu", "--threads", "1",
                 "--out", str(again)]) == 0
    assert "augmentation crop + flip" in capsys.readouterr().err
    kept = json.loads((again / "settings.json").read_text())
    assert kept["schedule"] == "cosine" and kept["clip_grad"] == 5.0 and kept["nesterov"] is True
    rates = MetricsHistory.from_csv((again / "metrics.csv").read_text()).learning_rates
    assert rates and all(math.isfinite(rate) for rate in rates)


@pytest.mark.parametrize("flags, pattern", [
    (["--gamma", "2"], "gamma must be in (0, 1], not 2.0"),
    (["--label-smoothing", "1"], "label_smoothing must be in [0, 1)"),
    (["--optimizer", "sgd", "--momentum", "0", "--nesterov"], "nesterov needs momentum > 0"),
    (["--augment", "crop,spin"], "augment must be none, default or a comma-separated list of crop, flip, affine"),
])
def test_out_of_range_options_are_one_clear_line(tmp_path, capsys, flags, pattern):
    arch = tmp_path / "tiny.json"
    architecture_file.save(tiny_arch(), arch)
    data = write_tiny_npz(tmp_path / "tiny.npz")
    capsys.readouterr()
    assert main(["train", str(arch), "--dataset", str(data), "--out", str(tmp_path / "o"), *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and pattern in err and "\n" not in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()
