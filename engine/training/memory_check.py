"""Whether a network's training fits in the memory of its device, checked before anything large is allocated.

The estimate is models/memory_estimate.py. What is available: on the CPU the kernel's MemAvailable (what
can be allocated without swapping), lowered to a cgroup's memory.max where a container sets one; on CUDA
torch.cuda.mem_get_info's free bytes. Where it cannot be told (MPS, no /proc), nothing is refused: a
wrong refusal would block a run that works.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import torch

from engine.training.early_stopping import keeps_best
from engine.config import EVALUATION_BATCH
from models.memory_estimate import BYTES_PER_NUMBER, MemoryEstimate, estimate_memory, format_bytes, largest_layers
from models.shapes import Analysis


def available_bytes(device: torch.device) -> int | None:
    """Bytes training may still allocate on `device`; None when unknown."""
    if device.type == "cuda":
        try:
            free, _total = torch.cuda.mem_get_info(device)
        except RuntimeError:  # a broken driver: the Trainer's own use of the device will say so
            return None
        return int(free)
    if device.type == "cpu":
        found = [n for n in (_mem_available(), _cgroup_room()) if n is not None]
        return min(found) if found else None
    return None


def training_memory_problem(analysis: Analysis, config, device: torch.device, dataset, *, world_size: int = 1,
                            processes_here: int = 1, available: int | None = None) -> str | None:
    """memory_problem() for a Trainer: this process's share of the batch, plus what the trainer keeps.

    On the CPU the trainer keeps a rollback copy of the weights (engine/training/rollback.py) and, when it keeps the
    best epoch, one more (engine/training/early_stopping.py); torchrun's `processes_here` ranks share the machine's
    memory. On a GPU the dataset moves there too (the training storage, the validation and probe images)."""
    share = -(-config.batch_size // world_size)  # rank 0's share is the largest
    weights = BYTES_PER_NUMBER * analysis.total_params
    if device.type == "cpu":
        copies = 2 if keeps_best(config) else 1
        extra = ("rollback and best-epoch copies" if copies == 2 else "rollback copy", weights * copies)
        scale = processes_here
    else:
        train, val = dataset.train, dataset.val
        probe = val if len(val) else train  # the snapshots' probe images (Trainer._probe_split)
        floats = (len(val) + len(probe)) * BYTES_PER_NUMBER * math.prod(dataset.input_shape)
        extra = ("dataset", train.data.nbytes + train.labels.nbytes + floats + val.labels.nbytes)
        scale = 1
    return memory_problem(analysis, config, device, share, available, extra, scale)


def memory_problem(analysis: Analysis, config, device: torch.device, batch_size: int | None = None,
                   available: int | None = None, extra: tuple[str, int] = ("", 0), scale: int = 1) -> str | None:
    """One sentence refusing the network when its estimate exceeds what `device` has, else None.

    `batch_size`: this process's share of a batch (torchrun), default config.batch_size. `extra`: (what, bytes)
    the trainer adds on this device beyond the estimate (the rollback copy of the weights on the CPU, the
    dataset on a GPU); `scale` processes each need as much. `available` defaults to available_bytes(device)."""
    estimate = estimate_memory(analysis, batch_size or config.batch_size, config.optimizer, config.momentum,
                               EVALUATION_BATCH)
    available = available_bytes(device) if available is None else available
    if available is None or (estimate.total + extra[1]) * scale <= available:
        return None
    return _refusal(estimate, extra, scale, available, device, analysis)


def _refusal(estimate: MemoryEstimate, extra: tuple[str, int], scale: int, available: int, device: torch.device,
             analysis: Analysis) -> str:
    heaviest, widest = largest_layers(analysis)
    if estimate.activations >= estimate.weights:  # a smaller batch helps most
        advice = (f"use a smaller batch size (now {estimate.batch_size}) or fewer channels / smaller "
                  f"feature maps in {widest}, which has the largest output")
    else:  # a smaller batch cannot help: the parameters alone are too many
        advice = f"use fewer features / channels (out_features, out_channels) in {heaviest}, which holds the most " \
                 "weights, or a pooling layer before it"
    times = f", in each of {scale} processes" if scale > 1 else ""
    where = "this machine has" if device.type == "cpu" else f"the GPU ({device}) has"
    return (f"this network needs {estimate.describe(extra)}{times}, but {where} {format_bytes(available)} "
            f"free; {advice}")


def _mem_available() -> int | None:
    """MemAvailable from /proc/meminfo, else the machine's physical memory (os.sysconf), else None."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024  # the kernel writes kB meaning KiB
    except (OSError, ValueError, IndexError):
        pass
    try:  # no /proc: physical memory is an upper bound, so this refuses only the impossible
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _cgroup_room(root: Path = Path("/sys/fs/cgroup"), membership: Path = Path("/proc/self/cgroup")) -> int | None:
    """Room left under this process's cgroup v2 memory limit (a container's, below the host's
    MemAvailable); None without one.

    memory.current counts the page cache, which the kernel reclaims before it fails an allocation: its
    inactive file pages are left out of the use, as `docker stats` does, lest a cached dataset refuse a run."""
    try:
        own = next((line[3:].strip() for line in membership.read_text().splitlines() if line.startswith("0::")), "/")
        group = root / own.lstrip("/")
        limit = (group / "memory.max").read_text().strip()
        if limit == "max":
            return None
        used = int((group / "memory.current").read_text())
        stat = dict(line.split() for line in (group / "memory.stat").read_text().splitlines() if line.count(" ") == 1)
        return max(0, int(limit) - used + int(stat.get("inactive_file", 0)))
    except (OSError, ValueError):
        return None
