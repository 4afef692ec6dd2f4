"""The dataset picker's Download button: fetch a full public set with progress and cancel (engine's verified downloader)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QMenu, QProgressBar, QPushButton, QVBoxLayout, QWidget

from engine.datasets import DownloadError, default_cache_dir, download
from engine.datasets.catalog import REMOTE_SETS, is_downloaded
from gui.task_runner import TaskRunner
from gui.views.message_label import MessageLabel

DOWNLOAD_TITLES = {"mnist": "MNIST (70,000 images, 11 MB)", "fashion-mnist": "Fashion-MNIST (70,000 images, 30 MB)",
                   "cifar10": "CIFAR-10 (60,000 colour images, 163 MB)"}


class _Cancelled(Exception):
    """Raised from the progress callback: the transfer stops, its .part file stays for a later resume."""


class DownloadBox(QWidget):
    """A "Download…" button with a menu of the sets not yet downloaded, then a progress bar and Cancel.

    `fetch` is engine.datasets.download (tests give it a local server's base_url and file table).
    `downloaded(local_name)` is emitted on the GUI thread once the set is verified and in place.
    """

    downloaded = Signal(str)   # the load_dataset name: "mnist-full", "fashion-mnist-full", "cifar10"

    def __init__(self, parent: QWidget | None = None, *, fetch: Callable[..., Path] = download,
                 cache_dir: Path | None = None) -> None:
        super().__init__(parent)
        self._fetch, self._cache_dir = fetch, cache_dir
        self._name: str | None = None
        self._runner = TaskRunner(self, name="ConvScope download")
        self._runner.finished.connect(self._on_finished)
        self._runner.failed.connect(self._on_failed)
        self._runner.progress.connect(self._on_progress)
        self.button = QPushButton("Download\u2026")
        self.button.setObjectName("flatButton")
        self.button.setToolTip("Download a full public set (checked against its SHA-256) into "
                               f"{self._cache()}")
        self.menu = QMenu(self)
        self.menu.aboutToShow.connect(self._fill_menu)
        self.button.setMenu(self.menu)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("flatButton")
        self.cancel_button.setToolTip("Stop the download; what arrived is kept, and the next Download resumes it")
        self.cancel_button.clicked.connect(self.cancel)
        self.status = MessageLabel()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.bar, 1)
        row.addWidget(self.cancel_button)
        top = QHBoxLayout()  # a row of its own: the dock is narrow, Open file / Open folder fill theirs
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.button)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(row)
        layout.addWidget(self.status)
        self._show(busy=False)

    @property
    def is_busy(self) -> bool:
        return self._name is not None

    def _cache(self) -> Path:
        return default_cache_dir() if self._cache_dir is None else self._cache_dir

    def _fill_menu(self) -> None:
        self.menu.clear()
        for name, spec in REMOTE_SETS.items():
            action = self.menu.addAction(DOWNLOAD_TITLES[name], lambda n=name: self.start(n))
            if is_downloaded(spec, self._cache()):
                action.setEnabled(False)
                action.setText(DOWNLOAD_TITLES[name] + " \u2014 downloaded")

    def start(self, name: str) -> None:
        """Download `name` ("mnist", "fashion-mnist", "cifar10") off the GUI thread."""
        if self.is_busy:
            return
        self._name = name
        self._show(busy=True, text=f"Downloading {DOWNLOAD_TITLES[name]}\u2026")
        self._runner.submit_with_state(_download_job, self._fetch, name, self._cache())

    def cancel(self) -> None:
        """Stop the transfer after its current chunk; what arrived stays as a .part file to resume from."""
        if self._name is None:
            return
        self._runner.cancel()  # its state is now cancelled: the job's next chunk raises _Cancelled
        self._name = None
        self._show(busy=False, text="Download cancelled; starting it again resumes where it stopped.")

    def shutdown(self) -> None:
        self._runner.shutdown()

    def _show(self, *, busy: bool, text: str = "") -> None:
        self.button.setEnabled(not busy)
        self.bar.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if busy:
            self.bar.setValue(0)
        self.status.setVisible(bool(text))
        self.status.setText(text)

    def _on_progress(self, fraction: float) -> None:
        self.bar.setValue(round(fraction * 1000))

    def _on_finished(self, local_name: str) -> None:
        self._name = None
        self._show(busy=False, text=f"Downloaded and verified; {local_name} is in the dataset list.")
        self.downloaded.emit(local_name)

    def _on_failed(self, exc: BaseException) -> None:
        self._name = None
        reason = str(exc) if isinstance(exc, DownloadError) else f"{type(exc).__name__}: {exc}"
        self._show(busy=False, text=f"Download failed: {reason}")


def _download_job(fetch: Callable[..., Path], name: str, cache: Path, *, state) -> str:
    """Runs on the runner's thread: progress over the set's files (each an equal share), stopping when cancelled."""
    count = len(REMOTE_SETS[name].files)
    seen: list[str] = []

    def progress(done: int, size: int, filename: str) -> None:
        if state.is_cancelled:
            raise _Cancelled
        if filename not in seen:
            seen.append(filename)
        state.set_progress(min(1.0, (len(seen) - 1 + done / max(size, 1)) / count))

    fetch(name, cache, progress=progress)
    return REMOTE_SETS[name].local_name
