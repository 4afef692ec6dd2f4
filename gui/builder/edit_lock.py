"""The network editors locked while training runs: palette, canvas and inspector off, a banner saying why."""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QAction, QUndoStack
from PySide6.QtWidgets import QLabel, QWidget

from models.network import Network

LOCKED_TEXT = "Training is running \u2014 stop training to edit the network"


class EditLock(QObject):
    """While a run goes: the editor widgets disabled, edit actions off, a banner on the canvas.

    It owns the enabled state of the selection actions (Delete, Duplicate: on while a layer is selected
    and editing is not locked). Undo and Redo actions follow their QUndoStack when unlocked. New, Open
    and the presets stay available; they replace the network, which stops the run.
    """

    def __init__(self, canvas: QWidget, editors: Sequence[QWidget], network: Network, undo_stack: QUndoStack, *,
                 undo_actions: Sequence[QAction], redo_actions: Sequence[QAction],
                 selection_actions: Sequence[QAction]) -> None:
        super().__init__(canvas)
        self._canvas, self._editors, self._network, self._stack = canvas, tuple(editors), network, undo_stack
        self._undo, self._redo, self._selection = tuple(undo_actions), tuple(redo_actions), tuple(selection_actions)
        self.banner = QLabel(LOCKED_TEXT, canvas)
        self.banner.setObjectName("editLockBanner")
        self.banner.hide()
        canvas.installEventFilter(self)
        self.locked = False
        network.selection_changed.connect(self._on_selection_changed)
        self._update_selection_actions()

    def set_locked(self, locked: bool) -> None:
        self.locked = locked
        for widget in self._editors:
            widget.setEnabled(not locked)
            widget.setToolTip(LOCKED_TEXT if locked else "")
        for action in self._undo:
            action.setEnabled(not locked and self._stack.canUndo())
        for action in self._redo:
            action.setEnabled(not locked and self._stack.canRedo())
        self._update_selection_actions()
        self.banner.setVisible(locked)
        if locked:
            self._place_banner()
            self.banner.raise_()

    def _on_selection_changed(self, _index: int | None) -> None:
        self._update_selection_actions()

    def _update_selection_actions(self) -> None:
        enabled = not self.locked and self._network.selected is not None
        for action in self._selection:
            action.setEnabled(enabled)

    def _place_banner(self) -> None:
        self.banner.adjustSize()
        canvas = self._canvas
        # Bottom centre: the input block sits at the top of the canvas.
        self.banner.move(max(8, (canvas.width() - self.banner.width()) // 2),
                         max(8, canvas.height() - self.banner.height() - 16))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Resize and self.locked:
            self._place_banner()
        return False
