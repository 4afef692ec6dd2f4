"""The network editors locked while training runs: palette, canvas and inspector off, a banner saying why."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QLabel

if TYPE_CHECKING:
    from gui.main_window import MainWindow

LOCKED_TEXT = "Training is running \u2014 stop training to edit the network"


class EditLock(QObject):
    """While a run goes: palette, canvas and inspector disabled, edit actions off, a banner on the canvas.

    New, Open and the presets stay available; they replace the network, which stops the run.
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.banner = QLabel(LOCKED_TEXT, window.canvas)
        self.banner.setObjectName("editLockBanner")
        self.banner.hide()
        window.canvas.installEventFilter(self)
        self.locked = False

    def _undo_actions(self) -> list:
        """The Edit menu's Undo/Redo and the toolbar's short twins (matched by their fixed labels)."""
        actions = self._window.window_actions
        twins = [a for a in actions.toolbar.actions() if a.text() in ("Undo", "Redo")]
        return [actions.undo, actions.redo, *twins]

    def set_locked(self, locked: bool) -> None:
        self.locked = locked
        window = self._window
        for widget in (window.palette, window.canvas, window.inspector):
            widget.setEnabled(not locked)
            widget.setToolTip(LOCKED_TEXT if locked else "")
        stack, selected = window.undo_stack, window.network.selected is not None
        for action in self._undo_actions():
            is_redo = action.text().replace("&", "").startswith("Redo")
            action.setEnabled(not locked and (stack.canRedo() if is_redo else stack.canUndo()))
        for action in (window.window_actions.delete, window.window_actions.duplicate):
            action.setEnabled(not locked and selected)
        self.banner.setVisible(locked)
        if locked:
            self._place_banner()
            self.banner.raise_()

    def _place_banner(self) -> None:
        self.banner.adjustSize()
        canvas = self._window.canvas
        # Bottom centre: the input block sits at the top of the canvas.
        self.banner.move(max(8, (canvas.width() - self.banner.width()) // 2),
                         max(8, canvas.height() - self.banner.height() - 16))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Resize and self.locked:
            self._place_banner()
        return False
