"""The project file (.convscope): one zip holding architecture, settings, metrics, weights and extras."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from engine.config import ConfigError, TrainConfig
from engine.metrics import MetricsFormatError, MetricsHistory
from engine.normalization import Normalization, NormalizationError, join_settings, split_settings
from engine.run_folder.layout import ARCHITECTURE, METRICS, SETTINGS, WEIGHTS
from models import architecture_file, strict_json
from models.architecture import Architecture
from models.atomic_file import remove_stale_temporaries, write_atomically
from models.format_header import header_problem
from models.safe_text import clean, excerpt, shorten
from models.weights_size import WEIGHTS_CEILING, weights_cap

FORMAT = "convscope.project"
VERSION = 2       # 2: the manifest lists every member with its size and SHA-256 ("members")
SUFFIX = ".convscope"

MANIFEST = "manifest.json"
REQUIRED = (MANIFEST, ARCHITECTURE, SETTINGS, METRICS)
EXTRAS_DIR = "extras/"
_EXTRA_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")

# Zip-bomb guards: a member is decompressed at most up to its limit, whatever its header claims (bytes).
# The weights' limit comes from the architecture (models/weights_size.py, shared with run-folder snapshots).
_MiB = 1 << 20
MEMBER_CAPS = {MANIFEST: _MiB, ARCHITECTURE: 16 * _MiB, SETTINGS: _MiB, METRICS: 64 * _MiB,
               WEIGHTS: WEIGHTS_CEILING}
EXTRA_CAP = _MiB                # each extras/*.json member
EXTRAS_TOTAL_CAP = 4 * _MiB     # all extras together
MAX_MEMBERS = 64

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
    normalization: Normalization | None = None  # the training statistics; None for older files or untrained
    notice: str = ""  # for people, when opening made a choice, e.g. a killed run's last snapshot standing in


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
    members: list[tuple[str, bytes]] = [
        (ARCHITECTURE, architecture_file.dumps(project.architecture).encode("utf-8")),
        (SETTINGS, _json_bytes(join_settings(project.config.to_dict(), project.normalization))),
        (METRICS, project.history.to_csv().encode("utf-8")),
    ]
    for key, value in sorted(project.extras.items()):
        try:
            members.append((f"{EXTRAS_DIR}{key}.json", _json_bytes(value)))
        except (TypeError, ValueError) as exc:
            raise ProjectError(f"extra {key!r} cannot be stored as JSON: {exc}") from None
    if project.weights is not None:
        from engine.network.weights import state_dict_to_safetensors
        members.append((WEIGHTS, state_dict_to_safetensors(project.weights)))
    manifest = {"format": FORMAT, "version": VERSION, "app_version": app_version(),
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "members": {name: {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                            for name, data in members}}
    members.insert(0, (MANIFEST, _json_bytes(manifest)))
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
    shown = clean(str(path))
    try:
        f = open(path, "rb")
    except OSError as exc:
        raise ProjectError(f"{shown}: cannot read ({exc.strerror or exc})") from None
    remove_stale_temporaries(path)  # what a killed save of this project left beside it
    try:
        with f:
            return _read_project(f)
    except ProjectError as exc:
        raise ProjectError(f"{shown}: {exc}") from None
    except OSError as exc:
        raise ProjectError(f"{shown}: cannot read ({exc.strerror or exc})") from None


def from_bytes(data: bytes) -> Project:
    """A Project from the bytes of a project file (e.g. a clipboard or a test)."""
    return _read_project(io.BytesIO(data))


def _read_project(source: io.BufferedIOBase) -> Project:
    """Pure: reads `source`, returns a new Project or raises; nothing else is touched."""
    try:
        zf = zipfile.ZipFile(source)
    except _ZIP_ERRORS as exc:
        raise ProjectError(f"not a ConvScope project: not a zip archive, or truncated ({_why(exc)}); "
                           f"{_DAMAGED}") from None
    with zf:
        infos = _check_names(zf)
        manifest = _Members(zf, infos, None).json(MANIFEST)
        _check_manifest(manifest)
        listed = _listed_members(manifest)
        _check_members(infos, listed)
        members = _Members(zf, infos, listed)
        try:
            arch = architecture_file.loads(members.text(ARCHITECTURE))
        except architecture_file.ArchitectureFileError as exc:
            raise ProjectError(f"{ARCHITECTURE}: {exc}") from None
        config, normalization = read_settings(members.json(SETTINGS), SETTINGS)
        try:
            history = MetricsHistory.from_csv(members.read(METRICS))
        except MetricsFormatError as exc:
            raise ProjectError(f"{METRICS}: {exc}") from None
        weights = None
        if WEIGHTS in infos:
            weights = _read_weights(members.read(WEIGHTS, weights_cap(arch)))
            check_weights_fit(arch, weights, WEIGHTS)
        extras = {name[len(EXTRAS_DIR):-len(".json")]: members.json(name)
                  for name in sorted(infos) if _is_extra(name)}
    return Project(arch, config, history, weights, extras, normalization)


# What zipfile raises on damaged archives and members (a bad version field is NotImplementedError, a flipped
# bit in deflated data zlib.error, an encrypted member RuntimeError, a non-UTF-8 name UnicodeDecodeError).
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, NotImplementedError,
               RuntimeError, ValueError, struct.error, OverflowError)


def _why(exc: BaseException) -> str:
    return shorten(str(exc) or type(exc).__name__, 120)


def read_settings(data: Any, where: str) -> tuple[TrainConfig, Normalization | None]:
    """settings.json's object -> (training settings, the stored input normalisation or None for older files)."""
    try:
        settings, normalization = split_settings(data)
        config = TrainConfig.from_dict(settings)
    except (ConfigError, NormalizationError) as exc:
        raise ProjectError(f"{where}: {shorten(str(exc), 300)}; fix or remove that setting") from None
    except (TypeError, ValueError, OverflowError) as exc:  # a value TrainConfig's own checks did not expect
        raise ProjectError(f"{where}: {shorten(str(exc), 300)}; fix or remove that setting") from None
    if len(config.dataset) > 4096 or clean(config.dataset) != config.dataset:
        raise ProjectError(f"{where}: dataset {excerpt(config.dataset)} holds control characters or is too long; "
                           f"give a dataset name or path")
    return config, normalization


def _is_extra(name: str) -> bool:
    return (name.startswith(EXTRAS_DIR) and name.endswith(".json")
            and bool(_EXTRA_KEY.match(name[len(EXTRAS_DIR):-len(".json")])))


def _is_known(name: str) -> bool:
    return name in REQUIRED or name == WEIGHTS or _is_extra(name)


def _check_names(zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ProjectError(f"has {len(infos)} members, more than a project ever holds ({MAX_MEMBERS}); {_DAMAGED}")
    by_name: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts or ":" in name or "\x00" in name:
            raise ProjectError(f"member {excerpt(name)}: unsafe name (absolute path or '..'); ConvScope refuses "
                               f"such files, which are not projects it wrote")
        if name in by_name:
            raise ProjectError(f"member {excerpt(name)} appears twice; {_DAMAGED}")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ProjectError(f"member {excerpt(name)}: compression method {info.compress_type} (ConvScope "
                               f"writes only deflate); {_DAMAGED}")
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


def _listed_members(manifest: dict[str, Any]) -> dict[str, tuple[int, str]] | None:
    """Version 2 and later: {name: (size, sha256)} from the manifest's "members"; None for version 1 files."""
    if manifest["version"] < 2:
        return None
    members = manifest.get("members")
    if not isinstance(members, dict):
        raise ProjectError(f'{MANIFEST}: "members" must list every member with its size and sha256; {_DAMAGED}')
    listed = {}
    for name, entry in members.items():
        if name == MANIFEST or not _is_known(name):
            raise ProjectError(f"{MANIFEST}: lists unknown member {excerpt(name)}; {_DAMAGED}")
        size = entry.get("size") if isinstance(entry, dict) else None
        digest = entry.get("sha256") if isinstance(entry, dict) else None
        if (not isinstance(entry, dict) or set(entry) != {"size", "sha256"} or isinstance(size, bool) or not isinstance(size, int) or size < 0
                or not isinstance(digest, str) or not _SHA256.match(digest)):
            raise ProjectError(f'{MANIFEST}: member {excerpt(name)} must be {{"size": bytes, "sha256": 64 hex '
                               f"digits}}; {_DAMAGED}")
        listed[name] = (size, digest)
    return listed


def _check_members(infos: dict[str, zipfile.ZipInfo], listed: dict[str, tuple[int, str]] | None) -> None:
    """Every member is one ConvScope knows and (version 2) the manifest lists; nothing is skipped silently."""
    for name in infos:
        if not _is_known(name):
            raise ProjectError(f"unknown member {excerpt(name)}: a project holds only {', '.join(REQUIRED)}, "
                               f"{WEIGHTS} and {EXTRAS_DIR}NAME.json; {_DAMAGED}")
    if listed is None:
        return
    for name in infos:
        if name != MANIFEST and name not in listed:
            raise ProjectError(f"member {excerpt(name)} is not listed in {MANIFEST}; {_DAMAGED}")
    for name in listed:
        if name not in infos:
            raise ProjectError(f"missing member {name} (listed in {MANIFEST}); {_DAMAGED}")




class _Members:
    """Reads members under their size limits and, when the manifest lists them, checks size and SHA-256."""

    def __init__(self, zf: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo],
                 listed: dict[str, tuple[int, str]] | None) -> None:
        self.zf, self.infos, self.listed = zf, infos, listed
        self.extras_left = EXTRAS_TOTAL_CAP

    def read(self, name: str, cap: int | None = None) -> bytes:
        if cap is None:
            cap = min(EXTRA_CAP, self.extras_left) if _is_extra(name) else MEMBER_CAPS[name]
        info = self.infos[name]
        declared = info.file_size
        if self.listed is not None:
            declared = max(declared, self.listed[name][0])
        if declared > cap:
            raise ProjectError(f"{name}: {declared:,} bytes uncompressed, over its {cap:,}-byte limit; "
                               f"ConvScope refuses it (a damaged file or a zip bomb)")
        try:
            with self.zf.open(info) as f:
                data = f.read(cap + 1)  # never trust the header: stop one byte past the limit
        except _ZIP_ERRORS as exc:
            raise ProjectError(f"{name}: cannot be unpacked ({_why(exc)}); {_DAMAGED}") from None
        if len(data) > cap:
            raise ProjectError(f"{name}: larger than its {cap:,}-byte limit; ConvScope refuses it (a damaged "
                               f"file or a zip bomb)")
        if _is_extra(name):
            self.extras_left -= len(data)
        if self.listed is not None:
            size, digest = self.listed[name]
            if len(data) != size or hashlib.sha256(data).hexdigest() != digest:
                raise ProjectError(f"{name}: does not match its checksum in {MANIFEST} (changed after saving, or "
                                   f"damaged); {_DAMAGED}")
        return data

    def text(self, name: str) -> str:
        try:
            return self.read(name).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProjectError(f"{name}: not UTF-8 text (byte {exc.start}); {_DAMAGED}") from None

    def json(self, name: str) -> Any:
        try:
            return strict_json.loads(self.text(name))
        except strict_json.StrictJSONError as exc:
            raise ProjectError(f"{name}: {exc}; fix that line or re-save the project") from None


def _read_weights(data: bytes) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load as load_safetensors_bytes
    try:
        return dict(load_safetensors_bytes(data))
    except (SafetensorError, ValueError, RuntimeError, TypeError, OverflowError, KeyError) as exc:
        raise ProjectError(f"{WEIGHTS}: not valid safetensors ({_why(exc)}); {_DAMAGED}") from None


def check_weights_fit(arch: Architecture, state: dict[str, torch.Tensor], source: str) -> None:
    """ProjectError unless `state` has exactly the architecture's tensors, shape for shape."""
    from engine.network.weights import WeightsError, fit_to_architecture

    try:
        fit_to_architecture(arch, state, source)
    except WeightsError as exc:
        raise ProjectError(f"{exc} (these weights do not fit the project's architecture; import weights that fit, "
                           f"or retrain)") from None
