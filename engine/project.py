"""The project file (.convscope): one zip holding architecture, settings, metrics, weights and extras."""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from engine.config import ConfigError, TrainConfig
from engine.metrics import MetricsFormatError, MetricsHistory
from models import architecture_file
from models.architecture import Architecture
from models.atomic_file import write_atomically
from models.format_header import header_problem

FORMAT = "convscope.project"
VERSION = 1
SUFFIX = ".convscope"

MANIFEST, ARCHITECTURE, SETTINGS, METRICS, WEIGHTS = (
    "manifest.json", "architecture.json", "settings.json", "metrics.csv", "weights.safetensors")
REQUIRED = (MANIFEST, ARCHITECTURE, SETTINGS, METRICS)
EXTRAS_DIR = "extras/"
_EXTRA_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

# Zip-bomb guards: a member is read at most up to its cap, whatever its header claims (bytes).
_MiB = 1 << 20
MEMBER_CAPS = {MANIFEST: _MiB, ARCHITECTURE: 16 * _MiB, SETTINGS: _MiB, METRICS: 256 * _MiB,
               WEIGHTS: 4096 * _MiB}
EXTRA_CAP = 16 * _MiB
MAX_MEMBERS = 256

_DAMAGED = "the file is damaged; restore a backup or re-save the project from ConvScope"


class ProjectError(ValueError):
    """A project that cannot be saved or opened; the message names the file, the member and what to do."""


@dataclass(eq=False)  # tensors have no single truth value, so == compares identity
class Project:
    """Everything a .convscope file holds. `weights` is None for a project that was never trained."""

    architecture: Architecture
    config: TrainConfig = field(default_factory=TrainConfig)
    history: MetricsHistory = field(default_factory=MetricsHistory)
    weights: dict[str, torch.Tensor] | None = None
    extras: dict[str, Any] = field(default_factory=dict)  # JSON values by key, e.g. {"ui": {"probe_index": 3}}


def app_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
        return version("convscope")
    except (ImportError, PackageNotFoundError):
        return "unknown"


# ----------------------------------------------------------------------------------------------- saving

def to_bytes(project: Project) -> bytes:
    """The whole project as zip bytes (ZIP_DEFLATED). Weights that do not fit the architecture are refused."""
    for key in project.extras:
        if not isinstance(key, str) or not _EXTRA_KEY.match(key):
            raise ProjectError(f"extra {key!r}: names must be 1-64 letters, digits, '_' or '-'")
    if project.weights is not None:
        check_weights_fit(project.architecture, project.weights, "weights")
    manifest = {"format": FORMAT, "version": VERSION, "app_version": app_version(),
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    members: list[tuple[str, bytes]] = [
        (MANIFEST, _json_bytes(manifest)),
        (ARCHITECTURE, architecture_file.dumps(project.architecture).encode("utf-8")),
        (SETTINGS, _json_bytes(project.config.to_dict())),
        (METRICS, project.history.to_csv().encode("utf-8")),
    ]
    for key, value in sorted(project.extras.items()):
        try:
            members.append((f"{EXTRAS_DIR}{key}.json", _json_bytes(value)))
        except (TypeError, ValueError) as exc:
            raise ProjectError(f"extra {key!r} cannot be stored as JSON: {exc}") from None
    if project.weights is not None:
        from engine.weights import state_dict_to_safetensors
        members.append((WEIGHTS, state_dict_to_safetensors(project.weights)))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


def save_project(project: Project, path: str | os.PathLike) -> None:
    """Write `project` to `path` atomically: on any failure the previous file is left byte-identical."""
    path = Path(path)
    if not path.parent.is_dir():
        raise ProjectError(f"{path}: cannot save: the folder {path.parent} does not exist; choose another folder")
    data = to_bytes(project)
    try:
        write_atomically(path, data)
    except OSError as exc:
        raise ProjectError(f"{path}: cannot save ({exc.strerror or exc}); the previous file, if any, "
                           f"is unchanged") from None


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, indent=2, allow_nan=False) + "\n").encode("utf-8")


# ---------------------------------------------------------------------------------------------- loading

def load_project(path: str | os.PathLike) -> Project:
    """Read and validate a project file; every problem is one ProjectError naming the file and member."""
    path = Path(path)
    try:
        f = open(path, "rb")
    except OSError as exc:
        raise ProjectError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        with f:
            return _read_project(f)
    except ProjectError as exc:
        raise ProjectError(f"{path}: {exc}") from None
    except OSError as exc:
        raise ProjectError(f"{path}: cannot read ({exc.strerror or exc})") from None


def from_bytes(data: bytes) -> Project:
    """A Project from the bytes of a project file (e.g. a clipboard or a test)."""
    return _read_project(io.BytesIO(data))


def _read_project(source: io.BufferedIOBase) -> Project:
    """Pure: reads `source`, returns a new Project or raises; nothing else is touched."""
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError) as exc:
        raise ProjectError(f"not a ConvScope project: not a zip archive, or truncated ({exc}); "
                           f"{_DAMAGED}") from None
    with zf:
        infos = _check_names(zf)
        manifest = _read_json(zf, infos, MANIFEST)
        _check_manifest(manifest)
        try:
            arch = architecture_file.loads(_read_text(zf, infos, ARCHITECTURE))
        except architecture_file.ArchitectureFileError as exc:
            raise ProjectError(f"{ARCHITECTURE}: {exc}") from None
        try:
            config = TrainConfig.from_dict(_read_json(zf, infos, SETTINGS))
        except ConfigError as exc:
            raise ProjectError(f"{SETTINGS}: {exc}; fix or remove that setting") from None
        try:
            history = MetricsHistory.from_csv(_read_text(zf, infos, METRICS))
        except MetricsFormatError as exc:
            raise ProjectError(f"{METRICS}: {exc}") from None
        weights = None
        if WEIGHTS in infos:
            weights = _read_weights(_read(zf, infos, WEIGHTS))
            check_weights_fit(arch, weights, WEIGHTS)
        extras = {name[len(EXTRAS_DIR):-len(".json")]: _read_json(zf, infos, name)
                  for name in sorted(infos) if _is_extra(name)}
    return Project(arch, config, history, weights, extras)


def _is_extra(name: str) -> bool:
    return (name.startswith(EXTRAS_DIR) and name.endswith(".json")
            and bool(_EXTRA_KEY.match(name[len(EXTRAS_DIR):-len(".json")])))


def _check_names(zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ProjectError(f"has {len(infos)} members, more than a project ever holds ({MAX_MEMBERS}); {_DAMAGED}")
    by_name: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts or ":" in name or "\x00" in name:
            raise ProjectError(f"member {name!r}: unsafe name (absolute path or '..'); ConvScope refuses "
                               f"such files, which are not projects it wrote")
        if name in by_name:
            raise ProjectError(f"member {name!r} appears twice; {_DAMAGED}")
        by_name[name] = info
    missing = [name for name in REQUIRED if name not in by_name]
    if missing:
        raise ProjectError(f"missing member {missing[0]}; this is not a complete ConvScope project "
                           f"({_DAMAGED})")
    return by_name


def _check_manifest(manifest: Any) -> None:
    problem = header_problem(manifest, FORMAT, VERSION, "project")
    if problem:
        raise ProjectError(f"{MANIFEST}: {problem}")


def _read(zf: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo], name: str) -> bytes:
    cap = MEMBER_CAPS.get(name, EXTRA_CAP)
    info = infos[name]
    if info.file_size > cap:
        raise ProjectError(f"{name}: {info.file_size:,} bytes uncompressed, over the {cap:,}-byte limit; "
                           f"ConvScope refuses it (a damaged file or a zip bomb)")
    try:
        with zf.open(info) as f:
            data = f.read(cap + 1)  # never trust the header: stop one byte past the cap
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
        raise ProjectError(f"{name}: cannot be unpacked ({exc}); {_DAMAGED}") from None
    if len(data) > cap:
        raise ProjectError(f"{name}: larger than the {cap:,}-byte limit; ConvScope refuses it")
    return data


def _read_text(zf: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo], name: str) -> str:
    try:
        return _read(zf, infos, name).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProjectError(f"{name}: not UTF-8 text (byte {exc.start}); {_DAMAGED}") from None


def _read_json(zf: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo], name: str) -> Any:
    try:
        return json.loads(_read_text(zf, infos, name))
    except json.JSONDecodeError as exc:
        raise ProjectError(f"{name}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}; "
                           f"fix that line or re-save the project") from None


def _read_weights(data: bytes) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load as load_safetensors_bytes
    try:
        return dict(load_safetensors_bytes(data))
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise ProjectError(f"{WEIGHTS}: not valid safetensors ({exc}); {_DAMAGED}") from None


def check_weights_fit(arch: Architecture, state: dict[str, torch.Tensor], source: str) -> None:
    """ProjectError unless `state` has exactly the architecture's tensors, shape for shape."""
    from engine.weights import WeightsError, fit_to_architecture

    try:
        fit_to_architecture(arch, state, source)
    except WeightsError as exc:
        raise ProjectError(f"{exc} (these weights do not fit the project's architecture; import weights that fit, "
                           f"or retrain)") from None


# -------------------------------------------------------------------------------- projects and run folders

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
    """A run folder: architecture.json (required), weights.safetensors, metrics.csv, settings.json."""
    arch_path = folder / ARCHITECTURE
    if not arch_path.is_file():
        raise ProjectError(f"{folder}: not a run folder: {ARCHITECTURE} is missing (expected the folder "
                           f"written by `train --out`)")
    try:
        arch = architecture_file.load(arch_path)
    except architecture_file.ArchitectureFileError as exc:
        raise ProjectError(str(exc)) from None
    project = Project(arch)
    if (folder / WEIGHTS).is_file():
        from engine.weights import WeightsError, load_state_dict
        try:
            project.weights = load_state_dict(folder / WEIGHTS)
        except WeightsError as exc:
            raise ProjectError(str(exc)) from None
        check_weights_fit(arch, project.weights, str(folder / WEIGHTS))
    if (folder / METRICS).is_file():
        try:
            project.history = MetricsHistory.from_csv((folder / METRICS).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, MetricsFormatError) as exc:
            raise ProjectError(f"{folder / METRICS}: {exc}") from None
    if (folder / SETTINGS).is_file():
        try:
            project.config = TrainConfig.from_dict(json.loads((folder / SETTINGS).read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, ConfigError) as exc:
            raise ProjectError(f"{folder / SETTINGS}: {exc}") from None
    return project
