"""Each training setting is described once (engine/config.py's SETTINGS): TrainConfig's checks and the flags of
`train` and `experiment` are made from that description and agree with it."""

from __future__ import annotations

import math

import pytest

from engine.cli import build_parser
from engine.cli.setting_flags import settings_from_args
from engine.config import SETTINGS, ConfigError, TrainConfig

# The spellings README and users' scripts have used since before the settings were described once.
KNOWN_FLAGS = {
    "--dataset": "dataset", "--epochs": "epochs", "--batch-size": "batch_size", "--lr": "learning_rate",
    "--learning-rate": "learning_rate", "--optimizer": "optimizer", "--momentum": "momentum",
    "--nesterov": "nesterov", "--weight-decay": "weight_decay", "--seed": "seed", "--val-fraction": "val_fraction",
    "--device": "device", "--threads": "threads", "--snapshot-budget": "snapshot_budget_mb", "--schedule": "schedule",
    "--step-size": "step_size", "--gamma": "gamma", "--warmup-epochs": "warmup_epochs",
    "--label-smoothing": "label_smoothing", "--clip-grad": "clip_grad", "--augment": "augment",
    "--early-stop": "early_stop", "--early-stop-metric": "early_stop_metric", "--keep": "keep",
    "--mixed-precision": "mixed_precision", "--channels-last": "channels_last",
}


def other_value(name: str):
    """A valid value of setting `name` that is not its default (TrainConfig confirms it below)."""
    setting = SETTINGS[name]
    if setting.kind is bool:
        return not setting.default
    if setting.choices:
        return setting.choice_keys()[-1]
    if setting.kind is str:
        return {"augment": "flip,cutout"}.get(name, "cifar10")
    if setting.high is not None and not setting.high_open:
        return setting.high
    if setting.high is None:
        return setting.low + 7
    return (setting.low + setting.high) / 2


def parse(command: str, *flags: str):
    head = ["train", "net.json"] if command == "train" else ["experiment", "spec.json"]
    return build_parser().parse_args([*head, "--out", "out", *flags])


@pytest.mark.parametrize("command", ["train", "experiment"])
@pytest.mark.parametrize("name", list(SETTINGS))
def test_each_flag_parses_to_its_setting(command, name):
    setting = SETTINGS[name]
    if command == "experiment" and name == "seed":
        assert parse(command, "--seed", "3", "--seed", "4").seed == [3, 4]  # its own: the seeds to run
        return
    value = other_value(name)
    TrainConfig(**{name: value})  # valid, so a refusal below would be the flag's fault
    for flag in setting.flags:
        words = [flag if value else f"--no-{flag[2:]}"] if setting.kind is bool else [flag, str(value)]
        given = settings_from_args(parse(command, *words), skip=("seed",) if command == "experiment" else ())
        assert given == {name: value}, flag
        assert TrainConfig().replace(**given) == TrainConfig(**{name: value})


def test_every_setting_has_a_flag_and_the_old_spellings_still_work():
    spelled = {flag: name for name, setting in SETTINGS.items() for flag in setting.flags}
    assert set(spelled.values()) == set(SETTINGS)
    assert {flag: spelled.get(flag) for flag in KNOWN_FLAGS} == KNOWN_FLAGS
    assert parse("train", "--no-mixed-precision", "--no-channels-last").mixed_precision is False
    assert parse("train", "--snapshot-budget", "12").snapshot_budget_mb == 12


def test_choices_are_refused_by_argparse_and_flags_left_out_are_not_settings(capsys):
    with pytest.raises(SystemExit):
        parse("train", "--optimizer", "lion")
    assert "invalid choice: 'lion'" in capsys.readouterr().err
    assert settings_from_args(parse("train")) == {}


@pytest.mark.parametrize("changes, message", [
    ({"learning_rate": 0.0}, "learning_rate must be in (0, 10], not 0.0"),
    ({"learning_rate": 10.5}, "learning_rate must be in (0, 10], not 10.5"),
    ({"momentum": 1.0}, "momentum must be in [0, 1), not 1.0"),
    ({"val_fraction": 1.0}, "val_fraction must be in (0, 1), not 1.0"),
    ({"batch_size": 65537}, "batch_size must be 1 to 65536, not 65537"),
    ({"clip_grad": 2e6}, "clip_grad must be 0 (off) to 1e6, not 2000000.0"),
    ({"snapshot_interval": -0.5}, "snapshot_interval must be at least 0 seconds, not -0.5"),
    ({"snapshot_budget_mb": 0}, "snapshot_budget_mb must be 1 to 1,000,000 MB, not 0"),
    ({"early_stop": 10001}, "early_stop must be 0 (off) to 10000 epochs, not 10001"),
    ({"device": "tpu"}, "device must be one of auto, cpu, cuda, mps, not 'tpu'"),
    ({"epochs": 2.0}, "epochs must be a whole number, not 2.0"),
    ({"seed": True}, "seed must be a whole number, not True"),
    ({"nesterov": 1}, "nesterov must be true or false, not 1"),
    ({"learning_rate": "0.1"}, "learning_rate must be a number, not '0.1'"),
    ({"optimizer": None}, "optimizer must be text, not None"),
    ({"gamma": math.nan, "epochs": 0}, "gamma must be a finite number, not nan; epochs must be 1 to 10000, not 0"),
])
def test_a_refusal_names_the_setting_the_values_allowed_and_the_value(changes, message):
    with pytest.raises(ConfigError) as refused:
        TrainConfig(**changes)
    assert str(refused.value) == message


@pytest.mark.parametrize("name", [name for name, s in SETTINGS.items() if s.kind in (int, float)])
def test_every_number_setting_is_refused_just_outside_its_range_and_kept_at_its_ends(name):
    setting = SETTINGS[name]
    step = (lambda v, d: v + d) if setting.kind is int else (lambda v, d: math.nextafter(v, d * math.inf))
    for end, is_open, outward in ((setting.low, setting.low_open, -1), (setting.high, setting.high_open, 1)):
        if end is None:
            continue
        outside, inside = (end, step(end, -outward)) if is_open else (step(end, outward), end)
        TrainConfig(**{name: setting.kind(inside)})
        with pytest.raises(ConfigError, match=f"^{name} must be "):
            TrainConfig(**{name: setting.kind(outside)})


def test_settings_json_reads_whole_numbers_as_numbers_and_refuses_other_types():
    assert TrainConfig.from_dict({"learning_rate": 1, "clip_grad": 5}) == TrainConfig(learning_rate=1.0, clip_grad=5.0)
    with pytest.raises(ConfigError, match="^clip_grad must be 0 \\(off\\) to 1e6, not 1000"):
        TrainConfig.from_dict({"clip_grad": 10**400})  # too large for a float: still one clear refusal
    with pytest.raises(ConfigError, match="^epochs must be a whole number, not '5'"):
        TrainConfig.from_dict({"epochs": "5"})
    with pytest.raises(ConfigError, match="unknown training setting 'learning-rate'"):
        TrainConfig.from_dict({"learning-rate": 0.1})
