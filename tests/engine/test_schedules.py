"""Learning-rate schedules and optimisers: each rate per step against its closed form, AdamW against Adam."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from engine.config import ConfigError, TrainConfig
from engine.metrics import MetricsHistory
from engine.training.optimizers import make_optimizer
from engine.training.schedules import current_rate, make_schedule
from engine.training.trainer import Trainer
from tests.engine.training_data import tiny_arch, tiny_dataset

LR, SPE, EPOCHS = 0.1, 3, 5   # 15 steps
TOTAL = SPE * EPOCHS


def rates(config: TrainConfig, steps: int = TOTAL, spe: int = SPE) -> list[float]:
    """The rate used by each optimiser step, as the trainer drives the scheduler."""
    param = torch.nn.Parameter(torch.zeros(3))
    optimizer = make_optimizer([param], config)
    schedule = make_schedule(optimizer, config, spe)
    used = []
    for _ in range(steps):
        used.append(current_rate(optimizer))
        optimizer.step()
        schedule.step()
    return used


def closed_form(schedule: str, s: int, warm: int, *, gamma: float = 0.5, step_size: int = 2) -> float:
    """The documented formulas (engine/training/schedules.py), written out independently of torch."""
    if schedule != "onecycle" and s < warm:
        return LR * (s + 1) / (warm + 1)
    if schedule == "constant":
        return LR
    if schedule == "step":
        return LR * gamma ** math.floor((s - warm) / (step_size * SPE))
    if schedule == "cosine":
        return LR * (1 + math.cos(math.pi * (s - warm) / (TOTAL - warm))) / 2
    initial, rise_end = LR / 25, (warm if warm >= 2 else 0.3 * TOTAL) - 1
    final = initial / 1e4

    def anneal(start, end, pct):
        return end + (start - end) / 2 * (math.cos(math.pi * pct) + 1)
    if s <= rise_end:
        return anneal(initial, LR, s / rise_end)
    return anneal(LR, final, (s - rise_end) / (TOTAL - 1 - rise_end))


@pytest.mark.parametrize("schedule", ["constant", "step", "cosine", "onecycle"])
@pytest.mark.parametrize("warmup_epochs", [0, 1, 2])
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_each_schedule_follows_its_closed_form_per_step(schedule, warmup_epochs, optimizer):
    config = TrainConfig(schedule=schedule, warmup_epochs=warmup_epochs, epochs=EPOCHS, learning_rate=LR,
                         gamma=0.5, step_size=2, optimizer=optimizer)
    warm = warmup_epochs * SPE
    expected = [closed_form(schedule, s, warm) for s in range(TOTAL)]
    assert rates(config) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_shapes_cosine_falls_monotonically_and_onecycle_rises_then_falls():
    cosine = rates(TrainConfig(schedule="cosine", epochs=EPOCHS, learning_rate=LR))
    assert cosine[0] == LR and all(a > b for a, b in zip(cosine, cosine[1:])) and cosine[-1] < LR / 50
    one = rates(TrainConfig(schedule="onecycle", epochs=EPOCHS, learning_rate=LR))
    peak = one.index(max(one))
    assert one[0] == pytest.approx(LR / 25) and 0.99 * LR < max(one) <= LR  # the peak falls between steps
    assert all(a < b for a, b in zip(one[:peak], one[1:peak + 1]))
    assert all(a > b for a, b in zip(one[peak:], one[peak + 1:])) and one[-1] < LR / 1000


def test_cosine_and_onecycle_equal_torchs_schedulers_run_standalone():
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=LR)
    alone = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=TOTAL)
    standalone = []
    for _ in range(TOTAL):
        standalone.append(opt.param_groups[0]["lr"])
        opt.step()
        alone.step()
    assert rates(TrainConfig(schedule="cosine", epochs=EPOCHS, learning_rate=LR, optimizer="sgd")) == standalone


def test_a_run_too_short_for_its_warmup_still_reaches_the_peak():
    used = rates(TrainConfig(schedule="constant", warmup_epochs=50, epochs=1, learning_rate=LR), steps=4, spe=4)
    assert used == pytest.approx([LR / 4, LR / 2, 3 * LR / 4, LR])  # warm-up capped at the run's steps - 1


def _one_step(optimizer: str, weight_decay: float) -> torch.Tensor:
    torch.manual_seed(0)
    param = torch.nn.Parameter(torch.randn(5))
    opt = make_optimizer([param], TrainConfig(optimizer=optimizer, learning_rate=0.01, weight_decay=weight_decay))
    for _ in range(3):
        opt.zero_grad()
        (param ** 3).sum().backward()
        opt.step()
    return param.detach().clone()


def test_adamw_differs_from_adam_only_by_decoupled_weight_decay():
    assert torch.equal(_one_step("adam", 0.0), _one_step("adamw", 0.0))
    # AdamW with decay: p <- p * (1 - lr * wd), then Adam's undecayed step; one step written out by hand
    torch.manual_seed(0)
    p0 = torch.randn(5)
    param = torch.nn.Parameter(p0.clone())
    opt = make_optimizer([param], TrainConfig(optimizer="adamw", learning_rate=0.01, weight_decay=0.5))
    (param ** 3).sum().backward()
    opt.step()
    g = 3 * p0 ** 2
    m, v = 0.1 * g / (1 - 0.9), 0.001 * g ** 2 / (1 - 0.999)
    expected = p0 * (1 - 0.01 * 0.5) - 0.01 * m / (v.sqrt() + 1e-8)
    assert torch.allclose(param.detach(), expected, atol=1e-7)
    assert not torch.allclose(_one_step("adam", 0.5), _one_step("adamw", 0.5))  # Adam's L2 goes through m, v


def test_sgd_nesterov_and_rmsprop_momentum_reach_torch():
    p = [torch.nn.Parameter(torch.zeros(1))]
    sgd = make_optimizer(p, TrainConfig(optimizer="sgd", momentum=0.8, nesterov=True))
    assert isinstance(sgd, torch.optim.SGD) and sgd.defaults["nesterov"] and sgd.defaults["momentum"] == 0.8
    rms = make_optimizer(p, TrainConfig(optimizer="rmsprop", momentum=0.5, learning_rate=0.02))
    assert isinstance(rms, torch.optim.RMSprop) and rms.defaults["momentum"] == 0.5 and rms.defaults["lr"] == 0.02
    assert isinstance(make_optimizer(p, TrainConfig(optimizer="adamw")), torch.optim.AdamW)


@pytest.mark.parametrize("changes, problem", [
    ({"schedule": "linear"}, "schedule must be one of constant, step, cosine, onecycle, not 'linear'"),
    ({"optimizer": "lion"}, "optimizer must be one of adam, adamw, sgd, rmsprop"),
    ({"gamma": 0.0}, "gamma must be in (0, 1], not 0.0"),
    ({"gamma": math.nan}, "gamma must be a finite number"),
    ({"step_size": 0}, "step_size must be 1 to 10000 epochs, not 0"),
    ({"warmup_epochs": -1}, "warmup_epochs must be 0 to 10000, not -1"),
    ({"label_smoothing": 1.0}, "label_smoothing must be in [0, 1), not 1.0"),
    ({"clip_grad": -1.0}, "clip_grad must be 0 (off) to 1e6, not -1.0"),
    ({"optimizer": "sgd", "momentum": 0.0, "nesterov": True}, "nesterov needs momentum > 0"),
])
def test_new_settings_are_refused_by_name(changes, problem):
    with pytest.raises(ConfigError, match=problem.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        TrainConfig(**changes)


def test_old_settings_without_the_new_fields_load_with_defaults():
    old = {"dataset": "mnist", "optimizer": "sgd", "learning_rate": 0.05, "momentum": 0.9, "batch_size": 32,
           "epochs": 3, "weight_decay": 0.0, "seed": 1, "device": "cpu", "val_fraction": 0.2,
           "snapshot_interval": 0.5, "threads": 0}
    config = TrainConfig.from_dict(old)
    assert (config.schedule, config.warmup_epochs, config.label_smoothing, config.clip_grad, config.nesterov) == \
        ("constant", 0, 0.0, 0.0, False)
    full = config.replace(schedule="cosine", nesterov=True, clip_grad=1.0, label_smoothing=0.1)
    assert TrainConfig.from_dict(full.to_dict()) == full


def _trainer(config: TrainConfig) -> Trainer:
    return Trainer(tiny_arch(), tiny_dataset(), config, log_interval=0.0)


def test_the_trainer_records_each_steps_rate_and_it_survives_metrics_csv():
    config = TrainConfig(epochs=3, batch_size=32, schedule="cosine", warmup_epochs=1, learning_rate=0.01,
                         device="cpu", threads=1, snapshot_interval=1e9)
    trainer = _trainer(config)
    trainer.fit()
    spe, total = 3, 9  # 96 training images in batches of 32
    expected = [0.01 * (s + 1) / (spe + 1) if s < spe else
                0.01 * (1 + math.cos(math.pi * (s - spe) / (total - spe))) / 2 for s in range(total)]
    recorded = trainer.history.learning_rates
    assert [row.step for row in trainer.history.batches] == list(range(1, total + 1))
    assert recorded == pytest.approx(expected, rel=1e-9)
    back = MetricsHistory.from_csv(trainer.history.to_csv())
    assert back == trainer.history and back.learning_rates == recorded


def test_metrics_csv_from_before_the_rate_column_still_reads():
    old = ("kind,epoch,step,loss,accuracy,train_loss,train_accuracy,val_loss,val_accuracy\n"
           "batch,1,1,2.0,0.5,,,,\nepoch,1,1,,,2.0,0.5,1.9,0.4\n")
    history = MetricsHistory.from_csv(old)
    assert history.batches == [(1, 1, 2.0, 0.5)] and math.isnan(history.learning_rate(0))
    assert history.epochs == [(1, 1, 2.0, 0.5, 1.9, 0.4)]


def _first_batch(config: TrainConfig):
    """The model before training and the first batch the trainer draws (its own seeded permutation)."""
    trainer = _trainer(config)
    dataset = trainer.dataset
    perm = torch.randperm(len(dataset.train), generator=torch.Generator().manual_seed(config.seed))
    idx = perm[:config.batch_size]
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    return trainer, before, dataset.train.images[idx], dataset.train.labels[idx]


def test_label_smoothing_is_the_training_loss():
    config = TrainConfig(epochs=1, batch_size=32, label_smoothing=0.2, device="cpu", threads=1,
                         snapshot_interval=1e9)
    trainer, _, x, y = _first_batch(config)
    with torch.no_grad():
        oracle = F.cross_entropy(trainer.model.logits(x), y, label_smoothing=0.2).item()
        plain = F.cross_entropy(trainer.model.logits(x), y).item()
    trainer.fit()
    assert trainer.history.batches[0].loss == pytest.approx(oracle, rel=1e-6) and abs(oracle - plain) > 1e-3


def test_clip_grad_scales_the_step_to_the_maximum_norm():
    config = TrainConfig(epochs=1, batch_size=96, optimizer="sgd", momentum=0.0, learning_rate=0.5,
                         clip_grad=0.05, device="cpu", threads=1, snapshot_interval=1e9)
    trainer, before, x, y = _first_batch(config)
    model = trainer.model
    F.cross_entropy(model.logits(x), y).backward()
    grads = {name: p.grad.clone() for name, p in model.named_parameters()}
    model.zero_grad(set_to_none=True)
    norm = torch.sqrt(sum((g ** 2).sum() for g in grads.values()))
    assert norm > 0.05  # the clip is active
    trainer.fit()  # one batch: one SGD step
    for name, p in model.named_parameters():
        expected = before[name] - 0.5 * grads[name] * (0.05 / norm)
        assert torch.allclose(p.detach(), expected, atol=1e-6), name
