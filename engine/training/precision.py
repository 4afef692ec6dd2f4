"""Mixed precision and channels_last on CUDA: what a run uses, chosen from the device and the settings.

On a CUDA device, unless turned off (`mixed_precision: false`, `channels_last: false`): the forward pass and
loss run under torch.autocast in bfloat16 where the GPU supports it (no loss scaling needed: it has
float32's range), else float16 with a GradScaler; conv nets take channels_last inputs and weights (tensor
cores read NHWC). Elsewhere (CPU, MPS) training stays float32 and NCHW: CPU autocast is slower for these
small nets and MPS support varies. Weights stay float32 throughout (autocast casts per operation), so
snapshots, the rollback copy and saved files are unaffected.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class PrecisionPlan:
    autocast_dtype: torch.dtype | None   # None: plain float32
    loss_scaling: bool                   # float16 needs a GradScaler against underflowing gradients
    channels_last: bool

    def describe(self) -> str:
        parts = []
        if self.autocast_dtype is not None:
            parts.append(f"mixed precision {str(self.autocast_dtype).removeprefix('torch.')}"
                         + (" with loss scaling" if self.loss_scaling else ""))
        if self.channels_last:
            parts.append("channels_last")
        return ", ".join(parts) or "float32"


def plan_precision(device: torch.device, mixed_precision: bool, channels_last: bool, *, has_conv: bool = True,
                   bf16_supported: bool | None = None) -> PrecisionPlan:
    """The plan for `device`; `bf16_supported` defaults to asking torch (the parameter lets the CPU tests
    take both CUDA branches)."""
    if device.type != "cuda":
        return PrecisionPlan(None, False, False)
    dtype = None
    if mixed_precision:
        if bf16_supported is None:
            bf16_supported = torch.cuda.is_bf16_supported()
        dtype = torch.bfloat16 if bf16_supported else torch.float16
    return PrecisionPlan(dtype, dtype == torch.float16, channels_last and has_conv)


def autocast(plan: PrecisionPlan, device: torch.device):
    """The context the forward pass and loss run in."""
    if plan.autocast_dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=plan.autocast_dtype)


def grad_scaler(plan: PrecisionPlan, device: torch.device) -> torch.amp.GradScaler:
    """A GradScaler, enabled only for float16 (disabled, it passes the loss and the step straight through)."""
    return torch.amp.GradScaler(device.type if device.type == "cuda" else "cpu", enabled=plan.loss_scaling)
