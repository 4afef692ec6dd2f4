"""PyTorch formats: state-dict .pt, safetensors and TorchScript export, and importing weights into an architecture."""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import torch
from torch import nn

from engine.export.target import ExportError, check_destination, eval_model, example_input, input_model, state_of
from engine.normalization import Normalization
from engine.network.weights import fit_to_architecture, load_state_dict, state_dict_to_safetensors
from models.architecture import Architecture
from models.atomic_file import write_atomically

STATE_DICT_SUFFIXES = (".pt", ".pth")
SAFETENSORS_SUFFIXES = (".safetensors",)
TORCHSCRIPT_SUFFIXES = (".pt", ".pth", ".torchscript")

# torch 2.13 marks torch.jit.script/save/load deprecated; TorchScript is still the format C++ (libtorch)
# and many deployment tools read, so the export stays and only these messages are silenced, only here.
_JIT_DEPRECATION = r"`torch\.jit\.\w+` is deprecated"


def _write(path: Path, data: bytes) -> None:
    try:
        write_atomically(path, data)
    except OSError as exc:
        raise ExportError(f"{path}: cannot write ({exc.strerror or exc}); nothing was changed") from None


def _checked_state(arch: Architecture, weights: dict[str, torch.Tensor] | nn.Module | None) -> dict:
    """The tensors, after checking they load into `arch` (so an export never holds weights that do not fit)."""
    eval_model(arch, weights)
    return state_of(weights)


def export_state_dict(arch: Architecture, weights: dict[str, torch.Tensor] | nn.Module | None,
                      out_path: str | os.PathLike) -> Path:
    """A plain dict of tensors saved with torch.save: loads with torch.load(weights_only=True)."""
    path = check_destination(out_path, STATE_DICT_SUFFIXES, "PyTorch state dict")
    buf = io.BytesIO()
    torch.save(_checked_state(arch, weights), buf)
    _write(path, buf.getvalue())
    return path


def export_safetensors(arch: Architecture, weights: dict[str, torch.Tensor] | nn.Module | None,
                       out_path: str | os.PathLike, normalization: Normalization | None = None) -> Path:
    """The network's tensors, names unchanged; the training statistics, when known, in the header metadata
    (`convscope.mean`, `convscope.std`)."""
    path = check_destination(out_path, SAFETENSORS_SUFFIXES, "safetensors")
    metadata = None if normalization is None else normalization.metadata()
    _write(path, state_dict_to_safetensors(_checked_state(arch, weights), metadata))
    return path


def export_torchscript(arch: Architecture, weights: dict[str, torch.Tensor] | nn.Module | None,
                       out_path: str | os.PathLike, normalization: Normalization | None = None) -> Path:
    """The scripted network in eval mode; torch.jit.load (or libtorch) reads it without ConvScope's code.

    With `normalization` it takes [0, 1] pixels and normalises them itself; without, normalised inputs.
    A graph is traced instead (its forward walks a Python table of which layer reads which, which the
    compiler cannot type; the path through it is fixed, so the trace is the whole network, any batch size)."""
    path = check_destination(out_path, TORCHSCRIPT_SUFFIXES, "TorchScript")
    model = input_model(arch, weights, normalization)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_JIT_DEPRECATION, category=DeprecationWarning)
        try:
            if arch.is_graph:
                with torch.no_grad():
                    scripted = torch.jit.trace(model, example_input(arch, batch=2))
            else:
                scripted = torch.jit.script(model)
        except Exception as exc:  # noqa: BLE001 - torch's compiler errors have no common base class
            raise ExportError(f"{path}: TorchScript cannot compile this network ({str(exc).splitlines()[0]}); "
                              f"export ONNX or a Python module instead") from None
        torch.jit.save(scripted, buf)
    _write(path, buf.getvalue())
    return path


def load_torchscript(path: str | os.PathLike) -> torch.jit.ScriptModule:
    """Read an exported TorchScript file (deprecation messages silenced, as when writing it)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_JIT_DEPRECATION, category=DeprecationWarning)
        return torch.jit.load(str(path), map_location="cpu")


def import_weights(arch: Architecture, path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Tensors from a .safetensors or state-dict .pt/.pth that fit `arch` exactly; never runs code from the file.

    Raises WeightsError naming the file and, on a mismatch, the tensor and both shapes.
    """
    return fit_to_architecture(arch, load_state_dict(path), str(path))
