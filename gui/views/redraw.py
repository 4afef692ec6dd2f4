"""Coalesces bursts of data updates into at most one redraw per frame (~30 Hz)."""
from __future__ import annotations

import weakref
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

# ~30 Hz: more is invisible and costs training throughput (DESIGN.md: 10-15 % at 30 Hz).
REDRAW_INTERVAL_MS = 33


class RedrawScheduler(QObject):
    """Calls ``redraw`` once, ~33 ms after the first ``request()`` since the last redraw.

    Views store the newest data and call ``request()``; any number of requests within
    one interval end in a single redraw of whatever is newest then.

    A bound method is held weakly: the view owns its scheduler, and a strong reference back would put the
    view in a reference cycle that only the cyclic collector frees, on whichever thread trips it. A Qt
    object must die on its own thread (DESIGN.md, "Object lifetime"), so views are freed by reference
    counting, where their owner drops them.
    """

    def __init__(self, redraw: Callable[[], None], parent: QObject,
                 interval_ms: int = REDRAW_INTERVAL_MS) -> None:
        super().__init__(parent)
        self._redraw = _weak_callable(redraw)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._on_timeout)

    @property
    def pending(self) -> bool:
        """True while a redraw is scheduled but has not run yet."""
        return self._timer.isActive()

    def request(self) -> None:
        """Schedule a redraw unless one is already pending."""
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Run a pending redraw now (before a screenshot, or when a caller needs it drawn)."""
        if self._timer.isActive():
            self._timer.stop()
            self._call()

    def cancel(self) -> None:
        """Drop a pending redraw (e.g. after ``clear()`` already drew the empty state)."""
        self._timer.stop()

    def _on_timeout(self) -> None:
        self._call()

    def _call(self) -> None:
        redraw = self._redraw()
        if redraw is not None:  # None: the view is being destroyed; nothing left to draw
            redraw()


def _weak_callable(fn: Callable[[], None]) -> Callable[[], Callable[[], None] | None]:
    """A reference that gives `fn` back while it lives: weak for a bound method, strong for a plain function."""
    if hasattr(fn, "__self__") and hasattr(fn, "__func__"):
        return weakref.WeakMethod(fn)
    return lambda: fn
