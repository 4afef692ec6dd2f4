"""The training loop: a plain linear `fit()` that calls Callback hooks and obeys TrainingControl.

`fit()` runs on the caller's thread (the GUI calls it from a worker thread, the CLI from the main
thread) and never raises: an exception becomes TrainingFinished(FAILED). Cadences, chosen so the
loop stays within a few percent of a bare PyTorch loop (bench/throughput.py):
- BatchEnded: the first batch, then whenever `log_interval` seconds (default 0.05) have passed, at
  the end of every epoch and before pausing. Its loss/accuracy are the means over the batches
  since the previous BatchEnded (accumulated on the device, read back with one sync).
- SnapshotTaken: at step 0, every `config.snapshot_interval` seconds, when requested (through the
  TrainingControl: request_snapshot, set_probe), before pausing, and at the end.
- Rollback copy of the weights (for divergence): at step 0, every `rollback_interval` seconds (default
  0.5) and at every epoch end, whatever the snapshot cadence.
Stop, pause, resume and step go through `trainer.control` (a TrainingControl), from any thread.
Under torchrun (`ranks`, engine/training/distributed.py) every rank runs this loop on its shard of each batch; rank 0
decides each boundary and the others follow it; only rank 0 captures snapshots.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Iterable

import torch
import torch.nn.functional as F

from engine.training.augmentation import make_augmenter
from engine.training.batch_meter import BatchMeter
from engine.network.builder import BuildError, build_model
from engine.network.compatibility import check_compatibility
from engine.config import TrainConfig
from engine.training.device import DeviceError, choose_threads, select_device
from engine.training.distributed import LOG, ROLLBACK, SNAPSHOT, SingleProcess
from engine.training.early_stopping import BestWeights
from engine.training.divergence import Diverged, divergence_message, has_diverged
from engine.events import (COMPLETED, DIVERGED, FAILED, STOPPED, BatchEnded, EpochEnded, TrainingFinished)
from engine.scoring.final_scores import score_test, test_note
from engine.network.kernel_init import FrozenFilters
from engine.training.memory_check import training_memory_problem
from engine.metrics import MetricsHistory
from engine.training.optimizers import make_optimizer
from engine.training.precision import autocast, grad_scaler, plan_precision
from engine.network.probes import ProbedLayer, capture_snapshot, probe_layout
from engine.training.rollback import FiniteCheckpoint
from engine.training.schedules import current_rate, make_schedule
from engine.training.control import TrainingControl
from engine.training.hooks import Callback, TrainingSetupError
from models.plural import counted
from engine.network.weights import WeightsError, apply_state_dict
from models.architecture import Architecture
from models.layers import has_filters
from models.shapes import analyze

LOG_INTERVAL = 0.05  # seconds between BatchEnded events (each one is a device sync)
ROLLBACK_INTERVAL = 0.5  # seconds between finite-weights copies; a divergence loses at most this much training
log = logging.getLogger(__name__)


@dataclass
class _RunState:
    """What one fit() keeps between batches; it lives only as long as the run."""

    layout: list[ProbedLayer]
    probe_images: torch.Tensor
    meter: BatchMeter
    checkpoint: FiniteCheckpoint = field(default_factory=FiniteCheckpoint)
    last_snapshot_step: int = -1
    last_snapshot_time: float = 0.0
    last_rollback_time: float = 0.0
    learning_rate: float = math.nan  # of the latest optimiser step


class Trainer:
    """Train `arch` on `dataset` (an engine.datasets.Dataset) with `config`.

    Raises TrainingSetupError at construction if training cannot start.
    Readable after fit() (the training thread owns them during it): `model`, `history`,
    `global_step`, `epochs_completed`, `samples_per_second`; fixed at construction: `device`, `threads`,
    `control` (stop, pause, resume, step, request_snapshot: any thread, effective at the next batch).
    `ranks`: this process's place in a torchrun job (engine.training.distributed.join_ranks); one process by default.
    """

    def __init__(self, arch: Architecture, dataset, config: TrainConfig, callbacks: Iterable[Callback] = (), *,
                 log_interval: float = LOG_INTERVAL,
                 rollback_interval: float = ROLLBACK_INTERVAL,
                 initial_weights: dict[str, torch.Tensor] | None = None,
                 control: TrainingControl | None = None, ranks: SingleProcess | None = None) -> None:
        self.analysis = analyze(arch)
        self.ranks = ranks or SingleProcess()
        problems = check_compatibility(arch, dataset, self.analysis) + self.ranks.problems(config.batch_size,
                                                                                            len(dataset.train))
        if problems:
            raise TrainingSetupError("; ".join(problems))
        try:
            self.device = self.ranks.device if self.ranks.device is not None else select_device(config.device)
        except DeviceError as exc:
            raise TrainingSetupError(str(exc)) from None
        # Before build_model: a network too big for the device would die allocating its weights.
        too_big = training_memory_problem(self.analysis, config, self.device, dataset,
                                          world_size=self.ranks.world_size, processes_here=self.ranks.local_world_size)
        if too_big:
            raise TrainingSetupError(too_big)
        self.arch, self.dataset, self.config = arch, dataset, config
        self.callbacks = list(callbacks)
        self.log_interval, self.rollback_interval = log_interval, rollback_interval
        self.threads = choose_threads(config.threads, ranks_here=self.ranks.local_world_size)
        self.precision = plan_precision(self.device, config.mixed_precision, config.channels_last,
                                        has_conv=any(has_filters(layer.TYPE) for layer in arch.layers))
        with torch.random.fork_rng(devices=[]):  # seeded init without disturbing the caller's RNG
            torch.manual_seed(config.seed)
            try:
                self.model = build_model(arch, self.analysis)
            except BuildError as exc:
                raise TrainingSetupError(str(exc)) from None
        if initial_weights is not None:
            try:
                apply_state_dict(self.model, initial_weights)
            except WeightsError as exc:
                raise TrainingSetupError(str(exc)) from None
            bad = [k for k, v in initial_weights.items() if v.is_floating_point() and not torch.isfinite(v).all()]
            if bad:
                raise TrainingSetupError(f"the starting weights hold NaN or infinite values (tensor {bad[0]!r}); "
                                         f"start from fresh weights instead")
        self.history = MetricsHistory()
        self.best = BestWeights.for_config(config)  # the best epoch, early stopping, keep-best
        self.test_result = None  # the test split's score at the end (engine/scoring/final_scores.py), if it has one
        self.control = control or TrainingControl()  # a caller's control may already be stopped or paused
        self.global_step = 0
        self.epochs_completed = 0
        self.samples_seen = 0
        self.train_seconds = 0.0    # time in the batch loop, without pauses and validation
        self.finished: TrainingFinished | None = None

    def set_probe(self, index: int) -> None:
        """Which validation sample the snapshots' activations show (checked, then `control.set_probe`);
        ValueError if out of range."""
        count = len(self._probe_split())
        if not 0 <= index < count:
            raise ValueError(f"probe index {index} is outside the validation split (0 to {count - 1})")
        self.control.set_probe(index)

    @property
    def samples_per_second(self) -> float:
        return self.samples_seen / self.train_seconds if self.train_seconds > 0 else 0.0

    # --- the loop -----------------------------------------------------------------------------

    def fit(self) -> TrainingFinished:
        """Train until done, stopped or diverged; returns (and reports via on_train_end) how it ended."""
        if self.finished is not None:
            raise RuntimeError("a Trainer runs once; make a new one to train again")
        previous_threads = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        # fork_rng: seeding for the run (dropout masks) must not move the caller's global RNG.
        rng_devices = [self.device.index or 0] if self.device.type == "cuda" else []
        try:
            with torch.random.fork_rng(devices=rng_devices):
                finished = self._run()
        except Exception as exc:  # reported to the user, never lost in a thread
            log.exception("training failed")
            finished = TrainingFinished(FAILED, f"training failed: {type(exc).__name__}: {exc}",
                                        self.epochs_completed, self.global_step)
        finally:
            torch.set_num_threads(previous_threads)
        self.finished = finished
        for cb in self.callbacks:
            try:
                cb.on_train_end(finished)
            except Exception:  # a broken callback must not hide the result
                log.exception("on_train_end callback failed")
        return finished

    def _probe_split(self):
        return self.dataset.val if len(self.dataset.val) else self.dataset.train

    def _run(self) -> TrainingFinished:
        cfg, device, model, ranks = self.config, self.device, self.model, self.ranks
        torch.manual_seed(cfg.seed + ranks.rank)  # dropout masks (each rank its own)
        model.to(device).train()
        plan = self.precision
        if plan.channels_last:
            model.to(memory_format=torch.channels_last)
        net = ranks.wrap(model)  # model.logits, or DDP around it (all-reduces the gradients)
        train_x, as_input = self.dataset.train.on_device(device)  # uint8 pixels when held so: normalised per batch
        train_y = self.dataset.train.labels.to(device)
        val_x, val_y = (t.to(device) for t in (self.dataset.val.images, self.dataset.val.labels))
        probe_images = self._probe_split().images.to(device)
        scaler = grad_scaler(plan, device)  # a pass-through unless float16
        optimizer = make_optimizer(model.parameters(), cfg)
        frozen = FrozenFilters(model, self.arch)  # frozen hand-set filters: put back after every step
        frozen.restore()
        augment = make_augmenter(cfg, self.dataset, device, stream=ranks.rank)  # training batches only
        order = torch.Generator().manual_seed(cfg.seed)
        run = _RunState(probe_layout(model, self.analysis), probe_images, BatchMeter(device, ranks.sum))
        meter = run.meter
        self._snapshot(run, epoch=0)
        self._save_rollback(run)
        waited = time.perf_counter()
        if not ranks.wait_at_boundary(self.control):  # a run started paused waits before its first batch
            return self._end(run, STOPPED, 0)
        meter.exclude(time.perf_counter() - waited)  # that wait is no training time (Step from idle: samples/s)
        n, bs = len(train_y), cfg.batch_size
        batches = ranks.batch_count(n, bs)
        schedule = make_schedule(optimizer, cfg, batches)
        control = self.control
        try:
            for epoch in range(1, cfg.epochs + 1):
                started = time.perf_counter()
                perm = torch.randperm(n, generator=order).to(device)
                for batch, idx in enumerate(ranks.batches(perm, bs), start=1):
                    mine = ranks.shard(idx)  # the global batch, or this rank's share of it
                    x, y = augment(as_input(train_x.index_select(0, mine))), train_y.index_select(0, mine)
                    if plan.channels_last:
                        x = x.contiguous(memory_format=torch.channels_last)
                    with autocast(plan, device):
                        logits = net(x)
                        loss = F.cross_entropy(logits, y, label_smoothing=cfg.label_smoothing)
                    optimizer.zero_grad(set_to_none=True)
                    scaler.scale(ranks.weighted(loss, len(mine), len(idx))).backward()
                    if cfg.clip_grad:  # after the all-reduce: every rank clips the same gradients alike
                        scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
                        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip_grad)
                    run.learning_rate = current_rate(optimizer)
                    scaler.step(optimizer)
                    scaler.update()
                    if frozen:
                        frozen.restore()
                    schedule.step()
                    meter.add(loss, logits, y)
                    self.global_step += 1
                    self.samples_seen += len(idx)
                    if not self._boundary(run, epoch, batch, batches, started):
                        return self._end(run, STOPPED, epoch)
                    started = time.perf_counter()
                val = ranks.evaluate(model, val_x, val_y, self.dataset.num_classes)
                meter.exclude(time.perf_counter() - started)
                train_loss, train_acc = meter.epoch_result()
                if len(val_y) and ranks.agree(has_diverged(val.loss, self.dataset.num_classes)):
                    raise Diverged(val.loss, "validation loss")
                self._save_rollback(run)
                self.epochs_completed = epoch
                event = EpochEnded(epoch, self.global_step, train_loss, train_acc, val.loss, val.accuracy)
                self.history.record_epoch(event)
                self._emit("on_epoch_end", event)
                if ranks.agree(self.best.observe(model, epoch, self.global_step, val.loss, val.accuracy)):
                    return self._end(run, COMPLETED, epoch)
                if ranks.agree(control.stop_requested):
                    return self._end(run, STOPPED, epoch)
        except Diverged as exc:
            return self._diverge(run, exc)
        return self._end(run, COMPLETED, cfg.epochs)

    def _boundary(self, run: _RunState, epoch: int, batch: int, batches: int, started: float) -> bool:
        """Between batches: log, keep a rollback copy, snapshot, then block while paused. False: stop the run.

        Under torchrun rank 0 makes these choices and announces each one; the other ranks do what it says."""
        control, meter, ranks = self.control, run.meter, self.ranks
        if not ranks.leads:  # its timings are not reported: rank 0's are the run's
            return ranks.follow({LOG: lambda: self._log_batch(run, epoch, batch, batches),
                                 ROLLBACK: lambda: self._save_rollback(run),
                                 SNAPSHOT: lambda: self._snapshot(run, epoch)})
        now = time.perf_counter()
        pausing = control.pause_pending
        logged = self.global_step == 1 or batch == batches or pausing or now - meter.last_read >= self.log_interval
        if logged:
            ranks.announce(LOG)
            self._log_batch(run, epoch, batch, batches)
        if now - run.last_rollback_time >= self.rollback_interval:
            ranks.announce(ROLLBACK)
            self._save_rollback(run)
        requested = control.take_snapshot_request()
        pausing = control.pause_pending  # a callback may just have paused the run
        if requested or pausing or now - run.last_snapshot_time >= self.config.snapshot_interval:
            ranks.announce(SNAPSHOT)
            self._snapshot(run, epoch)
        if not logged and control.stop_requested:  # the run ends here: its last step is on the curves, and the
            ranks.announce(LOG)                      # progress line names the step the outcome names
            self._log_batch(run, epoch, batch, batches)
        waited = time.perf_counter()
        self.train_seconds += waited - started
        go_on = ranks.wait_at_boundary(control)
        meter.exclude(time.perf_counter() - waited)
        return go_on

    def _log_batch(self, run: _RunState, epoch: int, batch: int, batches: int) -> None:
        loss, accuracy = run.meter.read()
        if self.ranks.agree(has_diverged(loss, self.dataset.num_classes)):
            raise Diverged(loss, "training loss")
        event = BatchEnded(epoch, self.global_step, batch, batches, loss, accuracy, run.meter.samples_per_second,
                           run.learning_rate)
        self.history.record_batch(event)
        self._emit("on_batch_end", event)

    def _save_rollback(self, run: _RunState) -> None:
        """Keep the weights as the state to roll back to; weights already non-finite are a divergence."""
        self.ranks.sync_buffers(self.model)
        if not self.ranks.agree(run.checkpoint.save(self.model, self.global_step)):
            raise Diverged(math.nan, "weights")
        run.last_rollback_time = time.perf_counter()

    def _snapshot(self, run: _RunState, epoch: int, force: bool = False) -> None:
        self.ranks.sync_buffers(self.model)  # rank 0's batch-norm statistics, on every rank, before any write
        if self.global_step == run.last_snapshot_step and not force:
            return
        if not self.ranks.leads:  # only rank 0 writes, so only it pays for the probe's forward pass
            run.last_snapshot_step, run.last_snapshot_time = self.global_step, time.perf_counter()
            return
        probe = self.control.probe_index
        event = capture_snapshot(self.model, run.layout, run.probe_images[probe], step=self.global_step,
                                 epoch=epoch, probe_index=probe, layer_tensors=self._layer_tensors_read)
        run.last_snapshot_step, run.last_snapshot_time = self.global_step, time.perf_counter()
        self._emit("on_snapshot", event)

    @property
    def _layer_tensors_read(self) -> bool:
        """Whether any callback reads a snapshot's activations and filters (the window's child has none that does)."""
        return any(cb.reads_layer_tensors for cb in self.callbacks
                   if type(cb).on_snapshot is not Callback.on_snapshot)

    def _emit(self, hook: str, event) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(event)

    def _end(self, run: _RunState, reason: str, epoch: int) -> TrainingFinished:
        self._snapshot(run, epoch, force=self.best.restore(self.model))  # the kept weights are the last shown
        self.test_result = score_test(self.model, self.dataset, self.ranks.evaluate)
        if reason == STOPPED:
            message = f"stopped at epoch {epoch}, step {self.global_step} ({counted(self.epochs_completed, 'epoch')} completed)"
        else:
            last = self.history.epochs[-1] if self.history.epochs else None
            n = self.epochs_completed
            message = f"completed {n} epoch{'' if n == 1 else 's'}" + (
                f": validation accuracy {last.val_accuracy:.2%}, loss {last.val_loss:.4f}" if last else "")
        message += self.best.note() + test_note(self.test_result)
        return TrainingFinished(reason, message, self.epochs_completed, self.global_step)

    def _diverge(self, run: _RunState, exc: Diverged) -> TrainingFinished:
        diverged_at = self.global_step
        run.checkpoint.restore(self.model)
        self.global_step = run.checkpoint.step
        message = divergence_message(exc, step=diverged_at, rolled_back_to=self.global_step,
                                     learning_rate=self.config.learning_rate, num_classes=self.dataset.num_classes)
        self._snapshot(run, epoch=self.epochs_completed + 1, force=True)
        return TrainingFinished(DIVERGED, message, self.epochs_completed, self.global_step)
