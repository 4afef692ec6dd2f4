"""Where training runs: device selection (CUDA > MPS > CPU) and the torch CPU thread count."""

from __future__ import annotations

import os

import torch

# Measured on a 2-core machine with LeNet-5, batch 64 (bench/threads.py -> bench/results/threads.txt):
# alone, 2 threads beat 1 by about 40%; but while anything else keeps one core busy (the GUI drawing the
# live views, a second run, another program), 2 threads on 2 cores collapse to 0.28 of their speed (3,800
# vs 13,700 samples/s), because torch's worker threads wait for the descheduled one at every parallel
# region, while 1 thread keeps 0.94 of its speed (9,400 vs 10,000). OMP_WAIT_POLICY=PASSIVE (set before
# torch loads) halves 2 threads' speed alone and still loses a quarter beside a busy core; a single interop
# thread changes nothing. So the automatic choice leaves one core free, for `train`, the window's child and
# experiments alike: never the collapse, at the price of the idle 2-core machine's 40%. These networks are
# small, so more than a few threads help little: the count is capped (values above 2 threads could not be
# measured here).
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


def choose_threads(requested: int = 0, *, cores: int | None = None, ranks_here: int = 1) -> int:
    """The torch intra-op thread count: `requested` if > 0, else the automatic choice explained above.

    `ranks_here` training processes on this machine (torchrun's LOCAL_WORLD_SIZE) share its cores: each
    takes cores // ranks_here (at least 1), never more (2 ranks x 2 threads on 2 cores is the collapse)."""
    if requested > 0:
        return requested
    cores = usable_cores() if cores is None else cores
    if ranks_here > 1:
        return max(1, min(cores // ranks_here, MAX_AUTO_THREADS))
    return max(1, min(cores - 1, MAX_AUTO_THREADS))


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())
