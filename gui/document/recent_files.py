"""The recent-files list (QSettings) and the File > Open Recent menu that shows it."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMenu

RECENT_KEY = "document/recent"
MAX_RECENT = 8
CLEAR_TEXT = "Clear Recent Files"
EMPTY_TEXT = "No recent files"


class RecentFiles:
    """The last MAX_RECENT opened or saved files (absolute paths, newest first), kept in `settings`."""

    def __init__(self, settings: QSettings, limit: int = MAX_RECENT) -> None:
        self._settings, self._limit = settings, limit

    def paths(self) -> list[Path]:
        value = self._settings.value(RECENT_KEY, [])
        # QSettings (INI) gives a bare string for a one-item list and None for an empty one.
        names = [value] if isinstance(value, str) else list(value or [])
        return [Path(name) for name in names if name]

    def add(self, path: Path) -> None:
        absolute = Path(path).resolve()
        self._store([absolute] + [p for p in self.paths() if p != absolute])

    def remove(self, path: Path) -> None:
        self._store([p for p in self.paths() if p not in (Path(path), Path(path).resolve())])

    def clear(self) -> None:
        self._store([])

    def _store(self, paths: list[Path]) -> None:
        self._settings.setValue(RECENT_KEY, [str(p) for p in paths[:self._limit]])
        self._settings.sync()  # a second window (or a crash) must see the list at once


def fill_recent_menu(menu: QMenu, recent: RecentFiles, open_path: Callable[[Path], object]) -> None:
    """Rebuild `menu`: one entry per recent file (tooltip: its full path), then "Clear Recent Files"."""
    menu.clear()
    menu.setToolTipsVisible(True)
    for path in recent.paths():
        action = menu.addAction(path.name or str(path))
        action.setToolTip(str(path))
        action.setStatusTip(str(path))
        action.setData(str(path))
        action.triggered.connect(lambda _checked=False, p=path: open_path(p))
    if menu.isEmpty():
        menu.addAction(EMPTY_TEXT).setEnabled(False)
        return
    menu.addSeparator()
    menu.addAction(CLEAR_TEXT).triggered.connect(lambda _checked=False: recent.clear())
