"""Run an experiment: every variant and seed trained one after another, each by a child `main.py train`.

The folder it writes: one full run folder per variant and seed (`NN-<variant>-seed<S>/`, written by the child as
`train --out` writes any run: events.jsonl, snapshots/, architecture.json, weights, metrics.csv, settings.json,
summary.json, plus the job it was given, input.convscope), so the Timeline, `health` and File > Attach read each
one; `experiment.json` (the spec as run, with the variants' architectures), `results.csv` and `results.md`, built
from the variants' folders and rewritten after every variant. The window and the CLI both run experiments here;
nothing trains in the caller's process, so its torch thread count stays its own.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Callable

from engine.config import ConfigError, TrainConfig
from engine.datasets import load_dataset
from engine.events import BatchEnded, EpochEnded
from engine.experiments.results_reader import variant_result
from engine.experiments.results_table import (COLUMNS, CSV_COLUMNS, RESULTS_CSV, RESULTS_MD, SPEC_JSON,  # noqa: F401
                                              RunResult, cell_text, differing_columns, results_csv,
                                              results_markdown, write_results)
from engine.experiments.variant_child import ExperimentControl, follow
from engine.network.compatibility import check_compatibility
from engine.project.project_file import Project, ProjectError, save_project
from engine.run_folder.run_output import prepare_output_dir, release_output_dir
from engine.training.device import DeviceError, select_device
from engine.training.memory_check import training_memory_problem
from models import architecture_file
from models.atomic_file import write_atomically
from models.experiment import ExperimentError, ExperimentSpec, Variant
from models.shapes import analyze

JOB = "input.convscope"  # the variant's job inside its run folder (network and settings), as the window's Train


def base_config(spec: ExperimentSpec, overrides: dict) -> TrainConfig:
    """The spec's training settings with the command line's on top; ExperimentError naming a bad one."""
    try:
        return TrainConfig.from_dict({**spec.training, **overrides})
    except ConfigError as exc:
        raise ExperimentError(f'field "training": {exc}') from None


def folder_name(n: int, label: str, seed: int) -> str:
    return f"{n:02d}-{re.sub(r'[^A-Za-z0-9.]+', '-', label).strip('-')}-seed{seed}"


def _memory_problems(variant: Variant, config: TrainConfig, dataset) -> list[str]:
    """The Trainer's memory refusal (engine/training/memory_check.py), asked before the first run trains."""
    try:
        device = select_device(config.device)
    except DeviceError:
        return []  # the child says so itself, in its own words
    problem = training_memory_problem(analyze(variant.architecture), config, device, dataset)
    return [problem] if problem else []


def check_variants(config: TrainConfig, variants: list[Variant], seed: int) -> None:
    """Refuse before the first run, not after an hour of training: ExperimentError naming the first variant that
    cannot train on the dataset (shapes, classes, memory)."""
    dataset = load_dataset(config.dataset, val_fraction=config.val_fraction, seed=seed)
    for variant in variants:
        problems = check_compatibility(variant.architecture, dataset)
        problems = problems or _memory_problems(variant, config.replace(**variant.training), dataset)
        if problems:
            raise ExperimentError(f'the variant "{variant.label}" cannot train on {config.dataset}: {problems[0]}')


def run_experiment(spec: ExperimentSpec, out: str | Path, overrides: dict | None = None, *,
                   seeds: tuple[int, ...] | None = None, variants: list[Variant] | None = None,
                   control: ExperimentControl | None = None, echo: bool = False,
                   on_start: Callable[[int, int, str, int], None] | None = None,
                   on_batch: Callable[[str, int, BatchEnded], None] | None = None,
                   on_epoch: Callable[[str, int, EpochEnded], None] | None = None,
                   on_result: Callable[[RunResult], None] | None = None) -> list[RunResult]:
    """Train every variant with every seed (`seeds` replaces the spec's; `variants`, e.g. edited in the window,
    replace the spec's own), one child process after another; results in the order run.

    `control` stops the experiment (the running variant stops after its batch and keeps its row; no later one
    starts). `echo`: the children's output goes to standard error. Hooks, called on the thread that runs this:
    `on_start(n, total, label, seed)` before a variant's child starts, `on_batch(label, seed, BatchEnded)` with
    its progress (at most ten a second), `on_epoch(label, seed, EpochEnded)`, `on_result(RunResult)` read from
    its folder. ExperimentError when a variant cannot train or its child ends without writing its folder."""
    config = base_config(spec, overrides or {})
    seeds = tuple(seeds) if seeds else spec.seeds
    variants = list(variants) if variants is not None else spec.variants()
    control = control or ExperimentControl()
    folder = prepare_output_dir(out)
    # The experiment folder is locked against a second writer for as long as the experiment lasts.
    try:
        write_atomically(folder / SPEC_JSON, (json.dumps(_as_run(spec, config, seeds, variants), indent=2) + "\n")
                         .encode("utf-8"))
        check_variants(config, variants, seeds[0])
        results: list[RunResult] = []
        total, n = len(variants) * len(seeds), 0
        for v_index, variant in enumerate(variants, start=1):
            analysis = analyze(variant.architecture)
            for seed in seeds:
                n += 1
                if control.stopped:
                    return results
                if on_start:
                    on_start(n, total, variant.label, seed)
                run_dir = folder / folder_name(v_index, variant.label, seed)
                result = _train_variant(variant, config.replace(seed=seed, **variant.training), seed, run_dir,
                                        control, echo, analysis, on_batch, on_epoch)
                if result is None:  # stopped before the child wrote its folder
                    return results
                results.append(result)
                write_results(folder, results)  # after every run: a stopped experiment keeps what it finished
                if on_result:
                    on_result(result)
        return results
    finally:
        release_output_dir(folder)


def _train_variant(variant: Variant, config: TrainConfig, seed: int, run_dir: Path, control: ExperimentControl,
                   echo: bool, analysis, on_batch, on_epoch) -> RunResult | None:
    label = variant.label
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        save_project(Project(variant.architecture, config), run_dir / JOB)
    except (OSError, ProjectError) as exc:
        raise ExperimentError(f"{run_dir}: cannot write the variant's job ({getattr(exc, 'strerror', None) or exc})"
                              ) from None
    try:
        ended = follow(run_dir / JOB, run_dir, control, echo=echo,
                       on_batch=(lambda event: on_batch(label, seed, event)) if on_batch else None,
                       on_epoch=(lambda event: on_epoch(label, seed, event)) if on_epoch else None)
    except OSError as exc:  # the interpreter could not be started (gone, out of processes)
        raise ExperimentError(f'the variant "{label}" (seed {seed}): cannot start its training process '
                              f"({exc.strerror or exc})") from None
    result = variant_result(run_dir, label, seed, analysis.total_params, analysis.total_macs)
    if result is None and not control.stopped:
        why = ended.last_error()
        raise ExperimentError(f'the variant "{label}" (seed {seed}) did not finish: its training process ended '
                              f"with {ended.describe()}{': ' + why if why else ''}")
    return result


def _as_run(spec: ExperimentSpec, config: TrainConfig, seeds, variants) -> dict:
    return {"format": "convscope.experiment", "version": 1, "name": spec.name,
            "base": architecture_file.to_dict(spec.base), "vary": {"what": spec.what, "values": list(spec.values)},
            "seeds": list(seeds), "training": config.to_dict(),
            "variants": [{"label": v.label, "training": v.training,
                          "architecture": architecture_file.to_dict(v.architecture)} for v in variants]}
