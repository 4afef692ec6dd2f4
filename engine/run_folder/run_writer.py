"""RunWriter: the public API that writes a live run folder from a user's own PyTorch training loop.

    from engine.run_folder import RunWriter
    with RunWriter(model, "runs/mine", probe=val_images[:8], settings={"dataset": "mnist"}) as run:
        ...  run.log_batch(step, loss, accuracy); run.log_epoch(epoch, train_loss, val_loss, val_accuracy)

The folder has the format `train --out` writes (docs/run-folder.md), so read_run_log, evaluate, export
and Open read it. A model that is an nn.Sequential of layers ConvScope knows is written as
architecture.json with its weights renamed to ConvScope's, so the window rebuilds it like its own runs;
any other model gets recorded snapshots (engine.run_folder.recording) under its own module paths.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import numbers
import os
import time
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

from engine.config import ConfigError, TrainConfig
from engine.events import COMPLETED, FAILED, STOPPED, BatchEnded, EpochEnded, TrainingFinished
from engine.metrics import MetricsHistory
from engine.normalization import Normalization, NormalizationError, join_settings
from engine.run_folder.layout import ARCHITECTURE, METRICS, SETTINGS, WEIGHTS
from engine.run_folder.log_file import RunLogFile, full_precision, jsonable, started_record
from engine.run_folder.model_conversion import Conversion, NotConvertible, check_conversion, convert_sequential
from engine.run_folder.recording import PROBE_INPUT, probabilities_of, record
from engine.run_folder.control_file import ControlFileWatcher
from engine.run_folder.run_output import SUMMARY, RunOutputError, prepare_output_dir, release_output_dir
from engine.training.control import TrainingControl
from engine.network.weights import state_dict_to_safetensors
from models import architecture_file
from models.atomic_file import write_atomically
from models.shapes import analyze

log = logging.getLogger(__name__)
REASONS = (COMPLETED, STOPPED, FAILED)
PAUSED_POLL = 0.1  # seconds
PROBE = "probe.safetensors"  # the probe batch, "probe/input" (N, C, H, W), as RunWriter was given it


class RunWriterError(ValueError):
    """A RunWriter argument that cannot be used; the message names it and says what to give."""


class RunWriter:
    """Writes `folder` as a live run folder for `model`, trained by the caller's own loop.

    probe: a few inputs (N, C, H, W), e.g. 8 validation images, in the form the model takes: their
    activations are what the views show, and their shape gives the input shape (else `input_shape`).
    settings: training settings; the ones ConvScope knows (dataset, epochs, batch_size, learning_rate,
    seed, val_fraction, ...) go to settings.json, checked, so `evaluate` scores the right images; all of
    them go to the log's first line. normalization: the inputs' per-channel statistics on the [0, 1]
    pixel scale (a Normalization or {"mean": [...], "std": [...]}).

    The log begins at once, with a snapshot at step 0. `rebuilt` says which kind of folder it is: True,
    an architecture ConvScope rebuilds (`why_recorded` None); False, recorded snapshots, `why_recorded`
    saying why.
    """

    def __init__(self, model: nn.Module, folder: str | os.PathLike, *, probe: torch.Tensor | None = None,
                 settings: Mapping[str, Any] | None = None, normalization: Normalization | Mapping | None = None,
                 input_shape: tuple[int, int, int] | None = None, snapshot_on_epoch: bool = True,
                 control: bool = True) -> None:
        if isinstance(model, (nn.parallel.DistributedDataParallel, nn.DataParallel)):
            model = model.module  # the wrapper's names carry "module."; its forward on one rank alone can hang
        if not isinstance(model, nn.Module):
            raise RunWriterError(f"model must be a torch nn.Module, not {type(model).__name__}")
        self.model = model
        self.probe = _probe(probe)
        self.input_shape = _input_shape(input_shape, self.probe)
        self.normalization = _normalization(normalization)
        user_settings = dict(settings or {})
        known = _known_settings(user_settings)
        self.snapshot_on_epoch = snapshot_on_epoch
        try:  # also takes the folder's writer lock: a folder another live run writes is refused here
            self.folder = prepare_output_dir(folder)
        except RunOutputError as exc:
            raise RunWriterError(str(exc)) from None
        self.conversion, self.why_recorded = self._convert()
        self.rebuilt = self.conversion is not None
        self.history = MetricsHistory()
        self._file = RunLogFile(self.folder)
        self._epoch, self._batch, self._step = 1, 0, 0
        self._last_epoch_logged, self._last_snapshot_step = 0, None
        self._rate_mark: tuple[float, int] | None = None  # (time, step) of the last batch with a batch size
        self._finished = False
        self._settings = join_settings(known, self.normalization)
        write_atomically(self.folder / SETTINGS, (json.dumps(self._settings, indent=2) + "\n").encode())
        # An earlier run's final files would stand for this run's network until finish() rewrites them.
        for stale in (WEIGHTS, METRICS, SUMMARY, PROBE) + (() if self.rebuilt else (ARCHITECTURE,)):
            (self.folder / stale).unlink(missing_ok=True)
        if self.rebuilt:
            architecture_file.save(self.conversion.arch, self.folder / ARCHITECTURE)
            self._labels = [la.label for la in analyze(self.conversion.arch).layers]
        if self.probe is not None:  # what probe_index 0.. of the snapshot lines refers to
            write_atomically(self.folder / PROBE, state_dict_to_safetensors({PROBE_INPUT: self.probe.float().cpu()}))
        inspection = ({"kind": "rebuilt", "modules": [list(p) for p in self.conversion.paths]} if self.rebuilt
                      else {"kind": "recorded", "reason": self.why_recorded})
        self._file.begin(started_record(
            architecture=architecture_file.to_dict(self.conversion.arch) if self.rebuilt else None,
            settings=self._settings, user_settings=jsonable(user_settings), writer="RunWriter",
            model=type(model).__name__, inspection=inspection,
            device=str(next((p.device for p in model.parameters()), torch.device("cpu"))),
            threads=torch.get_num_threads()))
        self.snapshot(0, epoch=0)
        # control.json (docs/run-folder.md#control-file), heard on a thread of its own and applied in log_batch.
        self.control = TrainingControl()
        self._watcher = ControlFileWatcher(self.folder, self.control) if control else None
        if self._watcher is not None:
            self._watcher.start()

    def _convert(self) -> tuple[Conversion | None, str | None]:
        if self.input_shape is None:
            return None, "no probe batch or input_shape was given, so the input shape is unknown"
        try:
            conversion = convert_sequential(self.model, self.input_shape)
            check_conversion(conversion, self.model, self.probe if self.probe is not None
                             else torch.zeros((1, *self.input_shape)))
        except NotConvertible as exc:
            log.info("RunWriter records snapshots for %s: %s", type(self.model).__name__, exc)
            return None, str(exc)
        return conversion, None

    # The caller's loop -------------------------------------------------------------------------------

    def log_batch(self, step: int, loss: float, accuracy: float | None = None, *, epoch: int | None = None,
                  batch: int | None = None, batches_per_epoch: int | None = None, batch_size: int | None = None,
                  samples_per_second: float | None = None) -> bool:
        """One training batch: `step` counts optimiser steps (1-based), `accuracy` is 0..1 of this batch.
        Without `epoch` the batch belongs to the epoch after the last log_epoch; with `batch_size`, the
        samples per second are measured between calls. Then control.json's commands apply: this call
        blocks while the run is paused, and returns False once a stop was asked for (end the loop)."""
        step = _count(step, "step")
        if epoch is not None:
            epoch = _count(epoch, "epoch")
            if epoch != self._epoch:
                self._epoch, self._batch = epoch, 0
        self._batch = _count(batch, "batch") if batch is not None else self._batch + 1
        if samples_per_second is None and batch_size is not None:
            samples_per_second = self._rate(step, _count(batch_size, "batch_size"))
        event = BatchEnded(self._epoch, step, self._batch, _optional_count(batches_per_epoch, "batches_per_epoch"),
                           _number(loss, "loss"), _number(accuracy, "accuracy"),
                           _number(samples_per_second, "samples_per_second"))
        self._step = step
        self.history.record_batch(event)
        self._file.write({"kind": "batch", **dataclasses.asdict(event)})
        return self._boundary()

    @property
    def stop_requested(self) -> bool:
        """A "stop" came through control.json (or stop() was called): end the loop and finish()."""
        return self.control.stop_requested

    def _boundary(self) -> bool:
        """After a batch: a requested snapshot, then block while paused; False once a stop was asked for."""
        if self.control.take_snapshot_request():
            self.snapshot(self._step)
        if not self.control.pause_pending:
            return self.control.wait_at_boundary() is not False
        self._file.write({"kind": "paused", "step": self._step})
        going = None
        while going is None:  # woken every PAUSED_POLL s to honour a snapshot asked for while paused
            going = self.control.wait_at_boundary(PAUSED_POLL)
            if self.control.take_snapshot_request():
                self.snapshot(self._step)
        self._file.write({"kind": "resumed", "step": self._step})
        return going

    def log_epoch(self, epoch: int, train_loss: float | None = None, val_loss: float | None = None,
                  val_accuracy: float | None = None, *, train_accuracy: float | None = None,
                  step: int | None = None) -> None:
        """One finished epoch (1-based); then a snapshot, unless snapshot_on_epoch was False."""
        epoch = _count(epoch, "epoch")
        step = self._step if step is None else _count(step, "step")
        event = EpochEnded(epoch, step, _number(train_loss, "train_loss"), _number(train_accuracy, "train_accuracy"),
                           _number(val_loss, "val_loss"), _number(val_accuracy, "val_accuracy"))
        self._step = max(self._step, step)
        self.history.record_epoch(event)
        self._file.write({"kind": "epoch", **dataclasses.asdict(event)})
        self._last_epoch_logged = epoch
        if self.snapshot_on_epoch:
            self.snapshot(step, epoch=epoch)
        self._epoch, self._batch = epoch + 1, 0

    def snapshot(self, step: int | None = None, *, epoch: int | None = None) -> Path:
        """The model as it is now, at `step` (default: the last logged): its sidecar file, then its line."""
        step = self._step if step is None else _count(step, "step")
        epoch = self._epoch if epoch is None else _count(epoch, "epoch")
        norms = self._gradient_norms()
        if self.rebuilt:
            tensors = full_precision(self.conversion.convert_state(self.model.state_dict()))
            extra: dict[str, Any] = {}
            output = self._probe_output() if self.probe is not None else None
        else:
            tensors = full_precision(self.model.state_dict())
            recorded, extra = ({}, {"activations": [], "filters": [], "samples": 0}) if self.probe is None \
                else record(self.model, self.probe)
            output = recorded.pop("probe/output", None)
            tensors.update(recorded)
            if output is not None:
                tensors["probe/output"] = output
            extra = {"recorded": extra}
        path = self._file.write_snapshot(step, epoch, tensors, probe_index=0, gradient_norms=norms,
                                         probabilities=probabilities_of(output, 0), **extra)
        self._last_snapshot_step, self._step = step, max(self._step, step)
        return path

    def finish(self, reason: str | None = None, message: str | None = None,
               summary: Mapping[str, Any] | None = None) -> None:
        """The end: a last snapshot (if the weights moved on since one), the final files (weights.safetensors,
        metrics.csv, summary.json), then the "finished" line. `reason`: completed, stopped or failed (default:
        stopped when a stop was asked for, else completed)."""
        if self._finished:
            return
        if self._watcher is not None:
            self._watcher.stop()
        reason = reason or (STOPPED if self.control.stop_requested else COMPLETED)
        if reason not in REASONS:
            raise RunWriterError(f"reason must be one of {', '.join(REASONS)}, not {reason!r}")
        self._finished = True
        try:
            if self._last_snapshot_step != self._step:
                self.snapshot(self._step)
            epochs = self._last_epoch_logged
            finished = TrainingFinished(reason, message or f"training {reason} after {epochs} epoch(s), "
                                                           f"{self._step} step(s)", epochs, self._step)
            final = self.history.epochs[-1] if self.history.epochs else None
            summary = {"final_val_accuracy": final.val_accuracy if final else None,
                       "final_val_loss": final.val_loss if final else None, "epochs": epochs, "steps": self._step,
                       "reason": reason, "message": finished.message, "writer": "RunWriter",
                       **jsonable(dict(summary or {}))}
            state = (self.conversion.convert_state(self.model.state_dict()) if self.rebuilt
                     else self.model.state_dict())
            write_atomically(self.folder / WEIGHTS, state_dict_to_safetensors(full_precision(state)))
            write_atomically(self.folder / METRICS, self.history.to_csv().encode("utf-8"))
            write_atomically(self.folder / SUMMARY,
                             (json.dumps(jsonable(summary), indent=2, allow_nan=False) + "\n").encode())
            self._file.write({"kind": "finished", **dataclasses.asdict(finished), "summary": summary})
        finally:
            self._file.close()
            release_output_dir(self.folder)  # taken by prepare_output_dir: one writer per folder

    def close(self) -> None:
        """finish() as completed, if it was not called."""
        self.finish()

    def __enter__(self) -> "RunWriter":
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if kind is None:
            self.finish()
        elif issubclass(kind, KeyboardInterrupt):
            self.finish(STOPPED, "stopped (KeyboardInterrupt)")
        else:
            self.finish(FAILED, f"the training loop raised {kind.__name__}: {exc}")

    # Helpers -----------------------------------------------------------------------------------------

    def _rate(self, step: int, batch_size: int) -> float:
        now = time.perf_counter()
        mark, self._rate_mark = self._rate_mark, (now, step)
        if mark is None or now <= mark[0] or step <= mark[1]:
            return float("nan")
        return (step - mark[1]) * batch_size / (now - mark[0])

    @torch.no_grad()
    def _probe_output(self) -> torch.Tensor | None:
        was_training = self.model.training
        self.model.eval()
        try:
            device = next((p.device for p in self.model.parameters()), self.probe.device)
            result = self.model(self.probe[:1].to(device))
        finally:
            self.model.train(was_training)
        return result.detach().to("cpu", torch.float32) if isinstance(result, torch.Tensor) else None

    def _gradient_norms(self) -> dict[str, float]:
        """L2 norm of each parameter-holding layer's last gradients (0.0 before any), keyed as the views key
        layers: ConvScope's labels for a rebuilt network, module paths for a recorded one."""
        if self.rebuilt:
            modules = dict(self.model.named_modules())
            groups = [(label, [modules[p] for p in paths])
                      for label, paths in zip(self._labels, self.conversion.paths)]
        else:
            groups = [(path, [m]) for path, m in self.model.named_modules()
                      if path and not any(True for _ in m.children())]
        norms = {}
        for label, mods in groups:
            params = [p for m in mods for p in m.parameters(recurse=False)]
            if params:
                grads = [float(p.grad.detach().float().pow(2).sum()) for p in params if p.grad is not None]
                norms[label] = math.sqrt(sum(grads))
        return norms


def _probe(probe: Any) -> torch.Tensor | None:
    if probe is None:
        return None
    if not isinstance(probe, torch.Tensor) or not probe.is_floating_point() or probe.dim() not in (3, 4):
        raise RunWriterError(f"probe must be a float tensor of inputs (N, C, H, W), e.g. images[:8], not "
                             f"{type(probe).__name__} {tuple(getattr(probe, 'shape', ()))}")
    probe = probe.detach().unsqueeze(0) if probe.dim() == 3 else probe.detach()
    if probe.shape[0] < 1:
        raise RunWriterError("probe holds no inputs; give at least one, e.g. images[:8]")
    return probe.clone()


def _input_shape(shape: Any, probe: torch.Tensor | None) -> tuple[int, int, int] | None:
    if shape is None:
        return tuple(int(v) for v in probe.shape[1:]) if probe is not None else None
    if (not isinstance(shape, (tuple, list)) or len(shape) != 3
            or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in shape)):
        raise RunWriterError(f"input_shape must be (channels, height, width), positive integers, not {shape!r}")
    if probe is not None and tuple(probe.shape[1:]) != tuple(shape):
        raise RunWriterError(f"input_shape {tuple(shape)} differs from the probe's {tuple(probe.shape[1:])}")
    return tuple(shape)


def _normalization(value: Any) -> Normalization | None:
    if value is None or isinstance(value, Normalization):
        return value
    try:
        return Normalization.from_json(dict(value))
    except (NormalizationError, TypeError, ValueError) as exc:
        raise RunWriterError(f"normalization: {exc}; give a Normalization or {{\"mean\": [...], \"std\": [...]}}") \
            from None


def _known_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings TrainConfig knows, checked (settings.json holds only these)."""
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    known = {k: v for k, v in settings.items() if k in names}
    try:
        TrainConfig.from_dict(known)
    except ConfigError as exc:
        raise RunWriterError(f"settings: {exc}") from None
    return known


def _count(value: Any, what: str) -> int:
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_floating_point():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise RunWriterError(f"{what} must be a whole number >= 0, not {value!r}")
    return int(value)


def _optional_count(value: Any, what: str) -> float:
    return float("nan") if value is None else _count(value, what)


def _number(value: Any, what: str) -> float:
    """A float from a number or a one-element tensor (loss.item() not needed); None is NaN (null in the log)."""
    if value is None:
        return float("nan")
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise RunWriterError(f"{what} must be one number, not a tensor of shape {tuple(value.shape)}")
        return float(value.detach())
    if isinstance(value, bool) or not isinstance(value, numbers.Real):  # numpy scalars are Real too
        raise RunWriterError(f"{what} must be a number, not {value!r}")
    return float(value)
