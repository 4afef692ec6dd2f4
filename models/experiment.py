"""Experiment specs (JSON, "convscope.experiment" version 1): one base network, one thing varied, its variants."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models import architecture_file, graph, presets
from models.architecture import Architecture
from models.format_header import header_problem
from models.regular_file import open_regular, read_at_most
from models.layers import (LAYER_TYPES, AvgPool2dSpec, BatchNorm2dSpec, Conv2dSpec, DropoutSpec, FlattenSpec,
                           LayerSpec, LinearSpec, LocallyConnected2dSpec, MaxPool2dSpec, Pool2dSpec, SoftmaxSpec)
from models.safe_text import clean, excerpt, shorten
from models.shapes import analyze
from models.strict_json import StrictJSONError
from models.strict_json import loads as strict_loads

FORMAT = "convscope.experiment"
VERSION = 1
MAX_FILE_BYTES = 16 << 20
MAX_NAME = 200  # characters of an experiment's name or a variant's label: one line of a table or title
MAX_VARIANTS = 32
MAX_SEEDS = 16
EXPERIMENT_DIR = Path(__file__).resolve().parent.parent / "resources" / "experiments"
EXPERIMENT_KEYS = ("pooling-comparison", "sharing", "plain-vs-residual")
FIELDS = ("format", "version", "name", "base", "vary", "seeds", "training")

POOLING = ("none", "max", "avg", "strided_conv")
ACTIVATIONS = ("relu", "leaky_relu", "elu", "sigmoid", "tanh")
CONNECTIVITY = ("fully_connected", "locally_connected", "convolution")
VARY: dict[str, str] = {  # what -> what its values are
    "pooling": "none, max, avg or strided_conv",
    "activation": "relu, leaky_relu, elu, sigmoid or tanh",
    "kernel_size": "whole numbers (every conv layer's kernel)",
    "batchnorm": "true (after every conv) or false (none)",
    "dropout": "true (before every linear layer after the first) or false (none)",
    "optimizer": "adam or sgd",
    "learning_rate": "positive numbers",
    "connectivity": "fully_connected, locally_connected or convolution (every conv2d or locally_connected2d layer)",
}
# Kinds only a spec file offers: the Experiments tab varies the network on the canvas, which these replace.
VARY_IN_FILES: dict[str, str] = {**VARY, "network": f"preset names ({', '.join(presets.PRESET_KEYS)}): whole "
                                                   f"networks side by side; leave \"base\" out"}
TRAINING_OVERRIDES = {"optimizer": "optimizer", "learning_rate": "learning_rate"}


class ExperimentError(ValueError):
    """A spec that cannot be run; the one-line message names the field (and the file when loaded)."""


@dataclass(frozen=True)
class Variant:
    label: str
    architecture: Architecture
    training: dict[str, Any] = field(default_factory=dict)  # settings this variant changes (optimizer, lr)


@dataclass(frozen=True)
class ExperimentSpec:
    name: str
    base: Architecture
    what: str
    values: tuple
    seeds: tuple[int, ...]
    training: dict[str, Any]  # engine TrainConfig fields, checked by the engine

    def variants(self) -> list[Variant]:
        return [variant(self.base, self.what, v) for v in self.values]


# -- variants -------------------------------------------------------------------------------------------------
def _label(what: str, value: Any) -> str:
    if isinstance(value, bool):
        return f"{what} {'on' if value else 'off'}"
    return f"{what} {value}"


# Each variation says what becomes of every layer of the base, in list order: a list of new layers in its place
# (one: replaced; none: removed; several: layers inserted). `_rewired` then keeps the base's wiring: the first of a
# layer's new layers reads what it read, the others read the one before them, and whatever read a layer reads the
# last of its new layers (a removed layer's readers read its input).
Plan = list[list[LayerSpec]]


def _rewired(base: Architecture, plan: Plan, label: str) -> Architecture:
    srcs = graph.sources(base)
    numbers: dict[int, int] = {graph.INPUT: graph.INPUT}  # base layer -> the new layer that stands for its output
    count = 0
    for n, replacement in enumerate(plan, start=1):
        count += len(replacement)
        if replacement:
            numbers[n] = count
    for n, replacement in enumerate(plan, start=1):
        if not replacement and len(srcs[n - 1]) != 1:
            raise ExperimentError(f'field "vary": the variant "{label}" removes {graph.source_label(n, base)}, '
                                  f"which joins {len(srcs[n - 1])} inputs; its readers would have none to read")

    def output(n: int) -> int:
        while n not in numbers:  # removed: its readers read what it read
            n = srcs[n - 1][0]
        return numbers[n]

    layers: list[LayerSpec] = []
    wiring: list[tuple[int, ...]] = []
    for n, replacement in enumerate(plan, start=1):
        for k, spec in enumerate(replacement):
            wiring.append(tuple(output(s) for s in srcs[n - 1]) if k == 0 else (len(layers),))
            layers.append(spec)
    return Architecture(f"{base.name} ({label})", base.input, tuple(layers), graph.compact(wiring))


def _each(base: Architecture, change) -> Plan:
    return [[change(spec)] for spec in base.layers]


def _pooling(base: Architecture, value: str) -> Plan:
    analysis = analyze(base)
    out: Plan = []
    for spec, la in zip(base.layers, analysis.layers):
        if not isinstance(spec, Pool2dSpec):
            out.append([spec])
            continue
        kernel, stride, padding = spec.kernel_size, spec.stride, spec.padding
        if value == "max":
            out.append([MaxPool2dSpec(kernel, stride, padding)])
        elif value == "avg":
            out.append([AvgPool2dSpec(kernel, stride, padding)])
        elif value == "strided_conv":  # the all-convolutional net: a learned downsampling of the same size
            channels = la.input_shape[0] if la.input_shape else 1
            out.append([Conv2dSpec(channels, kernel, stride if stride is not None else kernel, padding)])
        else:  # "none": the layer goes; later layers take the larger maps
            out.append([])
    return out


def _batchnorm(base: Architecture, on: bool) -> Plan:
    """Every batch norm removed, then (on) one after every conv, on every path the conv's output takes."""
    return [[] if isinstance(spec, BatchNorm2dSpec) else
            [spec, BatchNorm2dSpec()] if on and isinstance(spec, Conv2dSpec) else [spec] for spec in base.layers]


def _dropout(base: Architecture, on: bool) -> Plan:
    out: Plan = []
    seen_linear = False
    for spec in base.layers:
        if isinstance(spec, DropoutSpec):
            out.append([])
            continue
        out.append([DropoutSpec(0.5), spec] if on and isinstance(spec, LinearSpec) and seen_linear else [spec])
        seen_linear = seen_linear or isinstance(spec, LinearSpec)
    return out


_WINDOWED = (Conv2dSpec, LocallyConnected2dSpec)


def _connectivity(base: Architecture, value: str) -> Plan:
    """Every windowed layer (conv2d, locally_connected2d) made the same window without sharing, with it, or a
    linear layer of the same output size (a flatten before the first, later flattens gone: they would do nothing).
    A spatial layer after a fully connected one makes the variant invalid, which the spec check names."""
    analysis = analyze(base)
    out: Plan = []
    flat = False
    for spec, la in zip(base.layers, analysis.layers):
        if isinstance(spec, FlattenSpec) and flat:
            out.append([])
            continue
        if not isinstance(spec, _WINDOWED):
            out.append([spec])
            continue
        window = {"out_channels": spec.out_channels, "kernel_size": spec.kernel_size, "stride": spec.stride,
                  "padding": spec.padding}  # conv2d's groups, bias choice and hand-set filters are its own
        if value == "convolution":
            out.append([spec if isinstance(spec, Conv2dSpec) else Conv2dSpec(**window)])
        elif value == "locally_connected":
            out.append([LocallyConnected2dSpec(**window)])
        else:
            size = math.prod(la.output_shape) if la.output_shape else 1
            out.append(([] if flat else [FlattenSpec()]) + [LinearSpec(size)])
            flat = True
    return out


def _connectivity_label(value: str, arch: Architecture) -> str:
    """'locally connected: first layer 14,976 params': the count the comparison is about, in the results table."""
    changed = next((n for n, s in enumerate(arch.layers) if isinstance(s, _WINDOWED + (LinearSpec,))), None)
    analysis = analyze(arch)
    text = value.replace("_", " ")
    if changed is None or analysis.layers[changed].output_shape is None:
        return text
    return f"{text}: first layer {analysis.layers[changed].params:,} params"


def variant(base: Architecture, what: str, value: Any) -> Variant:
    """The base network with `what` set to `value` (a setting for optimizer / learning_rate; for "network" the
    preset `value` itself), its wiring kept."""
    label = _label(what, value)
    if what in TRAINING_OVERRIDES:
        return Variant(label, _rewired(base, _each(base, lambda s: s), label), {TRAINING_OVERRIDES[what]: value})
    if what == "network":
        return Variant(label, presets.load_preset(value))
    if what == "pooling":
        plan = _pooling(base, value)
    elif what == "activation":
        cls = LAYER_TYPES[value]
        plan = _each(base, lambda s: cls() if s.GROUP == "Activation" and not isinstance(s, SoftmaxSpec) else s)
    elif what == "kernel_size":
        plan = _each(base, lambda s: s.replace(kernel_size=value, init=None) if isinstance(s, Conv2dSpec) else s)
    elif what == "batchnorm":
        plan = _batchnorm(base, value)
    elif what == "dropout":
        plan = _dropout(base, value)
    elif what == "connectivity":
        plan = _connectivity(base, value)
        label = _connectivity_label(value, _rewired(base, plan, label))
    else:
        raise ExperimentError(f'field "vary"."what": unknown {excerpt(what)}; one of {", ".join(VARY)}')
    return Variant(label, _rewired(base, plan, label))


# -- the file -------------------------------------------------------------------------------------------------
def _value_problem(what: str, value: Any) -> bool:
    if what == "pooling":
        return value not in POOLING
    if what == "activation":
        return value not in ACTIVATIONS
    if what == "kernel_size":
        return isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 64
    if what in ("batchnorm", "dropout"):
        return not isinstance(value, bool)
    if what == "optimizer":
        return value not in ("adam", "sgd")
    if what == "learning_rate":
        return isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 10
    if what == "connectivity":
        return value not in CONNECTIVITY
    if what == "network":
        return not isinstance(value, str) or value not in presets.PRESET_KEYS
    return True


def text_problem(value: Any) -> bool:
    """Whether `value` is not one short printable line (an experiment's name, a variant's label)."""
    return not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME or clean(value) != value


def _base_path(text: str, folder: Path, root: Path) -> Path:
    """The architecture file a "base" path names, relative to `folder`, which must lie inside `root` (the spec's
    own folder; resources/ for a built-in) once every link on the way is resolved: a spec from a stranger may
    not read ../../../etc/shadow or follow a link out."""
    if "\0" in text:
        raise ExperimentError(f'field "base": {excerpt(text)} holds a NUL character; give the path of an '
                              f"architecture file")
    try:
        root = Path(os.path.realpath(root))
        path = Path(os.path.realpath(folder / text))
    except (OSError, ValueError) as exc:
        raise ExperimentError(f'field "base": {excerpt(text)}: cannot resolve ({excerpt(str(exc))})') from None
    if path != root and root not in path.parents:
        raise ExperimentError(f'field "base": {excerpt(text)} leads outside the spec\'s folder {clean(str(root))}; '
                              f"put the architecture file in that folder (or a folder under it) and name it "
                              f"relative to the spec")
    return folder / text


def _read_base(path: Path) -> Architecture:
    """architecture_file.load's rules, reading only a regular file that is not a link (no FIFO can block)."""
    shown = shorten(str(path))  # a stranger's path may be thousands of characters long
    try:
        with open_regular(path, follow_links=False) as f:
            data = read_at_most(f, architecture_file.MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ExperimentError(f'field "base": {shown}: cannot read: {exc.strerror or exc}') from None
    if len(data) > architecture_file.MAX_FILE_BYTES:
        raise ExperimentError(f'field "base": {shown}: larger than {architecture_file.MAX_FILE_BYTES:,} bytes, the '
                              f"limit for an architecture file")
    try:
        return architecture_file.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ExperimentError(f'field "base": {shown}: not UTF-8 text (byte {exc.start})') from None
    except architecture_file.ArchitectureFileError as exc:
        raise ExperimentError(f'field "base": {shown}: {exc}') from None


def _base(data: Any, folder: Path, root: Path) -> Architecture:
    if isinstance(data, str):
        return _read_base(_base_path(data, folder, root))
    try:
        return architecture_file.from_dict(data)
    except architecture_file.ArchitectureFileError as exc:
        raise ExperimentError(f'field "base": {exc}') from None


def from_dict(data: Any, folder: Path | None = None, root: Path | None = None) -> ExperimentSpec:
    """The spec of `data`; a "base" path is resolved in `folder` (the spec file's; None: the working folder)
    and must stay inside `root` (None: `folder`)."""
    problem = header_problem(data, FORMAT, VERSION, "experiment")
    if problem:
        raise ExperimentError(problem)
    unknown = sorted(excerpt(k, 40) for k in data if k not in FIELDS)
    if unknown:
        raise ExperimentError(f"unknown field {unknown[0]}; an experiment has {', '.join(FIELDS)}")
    name = data.get("name", "experiment")
    if text_problem(name):
        raise ExperimentError(f'field "name": expected one line of text, got {excerpt(name)}')
    vary = data.get("vary")
    if not isinstance(vary, dict) or set(vary) != {"what", "values"}:
        raise ExperimentError('field "vary": expected {"what": ..., "values": [...]}')
    what, values = vary["what"], vary["values"]
    if not isinstance(what, str) or what not in VARY_IN_FILES:
        raise ExperimentError(f'field "vary"."what": expected one of {", ".join(VARY_IN_FILES)}, got {excerpt(what)}')
    if not isinstance(values, list) or not values or len(values) > MAX_VARIANTS:
        raise ExperimentError(f'field "vary"."values": expected a list of 1 to {MAX_VARIANTS} values')
    for n, value in enumerate(values):
        if _value_problem(what, value):
            raise ExperimentError(f'field "vary"."values"[{n}]: {excerpt(value)} is not a {what} value; '
                                  f"use {VARY_IN_FILES[what]}")
    if len({repr(v) for v in values}) != len(values):
        raise ExperimentError('field "vary"."values": a value appears twice')
    if what == "network":  # the values are the networks; the first stands as the base (what a record stores)
        if "base" in data:
            raise ExperimentError('field "base": a "network" experiment compares the presets named in "vary"."values"; '
                                  'leave "base" out')
        base = presets.load_preset(values[0])
    elif "base" not in data:
        raise ExperimentError('field "base" is required: an architecture object or the path of an architecture file')
    else:
        folder = folder if folder is not None else Path.cwd()
        base = _base(data["base"], folder, root if root is not None else folder)
    seeds = data.get("seeds", [0])
    if (not isinstance(seeds, list) or not seeds or len(seeds) > MAX_SEEDS
            or any(isinstance(s, bool) or not isinstance(s, int) or not 0 <= s < 2 ** 31 for s in seeds)):
        raise ExperimentError(f'field "seeds": expected a list of 1 to {MAX_SEEDS} whole numbers from 0')
    training = data.get("training", {})
    if not isinstance(training, dict):
        raise ExperimentError('field "training": expected an object of training settings, e.g. {"epochs": 2}')
    spec = ExperimentSpec(name, base, what, tuple(values), tuple(dict.fromkeys(seeds)), dict(training))
    for v in spec.variants():
        error = analyze(v.architecture).first_error
        if error:
            raise ExperimentError(f'field "vary": the variant "{v.label}" is not a valid network: {error}')
    return spec


def load(path: str | os.PathLike) -> ExperimentSpec:
    """A spec file or a built-in experiment's name; every problem is one ExperimentError naming it."""
    text = os.fspath(path)
    built_in = text in EXPERIMENT_KEYS and not os.path.exists(text)  # os.path: False, never an error, on any name
    path = EXPERIMENT_DIR / f"{text}.json" if built_in else Path(path)
    try:
        with open_regular(path) as f:
            raw = read_at_most(f, MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise ExperimentError(f"{clean(str(path))}: larger than {MAX_FILE_BYTES:,} bytes")
        data = strict_loads(raw.decode("utf-8"))
    except OSError as exc:
        hint = f" (built-in experiments: {', '.join(EXPERIMENT_KEYS)})" if not os.path.exists(path) else ""
        raise ExperimentError(f"{clean(str(path))}: cannot read: {exc.strerror or exc}{hint}") from None
    except UnicodeDecodeError as exc:
        raise ExperimentError(f"{clean(str(path))}: cannot read: not UTF-8 text (byte {exc.start})") from None
    except StrictJSONError as exc:
        raise ExperimentError(f"{clean(str(path))}: {exc}") from None
    try:  # a built-in's base may be a preset: all of resources/ is its to read
        return from_dict(data, path.parent, EXPERIMENT_DIR.parent if built_in else None)
    except ExperimentError as exc:
        raise ExperimentError(f"{clean(str(path))}: {exc}") from None
