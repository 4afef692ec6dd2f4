"""Hand-set conv filters (conv2d `init`) written into a built model, and frozen ones kept exactly as set.

`requires_grad` covers a whole tensor, and weight decay, momentum or AdamW would still move a filter
whose gradient is zeroed; so `FrozenFilters.restore()` copies the frozen slices (and their zero biases)
back after every optimiser step: they stay bit-identical however the optimiser updates the rest.
"""

from __future__ import annotations

import torch
from torch import nn

from models.architecture import Architecture
from models.kernel_library import filter_values
from models.layers import Conv2dSpec, pair


def _hand_set(arch: Architecture, model: nn.Module):
    """(conv module, spec, {filter index: weights tensor}) for each conv layer with an `init`."""
    for spec, module in zip(arch.layers, model):
        if isinstance(spec, Conv2dSpec) and spec.init is not None:
            c_in, (kh, kw) = module.weight.shape[1], pair(spec.kernel_size)
            values = {n: torch.tensor(filter_values(entry, n, c_in, kh, kw), dtype=module.weight.dtype)
                      for n, entry in enumerate(spec.init) if entry is not None}
            yield module, spec, values


@torch.no_grad()
def apply_init(model: nn.Module, arch: Architecture) -> None:
    """Write the hand-set filters into `model` (built from `arch`, random elsewhere); frozen ones get bias 0."""
    for module, spec, values in _hand_set(arch, model):
        for n, weights in values.items():
            module.weight[n].copy_(weights)
            if spec.frozen_init and module.bias is not None:
                module.bias[n] = 0.0


class FrozenFilters:
    """The frozen slices of a model's conv weights (and biases), saved once, restored after each optimiser step."""

    def __init__(self, model: nn.Module, arch: Architecture) -> None:
        self._slices: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor]] = []
        for module, spec, values in _hand_set(arch, model):
            frozen = spec.frozen_filters()
            if not frozen:
                continue
            index = torch.tensor(frozen, device=module.weight.device)
            weights = torch.stack([values[n] for n in frozen]).to(module.weight.device)
            self._slices.append((module.weight, index, module.bias, weights))

    def __bool__(self) -> bool:
        return bool(self._slices)

    @torch.no_grad()
    def restore(self) -> None:
        for weight, index, bias, values in self._slices:
            weight.index_copy_(0, index, values)
            if bias is not None:
                bias.index_fill_(0, index, 0.0)
