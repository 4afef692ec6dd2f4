"""Export formats (what each writes and what it needs) and the runner that writes them on a pool thread."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from engine.export import images, onnx_format, python_source, tables, torch_formats
from engine.export.target import ExportError
from engine.metrics import MetricsHistory
from engine.project import ProjectError
from engine.weights import WeightsError
from models.architecture import Architecture

Weights = dict[str, torch.Tensor]
Writer = Callable[[Architecture, "Weights | None", MetricsHistory, Path], list[Path]]
NEEDS_WEIGHTS, NEEDS_HISTORY, NEEDS_NOTHING = "weights", "history", ""


@dataclass(frozen=True)
class ExportFormat:
    key: str                   # as in the CLI's `export --format`
    label: str
    name: str                  # default file (or folder) name; {stem} is the project's name
    suffixes: tuple[str, ...]  # accepted endings, the first suggested; () for a folder
    needs: str                 # NEEDS_WEIGHTS, NEEDS_HISTORY or NEEDS_NOTHING
    write: Writer

    @property
    def is_folder(self) -> bool:
        return not self.suffixes

    def file_filter(self) -> str:
        return f"{self.label} ({' '.join('*' + s for s in self.suffixes)})"


FORMATS: tuple[ExportFormat, ...] = (
    ExportFormat("state-dict", "PyTorch state dict", "{stem}.pt", torch_formats.STATE_DICT_SUFFIXES,
                 NEEDS_WEIGHTS, lambda a, w, h, out: [torch_formats.export_state_dict(a, w, out)]),
    ExportFormat("safetensors", "safetensors weights", "{stem}.safetensors", torch_formats.SAFETENSORS_SUFFIXES,
                 NEEDS_WEIGHTS, lambda a, w, h, out: [torch_formats.export_safetensors(a, w, out)]),
    ExportFormat("torchscript", "TorchScript", "{stem}_scripted.pt", torch_formats.TORCHSCRIPT_SUFFIXES,
                 NEEDS_WEIGHTS, lambda a, w, h, out: [torch_formats.export_torchscript(a, w, out)]),
    ExportFormat("onnx", "ONNX", "{stem}.onnx", onnx_format.ONNX_SUFFIXES,
                 NEEDS_WEIGHTS, lambda a, w, h, out: [onnx_format.export_onnx(a, w, out)]),
    ExportFormat("python", "Standalone Python module (+ .safetensors)", "{stem}.py", python_source.PYTHON_SUFFIXES,
                 NEEDS_WEIGHTS, lambda a, w, h, out: list(python_source.export_python(a, w, out))),
    ExportFormat("filters-png", "Filters as PNG (one per conv layer, in a folder)", "{stem}_filters", (),
                 NEEDS_WEIGHTS, lambda a, w, h, out: images.export_filter_pngs(a, w, out)),
    ExportFormat("metrics-csv", "Metrics history (CSV)", "{stem}_metrics.csv", (".csv",),
                 NEEDS_HISTORY, lambda a, w, h, out: [tables.export_metrics_csv(h, out)]),
    ExportFormat("summary-md", "Layer summary (Markdown)", "{stem}_summary.md", tables.SUMMARY_STYLES["md"],
                 NEEDS_NOTHING, lambda a, w, h, out: [tables.export_summary(a, out, style="md")]),
    ExportFormat("summary-csv", "Layer summary (CSV)", "{stem}_summary.csv", tables.SUMMARY_STYLES["csv"],
                 NEEDS_NOTHING, lambda a, w, h, out: [tables.export_summary(a, out, style="csv")]),
)
FORMATS_BY_KEY = {fmt.key: fmt for fmt in FORMATS}


def file_stem(name: str) -> str:
    """A safe lower-case file stem (also a valid Python module name): 'LeNet-5' -> 'lenet_5'."""
    stem = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")
    return ("net_" + stem if stem[:1].isdigit() else stem) or "network"


class _ExportJob(QRunnable):
    """One export on a pool thread. It gets frozen inputs only (an Architecture, copied tensors and rows)."""

    def __init__(self, runner: "ExportRunner", job_id: int, fmt: ExportFormat, architecture: Architecture,
                 weights: Weights | None, history: MetricsHistory, out: Path) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the runner keeps the Python object until its result has arrived
        self._runner, self._id, self._fmt = runner, job_id, fmt
        self._args = (architecture, weights, history, out)

    def run(self) -> None:
        out = self._args[3]
        try:
            paths = self._fmt.write(*self._args)
        except (ExportError, WeightsError, ProjectError) as exc:
            self._runner.job_failed.emit(self._id, str(exc))
        except Exception as exc:  # noqa: BLE001 - a pool thread must never die with a traceback the user misses
            self._runner.job_failed.emit(self._id, f"{out}: the {self._fmt.label} export failed unexpectedly "
                                                   f"({type(exc).__name__}: {exc})")
        else:
            self._runner.job_succeeded.emit(self._id, [Path(p) for p in paths])


class ExportRunner(QObject):
    """Runs one export at a time off the GUI thread; `exported` / `failed` arrive on the GUI thread.

    Owned by the window, which calls `wait()` when it closes so that no export outlives it.
    """

    started = Signal(object)     # ExportFormat
    exported = Signal(object)    # list[Path]: every file written
    failed = Signal(str)         # the error, naming the file and what to do
    # Emitted on the pool thread; queued to the slots below because this object lives on the GUI thread.
    job_succeeded = Signal(int, object)
    job_failed = Signal(int, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool()
        self._pool.setMaxThreadCount(1)
        self._job: _ExportJob | None = None
        self._next_id = 0
        self.job_succeeded.connect(self._on_job_succeeded)
        self.job_failed.connect(self._on_job_failed)

    @property
    def is_busy(self) -> bool:
        return self._job is not None

    def start(self, fmt: ExportFormat, architecture: Architecture, weights: Weights | None,
              history: MetricsHistory, out: Path) -> None:
        if self.is_busy:
            raise RuntimeError("an export is already running; wait for it to finish")
        self._next_id += 1
        self._job = _ExportJob(self, self._next_id, fmt, architecture, weights, history, Path(out))
        self.started.emit(fmt)
        self._pool.start(self._job)

    def wait(self, timeout_ms: int = -1) -> bool:
        """Block until the running export (if any) has finished writing; True if none is left."""
        return self._pool.waitForDone(timeout_ms)

    @Slot(int, object)
    def _on_job_succeeded(self, job_id: int, paths: list[Path]) -> None:
        if self._finish(job_id):
            self.exported.emit(paths)

    @Slot(int, str)
    def _on_job_failed(self, job_id: int, message: str) -> None:
        if self._finish(job_id):
            self.failed.emit(message)

    def _finish(self, job_id: int) -> bool:
        if self._job is None or job_id != self._next_id:
            return False
        self._job = None
        return True
