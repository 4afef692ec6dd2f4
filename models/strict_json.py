"""JSON for files from strangers: duplicate keys, deep nesting, huge numbers and NaN refused with one error."""

from __future__ import annotations

import json
import math
from typing import Any

from models.safe_text import excerpt

MAX_DEPTH = 64          # ConvScope's own files nest 4 deep
MAX_NUMBER_CHARS = 100  # digits of one number; Python refuses ints past 4,300 digits with a ValueError


class StrictJSONError(ValueError):
    """Text that is not JSON ConvScope accepts; the message is one short line (callers add the file)."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise StrictJSONError(f"the key {excerpt(key)} appears twice in one object; keep one")
        out[key] = value
    return out


def _int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise StrictJSONError(f"a number of {len(text):,} digits (at most {MAX_NUMBER_CHARS})")
    return int(text)


def _float(text: str) -> float:
    value = float(text) if len(text) <= MAX_NUMBER_CHARS else math.inf
    if not math.isfinite(value):
        raise StrictJSONError(f"the number {excerpt(text, 20)} is too large")
    return value


def _constant(name: str) -> Any:
    raise StrictJSONError(f"{name} is not a JSON number; use a finite number")


def _depth_problem(value: Any) -> str | None:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"nested more than {MAX_DEPTH} levels deep"
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return None


# Built once: json.loads with hooks builds a new decoder per call, which costs more than parsing a log line.
_DECODER = json.JSONDecoder(object_pairs_hook=_pairs, parse_int=_int, parse_float=_float, parse_constant=_constant)


def loads(text: str) -> Any:
    """The value of `text`, or StrictJSONError("not valid JSON: ...") naming the line and column."""
    try:
        value = _DECODER.decode(text)
    except StrictJSONError as exc:
        raise StrictJSONError(f"not valid JSON: {exc}") from None
    except json.JSONDecodeError as exc:
        raise StrictJSONError(f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise StrictJSONError(f"not valid JSON: nested more than {MAX_DEPTH} levels deep") from None
    except ValueError as exc:  # defensive: any other number the parser itself refuses
        raise StrictJSONError(f"not valid JSON: {excerpt(str(exc), 80)}") from None
    # Fewer brackets than the limit cannot nest past it (brackets inside strings only overcount): skip the walk.
    problem = _depth_problem(value) if text.count("[") + text.count("{") > MAX_DEPTH else None
    if problem:
        raise StrictJSONError(f"not valid JSON: {problem}")
    return value
