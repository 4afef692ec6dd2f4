"""Loads datasets off the GUI thread: one worker QThread per request; only the newest request reports."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QThread, Signal, Slot

from engine.datasets import DatasetError, load_dataset

log = logging.getLogger(__name__)
SHUTDOWN_WAIT_MS = 10_000  # a large image folder can take a while; the bundled sets take ~0.3 s


class _LoadWorker(QObject):
    """Lives on its own thread for one `load_dataset` call; reports once through `done`."""

    done = Signal(int, object, str)  # request number, Dataset or None, error message ("" on success)

    def __init__(self, request: int, source: str, val_fraction: float, seed: int) -> None:
        super().__init__()
        self._request, self._source = request, source
        self._val_fraction, self._seed = val_fraction, seed

    @Slot()
    def run(self) -> None:
        try:
            dataset = load_dataset(self._source, val_fraction=self._val_fraction, seed=self._seed)
        except DatasetError as exc:
            self.done.emit(self._request, None, str(exc))
        except Exception as exc:  # noqa: BLE001 - shown in the panel as one line, never lost in a thread
            log.exception("loading %s failed", self._source)
            self.done.emit(self._request, None, f"{self._source}: could not be read ({type(exc).__name__}: {exc})")
        else:
            self.done.emit(self._request, dataset, "")


class DatasetLoader(QObject):
    """`load(source, val_fraction=, seed=)` returns at once; `loaded(Dataset)` or `failed(message)` follows.

    A newer request supersedes an older one: the older thread finishes in the background and its
    result is dropped, so the signals always describe the newest request. `shutdown()` waits for
    every loading thread (window close), so none is left running when the window goes.
    """

    started = Signal(str)      # source
    loaded = Signal(object)    # engine.datasets.Dataset
    failed = Signal(str)       # one sentence naming the file or set and what is wrong

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._request = 0
        self._pending: int | None = None  # the request whose answer is awaited
        self._threads: dict[int, tuple[QThread, _LoadWorker]] = {}

    @property
    def is_loading(self) -> bool:
        return self._pending is not None

    def load(self, source: str, *, val_fraction: float = 0.2, seed: int = 0) -> None:
        self._request += 1
        request = self._request
        self._pending = request
        thread = QThread()
        thread.setObjectName(f"ConvScope dataset loader {request}")
        worker = _LoadWorker(request, source, val_fraction, seed)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.done.connect(self._on_done)
        self._threads[request] = (thread, worker)
        thread.start()
        self.started.emit(source)

    def cancel(self) -> None:
        """Forget the pending request: its result, when it comes, is dropped."""
        self._pending = None

    def shutdown(self, timeout_ms: int = SHUTDOWN_WAIT_MS) -> bool:
        """Drop pending results and wait for every loading thread to end; True if all ended."""
        self._pending = None
        ended = True
        for request in list(self._threads):
            thread, _worker = self._threads[request]
            thread.quit()
            if thread.wait(timeout_ms):
                self._release(request)
            else:
                ended = False
        return ended

    @Slot(int, object, str)
    def _on_done(self, request: int, dataset: object, error: str) -> None:
        self._release(request)
        if request != self._pending:
            return
        self._pending = None
        if dataset is None:
            self.failed.emit(error)
        else:
            self.loaded.emit(dataset)

    def _release(self, request: int) -> None:
        entry = self._threads.pop(request, None)
        if entry is None:
            return
        thread, worker = entry
        thread.quit()
        thread.wait()  # run() has returned (it emitted done), so this only waits for the event loop to end
        worker.deleteLater()
        thread.deleteLater()
