"""'Save as fully convolutional run...': the followed run folder rewritten by `main.py fully-convolutional`.

The command runs as a child process (the run folder is the interface, as for training), from a TaskRunner
thread so the window never waits on it; its own checks (the rewritten outputs equal the original's before
anything is written) and its messages are the CLI's, shown as they are.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QWidget

from gui.task_runner import TaskRunner
from gui.workspace import Workspace

MAIN = Path(__file__).resolve().parents[2] / "main.py"
COMMAND_TIMEOUT_S = 600  # reading the run, rewriting, checking and writing: seconds for the networks here
NEEDS_RUN = ("Saves the run folder this window trained or follows; these weights came from elsewhere (save them "
             "as a run, or use `main.py fully-convolutional RUN --out DIR`)")


@dataclass(frozen=True)
class SaveOutcome:
    """What the command said: its exit status and its output (stdout on success, stderr otherwise)."""

    source: Path
    out: Path
    returncode: int
    message: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def save_fully_convolutional(source: Path, out: Path) -> SaveOutcome:
    """Run `main.py fully-convolutional SOURCE --out OUT` in a child process and report what it said."""
    done = subprocess.run([sys.executable, str(MAIN), "fully-convolutional", str(source), "--out", str(out)],
                          capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False)
    text = (done.stdout if done.returncode == 0 else done.stderr or done.stdout).strip()
    return SaveOutcome(source, out, done.returncode, text or f"exit status {done.returncode}")


class FullyConvolutionalSave(QWidget):
    """A button that asks for a new folder and writes the rewritten run there, plus a line saying how it went.

    Enabled while the workspace's weights are those of the run folder it follows (a run of this window, or
    attached) and the network can be rewritten (`set_rewritable`). `saved` carries each SaveOutcome.
    `ask_output_folder` is the dialog seam tests answer.
    """

    saved = Signal(object)

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self._rewritable = False
        self._runner = TaskRunner(self, name="ConvScope fully convolutional save")
        self._runner.finished.connect(self._on_finished)
        self._runner.failed.connect(self._on_failed)
        self.button = QPushButton("Save as fully convolutional run\u2026")
        self.button.setObjectName("saveFullyConvolutional")
        self.status = QLabel()
        self.status.setObjectName("fullyConvolutionalStatus")
        self.status.setWordWrap(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.button)
        layout.addWidget(self.status, 1)
        self.button.clicked.connect(self.save)
        workspace.events.trained.connect(self._on_workspace_changed)
        workspace.events.followed_run.connect(self._on_workspace_changed)
        self._update()

    def set_rewritable(self, rewritable: bool) -> None:
        self._rewritable = rewritable
        self._update()

    def source(self) -> Path | None:
        """The run folder to rewrite: the followed one, while the weights are that run's (no other origin)."""
        trained, folder = self.workspace.trained, self.workspace.followed_run
        if trained is None or trained.origin is not None or folder is None:
            return None
        return Path(folder)

    @property
    def is_busy(self) -> bool:
        return self._runner.is_busy

    def shutdown(self) -> None:
        self._runner.shutdown()

    def ask_output_folder(self, suggestion: Path) -> Path | None:
        name, _ = QFileDialog.getSaveFileName(self, "Save the fully convolutional run as a new folder", str(suggestion))
        return Path(name) if name else None

    @Slot()
    def save(self) -> None:
        source = self.source()
        if source is None or not self._rewritable or self._runner.is_busy:
            return
        out = self.ask_output_folder(source.with_name(f"{source.name}-fully-convolutional"))
        if out is None:
            return
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            self.status.setText(f"{out} exists and is not an empty folder: choose a new one.")
            return
        self.status.setText(f"Rewriting {source.name} into {out}\u2026")
        self.button.setEnabled(False)
        self._runner.submit(save_fully_convolutional, source, out)

    @Slot(object)
    def _on_finished(self, outcome: SaveOutcome) -> None:
        self.status.setText(outcome.message if outcome.ok else f"Not saved: {outcome.message}")
        self._update()
        self.saved.emit(outcome)

    @Slot(object)
    def _on_failed(self, exc: object) -> None:
        self.status.setText(f"Not saved: {exc}")
        self._update()

    @Slot()
    def _on_workspace_changed(self, *_args: object) -> None:
        self._update()

    def _update(self) -> None:
        source = self.source()
        self.button.setEnabled(source is not None and self._rewritable and not self._runner.is_busy)
        if self.workspace.trained is None:
            tip = "Train first: there are no weights to rewrite"
        elif source is None:
            tip = NEEDS_RUN
        elif not self._rewritable:
            tip = "This network cannot be rewritten (the panel says why)"
        else:
            tip = f"Write {source.name} with its linear layers as convolutions into a new run folder"
        self.button.setToolTip(tip)
