"""The training form agrees with TrainConfig on every setting: the same ranges (TrainConfig judges the form's
ends), the same defaults, and no valid value clamped or rounded on its way through the form."""

from __future__ import annotations

import math
import sys

import pytest
from PySide6.QtWidgets import QAbstractSpinBox, QCheckBox, QComboBox

from engine.config import SETTINGS, ConfigError, TrainConfig
from engine.training.device import available_devices
from gui.training.training_form import TrainingForm

SHOWN = [name for name, setting in SETTINGS.items() if setting.in_form and name != "dataset"]
NUMBERS = [name for name in SHOWN if SETTINGS[name].kind in (int, float)]


@pytest.fixture
def form(qtbot):
    widget = TrainingForm()  # fresh: nothing set since it was built
    qtbot.addWidget(widget)
    return widget


def allowed(name, value) -> bool:
    try:
        TrainConfig(**{name: value})
    except ConfigError:
        return False
    return True


def just_outside(box, value: float, direction: float) -> float:
    return value + direction if isinstance(value, int) else math.nextafter(value, direction * math.inf)


@pytest.mark.parametrize("name", NUMBERS)
def test_each_number_field_holds_exactly_the_range_the_config_allows(form, name):
    box = form.field(name)
    assert isinstance(box, QAbstractSpinBox)
    for end, outward in ((box.minimum(), -1), (box.maximum(), 1)):
        assert allowed(name, end), f"{name}: the form offers {end}, which TrainConfig refuses"
        beyond = just_outside(box, end, outward)
        # Next to an open end at 0 lie subnormal doubles only, which no decimal spin box keeps apart from 0.
        subnormal = isinstance(end, float) and abs(beyond) < sys.float_info.min and beyond != 0
        assert subnormal or not allowed(name, beyond), f"{name}: TrainConfig allows {beyond}, the form stops at {end}"


def test_open_ends_are_left_out_and_closed_ends_kept(form):
    assert form.field("learning_rate").minimum() > 0 and form.field("learning_rate").maximum() == 10
    assert form.field("momentum").minimum() == 0 and form.field("momentum").maximum() == math.nextafter(1, 0)
    assert form.field("gamma").maximum() == 1 and form.field("seed").maximum() == 2**31 - 1


@pytest.mark.parametrize("name", SHOWN)
def test_each_field_starts_at_the_configs_default(form, name):
    widget = form.field(name)
    value = (widget.currentData() if isinstance(widget, QComboBox) else
             widget.isChecked() if isinstance(widget, QCheckBox) else widget.value())
    assert value == getattr(TrainConfig(), name)


@pytest.mark.parametrize("name", [name for name in SHOWN if SETTINGS[name].choices])
def test_each_choice_list_offers_the_configs_choices(form, name):
    combo = form.field(name)
    keys = [combo.itemData(i) for i in range(combo.count())]
    expected = list(SETTINGS[name].choice_keys())
    if name == "device":  # only this machine's devices, Automatic first
        expected = [key for key in expected if key == "auto" or key in available_devices()]
    assert sorted(keys) == sorted(expected) and all(allowed(name, key) for key in keys)


def edge_configs(form) -> list[TrainConfig]:
    """Every shown number at each end of its range, every choice, and the values the form once clamped."""
    configs = []
    for name in NUMBERS:
        box = form.field(name)
        configs += [TrainConfig(**{name: box.minimum()}), TrainConfig(**{name: box.maximum()})]
    for name in SHOWN:
        combo = form.field(name)
        if isinstance(combo, QComboBox):
            configs += [TrainConfig(**{name: combo.itemData(i)}) for i in range(combo.count())]
    hidden = {"val_fraction": (1e-9, 0.999999999), "threads": (0, 256), "snapshot_interval": (0.0, 1e9),
              "snapshot_budget_mb": (1, 1_000_000)}
    configs += [TrainConfig(**{name: value}) for name, ends in hidden.items() for value in ends]
    return configs + [
        TrainConfig(optimizer="sgd", learning_rate=1e-7, momentum=0.9999),  # re-saved as 1e-6 and 0.999, once
        TrainConfig(learning_rate=1e-12, weight_decay=0.12345678901234, label_smoothing=1 - 2**-52),
        TrainConfig(optimizer="sgd", momentum=0.9, nesterov=True, mixed_precision=False, channels_last=False),
    ]


def test_every_edge_survives_the_form_unchanged(form):
    for config in edge_configs(form):
        form.set_config(config)
        assert form.config() == config, {k: (v, getattr(form.config(), k)) for k, v in config.to_dict().items()
                                         if getattr(form.config(), k) != v}


def test_the_form_shows_every_setting_it_does_not_keep_hidden(form):
    assert set(SHOWN) | {"dataset"} == {name for name, s in SETTINGS.items() if s.in_form}
    assert {name for name in SETTINGS if name not in SHOWN} == {"dataset", "val_fraction", "snapshot_interval",
                                                                "threads", "snapshot_budget_mb"}


def test_a_word_stands_for_zero_where_zero_means_off(form):
    form.set_config(TrainConfig(clip_grad=0.0, early_stop=0))
    assert form.field("clip_grad").text() == "off" and form.field("early_stop").text() == "off"
    form.set_config(TrainConfig(clip_grad=2.5, early_stop=3))
    assert form.field("clip_grad").text() == "2.5" and form.field("early_stop").text() == "3 epochs"
