"""The last finite weights of a run, kept on the CPU so a diverged run can be put back."""

from __future__ import annotations

import torch
from torch import nn


class FiniteCheckpoint:
    """A CPU copy of the model's state dict, replaced only by states whose values are all finite.

    The trainer saves one at the start, every `rollback_interval` seconds (default 0.5) and at
    every epoch end. Copying is cheap for the networks ConvScope builds (LeNet-5: 62k values, tens
    of microseconds), so a divergence loses at most half a second of training.
    """

    def __init__(self) -> None:
        self.state: dict[str, torch.Tensor] | None = None
        self.step = 0

    def save(self, model: nn.Module, step: int) -> bool:
        """Keep the model's current state if it is all finite; False (nothing kept) if not."""
        tensors = model.state_dict()
        checks = [torch.isfinite(t).all() for t in tensors.values() if t.is_floating_point()]
        if checks and not bool(torch.stack(checks).all()):  # one device sync for all tensors
            return False
        self.state = {name: t.detach().to("cpu", copy=True) for name, t in tensors.items()}
        self.step = step
        return True

    def restore(self, model: nn.Module) -> None:
        if self.state is None:
            raise RuntimeError("no finite checkpoint has been saved")
        model.load_state_dict(self.state)
        for p in model.parameters():
            p.grad = None  # the gradients belong to the diverged state
