"""The lesson file format (JSON, "convscope.lesson" version 1): a worked convolution or pooling example."""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from models.convolution_steps import AVGPOOL, CONV, OPERATIONS, WindowOp, resolve_padding
from models.format_header import header_problem
from models.regular_file import open_regular, read_at_most
from models.safe_text import clean, excerpt
from models.strict_json import StrictJSONError
from models.strict_json import loads as strict_loads

FORMAT = "convscope.lesson"
VERSION = 1
MAX_FILE_BYTES = 4 << 20
MAX_SIDE = 64         # a worked example is read cell by cell; 64x64 is already a screenful
MAX_CHANNELS = 16
MAX_KERNELS = 16
MAX_TERMS = 2_000_000  # products written out over all steps: keeps `convolve --json` to tens of megabytes
MAX_TEXT = 4000
FIELDS = ("format", "version", "title", "notes", "operation", "input", "kernels", "kernel_size", "stride",
          "padding", "printed")


class LessonError(ValueError):
    """A lesson that cannot be used; the one-line message names the field (and the file when loaded)."""


@dataclass(frozen=True)
class Lesson:
    """A parsed lesson: the input as (C, H, W), the kernels as (M, C, kh, kw) with M biases (conv only)."""

    title: str
    notes: str
    operation: str
    input: np.ndarray
    weights: np.ndarray | None
    bias: np.ndarray | None
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: int | tuple[int, int] | str  # as written: resolved per input by `op`
    flat_input: bool = True               # the file gave H x W (one channel), not C x H x W
    printed: np.ndarray | None = None     # (M, H', W'): the output as the course printed it, errors and all

    @property
    def op(self) -> WindowOp:
        pads = resolve_padding(self.padding, self.input.shape[1:], self.kernel, self.stride)
        return WindowOp(self.operation, self.kernel, self.stride, pads, self.weights, self.bias)

    @property
    def output_shape(self) -> tuple[int, int, int]:
        op = self.op
        return (op.maps(self.input.shape[0]), *op.output_size(*self.input.shape[1:]))


def _numbers(value: Any, where: str, depth: int) -> np.ndarray:
    """A rectangular nested list of numbers of exactly `depth` levels as float64."""
    def walk(item: Any, level: int, path: str) -> Any:
        if level == depth:
            if isinstance(item, bool) or not isinstance(item, (int, float)):
                raise LessonError(f"{path}: expected a number, got {excerpt(item)}")
            return float(item)
        if not isinstance(item, list) or not item:
            raise LessonError(f"{path}: expected a non-empty list, got {excerpt(item)}")
        return [walk(v, level + 1, f"{path}[{k}]") for k, v in enumerate(item)]

    nested = walk(value, 0, where)
    try:
        return np.array(nested, dtype=np.float64)
    except ValueError:  # ragged: rows of different lengths
        raise LessonError(f"{where}: the rows must all have the same length") from None


def _depth(value: Any) -> int:
    depth = 0
    while isinstance(value, list) and value:
        value, depth = value[0], depth + 1
    return depth


def _grid(value: Any, where: str, channels_hint: str) -> np.ndarray:
    """H x W (one channel) or C x H x W numbers, always returned as (C, H, W)."""
    depth = _depth(value)
    if depth not in (2, 3):
        raise LessonError(f"{where}: expected rows of numbers (H x W) or {channels_hint} (C x H x W), "
                          f"got {excerpt(value)}")
    grid = _numbers(value, where, depth)
    return grid[None] if depth == 2 else grid


def _pair(value: Any, where: str, minimum: int, maximum: int) -> tuple[int, int]:
    items = value if isinstance(value, list) and len(value) == 2 else [value, value]
    for v in items:
        if isinstance(v, bool) or not isinstance(v, int) or not minimum <= v <= maximum:
            raise LessonError(f"{where}: expected a whole number from {minimum} to {maximum} or two of them "
                              f"[h, w], got {excerpt(value)}")
    return int(items[0]), int(items[1])


def _text(data: dict, name: str, default: str | None) -> str:
    """A title (one line) or notes (several lines allowed), printable, at most MAX_TEXT characters."""
    value = data.get(name, default)
    if value is None:
        raise LessonError(f'field "{name}" is required (one line of text)')
    if not isinstance(value, str) or len(value) > MAX_TEXT or clean(value) != value.replace("\n", "\\x0a"):
        raise LessonError(f'field "{name}": expected text of at most {MAX_TEXT} printable characters, '
                          f"got {excerpt(value)}")
    if name == "title" and ("\n" in value or not value.strip()):
        raise LessonError(f'field "title": expected one non-empty line, got {excerpt(value)}')
    return value


def _kernels(data: Any, channels: int) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(data, list) or not data:
        raise LessonError('field "kernels": expected a list of {"weights": [[...]], "bias": 0} objects')
    if len(data) > MAX_KERNELS:
        raise LessonError(f'field "kernels": {len(data)} kernels, at most {MAX_KERNELS}')
    weights, biases = [], []
    for n, kernel in enumerate(data):
        where = f'field "kernels"[{n}]'
        if not isinstance(kernel, dict) or "weights" not in kernel:
            raise LessonError(f'{where}: expected an object like {{"weights": [[1, 0, -1], ...], "bias": 0}}')
        unknown = sorted(excerpt(k, 40) for k in kernel if k not in ("weights", "bias"))
        if unknown:
            raise LessonError(f"{where}: unknown field {unknown[0]}; a kernel has weights and bias")
        w = _grid(kernel["weights"], f"{where}.weights", "one k x k grid per input channel")
        if w.shape[0] == 1 and channels > 1:  # a k x k kernel is used for every input channel
            w = np.repeat(w, channels, axis=0)
        if w.shape[0] != channels:
            raise LessonError(f"{where}.weights: {w.shape[0]} channel grids for an input of {channels} channels; "
                              f"give one k x k grid (used for every channel) or {channels}")
        if weights and w.shape != weights[0].shape:
            raise LessonError(f"{where}.weights: {w.shape[1]}x{w.shape[2]}, but kernel 0 is "
                              f"{weights[0].shape[1]}x{weights[0].shape[2]}; all kernels have one size")
        bias = kernel.get("bias", 0)
        if isinstance(bias, bool) or not isinstance(bias, (int, float)):
            raise LessonError(f"{where}.bias: expected a number, got {excerpt(bias)}")
        weights.append(w)
        biases.append(float(bias))
    return np.stack(weights), np.array(biases)


def _padding(value: Any) -> int | tuple[int, int] | str:
    if value in ("valid", "same"):
        return value
    if isinstance(value, list):
        return _pair(value, 'field "padding"', 0, MAX_SIDE)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SIDE:
        raise LessonError(f'field "padding": expected a whole number of zeros, [ph, pw], "valid" or "same", '
                          f"got {excerpt(value)}")
    return value


def from_dict(data: Any) -> Lesson:
    problem = header_problem(data, FORMAT, VERSION, "lesson")
    if problem:
        raise LessonError(problem)
    unknown = sorted(excerpt(k, 40) for k in data if k not in FIELDS)
    if unknown:
        raise LessonError(f"unknown field {unknown[0]}; a lesson has {', '.join(FIELDS)}")
    title, notes = _text(data, "title", None), _text(data, "notes", "")
    operation = data.get("operation")
    if not isinstance(operation, str) or operation not in OPERATIONS:
        raise LessonError(f'field "operation": expected one of {", ".join(OPERATIONS)}, got {excerpt(operation)}')
    if "input" not in data:
        raise LessonError('field "input" is required: rows of numbers (H x W) or one such grid per channel')
    x = _grid(data["input"], 'field "input"', "one grid per channel")
    flat = _depth(data["input"]) == 2
    c, h, w = x.shape
    if c > MAX_CHANNELS or h > MAX_SIDE or w > MAX_SIDE:
        raise LessonError(f'field "input": {c}x{h}x{w}, larger than a lesson takes '
                          f"({MAX_CHANNELS} channels of {MAX_SIDE}x{MAX_SIDE})")
    weights = bias = None
    if operation == CONV:
        if "kernel_size" in data:
            raise LessonError('field "kernel_size": a conv lesson takes its size from "kernels"; remove it')
        if "kernels" not in data:
            raise LessonError('field "kernels" is required for a conv lesson')
        weights, bias = _kernels(data["kernels"], c)
        kernel = (weights.shape[2], weights.shape[3])
    else:
        if "kernels" in data:
            raise LessonError(f'field "kernels": a {operation} lesson has no weights; give "kernel_size" instead')
        if "kernel_size" not in data:
            raise LessonError(f'field "kernel_size" is required for a {operation} lesson')
        kernel = _pair(data["kernel_size"], 'field "kernel_size"', 1, MAX_SIDE)
    stride = _pair(data.get("stride", 1 if operation == CONV else list(kernel)), 'field "stride"', 1, MAX_SIDE)
    padding = _padding(data.get("padding", 0))
    lesson = Lesson(title, notes, operation, x, weights, bias, kernel, stride, padding, flat)
    _check_fits(lesson)
    if "printed" in data:
        lesson = replace(lesson, printed=_printed(data["printed"], lesson.output_shape))
    return lesson


def _printed(value: Any, shape: tuple[int, int, int]) -> np.ndarray:
    """The course's printed output: one H' x W' grid per output map (a lone H' x W' grid for one map), shaped
    as the lesson's output, so every printed cell has a computed one to be compared with."""
    maps, oh, ow = shape
    where = 'field "printed"'
    grid = _grid(value, where, "one grid per output map")
    if grid.shape != shape:
        given = "x".join(str(n) for n in grid.shape)
        raise LessonError(f"{where}: {given} printed values, but the lesson's output is {maps} map(s) of {oh}x{ow}; "
                          f"give one {oh}x{ow} grid per output map, as the course printed it")
    if not np.isfinite(grid).all():
        raise LessonError(f"{where}: numbers this large overflow; give the values as printed")
    return grid


def _check_fits(lesson: Lesson) -> None:
    c, h, w = lesson.input.shape
    op = lesson.op
    top, bottom, left, right = op.padding
    (kh, kw) = op.kernel
    if kh > h + top + bottom or kw > w + left + right:
        field = "kernels" if lesson.operation == CONV else "kernel_size"
        raise LessonError(f'field "{field}": the {kh}x{kw} window is larger than the {h}x{w} input '
                          f"({h + top + bottom}x{w + left + right} with padding); use a smaller window or more padding")
    if lesson.operation != CONV and (max(top, bottom) > kh // 2 or max(left, right) > kw // 2):
        raise LessonError(f'field "padding": pooling padding may be at most half the {kh}x{kw} window '
                          f"({kh // 2}x{kw // 2}), as in PyTorch")
    maps, oh, ow = lesson.output_shape
    terms = maps * oh * ow * kh * kw * (c if lesson.operation == CONV else 1)
    if terms > MAX_TERMS:
        raise LessonError(f'field "input": {terms:,} products to write out, more than a lesson shows '
                          f"({MAX_TERMS:,}); use a smaller input or fewer kernels")
    if not math.isfinite(_largest_sum(lesson)):  # inf or NaN would be printed, and JSON has neither
        fields = 'fields "input" and "kernels"' if lesson.operation == CONV else 'field "input"'
        raise LessonError(f"{fields}: numbers this large overflow: the products and sums of a "
                          f"window can pass {sys.float_info.max:.3g}, the largest number a float holds; use smaller "
                          f"numbers")


def _largest_sum(lesson: Lesson) -> float:
    """An upper bound of every product and partial sum the lesson's steps compute (inf when it overflows)."""
    largest = float(np.abs(lesson.input).max(initial=0.0))
    kh, kw = lesson.kernel
    if lesson.operation == CONV:
        weight = float(np.abs(lesson.weights).max(initial=0.0))
        return largest * weight * (lesson.weights.shape[1] * kh * kw) + float(np.abs(lesson.bias).max(initial=0.0))
    return largest * kh * kw if lesson.operation == AVGPOOL else largest  # max pooling only compares


def to_dict(lesson: Lesson) -> dict[str, Any]:
    def grid(a: np.ndarray) -> list:
        from models.convolution_steps import number
        return [[[number(v) for v in row] for row in ch] for ch in a]

    out: dict[str, Any] = {"format": FORMAT, "version": VERSION, "title": lesson.title}
    if lesson.notes:
        out["notes"] = lesson.notes
    out["operation"] = lesson.operation
    out["input"] = grid(lesson.input)[0] if lesson.flat_input else grid(lesson.input)
    if lesson.operation == CONV:
        out["kernels"] = [{"weights": grid(w)[0] if lesson.flat_input else grid(w), "bias": b}
                          for w, b in zip(lesson.weights, (float(v) for v in lesson.bias))]
    else:
        out["kernel_size"] = list(lesson.kernel)
    out["stride"] = list(lesson.stride)
    out["padding"] = list(lesson.padding) if isinstance(lesson.padding, tuple) else lesson.padding
    if lesson.printed is not None:
        out["printed"] = grid(lesson.printed)
    return out


def loads(text: str) -> Lesson:
    try:
        data = strict_loads(text)
    except StrictJSONError as exc:
        raise LessonError(str(exc)) from None
    return from_dict(data)


def load(path: str | os.PathLike) -> Lesson:
    """Read a lesson file; every problem is one LessonError naming the file and the field."""
    path = Path(path)
    try:
        with open_regular(path) as f:  # a FIFO or device named as a lesson is refused, not waited on
            data = read_at_most(f, MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise LessonError(f"{clean(str(path))}: larger than {MAX_FILE_BYTES:,} bytes, the limit for a lesson")
        text = data.decode("utf-8")
    except OSError as exc:
        raise LessonError(f"{clean(str(path))}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise LessonError(f"{clean(str(path))}: cannot read: not UTF-8 text (byte {exc.start})") from None
    try:
        return loads(text)
    except LessonError as exc:
        raise LessonError(f"{clean(str(path))}: {exc}") from None
