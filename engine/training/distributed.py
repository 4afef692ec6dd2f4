"""Training under torchrun: the process group, each rank's shard of a batch, rank 0's decisions and buffers.

The Trainer talks to one `Ranks` object: `SingleProcess` (no process group; every method does what the plain
loop did) or `ProcessGroupRanks` (started by `join_ranks()` when torchrun's RANK / WORLD_SIZE / LOCAL_RANK are
set). Under torchrun:
- `--batch-size` is the global batch. Every rank draws the same seeded permutation and takes every
  world_size-th image of each global batch (rank r: r, r + W, ...), so the union of one step's shards is the
  single process's batch; when the batch does not divide, the first ranks take one image more and each
  rank's loss is weighted by its share, so the averaged gradient is still the mean over the global batch. A
  last batch with fewer images than ranks is skipped (at most W - 1 images an epoch).
- Rank 0 alone decides: it sends one small tensor per batch boundary (GO / STOP, preceded by LOG, ROLLBACK,
  SNAPSHOT when due, PAUSED every HEARTBEAT seconds while paused) and the others follow it
  (`follow`). Divergence and "stop at the end of this epoch" are rank 0's booleans, broadcast (`agree`).
  Ranks that read control.json or their own clock would disagree and hang in the next collective.
- Batch-norm running statistics evolve per rank (SyncBatchNorm does not run on the CPU; DDP does not sync
  them at each forward): rank 0's are broadcast before every snapshot, rollback copy and validation, so
  every rank ends with identical parameters and buffers.
- Validation is sharded: each rank scores every W-th image, the sums are all-reduced (same result on all).
"""

from __future__ import annotations

import math
import os
from datetime import timedelta
from pathlib import Path
from typing import Callable

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from engine.scoring.evaluation import Evaluation, evaluate
from engine.training.control import TrainingControl

TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK")
# Seconds between "still paused" messages: the other ranks wait inside a broadcast, and a collective that
# waits longer than the process group's timeout fails.
HEARTBEAT = 1.0
TIMEOUT = timedelta(minutes=30)
GO, STOP, PAUSED, LOG, ROLLBACK, SNAPSHOT = range(6)  # what rank 0 sends at a batch boundary
STATE_DUMP_VARIABLE = "CONVSCOPE_RANK_STATE_DIR"  # tests: each rank saves its final state here


class DistributedError(ValueError):
    """The torchrun process group cannot start or the run cannot be split; one sentence saying what to do."""


class SingleProcess:
    """One training process: no collectives, the trainer's plain behaviour."""

    rank, world_size, local_world_size, backend, device = 0, 1, 1, None, None
    leads = True  # this process decides and writes the run folder

    def wrap(self, model: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
        return model.logits

    def batches(self, order: torch.Tensor, batch_size: int) -> tuple[torch.Tensor, ...]:
        return order.split(batch_size)

    def batch_count(self, samples: int, batch_size: int) -> int:
        return math.ceil(samples / batch_size)

    def shard(self, batch: torch.Tensor) -> torch.Tensor:
        return batch

    def weighted(self, loss: torch.Tensor, shard_size: int, batch_size: int) -> torch.Tensor:
        return loss

    def announce(self, message: int) -> None: ...

    def follow(self, actions: dict[int, Callable[[], None]]) -> bool:
        raise RuntimeError("a single process leads; it never follows")

    def wait_at_boundary(self, control: TrainingControl) -> bool:
        return control.wait_at_boundary()

    def agree(self, flag: bool) -> bool:
        return flag

    def sync_buffers(self, model: nn.Module) -> None: ...

    def sum(self, values: torch.Tensor) -> torch.Tensor:
        return values

    def evaluate(self, model, images: torch.Tensor, labels: torch.Tensor, num_classes: int) -> Evaluation:
        return evaluate(model, images, labels, num_classes)

    def problems(self, batch_size: int, train_samples: int) -> list[str]:
        return []

    def describe(self, batch_size: int) -> dict:
        """summary.json's fields for how the run was split."""
        return {"world_size": self.world_size, "backend": self.backend,
                "batch_per_rank": [len(range(r, batch_size, self.world_size)) for r in range(self.world_size)]}

    def close(self) -> None: ...


class ProcessGroupRanks(SingleProcess):
    """This process is rank `rank` of `world_size`, in an initialised default process group."""

    leads = False

    def __init__(self, rank: int, world_size: int, local_world_size: int, backend: str,
                 device: torch.device) -> None:
        self.rank, self.world_size, self.local_world_size = rank, world_size, local_world_size
        self.backend, self.device, self.leads = backend, device, rank == 0
        # Collectives need tensors where the backend works: NCCL on the GPU, gloo on the CPU.
        self._comm_device = device if backend == "nccl" else torch.device("cpu")
        self._message = torch.zeros(1, dtype=torch.int64, device=self._comm_device)

    def wrap(self, model: nn.Module) -> DistributedDataParallel:
        """DDP around the model's logits; the wrapper's constructor broadcasts rank 0's weights (a collective)."""
        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(_Logits(model), device_ids=ids, forward_sync_buffers=False)

    def batches(self, order: torch.Tensor, batch_size: int) -> list[torch.Tensor]:
        return [batch for batch in order.split(batch_size) if len(batch) >= self.world_size]

    def batch_count(self, samples: int, batch_size: int) -> int:
        return samples // batch_size + (samples % batch_size >= self.world_size)

    def shard(self, batch: torch.Tensor) -> torch.Tensor:
        return batch[self.rank::self.world_size]

    def weighted(self, loss: torch.Tensor, shard_size: int, batch_size: int) -> torch.Tensor:
        # DDP averages gradients over ranks; weighting each shard's mean by its share makes that average
        # the mean over the global batch (the factor is exactly 1.0 when the batch divides).
        return loss * (shard_size * self.world_size / batch_size)

    def _broadcast(self, value: int) -> int:
        self._message.fill_(value)
        dist.broadcast(self._message, src=0)
        return int(self._message.item())

    def announce(self, message: int) -> None:
        self._broadcast(message)

    def follow(self, actions: dict[int, Callable[[], None]]) -> bool:
        """Do what rank 0 announces at this boundary, in its order; True to go on, False to stop."""
        while True:
            message = self._broadcast(GO)  # the value sent is rank 0's; ours is overwritten
            if message in (GO, STOP):
                return message == GO
            if message != PAUSED:
                if message not in actions:
                    raise RuntimeError(f"rank 0 sent message {message} where rank {self.rank} expects only "
                                       f"PAUSED, GO or STOP: the ranks run different code")
                actions[message]()

    def wait_at_boundary(self, control: TrainingControl) -> bool:
        if not self.leads:
            # Only rank 0 reads control.json and hears the signals: this rank's own control would say "go"
            # while rank 0 says PAUSED, and it would start a batch (an all-reduce) against rank 0's heartbeat
            # broadcasts, hanging both (a run started --paused never resumed).
            return self.follow({})
        while (go := control.wait_at_boundary(HEARTBEAT)) is None:
            self._broadcast(PAUSED)
        self._broadcast(GO if go else STOP)
        return go

    def agree(self, flag: bool) -> bool:
        return bool(self._broadcast(int(bool(flag))))

    def sync_buffers(self, model: nn.Module) -> None:
        """Every rank takes rank 0's buffers (batch-norm running statistics), in one broadcast."""
        buffers = list(model.buffers())
        if not buffers:
            return
        # float64 holds float32 statistics and int64 batch counts below 2**53 exactly.
        flat = torch.cat([b.detach().reshape(-1).to(self._comm_device, torch.float64) for b in buffers])
        dist.broadcast(flat, src=0)
        start = 0
        for b in buffers:
            b.copy_(flat[start:start + b.numel()].view_as(b))
            start += b.numel()

    def sum(self, values: torch.Tensor) -> torch.Tensor:
        total = values.to(self._comm_device, copy=True)
        dist.all_reduce(total)
        return total.to(values.device)

    def evaluate(self, model, images: torch.Tensor, labels: torch.Tensor, num_classes: int) -> Evaluation:
        """Each rank scores every world_size-th image with rank 0's buffers; the sums are all-reduced."""
        self.sync_buffers(model)
        part = evaluate(model, images[self.rank::self.world_size], labels[self.rank::self.world_size], num_classes)
        loss_sum = part.loss * part.samples if part.samples else 0.0
        local = torch.cat([torch.tensor([loss_sum, part.samples], dtype=torch.float64),
                           torch.from_numpy(part.confusion).reshape(-1).double()])
        totals = self.sum(local)
        samples = int(totals[1])
        confusion = totals[2:].round().long().reshape(num_classes, num_classes).numpy()
        if samples == 0:
            return Evaluation(math.nan, math.nan, 0, confusion)
        return Evaluation(float(totals[0]) / samples, float(confusion.trace()) / samples, samples, confusion)

    def problems(self, batch_size: int, train_samples: int) -> list[str]:
        found = []
        if batch_size < self.world_size:
            found.append(f"--batch-size {batch_size} is smaller than the {self.world_size} ranks (it is the "
                         f"global batch, split across them); use at least {self.world_size}")
        if train_samples < self.world_size:
            found.append(f"the training split has {train_samples} images, fewer than the {self.world_size} ranks")
        return found

    def close(self) -> None:
        if dist.is_initialized():
            dist.destroy_process_group()


def join_ranks(requested_device: str = "auto", environ=os.environ) -> SingleProcess:
    """SingleProcess, or this process's place in the torchrun job whose variables are set (the group joined).

    Each rank trains on CUDA device LOCAL_RANK with NCCL when CUDA is there (auto or cuda), else on the CPU
    with gloo. DistributedError, one sentence, when the variables are incomplete or the group cannot start."""
    present = [name for name in TORCHRUN_VARIABLES if environ.get(name)]
    if not present:
        return SingleProcess()
    missing = [name for name in TORCHRUN_VARIABLES if name not in present]
    if missing:
        raise DistributedError(f"{', '.join(present)} set but not {', '.join(missing)}: start several training "
                               f"processes with torchrun (python -m torch.distributed.run --nproc_per_node=N main.py "
                               f"train ...), or unset {', '.join(present)} to train in one process")
    try:
        rank, world_size, local_rank = (int(environ[name]) for name in TORCHRUN_VARIABLES)
        local_world_size = int(environ.get("LOCAL_WORLD_SIZE") or world_size)
    except ValueError:
        values = ", ".join(f"{name}={environ.get(name)!r}" for name in TORCHRUN_VARIABLES)
        raise DistributedError(f"torchrun's variables must be whole numbers ({values})") from None
    if not (0 <= rank < world_size and 0 <= local_rank < max(local_world_size, 1)):
        raise DistributedError(f"RANK={rank}, LOCAL_RANK={local_rank} do not fit WORLD_SIZE={world_size}, "
                               f"LOCAL_WORLD_SIZE={local_world_size}; let torchrun set them")
    device = _rank_device(requested_device, local_rank)
    backend = "nccl" if device.type == "cuda" and dist.is_nccl_available() else "gloo"
    if not dist.is_available():
        raise DistributedError("this PyTorch build has no torch.distributed; train in one process (without "
                               "torchrun)")
    where = f"{environ.get('MASTER_ADDR', '?')}:{environ.get('MASTER_PORT', '?')}"
    try:
        dist.init_process_group(backend, rank=rank, world_size=world_size, timeout=TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - the store, the network and the backend raise many types
        reason = " ".join(str(exc).split())[:300]
        raise DistributedError(f"rank {rank} of {world_size} cannot join the process group at {where} "
                               f"({backend}): {type(exc).__name__}: {reason}; start every rank through torchrun "
                               f"with the same --rdzv-endpoint / MASTER_ADDR and MASTER_PORT") from None
    return ProcessGroupRanks(rank, world_size, local_world_size, backend, device)


def _rank_device(requested: str, local_rank: int) -> torch.device:
    if requested == "mps":
        raise DistributedError("--device mps cannot train under torchrun (gloo cannot exchange MPS tensors); "
                               "use --device cpu")
    if requested == "cpu" or not torch.cuda.is_available():
        if requested == "cuda":
            raise DistributedError("--device cuda: no CUDA device here (or no CUDA build of PyTorch); "
                                   "use --device cpu or auto")
        return torch.device("cpu")
    count = torch.cuda.device_count()
    if local_rank >= count:
        raise DistributedError(f"LOCAL_RANK {local_rank} needs CUDA device {local_rank}, but this machine has "
                               f"{count}; start at most {count} processes per node (--nproc_per_node={count})")
    torch.cuda.set_device(local_rank)
    return torch.device("cuda", local_rank)


class _Logits(nn.Module):
    """DDP runs its module's forward; training needs the scores before a trailing softmax (ConvNet.logits)."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.logits(x)


def dump_rank_state(model: nn.Module, ranks: SingleProcess, environ=os.environ) -> None:
    """Tests only: with CONVSCOPE_RANK_STATE_DIR set, save this rank's final state as rank-R.safetensors."""
    folder = environ.get(STATE_DUMP_VARIABLE)
    if folder:
        from engine.network.weights import save_weights

        save_weights(model, Path(folder) / f"rank-{ranks.rank}.safetensors")
