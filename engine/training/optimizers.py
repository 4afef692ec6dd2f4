"""The optimiser a TrainConfig names: Adam, AdamW (decoupled weight decay), SGD (momentum, Nesterov), RMSprop."""

from __future__ import annotations

from typing import Iterable

import torch

from engine.config import TrainConfig


def make_optimizer(params: Iterable[torch.nn.Parameter], config: TrainConfig) -> torch.optim.Optimizer:
    """torch's own optimiser classes, at `config.learning_rate` (a schedule then scales it per step).

    weight_decay is an L2 term added to the gradient for adam, sgd and rmsprop, and a decay of the weights
    themselves, outside the adaptive step, for adamw (Loshchilov & Hutter); momentum applies to sgd and
    rmsprop, nesterov to sgd."""
    lr, decay = config.learning_rate, config.weight_decay
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=config.momentum, weight_decay=decay,
                               nesterov=config.nesterov and config.momentum > 0)
    if config.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, momentum=config.momentum, weight_decay=decay)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=decay)
    return torch.optim.Adam(params, lr=lr, weight_decay=decay)
