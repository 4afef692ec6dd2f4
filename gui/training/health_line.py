"""The health line above the live views: the followed run's health warnings at its latest snapshot, with what to
try, and the per-layer notes the canvas badges its blocks with.

Computed off the GUI thread (engine/inspection/snapshot_health.followed_snapshot_warnings: the snapshot's sidecar,
the first PROBE_SIZE validation images, the norms its line carried) at most every INTERVAL_MS: snapshots come
every half second and one computation costs a fraction of a second of a core the run needs. What comes back is
plain data (HealthWarning: a 1-based layer number, its finding and what to try).
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import QLabel, QWidget

from engine.events import SnapshotTaken
from engine.inspection.health import HealthWarning
from engine.inspection.probe_batch import PROBE_SIZE
from engine.inspection.snapshot_health import followed_snapshot_warnings
from gui.task_runner import TaskRunner
from gui.workspace import Workspace
from models.architecture import Architecture
from models.network import Network

log = logging.getLogger(__name__)
INTERVAL_MS = 3000  # between one result and the next computation
SHOWN = 2           # warnings written out in the line; the tooltip holds them all
# Which warning leads the line: what breaks training outright first.
_ORDER = ("non_finite", "dead", "exploding", "no_gradient", "vanishing", "saturated", "dormant")


def _job(folder: Path, step: int, norms: dict[str, float], arch: Architecture, split
         ) -> tuple[Path, int, Architecture, list[HealthWarning]]:
    """On a TaskRunner thread: the warnings of the snapshot at `step`, on `split`'s first PROBE_SIZE images."""
    images = split.images_at(slice(0, PROBE_SIZE))
    return folder, step, arch, followed_snapshot_warnings(folder, arch, step, images, norms)


class HealthLine(QLabel):
    """Data in: the followed run's snapshots (`show_snapshot`, the run folder's own steps), or `show_health(step,
    warnings, architecture)` directly (tests, screenshots). Data out: `health_changed(notes, architecture)`,
    notes {layer number: (text, ...)} for the canvas. Hidden while there is nothing to warn about; `lines` holds
    the warnings as written (the label shows the first SHOWN). A new followed run starts it afresh."""

    health_changed = Signal(object, object)  # {layer number (1-based): (warning and what to try, ...)}, Architecture

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("healthLine")
        self.setWordWrap(True)
        self.setStyleSheet("QLabel#healthLine { background: #fff1f2; color: #9f1239; padding: 4px 8px; }")
        self.workspace = workspace
        self.lines: list[str] = []
        self.step: int | None = None  # of the snapshot shown
        self._network: Network | None = None
        self._since: dict[tuple[int, str], int] = {}  # (layer, kind): the first step of its unbroken warning
        self._wanted: tuple | None = None  # the newest snapshot's job arguments, not computed yet
        self._runner = TaskRunner(self, name="ConvScope health line")
        self._runner.finished.connect(self._on_computed)
        self._runner.failed.connect(self._on_failed)
        self._pause = QTimer(self)
        self._pause.setSingleShot(True)
        self._pause.setInterval(INTERVAL_MS)
        self._pause.timeout.connect(self._submit)
        workspace.events.followed_run.connect(self._on_followed_run)
        self.hide()

    def follow_network(self, network: Network) -> None:
        """The network whose architecture the run trains (locked while it runs)."""
        self._network = network

    @Slot(object)
    def show_snapshot(self, event: SnapshotTaken) -> None:
        folder, dataset = self.workspace.followed_run, self.workspace.dataset
        if folder is None or dataset is None or self._network is None:
            return
        self._wanted = (folder, event.step, dict(event.gradient_norms), self._network.architecture, dataset.val)
        if not self._runner.is_busy and not self._pause.isActive():
            self._submit()

    def show_health(self, step: int | None, warnings: list[HealthWarning],
                    architecture: Architecture | None) -> None:
        """Show `warnings` of the snapshot at `step` (none: hidden) and send the canvas its notes."""
        order = {kind: i for i, kind in enumerate(_ORDER)}
        warnings = sorted(warnings, key=lambda w: (order.get(w.kind, len(order)), w.layer))
        at = -1 if step is None else step
        since = {(w.layer, w.kind): min(self._since.get((w.layer, w.kind), at), at) for w in warnings}
        self._since, self.step = since, step  # a warning that went away starts again when it comes back
        notes: dict[int, list[str]] = {}
        self.lines = []
        for w in warnings:
            first = since[(w.layer, w.kind)]
            when = "" if step is None else f"since step {first:,}" if first < step else f"at step {step:,}"
            finding = f"{w.finding} {when}".rstrip()
            notes.setdefault(w.layer, []).append(f"{finding} \u2014 {w.advice}")
            self.lines.append(f"{w.label}: {finding} \u2014 {w.advice}")
        more = len(self.lines) - SHOWN
        self.setText("\n".join(["\u26a0 " + line for line in self.lines[:SHOWN]]
                               + ([f"and {more} more (hover here, or on the Network tab's marked blocks)"]
                                  if more > 0 else [])))
        self.setToolTip("\n".join(self.lines))
        self.setVisible(bool(self.lines))
        self.health_changed.emit({layer: tuple(texts) for layer, texts in notes.items()}, architecture)

    def clear(self) -> None:
        self._runner.cancel()
        self._pause.stop()
        self._wanted, self._since = None, {}
        self.show_health(None, [], None)

    def shutdown(self) -> None:
        """Window close: no job thread outlives the window."""
        self._pause.stop()
        self._runner.shutdown()

    # -- jobs ------------------------------------------------------------------------------------------------
    @Slot()
    def _submit(self) -> None:
        wanted, self._wanted = self._wanted, None
        if wanted is not None:
            self._runner.submit(_job, *wanted)

    @Slot(object)
    def _on_computed(self, result: tuple) -> None:
        folder, step, arch, warnings = result
        if folder == self.workspace.followed_run:  # else a run since left behind
            self.show_health(step, warnings, arch)
        self._pause.start()

    @Slot(object)
    def _on_failed(self, exc: BaseException) -> None:
        # The writer thins old snapshots (a file named a moment ago can be gone), or the dataset does not fit an
        # attached run's network: the next snapshot will do, or there is nothing to say.
        log.debug("health not computed: %s", exc)
        self._pause.start()

    @Slot(object)
    def _on_followed_run(self, _folder: object) -> None:
        self.clear()
