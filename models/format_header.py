"""The `format` / `version` header every ConvScope JSON document starts with, checked one way."""

from __future__ import annotations

from typing import Any

from models.safe_text import excerpt


def header_problem(data: Any, fmt: str, supported: int, noun: str) -> str | None:
    """Why `data` is not a `fmt` document this version can read, or None if it is."""
    if not isinstance(data, dict) or data.get("format") != fmt:
        return f'not a ConvScope {noun}: expected "format": "{fmt}"'
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        return f"version: expected a whole number, got {excerpt(version)}"
    if version > supported:
        return (f"the {noun} is format version {version}, newer than this ConvScope reads (version {supported}); "
                f"update ConvScope to open it")
    return None
