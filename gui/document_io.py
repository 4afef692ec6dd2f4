"""Opening and saving architecture files, with the unsaved-changes prompt and the recent-files list."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from gui.network_editor import NetworkEditor
from models import architecture_file
from models.architecture import Architecture
from models.architecture_file import ArchitectureFileError

FILE_FILTER = "ConvScope architecture (*.json);;All files (*)"
SAVE, DISCARD, CANCEL = "save", "discard", "cancel"
MAX_RECENT = 8


class DocumentController(QObject):
    """Which file the network belongs to, and whether it has unsaved changes (the undo stack's clean state).

    The dialogs are methods (`ask_unsaved_changes`, `ask_open_path`, `ask_save_path`, `show_error`) so
    tests replace them instead of clicking modal boxes.
    """

    path_changed = Signal(object)  # Path | None

    def __init__(self, editor: NetworkEditor, settings: QSettings, parent_widget: QWidget) -> None:
        super().__init__(parent_widget)
        self._editor, self._settings, self._parent = editor, settings, parent_widget
        self.path: Path | None = None

    @property
    def is_modified(self) -> bool:
        return not self._editor.undo_stack.isClean()

    @property
    def display_name(self) -> str:
        return self.path.name if self.path else self._editor.network.architecture.name or "Untitled"

    # -- seams ----------------------------------------------------------------------------------------------
    def ask_unsaved_changes(self) -> str:
        """SAVE, DISCARD or CANCEL."""
        answer = QMessageBox.question(
            self._parent, "Unsaved changes", f"Save the changes to {self.display_name}?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save)
        return {QMessageBox.StandardButton.Save: SAVE, QMessageBox.StandardButton.Discard: DISCARD}.get(answer, CANCEL)

    def ask_open_path(self) -> Path | None:
        name, _ = QFileDialog.getOpenFileName(self._parent, "Open architecture", self._start_dir(), FILE_FILTER)
        return Path(name) if name else None

    def ask_save_path(self) -> Path | None:
        suggestion = str(Path(self._start_dir()) / f"{self.display_name.removesuffix('.json')}.json")
        name, _ = QFileDialog.getSaveFileName(self._parent, "Save architecture as", suggestion, FILE_FILTER)
        if not name:
            return None
        path = Path(name)
        return path if path.suffix else path.with_suffix(".json")

    def show_error(self, title: str, message: str) -> None:
        QMessageBox.warning(self._parent, title, message)

    # -- actions --------------------------------------------------------------------------------------------
    def maybe_save(self) -> bool:
        """True when it is fine to drop the current document (saved, discarded or unmodified)."""
        if not self.is_modified:
            return True
        answer = self.ask_unsaved_changes()
        if answer == SAVE:
            return self.save()
        return answer == DISCARD

    def new(self, architecture: Architecture) -> bool:
        """Replace the network by `architecture` (undoable) and forget the file; False if cancelled."""
        if not self.maybe_save():
            return False
        self._editor.set_architecture(architecture, "New network")
        self._editor.undo_stack.setClean()
        self._set_path(None)
        return True

    def open(self, path: Path | None = None) -> bool:
        """Load a file (asking for it when `path` is None); the undo history starts afresh."""
        if not self.maybe_save():
            return False
        path = path or self.ask_open_path()
        if path is None:
            return False
        try:
            architecture = architecture_file.load(path)
        except ArchitectureFileError as exc:
            self.show_error("Cannot open architecture", str(exc))
            self._forget_recent(Path(path))
            return False
        network = self._editor.network
        if self._editor.input_follows_dataset:
            architecture = replace(architecture, input=network.architecture.input)
        self._editor.undo_stack.clear()
        network.set_architecture(architecture)
        self._editor.undo_stack.setClean()
        self._set_path(Path(path))
        return True

    def save(self) -> bool:
        return self.save_as(self.path) if self.path else self.save_as()

    def save_as(self, path: Path | None = None) -> bool:
        path = path or self.ask_save_path()
        if path is None:
            return False
        try:
            architecture_file.save(self._editor.network.architecture, path)
        except OSError as exc:
            self.show_error("Cannot save architecture", f"{path}: {exc.strerror or exc}")
            return False
        self._editor.undo_stack.setClean()
        self._set_path(Path(path))
        return True

    # -- recent files -------------------------------------------------------------------------------------
    def recent_files(self) -> list[Path]:
        value = self._settings.value("document/recent", [])
        names = [value] if isinstance(value, str) else list(value or [])
        return [Path(name) for name in names if name]

    def _set_recent(self, paths: list[Path]) -> None:
        self._settings.setValue("document/recent", [str(p) for p in paths[:MAX_RECENT]])

    def _forget_recent(self, path: Path) -> None:
        self._set_recent([p for p in self.recent_files() if p != path])

    def _start_dir(self) -> str:
        recent = self.recent_files()
        return str(self.path.parent if self.path else recent[0].parent if recent else Path.home())

    def _set_path(self, path: Path | None) -> None:
        self.path = path
        if path is not None:
            absolute = path.resolve()
            self._set_recent([absolute] + [p for p in self.recent_files() if p != absolute])
        self.path_changed.emit(path)
