"""`health RUN [--step S] [--dataset D] [--json]`: dead, dormant, saturated units and gradient norms per layer."""

from __future__ import annotations

import argparse
import json
import sys

from engine.cli import EXIT_OK, report_bad_input


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("health", help="per layer: dead, dormant and saturated units, gradient norms, weight "
                                      "statistics and warnings, at one snapshot of a run",
                       description="Compute the network's health at a snapshot of a run folder (default: the "
                                   "last) on its probe batch: the first 512 images of the validation split it held "
                                   "out, or every image of --dataset, normalised with the run's training "
                                   "statistics (docs/command-line.md#health).")
    p.add_argument("source", metavar="RUN", help="a run folder written by `train --out`")
    p.add_argument("--step", type=int, help="the snapshot's step (default: the newest kept)")
    p.add_argument("--dataset", metavar="NAME_OR_PATH", help="compute on every image of this set instead")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def _pick(entries, step: int | None, folder: str):
    from engine.project.run_input import RunInputError

    if not entries:
        raise RunInputError(f"{folder}: the run has no snapshots on disk; train it with `train --out {folder}`")
    if step is None:
        return entries[-1]
    for entry in entries:
        if entry.step == step:
            return entry
    steps = [e.step for e in entries]
    near = sorted(steps, key=lambda s: abs(s - step))[:3]
    raise RunInputError(f"--step {step}: no snapshot of that step is kept; the nearest are "
                        f"{', '.join(map(str, sorted(near)))} ({len(steps)} kept, {steps[0]} to {steps[-1]})")


def _refuse_experiment_folder(folder) -> None:
    """An experiment folder holds one run folder per variant: name them rather than fail on a missing file. A
    variant folder from before variants trained as `train` children has no run log: say so, and what to do."""
    from engine.project.run_input import RunInputError
    from engine.run_folder import EVENTS

    if (folder / "experiment.json").is_file():
        runs = sorted(p.name for p in folder.iterdir() if p.is_dir() and (p / "architecture.json").is_file())
        named = f" ({', '.join(runs[:3])}{', ...' if len(runs) > 3 else ''})" if runs else ""
        raise RunInputError(f"{folder}: an experiment folder; health reads one run, give one of its variant "
                            f"folders{named}")
    if (folder.parent / "experiment.json").is_file() and not (folder / EVENTS).exists():
        raise RunInputError(f"{folder}: a variant folder without a run log (written before experiments trained "
                            f"each variant as a full run); run the experiment again to get one health can read")


def _recorded(args: argparse.Namespace, recorded):
    """(health, title, notice) of a RunWriter folder whose network ConvScope cannot rebuild: from the activations
    its snapshot recorded on the script's own probe batch (engine/inspection/recorded_health.py)."""
    from engine.inspection.recorded_health import recorded_health
    from engine.project.run_input import RunInputError
    from engine.run_folder import read_run_log
    from engine.run_folder.timeline import timeline

    if args.dataset:
        raise RunInputError(f"--dataset {args.dataset}: {recorded.cannot_rebuild}; its health is computed on the "
                            f"probe batch your script gave RunWriter, as recorded")
    log = read_run_log(args.source)
    entry = _pick(timeline(args.source, log), args.step, args.source)
    snapshot = next(s for s in reversed(log.snapshots) if s.file == entry.file)
    return (recorded_health(args.source, snapshot), f"{recorded.model} (recorded by your own script)",
            "a recorded run: its layers are the modules RunWriter recorded, by module path")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from engine.network.builder import BuildError
    from engine.datasets import DatasetError
    from engine.run_folder import RunFolderError, read_run_log
    from engine.run_folder.recording import recorded_run
    from engine.run_folder.timeline import timeline
    from engine.project.run_input import RunInputError, read_run_input
    from engine.inspection.health import percent
    from engine.inspection.snapshot_health import probe_images, snapshot_health
    from engine.network.weights import WeightsError

    try:
        if not Path(args.source).is_dir():
            raise RunInputError(f"{args.source}: health reads a run folder's snapshots; give a folder written by "
                                f"`train --out DIR`")
        _refuse_experiment_folder(Path(args.source))
        recorded = recorded_run(args.source)
        if recorded is not None:
            health, title, notice = _recorded(args, recorded)
        else:
            source = read_run_input(args.source)
            entry = _pick(timeline(args.source, read_run_log(args.source)), args.step, args.source)
            probe = probe_images(source, args.dataset)
            health = snapshot_health(args.source, source, entry, probe.images)
            title, notice = source.architecture.name, probe.notice
    except (RunInputError, RunFolderError, WeightsError, DatasetError, BuildError) as exc:
        return report_bad_input(exc)
    if notice:
        print(f"note: {notice}", file=sys.stderr)
    if args.json:
        print(json.dumps({"step": health.step, "epoch": health.epoch, "samples": health.samples,
                          "layers": [la.to_dict() for la in health.layers],
                          "warnings": [{"layer": w.layer, "kind": w.kind, "message": w.message}
                                       for w in health.warnings]}, indent=2))
        return EXIT_OK
    print(f"{title} at step {health.step:,} (epoch {health.epoch}), {health.samples:,} probe images")
    print(f"{'layer':<22}{'dead':>8}{'dormant':>9}{'saturated':>11}{'grad norm':>12}{'w mean':>10}{'w std':>9}")

    def cell(value, width, fmt):
        # Fractions as percent(): 0.9994 reads 99.94%, never 100.0% (issue 28).
        text = "-" if value is None else percent(value) if fmt == "%" else format(value, fmt)
        return f"{text:>{width}}"

    for la in health.layers:
        print(f"{la.label:<22}{cell(la.dead_fraction, 8, '%')}{cell(la.dormant_fraction, 9, '%')}"
              f"{cell(la.saturated_fraction, 11, '%')}{cell(la.gradient_norm, 12, '.3g')}"
              f"{cell(la.weight_mean, 10, '.3g')}{cell(la.weight_std, 9, '.3g')}")
    print("\n".join(["", *("warning: " + w.message for w in health.warnings)]) if health.warnings
          else "\nno warnings")
    return EXIT_OK
