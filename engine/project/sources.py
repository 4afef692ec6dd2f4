"""What `evaluate`, `export`, `train` and File > Open accept as one Project: a .convscope project, an
architecture .json, or a run folder from `train --out` (finished, or killed: its newest snapshot stands in)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from engine.metrics import MetricsFormatError, MetricsHistory
from engine.project.project_file import (ARCHITECTURE, MEMBER_CAPS, METRICS, SETTINGS, SUFFIX, WEIGHTS, Project, ProjectError,
                            check_weights_fit, load_project, read_settings)
from engine.run_folder.layout import EVENTS, SNAPSHOTS
from models import architecture_file, strict_json
from models.architecture import Architecture
from models.regular_file import open_regular, read_at_most
from models.safe_text import clean
from models.weights_size import weights_cap


def open_project_or_run(path: str | os.PathLike) -> Project:
    """A .convscope project, an architecture .json, or a run folder from `train --out` as a Project."""
    path = Path(path)
    if path.is_dir():
        return _load_run_directory(path)
    if path.suffix == ".json":
        try:
            return Project(architecture_file.load(path))
        except architecture_file.ArchitectureFileError as exc:
            raise ProjectError(str(exc)) from None
    if not path.exists():
        raise ProjectError(f"{path}: no such file or folder; give a {SUFFIX} project or a run folder")
    return load_project(path)


def _load_run_directory(folder: Path) -> Project:
    """A run folder: architecture.json (required), weights.safetensors, metrics.csv, settings.json.

    A name that is there at all is read (lexists, not is_file): a FIFO or folder in a file's place is refused
    by the reader, never skipped, so a broken folder is never mistaken for one without that file.
    """
    arch_path = folder / ARCHITECTURE
    if not os.path.lexists(arch_path):
        raise ProjectError(f"{folder}: not a run folder: {ARCHITECTURE} is missing (expected the folder "
                           f"written by `train --out`)")
    try:
        arch = architecture_file.load(arch_path)
    except architecture_file.ArchitectureFileError as exc:
        raise ProjectError(str(exc)) from None
    project = Project(arch)
    if os.path.lexists(folder / WEIGHTS):
        project.weights = _final_weights(folder / WEIGHTS, arch)
    elif os.path.lexists(folder / EVENTS):  # killed or still training: the live log and newest snapshot stand in
        project.weights, project.history, project.notice = _unfinished_run(folder, arch)
    if os.path.lexists(folder / METRICS):
        try:
            data = _read_capped(folder / METRICS, MEMBER_CAPS[METRICS], text=False)
            project.history = MetricsHistory.from_csv(data)
        except MetricsFormatError as exc:
            raise ProjectError(f"{clean(str(folder / METRICS))}: {exc}") from None
    if os.path.lexists(folder / SETTINGS):
        settings = folder / SETTINGS
        try:
            data = strict_json.loads(_read_capped(settings, MEMBER_CAPS[SETTINGS]))
        except strict_json.StrictJSONError as exc:
            raise ProjectError(f"{clean(str(settings))}: {exc}") from None
        project.config, project.normalization = read_settings(data, clean(str(settings)))
    return project


def _final_weights(path: Path, arch: Architecture):
    from engine.network.weights import WeightsError, load_state_dict
    try:
        size = path.stat().st_size
    except OSError:
        size = 0  # a broken link: load_state_dict names the problem
    cap = weights_cap(arch)
    if size > cap:
        raise ProjectError(f"{clean(str(path))}: {size:,} bytes, more than the architecture's tensors can need "
                           f"({cap:,}); these weights belong to another network")
    try:
        weights = load_state_dict(path)
    except WeightsError as exc:
        raise ProjectError(str(exc)) from None
    check_weights_fit(arch, weights, str(path))
    return weights


def _unfinished_run(folder: Path, arch: Architecture):
    from engine.run_folder import RunFolderError, recover_unfinished
    try:
        weights, history, notice = recover_unfinished(folder)
    except RunFolderError as exc:
        raise ProjectError(str(exc)) from None
    if weights is not None:
        check_weights_fit(arch, weights, str(folder / SNAPSHOTS))
    return weights, history, notice


def _read_capped(path: Path, cap: int, text: bool = True) -> Any:
    """A run folder's file (str, or bytes with text=False), refused past `cap` bytes (read at most one more)."""
    try:
        with open_regular(path) as f:  # a FIFO would wait for a writer forever
            data = read_at_most(f, cap + 1)
    except OSError as exc:
        raise ProjectError(f"{clean(str(path))}: cannot read ({exc.strerror or exc})") from None
    if len(data) > cap:
        raise ProjectError(f"{clean(str(path))}: larger than its {cap:,}-byte limit; ConvScope refuses it")
    if not text:
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProjectError(f"{clean(str(path))}: not UTF-8 text (byte {exc.start})") from None
