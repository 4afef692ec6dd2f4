"""Quote untrusted text in one-line messages: short, no terminal control characters, always printable."""

from __future__ import annotations

import re

EXCERPT_CHARS = 60  # what a message quotes of a stranger's value at most

# C0/C1 controls (ESC starts ANSI and OSC sequences), DEL, and the bidi overrides that reorder a terminal line.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(text: str) -> str:
    """`text` with control characters and lone surrogates shown as escapes, so printing it is safe."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                        else f"\\u{ord(m.group()):04x}", text)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    """repr(value) cut to about `limit` characters and cleaned; never the whole of a huge value."""
    if isinstance(value, str):
        text = repr(value[: limit + 1])
    elif isinstance(value, (list, tuple, dict)) and len(value) > limit:
        text = f"<{type(value).__name__} of {len(value):,} items>"
    else:
        try:
            text = repr(value)
        except (ValueError, RecursionError):  # an int of thousands of digits, a deeply nested list
            text = f"<{type(value).__name__}>"
    if len(text) > limit:
        text = text[:limit] + "..."
    return clean(text)


def shorten(text: str, limit: int = 200) -> str:
    """Message text (not a quoted value) cut to `limit` characters and cleaned, e.g. a library's error."""
    return clean(text[:limit] + ("..." if len(text) > limit else ""))
