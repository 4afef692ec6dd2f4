"""Run an experiment: every variant and seed trained one after another on the same data and settings.

The folder it writes: one run folder per variant and seed (`NN-<variant>-seed<S>/`, as `train --out`
writes: architecture.json, weights, metrics.csv, settings.json, summary.json), `experiment.json` (the
spec as run, with the variants' architectures), `results.csv` and `results.md`.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from engine.network.compatibility import check_compatibility
from engine.config import ConfigError, TrainConfig
from engine.datasets import load_dataset
from engine.training.device import DeviceError, select_device
from engine.scoring.evaluation import evaluate
from engine.training.memory_check import training_memory_problem
from engine.metrics import MetricsHistory
from engine.run_folder.run_output import prepare_output_dir, release_output_dir, run_summary, write_run_output
from engine.training.trainer import Callback, Trainer
from models import architecture_file
from models.atomic_file import write_atomically
from models.experiment import ExperimentError, ExperimentSpec, Variant
from models.shapes import analyze

COLUMNS = ("variant", "seed", "params", "macs", "best_val_accuracy", "final_val_accuracy", "best_epoch", "seconds",
           "samples_per_second")
CSV_COLUMNS = COLUMNS + ("folder",)  # the run folder's name, inside the experiment folder
RESULTS_CSV, RESULTS_MD, SPEC_JSON = "results.csv", "results.md", "experiment.json"


@dataclass(frozen=True)
class RunResult:
    variant: str
    seed: int
    folder: Path
    params: int
    macs: int
    best_val_accuracy: float | None
    final_val_accuracy: float | None
    best_epoch: int | None
    seconds: float
    samples_per_second: float
    history: MetricsHistory

    def row(self) -> dict:
        return {"variant": self.variant, "seed": self.seed, "params": self.params, "macs": self.macs,
                "best_val_accuracy": self.best_val_accuracy, "final_val_accuracy": self.final_val_accuracy,
                "best_epoch": self.best_epoch, "seconds": round(self.seconds, 3),
                "samples_per_second": round(self.samples_per_second, 1)}


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
        return []  # the Trainer says so itself, in its own words
    problem = training_memory_problem(analyze(variant.architecture), config, device, dataset)
    return [problem] if problem else []


def _best(history: MetricsHistory) -> tuple[float | None, int | None]:
    epochs = [e for e in history.epochs if e.val_accuracy == e.val_accuracy]  # NaN-free
    if not epochs:
        return None, None
    best = max(epochs, key=lambda e: (e.val_accuracy, -e.epoch))  # the first epoch reaching the best
    return best.val_accuracy, best.epoch


class _EpochRelay(Callback):
    """A trainer callback that hands each epoch to `on_epoch(label, seed, event)`."""

    def __init__(self, on_epoch, label: str, seed: int) -> None:
        self._on_epoch, self._label, self._seed = on_epoch, label, seed

    def on_epoch_end(self, event) -> None:
        self._on_epoch(self._label, self._seed, event)


def run_experiment(spec: ExperimentSpec, out: str | Path, overrides: dict | None = None, *,
                   seeds: tuple[int, ...] | None = None, variants: list[Variant] | None = None,
                   on_result: Callable[[RunResult], None] | None = None,
                   on_start: Callable[[int, int, str, int], None] | None = None,
                   on_epoch: Callable[[str, int, object], None] | None = None,
                   on_trainer: Callable[[Trainer], None] | None = None,
                   should_stop: Callable[[], bool] | None = None) -> list[RunResult]:
    """Train every variant with every seed (`seeds` replaces the spec's; `variants`, e.g. edited in the
    window, replace the spec's own); results in the order run.

    Hooks (called on the thread that runs this): `on_start(n, total, label, seed)` before a run,
    `on_trainer(trainer)` with its Trainer (whose `control.stop()` ends that run), `on_epoch(label, seed,
    EpochEnded)`, `on_result(RunResult)`; `should_stop()` is asked before each run."""
    config = base_config(spec, overrides or {})
    seeds = tuple(seeds) if seeds else spec.seeds
    variants = list(variants) if variants is not None else spec.variants()
    folder = prepare_output_dir(out)
    # The experiment folder is locked against a second writer while it runs (in the window, for as long as
    # the experiment, not the window, lasts).
    try:
        write_atomically(folder / SPEC_JSON, (json.dumps(_as_run(spec, config, seeds, variants), indent=2) + "\n")
                         .encode("utf-8"))
        datasets: dict[int, object] = {}
        results: list[RunResult] = []
        total = len(variants) * len(seeds)
        for seed in seeds:
            if seed not in datasets:  # the same split for every variant of a seed
                datasets[seed] = load_dataset(config.dataset, val_fraction=config.val_fraction, seed=seed)
        for variant in variants:  # refuse before the first run, not after an hour of training
            problems = check_compatibility(variant.architecture, datasets[seeds[0]])
            problems = problems or _memory_problems(variant, config.replace(**variant.training), datasets[seeds[0]])
            if problems:
                raise ExperimentError(f'the variant "{variant.label}" cannot train on {config.dataset}: {problems[0]}')
        n = 0
        for v_index, variant in enumerate(variants, start=1):
            for seed in seeds:
                n += 1
                if should_stop is not None and should_stop():
                    return results
                if on_start:
                    on_start(n, total, variant.label, seed)
                run_config = config.replace(seed=seed, **variant.training)
                dataset = datasets[seed]
                relay = [_EpochRelay(on_epoch, variant.label, seed)] if on_epoch else []
                trainer = Trainer(variant.architecture, dataset, run_config, relay)
                if on_trainer:
                    on_trainer(trainer)
                started = time.perf_counter()
                finished = trainer.fit()
                seconds = time.perf_counter() - started
                final = evaluate(trainer.model, dataset.val.images, dataset.val.labels, dataset.num_classes)
                run_dir = prepare_output_dir(folder / folder_name(v_index, variant.label, seed))
                summary = run_summary(finished, final, config=run_config, device=str(trainer.device),
                                      threads=trainer.threads, samples_per_second=trainer.samples_per_second,
                                      seconds=seconds)
                try:
                    write_run_output(run_dir, arch=variant.architecture, model=trainer.model, config=run_config,
                                     normalization=dataset.normalization, history=trainer.history, summary=summary)
                finally:
                    release_output_dir(run_dir)  # the variant's folder is complete: nobody writes it now
                analysis = analyze(variant.architecture)
                best, best_epoch = _best(trainer.history)
                result = RunResult(variant.label, seed, run_dir, analysis.total_params, analysis.total_macs, best,
                                   summary["final_val_accuracy"], best_epoch, seconds, trainer.samples_per_second,
                                   trainer.history)
                results.append(result)
                write_results(folder, results)  # after every run: a stopped experiment keeps what it finished
                if on_result:
                    on_result(result)
        return results
    finally:
        release_output_dir(folder)


def _as_run(spec: ExperimentSpec, config: TrainConfig, seeds, variants) -> dict:
    return {"format": "convscope.experiment", "version": 1, "name": spec.name,
            "base": architecture_file.to_dict(spec.base), "vary": {"what": spec.what, "values": list(spec.values)},
            "seeds": list(seeds), "training": config.to_dict(),
            "variants": [{"label": v.label, "training": v.training,
                          "architecture": architecture_file.to_dict(v.architecture)} for v in variants]}


def results_csv(results: list[RunResult]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in results:
        row = {k: ("" if v is None else v) for k, v in r.row().items()}
        writer.writerow({**row, "folder": r.folder.name})
    return buffer.getvalue()


def cell_text(name: str, value) -> str:
    if value is None:
        return "-"
    if name.endswith("accuracy"):
        return f"{value:.2%}"
    if name in ("params", "macs"):
        return f"{value:,}"
    if name == "seconds":
        return f"{value:.1f}"
    if name == "samples_per_second":
        return f"{value:,.0f}"
    return str(value)


def differing_columns(results: list[RunResult]) -> list[str]:
    """The table's columns: variant, then only those whose values differ between the rows (all, for one row);
    timings always differ, so the results columns stay; parameters and multiply-adds only where they change."""
    rows = [r.row() for r in results]
    keep = ["variant"]
    for name in COLUMNS[1:]:
        if len(rows) < 2 or len({repr(row[name]) for row in rows}) > 1:
            keep.append(name)
    return keep


def results_markdown(title: str, results: list[RunResult]) -> str:
    columns = differing_columns(results)
    lines = [f"# {title}", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in results:
        row = r.row()
        lines.append("| " + " | ".join(cell_text(c, row[c]) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def write_results(folder: Path, results: list[RunResult], title: str | None = None) -> None:
    spec = json.loads((folder / SPEC_JSON).read_text()) if title is None else {"name": title}
    write_atomically(folder / RESULTS_CSV, results_csv(results).encode("utf-8"))
    write_atomically(folder / RESULTS_MD, results_markdown(spec["name"], results).encode("utf-8"))
