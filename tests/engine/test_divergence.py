"""A loss that explodes is a divergence, like one that becomes NaN: the run stops and rolls back."""

import math
import re

import pytest

from engine.config import TrainConfig
from engine.training.divergence import EXPLODED_LOSS_FACTOR, exploded_loss_limit, has_diverged
from engine.events import DIVERGED
from engine.training.trainer import Trainer
from tests.engine.training_data import tiny_arch, tiny_dataset


def test_the_limit_is_a_hundred_times_the_loss_of_guessing():
    assert exploded_loss_limit(10) == pytest.approx(EXPLODED_LOSS_FACTOR * 2.302585, rel=1e-6)  # 230.26
    assert not has_diverged(229.0, 10) and has_diverged(231.0, 10)
    assert has_diverged(math.nan, 10) and has_diverged(math.inf, 10) and not has_diverged(2.3, 10)
    assert exploded_loss_limit(1) == exploded_loss_limit(2)  # one class: still a positive limit


def test_adam_at_learning_rate_10_is_reported_as_diverged_not_completed():
    config = TrainConfig(epochs=2, batch_size=16, optimizer="adam", learning_rate=10.0, snapshot_interval=0.0,
                         device="cpu", threads=1)
    trainer = Trainer(tiny_arch(), tiny_dataset(), config)
    finished = trainer.fit()
    assert finished.reason == DIVERGED
    grown = float(re.search(r"grew to ([0-9.e+]+) at step", finished.message).group(1))
    assert grown > exploded_loss_limit(3)  # 110: 100 x ln 3
    assert "learning rate 10 is probably too high; try 1." in finished.message


def test_an_ordinary_run_is_not_flagged():
    config = TrainConfig(epochs=3, batch_size=16, learning_rate=0.01, device="cpu", threads=1)
    trainer = Trainer(tiny_arch(), tiny_dataset(), config)
    assert trainer.fit().reason != DIVERGED
