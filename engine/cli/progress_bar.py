"""A one-line text progress bar for the terminal (train, download): redrawn in place, throttled."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """`update(done, total, text)` redraws at most every `interval` seconds; `finish()` ends the line.

    On a terminal the line is rewritten in place with '\\r'. When the stream is a file or a pipe
    (CI logs), a full line is printed at most every `log_interval` seconds instead, so logs stay short.
    """

    def __init__(self, stream: TextIO | None = None, width: int = 24, interval: float = 0.1,
                 log_interval: float = 5.0) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = interval if self.tty else log_interval
        self._last_draw = -float("inf")
        self._drawn = 0          # length of the line currently on screen (tty)

    def render(self, done: float, total: float, text: str = "") -> str:
        fraction = min(max(done / total, 0.0), 1.0) if total > 0 else 0.0
        filled = int(fraction * self.width)  # full only when done
        bar = "#" * filled + "-" * (self.width - filled)
        return f"[{bar}] {fraction:4.0%} {text}".rstrip()

    def update(self, done: float, total: float, text: str = "", force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_draw < self.interval:
            return
        self._last_draw = now
        line = self.render(done, total, text)
        if self.tty:
            self.stream.write("\r" + line + " " * max(0, self._drawn - len(line)))
            self._drawn = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def finish(self, done: float, total: float, text: str = "") -> None:
        """Draw the final state and end the line."""
        self.update(done, total, text, force=True)
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = 0

    def clear(self) -> None:
        """End the current line (so a message can be printed below it)."""
        if self.tty and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = 0
