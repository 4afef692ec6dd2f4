"""The form's optimiser, schedule and regularisation settings, and the learning-rate curve beside the loss."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.config import TrainConfig
from engine.events import BatchEnded
from engine.metrics import MetricsHistory
from gui.training.live_view_kinds import CurvesLiveView
from gui.training.training_form import TrainingForm


@pytest.fixture
def form(qtbot):
    widget = TrainingForm()
    qtbot.addWidget(widget)
    widget.setMinimumSize(100, 100)  # a fixed size: the offscreen platform warns about size hints
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.mark.parametrize("config", [
    TrainConfig(optimizer="sgd", momentum=0.8, nesterov=True, schedule="step", step_size=3, gamma=0.25,
                warmup_epochs=2, label_smoothing=0.125, clip_grad=2.5),
    TrainConfig(optimizer="adamw", weight_decay=0.05, schedule="onecycle", gamma=0.0005, label_smoothing=0.9999),
    TrainConfig(optimizer="rmsprop", momentum=0.0, schedule="cosine", clip_grad=1e6, augment="none"),
    TrainConfig(augment="cutout,affine"),  # not one of the form's choices: kept as it came
    TrainConfig(augment="crop,flip,cutout", early_stop=3, early_stop_metric="val_accuracy", keep="last"),
    TrainConfig(early_stop=10000, keep="best", mixed_precision=False),
    TrainConfig(channels_last=False),
])
def test_every_new_setting_round_trips_through_the_form_unclamped(form, config):
    form.set_config(config)
    assert form.config() == config


def choose(form, name, value):
    combo = form.field(name)
    combo.setCurrentIndex(combo.findData(value))


def shown(form, *names):
    return [name for name in names if form.field(name).isVisible()]


def test_rows_follow_the_optimiser_and_the_schedule(form):
    form.set_config(TrainConfig(optimizer="adam", schedule="cosine"))
    assert shown(form, "momentum", "nesterov", "step_size", "gamma") == []
    choose(form, "optimizer", "rmsprop")
    assert shown(form, "momentum", "nesterov") == ["momentum"]
    choose(form, "optimizer", "sgd")
    assert shown(form, "momentum", "nesterov") == ["momentum", "nesterov"]
    choose(form, "schedule", "step")
    assert shown(form, "step_size", "gamma") == ["step_size", "gamma"] and form.config().schedule == "step"


def test_nesterov_without_momentum_is_not_sent(form):
    form.set_config(TrainConfig(optimizer="sgd", momentum=0.9, nesterov=True))
    form.field("momentum").setValue(0.0)
    assert form.config().nesterov is False  # TrainConfig would refuse nesterov with no momentum


def test_the_learning_rate_is_drawn_beside_the_loss(qtbot):
    view = CurvesLiveView()
    qtbot.addWidget(view.widget)  # closed and deleted on this thread after the test
    rates = [0.01 * (1 + math.cos(math.pi * s / 10)) / 2 for s in range(10)]
    for step, rate in enumerate(rates, start=1):
        view.add_batch(BatchEnded(1, step, step, 10, 1.0 / step, 0.5, 100.0, rate))
    view.flush()
    steps, drawn = view.widget.learning_rate_curve()
    assert list(steps) == list(range(1, 11)) and np.allclose(drawn, rates)
    item = view.widget.curve_items()["lr"]
    assert np.allclose(item.yData, rates)
    assert item.getViewBox() is not view.widget.curve_items()["loss"].getViewBox()  # its own strip


def test_saved_curves_bring_their_rates_and_older_ones_none(qtbot):
    view = CurvesLiveView()
    qtbot.addWidget(view.widget)
    view.set_history(MetricsHistory([(1, 1, 2.0, 0.5), (2, 1, 1.5, 0.6)], [], [0.1, 0.05]))
    view.flush()
    assert list(view.widget.learning_rate_curve()[1]) == [0.1, 0.05]
    view.set_history(MetricsHistory([(1, 1, 2.0, 0.5)], []))
    view.flush()
    assert np.isnan(view.widget.learning_rate_curve()[1]).all()


def test_the_preview_strip_shows_training_images_as_augmented(form, tmp_path):
    from engine.datasets import load_dataset
    from gui.training.augment_preview import GAP, SAMPLES, preview_strip

    dataset = load_dataset("fashion-mnist")
    form.set_config(TrainConfig(dataset="fashion-mnist", augment="none"))
    form.set_preview_dataset(dataset)
    strip = form.augment_preview.strip
    assert form.augment_preview.isVisible() and strip.shape == (28, SAMPLES * (28 + GAP) - GAP, 1)
    first = dataset.to_uint8(dataset.train.images_at(slice(0, 1)))[0]
    assert np.array_equal(strip[:, :28], first)  # none: the images as they are
    choose(form, "augment", "crop,flip")
    changed = form.augment_preview.strip
    assert not np.array_equal(changed, strip)
    assert np.array_equal(changed, preview_strip(dataset, form.config())[0])  # the same seeded draw again
    assert "crop + flip" in form.augment_preview.toolTip()
    form.set_preview_dataset(None)
    assert not form.augment_preview.isVisible()


@pytest.mark.parametrize("config", [
    TrainConfig(optimizer="sgd", momentum=0.9995, weight_decay=0.9995),  # TrainConfig allows up to (not) 1
    TrainConfig(optimizer="sgd", momentum=0.12345, weight_decay=1.5e-7, clip_grad=1.23456),  # more digits than shown
])
def test_values_near_the_ends_of_their_ranges_are_kept_exactly(form, config):
    form.set_config(config)
    assert form.config() == config


def test_a_colour_sets_preview_stays_in_colour_while_the_form_is_disabled(qtbot):
    from engine.datasets import load_dataset
    from gui.training.augment_preview import AugmentPreview
    preview = AugmentPreview()
    qtbot.addWidget(preview)
    preview.setMinimumSize(100, 40)  # a fixed size: the offscreen platform warns about size hints
    preview.resize(400, 40)
    preview.show_preview(load_dataset("shapes-rgb"), TrainConfig(augment="none"))
    preview.setEnabled(False)  # as during a run: a disabled QLabel draws its pixmap grey
    image = preview.grab().toImage()
    colours = {image.pixelColor(x, y).getRgb()[:3] for x in range(0, image.width(), 2)
               for y in range(0, image.height(), 2)}
    assert any(max(c) - min(c) > 60 for c in colours)  # saturated pixels: the shapes' colours


def test_augmentation_starts_off_and_offers_the_datasets_set_with_its_trade_off(form):
    """Issue 28 item 15: off by default; the recommended set is one choice, titled with when it pays off."""
    combo = form.field("augment")
    assert combo.currentData() == "none" and form.config().augment == "none"
    title = combo.itemText(combo.findData("default"))
    assert "pays off in long runs" in title and "30 epochs" in title
    choose(form, "augment", "default")
    assert form.config().augment == "default"


def test_a_unit_agrees_with_the_value_beside_it(form):
    """Issue 28 item 9: the step schedule's default, 1, read "1 epochs"."""
    box = form.field("step_size")
    assert box.value() == 1 and box.text() == "1 epoch"
    box.setValue(3)
    assert box.text() == "3 epochs"
    patience = form.field("early_stop")
    patience.setValue(1)
    assert patience.text() == "1 epoch"
    form.set_config(TrainConfig(early_stop=4))
    assert patience.text() == "4 epochs" and form.config().early_stop == 4
