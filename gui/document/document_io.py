"""Opening and saving projects (.convscope) and architecture files (.json), the unsaved-changes prompt, recent files
and importing weights."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from engine.metrics import MetricsHistory
from gui.builder.network_editor import NetworkEditor
from gui.document.project_io import ProjectState, apply_project, collect_project
from gui.document.recent_files import RecentFiles
from gui.task_runner import TaskRunner
from models import architecture_file
from models.architecture import Architecture
from models.safe_text import clean

# The engine's project, weights and export modules import torch: they are imported where a file is read or
# written, so that the window (menus included) is on screen before torch has loaded (gui.engine_loader).
PROJECT_SUFFIX = ".convscope"  # engine.project.project_file.SUFFIX (a test checks they agree)
ARCHITECTURE_SUFFIX = ".json"
PROJECT_FILTER = f"ConvScope project (*{PROJECT_SUFFIX})"
ARCHITECTURE_FILTER = f"Architecture (*{ARCHITECTURE_SUFFIX})"
OPEN_FILTER = (f"ConvScope files (*{PROJECT_SUFFIX} *{ARCHITECTURE_SUFFIX});;{PROJECT_FILTER};;{ARCHITECTURE_FILTER}"
               f";;All files (*)")
SAVE_FILTER = f"{PROJECT_FILTER};;{ARCHITECTURE_FILTER}"
WEIGHTS_FILTER = "Weights (*.safetensors *.pt *.pth);;All files (*)"
SAVE, DISCARD, CANCEL = "save", "discard", "cancel"
ARCHITECTURE_ONLY_NOTE = " (architecture only: .json files hold no settings, curves or weights)"


OLD_STATISTICS_NOTE = ("it stores no input normalisation (saved before ConvScope kept it): the weights are used with "
                       "the current dataset's statistics, and exports take normalised inputs")


class DocumentController(QObject):
    """Which file the project belongs to, and whether it has unsaved changes: the undo stack's clean state, or
    a change the undo stack does not see (new weights after training or an import: `mark_modified`).

    The network goes through `editor`; settings, curves, weights and extras through `state` (a `ProjectState`,
    replaceable once the training panel exists). Dialogs are methods (`ask_unsaved_changes`, `ask_open_path`,
    `ask_open_folder`, `ask_save_path`, `ask_weights_path`, `show_error`) so tests replace them.
    """

    path_changed = Signal(object)      # Path | None
    modified_changed = Signal(bool)
    status_reported = Signal(str)      # a one-line outcome for the status bar
    run_attached = Signal(object)      # Path of a run folder opened to be followed as it is written
    opened = Signal(object)            # Path of a project, architecture file or run folder just opened

    def __init__(self, editor: NetworkEditor, settings: QSettings, parent_widget: QWidget,
                 state: ProjectState | None = None) -> None:
        super().__init__(parent_widget)
        self._editor, self._parent = editor, parent_widget
        self.state = state if state is not None else ProjectState.held(editor.network)
        self.recent = RecentFiles(settings)
        self.path: Path | None = None
        self._changed_outside_undo = False
        # A run folder is read off the GUI thread (an hour-long log takes seconds), then applied here.
        self._reader = TaskRunner(self, name="ConvScope open folder")
        self._reader.finished.connect(self._on_folder_read)
        self._reader.failed.connect(self._on_folder_failed)
        self._reading: tuple[Path, bool] | None = None  # (folder, follow) the reader reads now

    @property
    def is_reading(self) -> bool:
        """True from opening a run folder until it is shown (or refused)."""
        return self._reading is not None

    @property
    def is_modified(self) -> bool:
        return self._changed_outside_undo or not self._editor.undo_stack.isClean()

    @property
    def display_name(self) -> str:
        return self.path.name if self.path else self._editor.network.architecture.name or "Untitled"

    def mark_modified(self) -> None:
        """Something the undo stack does not track changed (weights after a run or an import)."""
        if not self._changed_outside_undo:
            self._changed_outside_undo = True
            self.modified_changed.emit(True)

    def recent_files(self) -> list[Path]:
        return self.recent.paths()

    # -- seams ----------------------------------------------------------------------------------------------
    def ask_unsaved_changes(self) -> str:
        """SAVE, DISCARD or CANCEL."""
        answer = QMessageBox.question(
            self._parent, "Unsaved changes", f"Save the changes to {self.display_name}?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save)
        return {QMessageBox.StandardButton.Save: SAVE, QMessageBox.StandardButton.Discard: DISCARD}.get(answer, CANCEL)

    def ask_open_path(self) -> Path | None:
        name, _ = QFileDialog.getOpenFileName(self._parent, "Open project or architecture", str(self.default_dir()),
                                              OPEN_FILTER)
        return Path(name) if name else None

    def ask_open_folder(self) -> Path | None:
        name = QFileDialog.getExistingDirectory(self._parent, "Open a run folder (written by train --out)",
                                                str(self.default_dir()))
        return Path(name) if name else None

    def ask_save_path(self) -> Path | None:
        suffix = self._suggested_suffix()
        stem = self.display_name.removesuffix(PROJECT_SUFFIX).removesuffix(ARCHITECTURE_SUFFIX)
        chosen_filter = PROJECT_FILTER if suffix == PROJECT_SUFFIX else ARCHITECTURE_FILTER
        name, selected = QFileDialog.getSaveFileName(self._parent, "Save project as",
                                                     str(Path(str(self.default_dir())) / f"{stem}{suffix}"),
                                                     SAVE_FILTER, chosen_filter)
        if not name:
            return None
        path = Path(name)
        if path.suffix.lower() not in (PROJECT_SUFFIX, ARCHITECTURE_SUFFIX):
            wanted = ARCHITECTURE_SUFFIX if selected == ARCHITECTURE_FILTER else PROJECT_SUFFIX
            path = path.with_name(path.name + wanted)
        return path

    def ask_weights_path(self) -> Path | None:
        name, _ = QFileDialog.getOpenFileName(self._parent, "Import weights", str(self.default_dir()), WEIGHTS_FILTER)
        return Path(name) if name else None

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
        """Replace the network by `architecture` (undoable), drop curves and weights, forget the file."""
        if not self.maybe_save():
            return False
        self._editor.set_architecture(architecture, "New network")
        self.state.restore(MetricsHistory(), None)
        self._mark_saved()
        self._set_path(None)
        return True

    def open(self, path: Path | None = None) -> bool:
        """Open a .convscope project, an architecture .json or a run folder (asking when `path` is None).

        The file is read and checked completely before anything in the window changes: a damaged file, or
        one from a newer ConvScope, shows its error and leaves network, settings and weights as they were.
        """
        if not self.maybe_save():
            return False
        path = path or self.ask_open_path()
        return False if path is None else self._load(Path(path))

    def open_folder(self) -> bool:
        if not self.maybe_save():
            return False
        path = self.ask_open_folder()
        return False if path is None else self._load(path)

    def attach(self, path: Path | None = None) -> bool:
        """Open a run folder (asking when `path` is None), then follow it: `run_attached` tells the training side."""
        if not self.maybe_save():
            return False
        path = path or self.ask_open_folder()
        return path is not None and self._load(Path(path), follow=True)

    def open_recent(self, path: Path) -> bool:
        """Open a recent file; one that no longer exists leaves the list (with a status message)."""
        if not Path(path).exists():
            self.recent.remove(path)
            self.status_reported.emit(f"{path} no longer exists; removed it from the recent files")
            return False
        return self.open(path)

    def save(self) -> bool:
        if self.path is None:
            return self.save_as()
        if self.path.suffix.lower() == ARCHITECTURE_SUFFIX and self._suggested_suffix() != ARCHITECTURE_SUFFIX:
            return self.save_as()  # an architecture .json cannot hold the curves and weights: ask where
        return self.save_as(self.path)

    def save_as(self, path: Path | None = None) -> bool:
        """Save to `path` (asked for when None): a .json holds the architecture only, anything else a project."""
        path = path or self.ask_save_path()
        if path is None:
            return False
        from engine.project.project_file import ProjectError, save_project

        path = Path(path)
        architecture, note = self._editor.network.architecture, ""
        try:
            if path.suffix.lower() == ARCHITECTURE_SUFFIX:
                architecture_file.save(architecture, path)
                if self.state.trained_state() is not None or self.state.has_curves():
                    note = ARCHITECTURE_ONLY_NOTE
            else:
                project, note = collect_project(architecture, self.state)
                save_project(project, path)
        except OSError as exc:
            self.show_error("Cannot save", f"{path}: {exc.strerror or exc}; the previous file, if any, is unchanged")
            return False
        except ProjectError as exc:
            self.show_error("Cannot save project", str(exc))
            return False
        self._mark_saved()
        self._set_path(path)
        self.status_reported.emit(f"Saved {path}{note}")
        return True

    def import_weights(self, path: Path | None = None) -> bool:
        """Load .safetensors / state-dict .pt weights into the current network; they replace the trained ones."""
        path = path or self.ask_weights_path()
        if path is None:
            return False
        from engine.export.torch_formats import import_weights
        from engine.network.weights import WeightsError

        try:
            weights = import_weights(self._editor.network.architecture, path)
        except WeightsError as exc:  # names the file, and on a mismatch the tensor and both shapes
            self.show_error("Cannot import weights", str(exc))
            return False
        # The previous run's curves do not describe imported weights: they go, the weights say what they are.
        self.state.restore(MetricsHistory(), weights)
        self.mark_modified()
        self.status_reported.emit(f"Imported weights from {path}")
        return True

    # -- internals ------------------------------------------------------------------------------------------
    def _load(self, path: Path, *, follow: bool = False) -> bool:
        """Open `path`; `follow`: a run folder is then followed as it is written (`run_attached`). A file is read
        here; a run folder on the reader's thread, and shown when read: True then says the read has begun, and
        `opened` (or the error dialog) follows. Nothing in the window changes before the read has succeeded."""
        if path.is_dir():
            self._reading = (path, follow)
            self._reader.submit(read_document, path)  # a newer open supersedes it: its result is dropped
            self.status_reported.emit(f"Reading {path}\u2026")
            return True
        try:
            document = read_document(path)
        except Exception as exc:  # noqa: BLE001 - _refuse names the expected kinds and raises the others again
            return self._refuse(path, exc)
        return self._apply(path, document, follow)

    @Slot(object)
    def _on_folder_read(self, document) -> None:
        (path, follow), self._reading = self._reading, None
        self._apply(path, document, follow)

    @Slot(object)
    def _on_folder_failed(self, exc: BaseException) -> None:
        (path, _), self._reading = self._reading, None
        self._refuse(path, exc)

    def _refuse(self, path: Path, exc: BaseException) -> bool:
        from engine.project.project_file import ProjectError
        from engine.run_folder import RunFolderError

        if not isinstance(exc, (ProjectError, RunFolderError)):
            raise exc
        self.show_error("Cannot open", _named(path, str(exc)))
        return False

    def _apply(self, path: Path, document, follow: bool) -> bool:
        """Show what read_document read from `path` (on the GUI thread)."""
        from engine.run_folder.recording import RecordedRun

        if isinstance(document, RecordedRun):
            return self._open_recorded(document)
        project = document
        architecture_only = path.suffix.lower() == ARCHITECTURE_SUFFIX and not path.is_dir()
        note = apply_project(self._editor, self.state, project, architecture_only=architecture_only)
        self._mark_saved()
        if path.is_dir():  # a run folder is listed in recent files, but is not a file Save could write to
            self.recent.add(path)
        self._set_path(None if path.is_dir() else path)
        if project.notice:  # e.g. a killed run whose newest snapshot stands in for its final weights
            note += f"; {project.notice}"
        if project.weights is not None and project.normalization is None and not architecture_only:
            note += f"; {OLD_STATISTICS_NOTE}"
        self.opened.emit(path)
        self.status_reported.emit(f"Opened {path}{note}")
        if follow:
            self.run_attached.emit(path)
        return True

    def _open_recorded(self, recorded) -> bool:
        """A RunWriter folder of a model ConvScope cannot rebuild (no architecture.json): its log is read whole
        first (read_document: a damaged line is refused, in a dialog), then followed for its recordings. The network on the
        canvas stays the user's: the folder holds no network to replace it with, and dropping the user's work
        for nothing would lose it."""
        path = recorded.folder  # its log was read whole by read_document: a damaged line was refused there
        self.recent.add(path)
        self.opened.emit(path)
        self.status_reported.emit(f"Opened {path}: a run your own script wrote ({recorded.model}); its curves, "
                                  f"filters, activations and timeline are shown. The network on the canvas is still "
                                  f"yours, not the run's: {recorded.cannot_rebuild}")
        self.run_attached.emit(path)  # Open and Attach alike: the recordings come through the run's follower
        return True

    def shutdown(self) -> bool:
        """Window close: a folder still being read is dropped, its thread waited for."""
        self._reading = None
        return self._reader.shutdown()

    def _suggested_suffix(self) -> str:
        """.json for an architecture file with nothing else to keep, else .convscope."""
        has_more = self.state.trained_state() is not None or self.state.has_curves()
        if self.path is not None and self.path.suffix.lower() == ARCHITECTURE_SUFFIX and not has_more:
            return ARCHITECTURE_SUFFIX
        return PROJECT_SUFFIX

    def _mark_saved(self) -> None:
        self._editor.undo_stack.setClean()
        if self._changed_outside_undo:
            self._changed_outside_undo = False
            self.modified_changed.emit(False)

    def default_dir(self) -> Path:
        """Where file dialogs start: beside the current file, else beside the latest recent one, else home."""
        recent = self.recent.paths()
        return self.path.parent if self.path else recent[0].parent if recent else Path.home()

    def _set_path(self, path: Path | None) -> None:
        self.path = path
        if path is not None:
            self.recent.add(path)
        self.path_changed.emit(path)


def read_document(path: Path):
    """On any thread: what File > Open shows of `path`, read and checked whole: a RecordedRun (a RunWriter folder
    without architecture.json) or a Project. ProjectError or RunFolderError says why not."""
    from engine.project.sources import open_project_or_run
    from engine.run_folder import read_run_log
    from engine.run_folder.recording import recorded_run

    recorded = recorded_run(path)
    if recorded is not None:
        read_run_log(recorded.folder)  # a damaged line is refused before anything in the window changes
        return recorded
    return open_project_or_run(path)


def _named(path: Path, message: str) -> str:
    """`message` with the opened path in front, unless it names it already (a log's line names its file only)."""
    return message if clean(str(path)) in message else f"{clean(str(path))}: {message}"
