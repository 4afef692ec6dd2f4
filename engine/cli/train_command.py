"""`train ARCH --dataset D --out DIR`: train from the terminal with a progress bar, then write a run folder."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from typing import NoReturn

from engine.cli import EXIT_FAILED, EXIT_OK, report_bad_input
from engine.cli.setting_flags import add_setting_flags, settings_from_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a network on a dataset and write a run folder",
                       description="Train a network with a text progress bar. Writes DIR/architecture.json, "
                                   "weights.safetensors, metrics.csv, settings.json and summary.json, and while "
                                   "training the live log events.jsonl and snapshots/. Ctrl-C, SIGTERM or SIGHUP "
                                   "stop it in any phase (after the current batch; during the final validation, "
                                   "without its scores) and it still writes the folder. Options left out "
                                   "take the input's saved settings (run folder, project), else the defaults. "
                                   "Under torchrun each process trains a share of every batch "
                                   "(docs/run-folder.md#several-processes-torchrun).")
    p.add_argument("architecture", metavar="ARCH",
                   help="architecture .json, or a run folder / .convscope project (training starts from its "
                        "weights)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write the run into (created); "
                   "it holds a live log and snapshots while training and obeys DIR/control.json (docs/run-folder.md)")
    p.add_argument("--paused", action="store_true",
                   help="start paused before the first batch; resume or step through DIR/control.json")
    p.add_argument("--stop-with-parent", action="store_true",
                   help="stop fast (after the current batch, no final validation pass) when standard input "
                        "closes: a parent process (the ConvScope window) keeps a pipe open while it lives")
    add_setting_flags(p)  # docs/training-settings.md lists them
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.cli.stop_signals import StopSignals

    # First, before torch loads: a stop signal at any phase ends the run with a complete folder (stop_signals.py).
    with StopSignals() as signals:
        return _train(args, signals)


def _train(args: argparse.Namespace, signals) -> int:
    from engine.cli.training_progress import TrainingProgress
    from engine.config import ConfigError
    from engine.datasets import DatasetError, load_dataset

    from engine.cli.parent_watch import ParentWatch
    from engine.cli.stop_signals import TRAINING, WRITING
    from engine.training.control import TrainingControl
    from engine.training.distributed import DistributedError, dump_rank_state, join_ranks
    from engine.scoring.final_scores import final_scores
    from engine.events import COMPLETED, STOPPED
    from engine.project.run_input import RunInputError, read_run_input
    from engine.run_folder import ControlFileWatcher, RunFolderWriter
    from engine.run_folder.run_output import RunOutputError, prepare_output_dir, run_summary, write_run_output
    from engine.training.trainer import Trainer, TrainingSetupError

    control = TrainingControl()
    signals.on_stop(control.stop)  # a signal that came while torch loaded stops the run at its first boundary
    try:
        source = read_run_input(args.architecture)
        config = source.config.replace(**settings_from_args(args))
        # Trained weights keep seeing inputs normalised as when they were trained.
        inherited = source.normalization if source.weights is not None else None
        dataset = load_dataset(config.dataset, val_fraction=config.val_fraction, seed=config.seed,
                               normalization=inherited)
        ranks = join_ranks(config.device)  # one process, unless torchrun started this one
        progress = TrainingProgress(config.epochs, sys.stderr)
        trainer = Trainer(source.architecture, dataset, config, [progress] if ranks.leads else [],
                          initial_weights=source.weights, ranks=ranks, control=control)
        out = prepare_output_dir(args.out) if ranks.leads else None  # last: a refused run leaves no folder
    except (RunInputError, ConfigError, RunOutputError, DatasetError, TrainingSetupError, DistributedError) as exc:
        return report_bad_input(exc)
    if not ranks.leads:
        return _follow_rank_zero(trainer, signals)
    signals.note = progress.note  # below the progress bar
    if source.notice:
        print(source.notice, file=sys.stderr)
    if source.weights is not None:
        print(f"starting from the trained weights in {args.architecture}", file=sys.stderr)
    split = ranks.describe(config.batch_size)
    shared = f" in each of {ranks.world_size} ranks ({ranks.backend}, batch {split['batch_per_rank']})" \
        if ranks.world_size > 1 else ""
    print(f"training {source.architecture.name} on {dataset.name} ({len(dataset.train)} train / "
          f"{len(dataset.val)} val images) on {trainer.device}, {trainer.threads} thread(s){shared}", file=sys.stderr)
    _print_practice(config, dataset, trainer.precision)

    live = RunFolderWriter(out, trainer.model, source.architecture, config, dataset.normalization,
                           device=str(trainer.device),
                           threads=trainer.threads, **split)
    # Before the "started" line: a command written by someone who has seen that line is never taken as stale.
    watcher = ControlFileWatcher(out, trainer.control)
    if args.paused:
        trainer.control.pause()
    try:
        live.start()
    except OSError as exc:
        return report_bad_input(RunOutputError(f"{out}: cannot write the run log ({exc.strerror or exc})"))
    trainer.callbacks.append(live)
    trainer.control.on_wait = live.on_wait
    parent = ParentWatch(trainer.control) if args.stop_with_parent else None
    started = time.perf_counter()
    watcher.start()
    signals.phase = TRAINING
    try:
        finished = trainer.fit()
    finally:
        watcher.stop()
    seconds = time.perf_counter() - started
    # Nobody waits for the numbers when the parent is gone: write the folder and leave.
    final, failure = final_validation(trainer, dataset, skip=parent is not None and parent.gone, signals=signals)
    signals.phase = WRITING  # from here a signal lets the folder be finished
    summary = run_summary(finished, final, config=config, device=str(trainer.device), threads=trainer.threads,
                          samples_per_second=trainer.samples_per_second, seconds=seconds, split=split)
    summary.update(final_scores(trainer, dataset))
    try:
        write_run_output(out, arch=source.architecture, model=trainer.model, config=config,
                         normalization=dataset.normalization, history=trainer.history, summary=summary)
    except RunOutputError as exc:
        live.close()
        return report_bad_input(exc)
    live.finish(finished, summary)
    dump_rank_state(trainer.model, ranks)
    ranks.close()
    accuracy = f"{final.accuracy:.2%}" if final.samples else "n/a"
    print(finished.message, file=sys.stderr)
    print(f"validation accuracy {accuracy}, loss {final.loss:.4f}; {trainer.samples_per_second:,.0f} samples/s; "
          f"{seconds:.1f} s; wrote {out}")
    if summary["test_samples"]:
        test = "n/a" if summary["test_accuracy"] is None else f"{summary['test_accuracy']:.2%}"
        print(f"test accuracy {test} on {summary['test_samples']:,} images (the weights kept; never used to choose)")
    if failure:  # the folder holds the trained weights; only the final scores are missing
        report_bad_input(failure)
        return EXIT_FAILED
    if signals.exit_status is not None:  # the shell's convention: 128 + the signal (130 Ctrl-C, 143, 129)
        return signals.exit_status
    return EXIT_OK if finished.reason in (COMPLETED, STOPPED) else EXIT_FAILED


def final_validation(trainer, dataset, skip: bool = False, signals=None):
    """(Evaluation, None) of the kept weights on the validation split, in batches (engine/scoring/evaluation.py);
    skipped, or cut short by a stop signal (`signals`, a StopSignals): an empty Evaluation. A failure (out of memory
    on a large network) costs the scores, never the trained weights: an empty Evaluation and one sentence saying
    why. Rank 0 alone calls it (torchrun's other ranks have returned), so it is the plain evaluate, not the ranks'
    shared one."""
    import numpy as np

    from engine.cli.stop_signals import ValidationCut
    from engine.scoring.evaluation import Evaluation, evaluate

    empty = Evaluation(float("nan"), float("nan"), 0, np.zeros((dataset.num_classes,) * 2, np.int64))
    try:
        with signals.cutting() if signals is not None else contextlib.nullcontext():
            if skip:
                return empty, None
            if signals is not None and len(dataset.val):  # a long quiet pause after the last epoch is no hang
                signals.note(f"final validation of the kept weights on {len(dataset.val):,} images (Ctrl-C skips it)")
            return evaluate(trainer.model, dataset.val.images, dataset.val.labels, dataset.num_classes), None
    except ValidationCut:
        return empty, None
    except Exception as exc:  # noqa: BLE001 - torch raises RuntimeError subclasses (OutOfMemoryError) and others
        return empty, (f"the final validation failed ({type(exc).__name__}: {exc}); the run folder is written "
                       f"without final validation scores")


def _follow_rank_zero(trainer, signals) -> NoReturn:
    """A torchrun rank other than 0: train its shards as rank 0 decides; rank 0 alone prints and writes.

    Stop signals are left to rank 0 (torchrun hands them to every rank; rank 0 stops them all at a boundary,
    which this rank follows); a second Ctrl-C here aborts this rank, as in one process."""
    from engine.cli.stop_signals import TRAINING, WRITING
    from engine.training.distributed import dump_rank_state
    from engine.events import COMPLETED, STOPPED

    signals.phase = TRAINING
    finished = trainer.fit()
    signals.phase = WRITING
    dump_rank_state(trainer.model, trainer.ranks)
    trainer.ranks.close()
    status = EXIT_OK if finished.reason in (COMPLETED, STOPPED) else EXIT_FAILED
    # This rank has written nothing and has nothing left to do: leave without the interpreter's finalisation.
    # A full suite once saw rank 1 abort there (SIGABRT, "terminate called without an active exception") while
    # rank 0 was still validating: torch's gloo teardown at interpreter exit can destroy C++ worker threads or
    # release tensors after the interpreter has gone (pytorch/pytorch#179291 describes it; not fixed upstream).
    # multiprocessing ends its children the same way, for the same kind of reason.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def _print_practice(config, dataset, precision) -> None:
    """One line on what the run does beyond plain training (schedule, augmentation), when it does."""
    from engine.training.augmentation import describe, resolve_operations

    augment = describe(resolve_operations(config, dataset.name, dataset.input_shape[0]))
    print(f"{config.optimizer}, schedule {config.schedule}, augmentation {augment}, {precision.describe()}",
          file=sys.stderr)
