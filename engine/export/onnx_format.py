"""ONNX export (legacy TorchScript-based exporter, opset 17, dynamic batch axis), checked with onnx.checker."""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import torch
from torch import nn

from engine.export.target import ExportError, check_destination, example_input, input_model
from engine.normalization import Normalization
from models.architecture import Architecture
from models.atomic_file import write_atomically

ONNX_SUFFIXES = (".onnx",)
OPSET = 17
INPUT_NAME, OUTPUT_NAME = "input", "output"

# torch 2.13 exports with torch.export + onnxscript by default (dynamo=True); onnxscript is not a dependency,
# so the TorchScript-based exporter (dynamo=False) is used. It warns that it is deprecated, and that it
# cannot constant-fold the reversed Slice of F.pad; both messages are silenced here only.
_SILENCED = (r"You are using the legacy TorchScript-based ONNX export", r"The feature will be removed",
             r"`torch\.jit\.\w+` is deprecated", r"Constant folding - Only steps=1")


def onnx_bytes(model: nn.Module, example: torch.Tensor, opset: int = OPSET) -> bytes:
    """The ONNX model of an eval-mode `model`, batch dimension dynamic, as bytes."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        for message in _SILENCED:
            warnings.filterwarnings("ignore", message=message)
        torch.onnx.export(model, (example,), buf, dynamo=False, opset_version=opset,
                          input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                          dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
                          do_constant_folding=True)
    return buf.getvalue()


def export_onnx(arch: Architecture, weights: dict[str, torch.Tensor] | nn.Module | None,
                out_path: str | os.PathLike, opset: int = OPSET, normalization: Normalization | None = None) -> Path:
    """Write the network as ONNX (input 'input' N x C x H x W, output 'output'), validated before writing.

    With `normalization` the input is [0, 1] pixels, normalised inside the graph, and the statistics are
    in the model's metadata as `convscope.mean` / `convscope.std`; without, the input is already normalised."""
    path = check_destination(out_path, ONNX_SUFFIXES, "ONNX")
    if opset < 17:
        raise ExportError(f"{path}: opset {opset} is too old; use 17 or newer")
    model = input_model(arch, weights, normalization)
    try:
        data = onnx_bytes(model, example_input(arch), opset)
        if normalization is not None:
            data += metadata_props(normalization.metadata())
    except Exception as exc:  # noqa: BLE001 - the exporter raises many unrelated types
        raise ExportError(f"{path}: the ONNX exporter failed ({str(exc).splitlines()[0]}); "
                          f"export TorchScript or a Python module instead") from None
    _check(data, path)
    try:
        write_atomically(path, data)
    except OSError as exc:
        raise ExportError(f"{path}: cannot write ({exc.strerror or exc}); nothing was changed") from None
    return path


def metadata_props(entries: dict[str, str]) -> bytes:
    """ModelProto.metadata_props entries (field 14) as protobuf bytes.

    Protobuf parses concatenated messages as one, appending repeated fields, so these bytes appended to a
    serialised ModelProto add the entries without the onnx package (an optional dependency) re-encoding it.
    """
    def field(number: int, payload: bytes) -> bytes:  # wire type 2: length-delimited
        return _varint(number << 3 | 2) + _varint(len(payload)) + payload

    return b"".join(field(14, field(1, key.encode()) + field(2, value.encode())) for key, value in entries.items())


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _check(data: bytes, path: Path) -> None:
    try:
        import onnx
    except ImportError:
        return  # the export itself needs only torch; checking is a bonus when onnx is installed
    try:
        onnx.checker.check_model(onnx.load_from_string(data), full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        raise ExportError(f"{path}: the exported ONNX model is invalid ({str(exc).splitlines()[0]}); "
                          f"nothing was written") from None
