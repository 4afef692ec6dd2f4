"""Where training runs: device selection (CUDA > MPS > CPU) and the torch CPU thread count."""

from __future__ import annotations

import os

import torch

# Measured on a 2-core machine with LeNet-5, batch 64 (bench/throughput.py -> bench/results/throughput.txt):
# on an idle machine 2 threads beat 1 by 40-50%; but as soon as anything else keeps one core
# busy (the GUI drawing the live views, another program), 2 threads on 2 cores collapse by 70-95%,
# because torch's worker threads wait for the descheduled one at every parallel region, while 1 thread
# loses only what the busy core takes. So the automatic choice never uses every core except on a
# 2-core machine without a GUI (the CLI), where the gain is large; elsewhere it leaves one core free.
# These networks are small, so more than a few threads help little: the count is capped (values above
# 2 threads could not be measured here).
MAX_AUTO_THREADS = 4


class DeviceError(ValueError):
    """The requested device does not exist here; the message says what to use instead."""


def available_devices() -> list[str]:
    """The device names that work on this machine, best first ('cpu' always)."""
    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    if _mps_available():
        found.append("mps")
    return found + ["cpu"]


def select_device(requested: str = "auto") -> torch.device:
    """'auto' picks CUDA, then Apple MPS, then the CPU; an explicit name must be available."""
    available = available_devices()
    if requested == "auto":
        return torch.device(available[0])
    if requested not in ("cpu", "cuda", "mps"):
        raise DeviceError(f"unknown device {requested!r}; use auto, cpu, cuda or mps")
    if requested not in available:
        what = {"cuda": "CUDA (no NVIDIA GPU or no CUDA build of PyTorch)",
                "mps": "Apple MPS (not a Mac with Metal, or an old PyTorch)"}[requested]
        raise DeviceError(f"device {requested!r} is not available: {what}; use --device auto or cpu "
                          f"(available here: {', '.join(available)})")
    return torch.device(requested)


def usable_cores() -> int:
    """CPU cores this process may run on (respects taskset/cgroup affinity where the OS reports it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def choose_threads(requested: int = 0, *, alongside_gui: bool = False, cores: int | None = None,
                   ranks_here: int = 1) -> int:
    """The torch intra-op thread count: `requested` if > 0, else the automatic choice explained above.

    `ranks_here` training processes on this machine (torchrun's LOCAL_WORLD_SIZE) share its cores: each
    takes cores // ranks_here (at least 1), never more (2 ranks x 2 threads on 2 cores is the collapse)."""
    if requested > 0:
        return requested
    cores = usable_cores() if cores is None else cores
    if ranks_here > 1:
        return max(1, min(cores // ranks_here, MAX_AUTO_THREADS))
    spare = cores - 1 if alongside_gui or cores > 2 else cores
    return max(1, min(spare, MAX_AUTO_THREADS))


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())
