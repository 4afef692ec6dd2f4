"""Trained weights on disk: safetensors and state-dict .pt, loaded safely and checked against a model."""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path
from typing import BinaryIO

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save as save_safetensors_bytes
from torch import nn

from models.architecture import Architecture
from models.atomic_file import write_atomically
from models.regular_file import open_regular
from models.safe_text import clean, excerpt

WEIGHT_SUFFIXES = (".safetensors", ".pt", ".pth")


class WeightsError(ValueError):
    """Weights that cannot be read or do not fit the model; the message names the file and tensor."""


def state_dict_to_safetensors(state: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> bytes:
    """safetensors bytes of CPU copies; `metadata` (strings only) goes in the file's header."""
    return save_safetensors_bytes({k: v.detach().cpu().contiguous() for k, v in state.items()}, metadata=metadata)


def save_weights(model: nn.Module, path: str | os.PathLike) -> None:
    """Write the model's state dict atomically, as safetensors or (for .pt/.pth) torch.save."""
    path = Path(path)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if path.suffix == ".safetensors":
        write_atomically(path, state_dict_to_safetensors(state))
    elif path.suffix in (".pt", ".pth"):
        import io

        buf = io.BytesIO()
        torch.save(state, buf)
        write_atomically(path, buf.getvalue())
    else:
        raise WeightsError(f"{path}: unknown weights format; use .safetensors or .pt")


def _check_pt_container(path: Path, f: BinaryIO) -> None:
    """torch.save writes its zip members stored, never compressed; a compressed member could be a zip bomb."""
    try:
        f.seek(0)
        if not zipfile.is_zipfile(f):
            return  # the legacy pickle format: torch reads it at its own size
        with zipfile.ZipFile(f) as zf:  # a file object passed in stays open
            packed = [i.filename for i in zf.infolist() if i.compress_type != zipfile.ZIP_STORED]
    except Exception:  # noqa: BLE001 - a damaged directory: torch.load names the problem below
        return
    if packed:
        raise WeightsError(f"{path}: member {excerpt(packed[0])} is compressed, which torch.save never does (a "
                           f"damaged file or a zip bomb); save the weights again with torch.save")


def _load_pt(path: Path, f: BinaryIO) -> dict[str, torch.Tensor]:
    """`f`, the already opened `path` (never opened again by name: the file checked is the file read)."""
    _check_pt_container(path, f)
    # weights_only=True: torch's restricted unpickler refuses any global that is not a tensor building
    # block, so a pickle that would run code is rejected instead of executed.
    try:
        f.seek(0)
        state = torch.load(f, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        # torch's message advises loading the file unsafely; it is never passed on. What the file would
        # have called is read from the pickle itself instead.
        blocked = blocked_globals(f)
        if blocked:
            shown = ", ".join(clean(name)[:80] for name in blocked[:5]) + (", ..." if len(blocked) > 5 else "")
            raise WeightsError(f"{path}: refused: it would call {shown} when loaded, so it holds code or objects "
                               f"other than tensors, which ConvScope never runs; ask for a plain state_dict "
                               f".pt or a .safetensors file") from None
        raise WeightsError(f"{path}: not a readable PyTorch file (its pickle data is damaged or was not "
                           f"written by torch.save)") from None
    except EOFError:  # torch says nothing more for an empty file
        raise WeightsError(f"{path}: not a readable PyTorch file (it ends too early: empty, or cut short while "
                           f"being written or copied)") from None
    except (RuntimeError, zipfile.BadZipFile, OSError, ValueError) as exc:
        raise WeightsError(f"{path}: not a readable PyTorch file ({_first_line(str(exc))})") from None
    except Exception as exc:  # noqa: BLE001 - damaged pickles raise TypeError, KeyError, struct.error, ...
        raise WeightsError(f"{path}: not a readable PyTorch file ({type(exc).__name__}: "
                           f"{_first_line(str(exc))})") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]  # a common checkpoint layout
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{path}: expected a state dict (names -> tensors), found {type(state).__name__}")
    check_plain_tensors(state, str(path))
    return state


def blocked_globals(f: BinaryIO) -> list[str]:
    """The callables and classes a .pt's pickle names that torch's weights-only loader does not allow.

    Zip checkpoints are asked with torch's own get_unsafe_globals_in_checkpoint; that raises ValueError on
    legacy (non-zip) files, whose pickles are then listed opcode by opcode with pickletools (never run).
    """
    try:
        f.seek(0)
        return [_python3_name(name) for name in torch.serialization.get_unsafe_globals_in_checkpoint(f)]
    except ValueError:
        pass
    except Exception:  # noqa: BLE001 - a damaged zip: no names to give
        return []
    from torch import _weights_only_unpickler as unpickler  # the allowlist the loader itself uses
    allowed = set(unpickler._get_allowed_globals())
    return [name for name in _pickle_globals(f) if name not in allowed]


def _python3_name(name: str) -> str:
    """module.name as Python 3 loads it: pickles of protocol 2 and below spell Python 2's names (commands.call is
    what subprocess.call is written as), which the unpickler maps back, as the standard library's table says."""
    import _compat_pickle  # the standard library's Python 2 -> 3 names, as pickle uses them

    module, _, attr = name.rpartition(".")
    if (module, attr) in _compat_pickle.NAME_MAPPING:
        module, attr = _compat_pickle.NAME_MAPPING[(module, attr)]
    return f"{_compat_pickle.IMPORT_MAPPING.get(module, module)}.{attr}"


def _pickle_globals(f: BinaryIO, max_pickles: int = 4) -> list[str]:
    """Every global (module.name) the first pickles of a legacy torch.save file name, in order, once each."""
    import pickletools

    names: list[str] = []
    try:
        f.seek(0)
        for _ in range(max_pickles):  # magic number, protocol, system info, then the data
            strings: list[str] = []
            for opcode, arg, _pos in pickletools.genops(f):
                if opcode.name == "GLOBAL":  # protocol <= 2 spells Python 2 names: __builtin__ exec
                    module, _, attr = str(arg).partition(" ")
                    name = _python3_name(f"{module}.{attr}")
                elif opcode.name == "STACK_GLOBAL" and len(strings) >= 2:
                    name = f"{strings[-2]}.{strings[-1]}"
                else:
                    if isinstance(arg, str):
                        strings.append(arg)
                    continue
                if name not in names:
                    names.append(name)
    except Exception:  # noqa: BLE001 - damaged or truncated data ends the listing, keeping what was found
        pass
    return names


def _first_line(text: str) -> str:
    return clean((text.strip().splitlines() or ["unknown problem"])[0][:200])


def check_plain_tensors(state: dict, source: str) -> None:
    """WeightsError unless every key is a name and every value a dense, real, CPU-loadable tensor.

    A state dict from a stranger may hold integer keys, or sparse, meta, quantized or complex tensors, which
    the shape check and load_state_dict would meet as TypeError or RuntimeError.
    """
    for key, tensor in state.items():
        if not isinstance(key, str):
            raise WeightsError(f"{source}: tensor names must be text, found the key {excerpt(key)} "
                               f"({type(key).__name__})")
        if not isinstance(tensor, torch.Tensor):
            raise WeightsError(f"{source}: {excerpt(key)} is a {type(tensor).__name__}, not a tensor")
        kind = ("sparse" if tensor.layout != torch.strided else "meta" if tensor.is_meta
                else "quantized" if tensor.is_quantized else "complex" if tensor.is_complex()
                else "nested" if getattr(tensor, "is_nested", False) else None)
        if kind:
            raise WeightsError(f"{source}: tensor {excerpt(key)} is a {kind} tensor; ConvScope reads plain dense "
                               f"tensors only (save with model.state_dict() of an ordinary model)")
        if not (tensor.is_floating_point() or tensor.dtype in _INTEGER_DTYPES):
            raise WeightsError(f"{source}: tensor {excerpt(key)} has dtype {tensor.dtype}; expected floating-point "
                               f"numbers (or integers for counters)")


_INTEGER_DTYPES = (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8)


def load_state_dict(path: str | os.PathLike, *, follow_links: bool = True) -> dict[str, torch.Tensor]:
    """Tensors by name from a .safetensors or state-dict .pt/.pth file; never executes code from the file.

    Only a regular file is read (a FIFO would wait for a writer forever); with follow_links=False a symbolic
    link is refused too, for files that must come from inside a folder a stranger wrote.
    """
    path = Path(path)
    if path.suffix not in WEIGHT_SUFFIXES:
        raise WeightsError(f"{path}: unknown weights format; use .safetensors or a state-dict .pt")
    try:
        f = open_regular(path, follow_links=follow_links)
    except OSError as exc:
        raise WeightsError(f"{clean(str(path))}: cannot read ({exc.strerror or exc})") from None
    with f:
        if path.suffix != ".safetensors":
            return _load_pt(path, f)
        try:
            state = dict(load_safetensors_bytes(f.read()))
        except OSError as exc:
            raise WeightsError(f"{path}: cannot read ({exc.strerror})") from None
        except (SafetensorError, ValueError, RuntimeError, TypeError, OverflowError, KeyError) as exc:
            raise WeightsError(f"{path}: not a valid safetensors file ({_first_line(str(exc))})") from None
    check_plain_tensors(state, str(path))
    return state


def apply_state_dict(model: nn.Module, state: dict[str, torch.Tensor], source: str = "weights") -> None:
    """Load `state` into `model` strictly; a mismatch names the tensor and both shapes. Nothing changes on error."""
    check_plain_tensors(state, source)
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing[:5])}")
        if unexpected:
            parts.append(f"unexpected {', '.join(clean(k[:60]) for k in unexpected[:5])}")
        raise WeightsError(f"{source}: the weights do not fit this architecture: {'; '.join(parts)}")
    for name in expected:  # the model's order, so the same bad file always names the same tensor
        tensor = state[name]
        if tuple(tensor.shape) != tuple(expected[name].shape):
            raise WeightsError(f"{source}: tensor {name!r} has shape {tuple(tensor.shape)} but the architecture "
                               f"needs {tuple(expected[name].shape)}")
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:  # e.g. a dtype that cannot be copied into the network's own
        raise WeightsError(f"{source}: cannot load the weights ({_first_line(str(exc))})") from None


def load_weights(model: nn.Module, path: str | os.PathLike) -> None:
    apply_state_dict(model, load_state_dict(path), source=str(path))


def fit_to_architecture(arch: Architecture, state: dict[str, torch.Tensor], source: str) -> dict[str, torch.Tensor]:
    """`state` checked against `arch` with the loading rules, as the network's own copies (its dtypes).

    WeightsError if the architecture cannot be built or a tensor is missing, extra or of another shape.
    The throwaway model is initialised inside fork_rng, so the caller's global torch seed does not move.
    """
    from engine.network.builder import BuildError, build_model  # the builder does not need this module

    with torch.random.fork_rng(devices=[]):
        try:
            model = build_model(arch)
        except BuildError as exc:
            raise WeightsError(f"{source}: the architecture cannot be built ({exc}), so the weights cannot be "
                               f"checked against it; fix the architecture first") from None
    apply_state_dict(model, state, source=source)
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
