"""The architecture file format (JSON, "convscope.architecture" version 1; 2 with hand-set conv filters; 3 when
layers name their inputs, a graph): load, validate, save atomically."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from models.architecture import Architecture, InputShape
from models.atomic_file import write_atomically
from models.fields import field_info
from models.format_header import header_problem
from models.layers import NODE_TYPES, LayerSpec
from models.regular_file import open_regular, read_at_most
from models.safe_text import clean, excerpt
from models.strict_json import StrictJSONError
from models.strict_json import loads as strict_loads
from models.validation import SpecValueError, coerce

FORMAT = "convscope.architecture"
VERSION = 3  # read; written as the oldest that holds the network: 3 for a graph, 2 for conv2d init / frozen_init
GRAPH_VERSION = 3  # layers carry "inputs": the numbers of the layers they read (0 = the network's input)
MAX_NAME_CHARS = 200
MAX_FILE_BYTES = 16 << 20
MAX_LAYERS = 1000  # far more than a teaching network; stops a file of a million layers early


class ArchitectureFileError(ValueError):
    """A file that is not a valid architecture; the message names the file, layer and field."""


def _json_value(value: Any) -> Any:
    return [_json_value(v) for v in value] if isinstance(value, tuple) else value


def layer_to_dict(spec: LayerSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"type": spec.TYPE}
    infos = spec.fields()
    for f in dataclasses.fields(spec):
        value = getattr(spec, f.name)
        if infos[f.name].since_version > 1 and value == f.default:
            continue  # a newer field left at its default: the file stays readable by older versions
        if value is not None:
            out[f.name] = _json_value(value)
    return out


def layer_version(spec: LayerSpec) -> int:
    """The oldest format version that can hold `spec` (2 when it uses conv2d's init / frozen_init)."""
    infos = spec.fields()
    return max([1] + [infos[f.name].since_version for f in dataclasses.fields(spec)
                      if getattr(spec, f.name) != f.default])


def to_dict(arch: Architecture) -> dict[str, Any]:
    """A chain is written as before (version 1 or 2, no wiring); a graph as version 3, with "inputs" on each
    layer that reads other than just the layer before it."""
    version = max([1] + [layer_version(spec) for spec in arch.layers] + ([GRAPH_VERSION] if arch.is_graph else []))
    layers = []
    for i, spec in enumerate(arch.layers):
        entry = layer_to_dict(spec)
        if arch.sources_of(i) is not None:
            entry["inputs"] = list(arch.sources_of(i))
        layers.append(entry)
    return {"format": FORMAT, "version": version, "name": arch.name,
            "input": dataclasses.asdict(arch.input), "layers": layers}


def layer_from_dict(data: Any, where: str) -> LayerSpec:
    """One layer from its JSON object; `where` (e.g. 'layer 3') prefixes every message."""
    if not isinstance(data, dict):
        raise ArchitectureFileError(f"{where}: expected an object like {{\"type\": \"relu\"}}, got {excerpt(data)}")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in NODE_TYPES:  # a list or object is unhashable: test the type first
        known = ", ".join(NODE_TYPES)
        raise ArchitectureFileError(f"{where}: unknown layer type {excerpt(kind)}; known types: {known}")
    cls = NODE_TYPES[kind]
    where = f"{where} ({kind})"
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(_key_text(k) for k in data if k not in fields and k not in ("type", "inputs"))
    if unknown:
        raise ArchitectureFileError(f"{where}: unknown field {unknown[0]}; {kind} has "
                                    f"{', '.join(fields) or 'no fields'} (and any layer \"inputs\")")
    values = {}
    for name, f in fields.items():
        info = field_info(f)
        if name not in data:
            if info.required:
                raise ArchitectureFileError(f"{where}: field {name!r} is required ({info.help})")
            continue
        try:
            values[name] = coerce(info, data[name])
        except SpecValueError as exc:
            raise ArchitectureFileError(f"{where}: field {name!r}: {exc}") from None
    return cls(**values)


def inputs_from_dict(data: Any, where: str, count: int) -> tuple[int, ...] | None:
    """A layer's "inputs" (absent: None, the previous layer): numbers of layers of the file, 0 for its input."""
    if not isinstance(data, dict) or "inputs" not in data:
        return None
    value = data["inputs"]
    where = f"{where} ({data.get('type')}): field 'inputs'"
    if not isinstance(value, list) or not value:
        raise ArchitectureFileError(f"{where}: expected a list of layer numbers such as [3, 8] (0 is the "
                                    f"network's input), got {excerpt(value)}")
    for number in value:
        if isinstance(number, bool) or not isinstance(number, int):
            raise ArchitectureFileError(f"{where}: expected layer numbers, got {excerpt(number)}")
        if not 0 <= number <= count:
            raise ArchitectureFileError(f"{where}: there is no layer {number}; the file has {count} layers "
                                        f"(numbered from 1; 0 is the network's input)")
    return tuple(value)


def _key_text(key: object) -> str:
    """A field name for a message: quoted, short and printable, whatever its type (dicts from code may hold ints)."""
    return excerpt(key, 40)


def _input_from_dict(data: Any) -> InputShape:
    if not isinstance(data, dict) or set(data) != {"channels", "height", "width"}:
        raise ArchitectureFileError('input: expected {"channels": C, "height": H, "width": W}')
    for key, value in data.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4096:
            raise ArchitectureFileError(f"input: field {key!r} must be a whole number from 1 to 4096, "
                                        f"got {excerpt(value)}")
    return InputShape(**data)


def from_dict(data: Any) -> Architecture:
    problem = header_problem(data, FORMAT, VERSION, "architecture")
    if problem:
        raise ArchitectureFileError(problem)
    unknown = sorted(_key_text(k) for k in data if k not in ("format", "version", "name", "input", "layers"))
    if unknown:
        raise ArchitectureFileError(f"unknown top-level field {unknown[0]}")
    name = data.get("name", "Untitled")
    if not isinstance(name, str):
        raise ArchitectureFileError(f"name: expected text, got {excerpt(name)}")
    if len(name) > MAX_NAME_CHARS or clean(name) != name:
        raise ArchitectureFileError(f"name: expected one line of at most {MAX_NAME_CHARS} printable characters "
                                    f"(no control characters or lone surrogates), got {excerpt(name)}")
    layers = data.get("layers")
    if not isinstance(layers, list):
        raise ArchitectureFileError("layers: expected a list of layer objects")
    if len(layers) > MAX_LAYERS:
        raise ArchitectureFileError(f"layers: {len(layers):,} layers, more than the {MAX_LAYERS:,} ConvScope opens")
    specs = tuple(layer_from_dict(layer, f"layer {i}") for i, layer in enumerate(layers, start=1))
    inputs = tuple(inputs_from_dict(layer, f"layer {i}", len(layers)) for i, layer in enumerate(layers, start=1))
    return Architecture(name, _input_from_dict(data.get("input")), specs, inputs)


def loads(text: str) -> Architecture:
    try:
        data = strict_loads(text)
    except StrictJSONError as exc:
        raise ArchitectureFileError(str(exc)) from None
    return from_dict(data)


def dumps(arch: Architecture) -> str:
    return json.dumps(to_dict(arch), indent=2) + "\n"


def load(path: str | os.PathLike) -> Architecture:
    """Read an architecture file; every problem becomes one ArchitectureFileError naming the file."""
    path = Path(path)
    try:
        with open_regular(path) as f:  # a FIFO or device would block the read forever
            data = read_at_most(f, MAX_FILE_BYTES + 1)  # a bounded read: a stranger's file may be any size
        if len(data) > MAX_FILE_BYTES:
            raise ArchitectureFileError(f"{clean(str(path))}: larger than {MAX_FILE_BYTES:,} bytes, the limit for "
                                        f"an architecture file")
        text = data.decode("utf-8")
    except OSError as exc:
        raise ArchitectureFileError(f"{clean(str(path))}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ArchitectureFileError(f"{clean(str(path))}: cannot read: not UTF-8 text (byte {exc.start})") from None
    try:
        return loads(text)
    except ArchitectureFileError as exc:
        raise ArchitectureFileError(f"{clean(str(path))}: {exc}") from None


def save(arch: Architecture, path: str | os.PathLike) -> None:
    write_atomically(path, dumps(arch).encode("utf-8"))
