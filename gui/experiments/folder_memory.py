"""Where the Experiments tab's folder choosers open: the folder last used, else the documents folder, never the
program's own working directory (Qt's choice when given no start)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths


def documents_folder() -> Path:
    found = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(found) if found and Path(found).is_dir() else Path.home()


class FolderMemory:
    """The start folder for the next chooser; `remember` the folder a chooser or an open gave."""

    def __init__(self) -> None:
        self._last: Path | None = None

    def start(self) -> Path:
        return self._last if self._last is not None and self._last.is_dir() else documents_folder()

    def remember(self, folder: str | Path) -> None:
        self._last = Path(folder)
