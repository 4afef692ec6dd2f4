"""The canvas as a drop target: a palette drag inserts a new layer (or block), a moved block lands in the gap under
the pointer; the insertion marker follows the pointer meanwhile."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent

from gui.builder.mime import layer_key, moved_index


class DropTarget:
    """Mixed into Canvas (before QAbstractScrollArea, so these are its Qt overrides); uses its `_network`,
    `_editor`, `index_at` and `_drop_gap`."""

    def _accepts(self, event: QDropEvent) -> bool:
        data = event.mimeData()
        if layer_key(data) is not None:
            return True
        index = moved_index(data)
        return index is not None and index < len(self._network)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if self._accepts(event):
            event.acceptProposedAction()
            self._set_drop_gap(self.index_at(event.position()))
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802
        if not self._accepts(event):
            event.ignore()
            return
        event.acceptProposedAction()
        y, bar = event.position().y(), self.verticalScrollBar()
        if y < 24 or y > self.viewport().height() - 24:  # scroll while hovering near an edge
            bar.setValue(bar.value() + (-14 if y < 24 else 14))
        self._set_drop_gap(self.index_at(event.position()))

    def dragLeaveEvent(self, event: QEvent) -> None:  # noqa: N802
        self._set_drop_gap(None)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        self._set_drop_gap(None)
        if not self._accepts(event):
            event.ignore()
            return
        gap, data = self.index_at(event.position()), event.mimeData()
        key = layer_key(data)
        if key is not None:
            self._editor.insert_new(gap, key)
            event.setDropAction(Qt.DropAction.CopyAction)
        else:
            self._editor.move_to_gap(moved_index(data), gap)  # type: ignore[arg-type]
            event.setDropAction(Qt.DropAction.MoveAction)
        event.accept()
        self.setFocus(Qt.FocusReason.OtherFocusReason)

    def _set_drop_gap(self, gap: int | None) -> None:
        if gap != self._drop_gap:
            self._drop_gap = gap
            self.viewport().update()
