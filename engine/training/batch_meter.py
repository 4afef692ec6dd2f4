"""Loss, accuracy and throughput accumulated on the device and read back at the logging cadence.

Every `.item()` is a device sync (on a GPU it stalls the queue of launched kernels), so the
per-batch loss and correct count are added into device tensors and read back together only
when a BatchEnded is due.
"""

from __future__ import annotations

import math
import time

import torch

SMOOTHING = 0.3   # weight of the newest window in the samples/s moving average


class BatchMeter:
    def __init__(self, device: torch.device, reduce=None) -> None:
        self._device = device
        self._reduce = reduce  # under torchrun: sums each window over the ranks (engine/training/distributed.py)
        self._loss_sum = torch.zeros((), dtype=torch.float64, device=device)
        self._correct = torch.zeros((), dtype=torch.int64, device=device)
        self._samples = 0
        self._window_start = time.perf_counter()
        self.last_read = self._window_start
        self.samples_per_second = 0.0
        self.epoch_loss_sum = 0.0
        self.epoch_correct = 0
        self.epoch_samples = 0

    def add(self, loss: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor) -> None:
        """Accumulate one batch (`loss` is the batch mean); no sync."""
        n = labels.shape[0]
        self._loss_sum += loss.detach().double() * n
        self._correct += (logits.detach().argmax(dim=1) == labels).sum()
        self._samples += n

    @property
    def pending(self) -> int:
        return self._samples

    def read(self) -> tuple[float, float]:
        """(mean loss, accuracy) of the batches since the last read; one sync. Updates samples/s."""
        values = torch.stack([self._loss_sum, self._correct.double()])
        if self._reduce is not None:  # one all-reduce at the log cadence: every rank reads the global window
            values = self._reduce(torch.cat([values, values.new_tensor([self._samples])]))
        loss_sum, correct, *count = values.tolist()
        n = int(count[0]) if count else self._samples
        now = time.perf_counter()
        elapsed = now - self._window_start
        if elapsed > 0 and n:
            rate = n / elapsed
            self.samples_per_second = rate if self.samples_per_second == 0 else \
                SMOOTHING * rate + (1 - SMOOTHING) * self.samples_per_second
        self.epoch_loss_sum += loss_sum
        self.epoch_correct += int(correct)
        self.epoch_samples += n
        self._loss_sum.zero_()
        self._correct.zero_()
        self._samples = 0
        self._window_start = self.last_read = now
        if not n:
            return math.nan, math.nan
        return loss_sum / n, correct / n

    def exclude(self, seconds: float) -> None:
        """Leave time spent outside training (paused, validating) out of the throughput."""
        self._window_start += seconds

    def epoch_result(self) -> tuple[float, float]:
        """(mean loss, accuracy) over the epoch's batches read so far; resets for the next epoch."""
        n = self.epoch_samples
        result = (self.epoch_loss_sum / n, self.epoch_correct / n) if n else (math.nan, math.nan)
        self.epoch_loss_sum, self.epoch_correct, self.epoch_samples = 0.0, 0, 0
        return result
