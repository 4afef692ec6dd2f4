"""Reading a snapshot sidecar: only a regular file directly in the run folder's own snapshots/ folder.

A shared or synced run folder is a stranger's: a snapshot that is a symbolic link (or a snapshots/ folder that
is one) would show another run's weights as this one's, or read any file the user can; a FIFO or device would
hang the reader. Every reader of snapshot weights (the newest snapshot, the timeline, recorded snapshots, the
window's inspection thread) comes through here.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors_bytes

from engine.network.weights import WeightsError, check_plain_tensors
from engine.run_folder.layout import SNAPSHOTS, RunFolderError
from engine.run_folder.records import snapshot_name_problem
from models.architecture import Architecture
from models.regular_file import open_regular, read_at_most
from models.safe_text import clean, shorten
from models.weights_size import WEIGHTS_CEILING, weights_cap

MAX_SNAPSHOT_BYTES = WEIGHTS_CEILING  # for a snapshot whose architecture the reader does not know


def snapshot_tensors(folder: str | os.PathLike, file: str,
                     arch: Architecture | None = None) -> dict[str, torch.Tensor]:
    """The tensors of sidecar `file` ("snapshots/<name>.safetensors", as a snapshot line names it) in run folder
    `folder`. RunFolderError naming the file for a name that is not one, a symbolic link (the file, or the
    snapshots/ folder itself), anything but a regular file, a missing file, a file over the weights limit (that of
    `arch` when the caller knows the run's architecture, else MAX_SNAPSHOT_BYTES), or data that is not a
    safetensors file of plain tensors."""
    problem = snapshot_name_problem(file)
    if problem:
        raise RunFolderError(f"{clean(str(folder))}: a snapshot {problem}")
    snapshots, path = Path(folder) / SNAPSHOTS, Path(folder) / file
    if os.path.islink(snapshots):
        raise RunFolderError(f"{clean(str(snapshots))}: a symbolic link; snapshots are read only from the run "
                             f"folder's own {SNAPSHOTS}/ folder")
    cap = MAX_SNAPSHOT_BYTES if arch is None else weights_cap(arch)
    try:
        with open_regular(path, follow_links=False) as f:
            data = read_at_most(f, cap + 1)
    except OSError as exc:
        raise RunFolderError(f"{clean(str(path))}: cannot read ({exc.strerror or exc})") from None
    if len(data) > cap:
        limit = "the limit for a weights file" if arch is None else "the most the run's architecture can need"
        raise RunFolderError(f"{clean(str(path))}: larger than {cap:,} bytes, {limit}")
    try:
        state = dict(load_safetensors_bytes(data))
    except (SafetensorError, ValueError, RuntimeError, TypeError, OverflowError, KeyError) as exc:
        raise RunFolderError(f"{clean(str(path))}: not a valid safetensors file ({_first_line(exc)})") from None
    try:
        check_plain_tensors(state, clean(str(path)))
    except WeightsError as exc:
        raise RunFolderError(str(exc)) from None
    return state


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return shorten(lines[0]) if lines else type(exc).__name__
