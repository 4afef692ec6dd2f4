"""Python's cyclic garbage collection, moved to the GUI thread (pyqtgraph's GarbageCollector idea).

Automatic collection runs in whichever thread happens to allocate when a generation's threshold is crossed:
often a TaskRunner job or the engine import thread, which allocate a lot. A reference cycle that holds Qt
objects (a pyqtgraph item and its plot, a closed panel) is then destroyed on that thread, but a Qt object
must die on the thread it lives on: a plot's scene restarts its index timer from the wrong thread
("QBasicTimer::start: Timers cannot be started from another thread", seen in CI), or the process crashes
(a segfault, reproduced by collecting a dropped pyqtgraph plot from a plain Python thread). So automatic collection is switched off and a timer
on the GUI thread collects instead: the youngest generation at every tick (cheap: only what was allocated since
the last one), the older ones when their counts pass the thresholds automatic collection would have used. Reference counting, which frees almost everything, is unaffected.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 1000  # at most a second of cyclic garbage waits; a check with nothing to do costs microseconds


class GuiThreadCollector(QObject):
    """While it lives (and until stop()), cyclic garbage is collected only here, on the GUI thread."""

    def __init__(self, parent: QObject | None = None, *, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)
        self._timer.start(interval_ms)

    def check(self) -> int:
        """One step of collection, as Python's own would take it: the youngest generation every time, an older
        one (with everything younger) once the younger has been collected past its threshold. Returns the number
        of unreachable objects found.

        Generation 0 is collected at every check, whatever its count: the count is allocations minus frees, so
        between two checks it can fall back under its threshold (a closed panel's wrappers freed) while the
        cycles made meanwhile wait; gated on the count, they could wait for ever."""
        if self._thresholds[0] <= 0:
            return 0  # collection was switched off (gc.set_threshold(0)) before this collector took over
        counts = gc.get_count()
        for generation in (2, 1):
            if counts[generation] > self._thresholds[generation]:
                return gc.collect(generation)
        return gc.collect(0)

    def set_aside_what_lives_now(self) -> None:
        """Collect once, then move every surviving object to the permanent generation (gc.freeze), which later
        collections skip. Call it once start-up has imported everything (torch alone is some 200,000 objects):
        a full collection then visits only what the session made since, instead of stalling the GUI thread for
        about 150 ms each time. What is set aside is never collected, so only do it with state that lives as
        long as the application (modules, the window)."""
        gc.collect()
        gc.freeze()

    def stop(self) -> None:
        """Hand collection back to Python (as it was before this collector)."""
        self._timer.stop()
        if self._was_enabled:
            gc.enable()
