"""Training settings: one range per setting, refused (never clamped) alike from the CLI, settings.json and code."""

from __future__ import annotations

import json
import math

import pytest

from engine.config import SEED_MAX, THREADS_MAX, ConfigError, TrainConfig
from main import main
from models import architecture_file
from tests.engine.training_data import tiny_arch, write_tiny_npz


@pytest.mark.parametrize("changes, problem", [
    ({"seed": -1}, f"seed must be 0 to {SEED_MAX:,}, not -1"),
    ({"seed": 2**64}, "seed must be 0 to"),
    ({"threads": 1_000_000}, f"threads must be 0 (automatic) to {THREADS_MAX}, not 1000000"),
    ({"snapshot_interval": math.nan}, "snapshot_interval must be a finite number, not nan"),
    ({"learning_rate": math.inf}, "learning_rate must be a finite number, not inf"),
    ({"weight_decay": 0.9999999, "momentum": math.nan}, "momentum must be a finite number"),
])
def test_out_of_range_settings_are_refused_by_name(changes, problem):
    with pytest.raises(ConfigError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        TrainConfig(**changes)


def test_the_edges_of_each_range_are_accepted():
    config = TrainConfig(seed=SEED_MAX, threads=THREADS_MAX, weight_decay=0.9, snapshot_interval=0.0)
    assert TrainConfig.from_dict(config.to_dict()) == config


def test_a_nan_snapshot_interval_in_settings_json_is_refused_before_training(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    architecture_file.save(tiny_arch(), run / "architecture.json")
    settings = {**TrainConfig(dataset=str(write_tiny_npz(tmp_path / "tiny.npz"))).to_dict(),
                "snapshot_interval": float("nan")}
    (run / "settings.json").write_text(json.dumps(settings))  # json writes NaN, which strict readers refuse
    out = tmp_path / "out"
    capsys.readouterr()
    assert main(["train", str(run), "--epochs", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "settings.json" in err and "Traceback" not in err
    assert not out.exists()  # refused before anything was written


@pytest.mark.parametrize("flag, value", [("--seed", "-1"), ("--seed", str(2**64)), ("--threads", "1000000")])
def test_the_cli_refuses_out_of_range_flags_with_one_line(tmp_path, capsys, flag, value):
    arch = tmp_path / "tiny.json"
    architecture_file.save(tiny_arch(), arch)
    data = write_tiny_npz(tmp_path / "tiny.npz")
    capsys.readouterr()
    assert main(["train", str(arch), "--dataset", str(data), flag, value, "--out", str(tmp_path / "out")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and flag.strip("-") in lines[0]
