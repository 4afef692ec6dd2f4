"""FolderFollower: a run folder opened in the Timeline (not the window's own run): read once off the GUI thread,
then followed by the same EventTail a bounded chunk per poll while it grows."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from engine.run_folder import RunFolderError
from gui.task_runner import TaskRunner
from gui.timeline.timeline_loader import OpenedFolder, read_folder

POLL_MS = 1000    # how often the folder's log is read further
POLL_BYTES = 256 * 1024  # the most of the log one poll reads (as TrainingSession: bounded catch-up steps)


class FolderFollower(QObject):
    """`open(folder)` reads the log to its end on a TaskRunner (`opened(OpenedFolder)`: its index so far), then
    polls for new lines (`records_read(list)`) until `stop()`. `failed(message)` when the log cannot be read."""

    opened = Signal(object)
    records_read = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tail = None
        self._reader = TaskRunner(self, name="ConvScope timeline read")
        self._reader.finished.connect(self._on_read)
        self._reader.failed.connect(self._on_failed)
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self.poll)

    @property
    def is_following(self) -> bool:
        return self._poll.isActive()

    def open(self, folder: Path) -> None:
        self.stop()
        self._reader.submit(read_folder, folder)

    def stop(self) -> None:
        """No more lines (another folder, the run finished, or nothing of it can be shown)."""
        self._poll.stop()
        self._reader.cancel()
        self._tail = None

    def shutdown(self) -> None:
        self.stop()
        self._reader.shutdown()

    @Slot()
    def poll(self) -> None:
        """Read the lines added since the last poll (at most POLL_BYTES of them)."""
        if self._tail is None:
            return
        try:
            records = self._tail.poll(POLL_BYTES)
        except RunFolderError as exc:
            self.failed.emit(str(exc))
            return
        if records:
            self.records_read.emit(records)

    @Slot(object)
    def _on_read(self, opened: OpenedFolder) -> None:
        self._tail = opened.tail
        self._poll.start()  # before opened: a finished log's listener stops it again
        self.opened.emit(opened)

    @Slot(object)
    def _on_failed(self, exc: object) -> None:
        self.failed.emit(str(exc))
