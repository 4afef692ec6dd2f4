"""Mixed precision and channels_last: which a device gets (both CUDA branches from the CPU), and CPU unchanged."""

from __future__ import annotations

import pytest
import torch

from engine.config import TrainConfig
from engine.training.precision import autocast, grad_scaler, plan_precision
from engine.training.trainer import Trainer
from tests.engine.training_data import tiny_arch, tiny_dataset

CUDA = torch.device("cuda")


def test_cuda_gets_bf16_where_supported_else_fp16_with_loss_scaling():
    bf16 = plan_precision(CUDA, True, True, bf16_supported=True)
    assert (bf16.autocast_dtype, bf16.loss_scaling, bf16.channels_last) == (torch.bfloat16, False, True)
    fp16 = plan_precision(CUDA, True, True, bf16_supported=False)
    assert (fp16.autocast_dtype, fp16.loss_scaling) == (torch.float16, True)
    assert fp16.describe() == "mixed precision float16 with loss scaling, channels_last"


def test_the_settings_turn_them_off_and_nets_without_convolutions_stay_nchw():
    off = plan_precision(CUDA, False, False, bf16_supported=True)
    assert (off.autocast_dtype, off.loss_scaling, off.channels_last, off.describe()) == (None, False, False,
                                                                                          "float32")
    assert not plan_precision(CUDA, True, True, has_conv=False, bf16_supported=True).channels_last


@pytest.mark.parametrize("device", ["cpu", "mps"])
def test_other_devices_train_in_float32_nchw(device):
    plan = plan_precision(torch.device(device), True, True)
    assert plan.autocast_dtype is None and not plan.channels_last and not plan.loss_scaling
    loss = torch.tensor(2.0, requires_grad=True)
    assert grad_scaler(plan, torch.device("cpu")).scale(loss) is loss  # a pass-through
    with autocast(plan, torch.device("cpu")):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32


def _weights(**changes):
    config = TrainConfig(epochs=1, batch_size=32, device="cpu", threads=1, snapshot_interval=1e9, **changes)
    trainer = Trainer(tiny_arch(), tiny_dataset(), config)
    trainer.fit()
    return trainer.model.state_dict()


def test_on_the_cpu_the_settings_change_nothing():
    on, off = _weights(mixed_precision=True, channels_last=True), _weights(mixed_precision=False,
                                                                          channels_last=False)
    assert all(torch.equal(on[k], off[k]) for k in on)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_on_cuda_mixed_precision_trains_and_keeps_float32_weights():
    config = TrainConfig(epochs=3, batch_size=32, device="cuda", learning_rate=0.01, snapshot_interval=1e9)
    trainer = Trainer(tiny_arch(), tiny_dataset(), config)
    finished = trainer.fit()
    assert finished.reason == "completed" and trainer.precision.autocast_dtype is not None
    assert all(t.dtype == torch.float32 and torch.isfinite(t).all() for t in trainer.model.state_dict().values())
    assert trainer.history.epochs[-1].val_accuracy > 0.5
