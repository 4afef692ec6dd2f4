"""`experiment SPEC.json|NAME --out DIR`: train every variant of an experiment, then results.csv and results.md.

Each variant trains in a child `main.py train` (engine/experiments/runner.py), the window's path too. Ctrl-C,
SIGTERM or SIGHUP stop the experiment: the running variant stops after its batch (through its control file; a
terminal's Ctrl-C reaches the child directly as well) and still writes its folder, and no later variant starts.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from pathlib import Path

from engine.cli import report_bad_input
from engine.cli.setting_flags import add_setting_flags, settings_from_args
from models.experiment import EXPERIMENT_KEYS

# The experiment's own --seed (repeatable) replaces the spec's seeds; every other setting's flag overrides the
# spec's "training".
OWN_FLAGS = ("seed",)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("experiment", help="train the variants of an experiment and tabulate them",
                       description="Train each variant of an experiment spec (one thing varied: pooling, "
                                   "activation, kernel_size, batchnorm, dropout, optimizer, learning_rate, connectivity, "
                                   "or whole networks: presets) with "
                                   "the same data, seeds and settings; writes one run folder per variant and seed, "
                                   "results.csv and results.md. Built-in: " + ", ".join(EXPERIMENT_KEYS) + ".")
    p.add_argument("spec", metavar="SPEC.json", help="an experiment spec (see docs/experiments.md), or a built-in name")
    p.add_argument("--out", required=True, metavar="DIR", help="the experiment folder to write")
    p.add_argument("--seed", type=int, action="append", metavar="S",
                   help="a seed to run (repeat for several); replaces the spec's seeds")
    add_setting_flags(p, skip=OWN_FLAGS)  # each overrides the spec's "training"
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.config import ConfigError
    from engine.datasets import DatasetError
    from engine.experiments.runner import ExperimentControl, run_experiment
    from engine.run_folder.run_output import RunOutputError
    from models.experiment import ExperimentError, load

    overrides = settings_from_args(args, skip=OWN_FLAGS)

    def started(n: int, total: int, label: str, seed: int) -> None:
        print(f"[{n}/{total}] {label}, seed {seed}", file=sys.stderr)

    def done(result) -> None:
        best = "n/a" if result.best_val_accuracy is None else f"{result.best_val_accuracy:.2%}"
        print(f"    best validation accuracy {best} (epoch {result.best_epoch}), {result.params:,} parameters, "
              f"{result.seconds:.1f} s -> {result.folder}", file=sys.stderr)

    control = ExperimentControl()
    received: list[int] = []
    try:
        with _stop_signals(control, received):
            spec = load(args.spec)
            results = run_experiment(spec, args.out, overrides, seeds=tuple(args.seed) if args.seed else None,
                                     control=control, echo=True, on_start=started, on_result=done)
    except (ExperimentError, ConfigError, DatasetError, RunOutputError) as exc:
        return report_bad_input(exc)
    if results:
        print((Path(args.out) / "results.md").read_text(), end="")
    if received:  # the shell's convention: 128 + the signal
        return 128 + received[0]
    return 0 if results else 1


@contextlib.contextmanager
def _stop_signals(control, received: list[int]):
    """While the experiment runs, a stop signal stops it (the previous handlers come back after)."""
    def handle(signum, _frame) -> None:
        received.append(signum)
        print(f"{signal.Signals(signum).name} received: the experiment stops after this variant's current batch",
              file=sys.stderr, flush=True)
        control.stop()

    previous = {}
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            try:
                previous[getattr(signal, name)] = signal.signal(getattr(signal, name), handle)
            except ValueError:  # not the main thread (a test calling main() on a thread): no handlers
                break
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
