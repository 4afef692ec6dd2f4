"""What one view of the Training tab is: the LiveView protocol, and a base with do-nothing hooks."""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from engine.events import BatchEnded, EpochEnded, SnapshotTaken
from engine.metrics import MetricsHistory


class LiveView(Protocol):
    """A view fed by run events. LiveViews shows `widget` under `title` in row `row` ("top" or "bottom") with
    initial width `size` (a proportion), exposes it as `LiveViews.<name>`, and calls every hook below."""

    name: str
    title: str
    row: str
    size: int
    widget: QWidget

    def set_dataset(self, dataset) -> None: ...
    def show_snapshot(self, event: SnapshotTaken) -> None: ...
    def add_batch(self, event: BatchEnded) -> None: ...
    def add_epoch(self, event: EpochEnded) -> None: ...
    def set_history(self, history: MetricsHistory) -> None: ...
    def begin_run(self) -> None: ...   # a new run starts (maps stay until its first snapshot)
    def clear(self) -> None: ...       # nothing trained to show
    def clear_snapshot(self) -> None: ...  # no weights or probe to show (the curves, if any, stay)
    def flush(self) -> None: ...       # draw everything pending now (tests, screenshots)

    @property
    def redraw_count(self) -> int: ...


class BaseLiveView(QObject):
    """LiveView with hooks that do nothing: a view overrides the events it shows. A QObject, so its timers
    have a parent and its slots run on the GUI thread."""

    name = title = row = ""
    size = 100

    def __init__(self, widget: QWidget, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.widget = widget

    def set_dataset(self, dataset) -> None:
        pass

    def show_snapshot(self, event: SnapshotTaken) -> None:
        pass

    def add_batch(self, event: BatchEnded) -> None:
        pass

    def add_epoch(self, event: EpochEnded) -> None:
        pass

    def set_history(self, history: MetricsHistory) -> None:
        pass

    def begin_run(self) -> None:
        pass

    def clear(self) -> None:
        pass

    def clear_snapshot(self) -> None:
        pass

    def flush(self) -> None:
        flush = getattr(self.widget, "flush", None)
        if flush is not None:
            flush()

    @property
    def redraw_count(self) -> int:
        return int(getattr(self.widget, "redraw_count", 0))
