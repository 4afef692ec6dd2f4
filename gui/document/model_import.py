"""File > Import Model...: an ONNX file or a PyTorch module (FILE.py:FACTORY) imported as a project off the GUI
thread, written where the user says, then opened like any project."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

from gui.document.document_io import PROJECT_SUFFIX, DocumentController
from gui.task_runner import TaskRunner
from models.network import Network

SOURCE_FILTER = "Models (*.onnx *.py);;ONNX (*.onnx);;PyTorch module (*.py);;All files (*)"
_SHAPE = re.compile(r"^\s*(\d+)\s*[x,]\s*(\d+)\s*[x,]\s*(\d+)\s*$")


def _import_and_save(source: str, out: Path, input_shape: tuple[int, int, int] | None) -> Path:
    """On the job thread: the engine's import (it names every node it cannot map), then an atomic save."""
    from engine.project.importers import import_model
    from engine.project.project_file import save_project

    save_project(import_model(source, input_shape=input_shape), out)
    return out


class ModelImportController(QObject):
    """Asks for the source, (for Python) the factory, the input size and leave to run the file, and where to write
    the project; imports on a TaskRunner; opens the written project through `document`.

    Dialogs are methods (`ask_source_path`, `ask_factory`, `ask_input_shape`, `ask_run_code`,
    `ask_destination`, `show_error`) so tests replace them, as DocumentController's `ask_*`.
    """

    imported = Signal(object)  # Path of the project written (and opened, unless the user kept the old one)
    failed = Signal(str)

    def __init__(self, document: DocumentController, network: Network, parent_widget: QWidget) -> None:
        super().__init__(parent_widget)
        self._document, self._network, self._parent = document, network, parent_widget
        self._tasks = TaskRunner(self, name="ConvScope model import")
        self._tasks.finished.connect(self._on_finished)
        self._tasks.failed.connect(self._on_failed)
        self._source = ""

    @property
    def is_busy(self) -> bool:
        return self._tasks.is_busy

    # -- seams ----------------------------------------------------------------------------------------------
    def ask_source_path(self) -> Path | None:
        name, _ = QFileDialog.getOpenFileName(self._parent, "Import model (ONNX or PyTorch module)",
                                              str(self._document.default_dir()), SOURCE_FILTER)
        return Path(name) if name else None

    def ask_factory(self, path: Path) -> str | None:
        name, ok = QInputDialog.getText(self._parent, "Import PyTorch module",
                                        f"The function or nn.Module class in {path.name} that returns the model:")
        return name.strip() if ok and name.strip() else None

    def ask_input_shape(self, default: tuple[int, int, int]) -> tuple[int, int, int] | None:
        text, ok = QInputDialog.getText(self._parent, "Import PyTorch module",
                                        "The input's channels x height x width:", text="x".join(map(str, default)))
        match = _SHAPE.match(text) if ok else None
        return tuple(int(n) for n in match.groups()) if match else None  # type: ignore[return-value]

    def ask_run_code(self, path: Path) -> bool:
        answer = QMessageBox.question(
            self._parent, "Run this file's code?",
            f"Importing {path.name} runs its Python code with your permissions. Run it only if you trust it.\n\n"
            f"Run {path} and import its module?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def ask_destination(self, suggested: Path) -> Path | None:
        name, _ = QFileDialog.getSaveFileName(self._parent, "Save the imported project as", str(suggested),
                                              f"ConvScope project (*{PROJECT_SUFFIX})")
        if not name:
            return None
        path = Path(name)
        return path if path.suffix.lower() == PROJECT_SUFFIX else path.with_name(path.name + PROJECT_SUFFIX)

    def show_error(self, title: str, message: str) -> None:
        QMessageBox.warning(self._parent, title, message)

    # -- the import -----------------------------------------------------------------------------------------
    def start(self) -> bool:
        """Ask, then import off the GUI thread; False when the user cancelled or an import is already running."""
        if self.is_busy:
            self.show_error("Import Model", "An import is already running; wait for it to finish")
            return False
        path = self.ask_source_path()
        if path is None:
            return False
        source, input_shape = str(path), None
        if path.suffix.lower() == ".py":
            factory = self.ask_factory(path)
            if factory is None or not factory.isidentifier():
                return False
            input_shape = self.ask_input_shape(self._network.architecture.input.as_tuple())
            if input_shape is None or not self.ask_run_code(path):
                return False
            source = f"{path}:{factory}"
        out = self.ask_destination(self._document.default_dir() / f"{path.stem}{PROJECT_SUFFIX}")
        if out is None:
            return False
        self._source = source
        self._document.status_reported.emit(f"Importing {path.name}\u2026")
        self._tasks.submit(_import_and_save, source, Path(out), input_shape)
        return True

    def shutdown(self) -> None:
        """The window closes: an import still writing finishes first (its file is written atomically)."""
        self._tasks.wait()

    @Slot(object)
    def _on_finished(self, out: Path) -> None:
        if self._document.open(out):
            self._document.status_reported.emit(f"Imported {self._source} as {out}; its input normalisation is the "
                                                f"identity until it is trained here")
        else:
            self._document.status_reported.emit(f"Imported {self._source} as {out} (not opened)")
        self.imported.emit(out)

    @Slot(object)
    def _on_failed(self, exc: object) -> None:
        self.show_error("Cannot import model", str(exc))
        self.failed.emit(str(exc))
