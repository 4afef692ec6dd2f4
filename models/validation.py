"""Check and normalise hyperparameter values against their FieldInfo (for files and for edits)."""

from __future__ import annotations

import dataclasses
import math

from models.fields import BOOL, FLOAT, INT, KERNEL_INIT, OPTIONAL_SIZE, PADDING, POOL_PADDING, SIZE, FieldInfo
from models.kernel_library import InitError, canonical_init
from models.layers import LayerSpec
from models.safe_text import excerpt


class SpecValueError(ValueError):
    """A field holds a value of the wrong type or out of range."""


def _int(value: object, info: FieldInfo, what: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecValueError(f"expected a whole number{what}, got {excerpt(value)}")
    if not info.minimum <= value <= info.maximum:
        raise SpecValueError(f"{excerpt(value)} is out of range; use {int(info.minimum)} to {int(info.maximum)}")
    return value


def _size(value: object, info: FieldInfo) -> int | tuple[int, int]:
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise SpecValueError(f"expected a number or [height, width], got a list of {len(value)}")
        h, w = (_int(v, info, " or [height, width]") for v in value)
        return (h, w)
    return _int(value, info, " or [height, width]")


def coerce(info: FieldInfo, value: object) -> object:
    """The value in canonical form (lists become tuples), or SpecValueError saying what is wrong."""
    if info.kind == INT:
        return _int(value, info)
    if info.kind == FLOAT:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise SpecValueError(f"expected a number, got {excerpt(value)}")
        if not info.minimum <= value <= info.maximum:
            raise SpecValueError(f"{excerpt(value)} is out of range; use {info.minimum:g} to {info.maximum:g}")
        return float(value)
    if info.kind == BOOL:
        if not isinstance(value, bool):
            raise SpecValueError(f"expected true or false, got {excerpt(value)}")
        return value
    if info.kind in (SIZE, POOL_PADDING):
        return _size(value, info)
    if info.kind == OPTIONAL_SIZE:
        return None if value is None else _size(value, info)
    if info.kind == PADDING:
        if isinstance(value, str):
            if value not in ("valid", "same"):
                raise SpecValueError(f"expected a number, [height, width], \"valid\" or \"same\", got {excerpt(value)}")
            return value
        return _size(value, info)
    if info.kind == KERNEL_INIT:
        try:
            return canonical_init(value)
        except InitError as exc:
            raise SpecValueError(str(exc)) from None
    raise AssertionError(f"unknown field kind {info.kind}")


def check_spec(spec: LayerSpec) -> list[str]:
    """Problems with a spec's values, each as 'field: message' (empty when all are valid)."""
    problems = []
    for f in dataclasses.fields(spec):
        try:
            coerce(spec.fields()[f.name], getattr(spec, f.name))
        except SpecValueError as exc:
            problems.append(f"{f.name}: {exc}")
    return problems
