"""The window's central tabs, one room per tab, each room scrolling inside its tab when it is wider or taller
than the space left beside the docks.

A plain QTabWidget asks for the minimum size of its largest page: with the Evaluation room's 1,100 pixels the
main window squeezed the layer palette and the training dock to their own minimum widths (a palette reading
"Lay...", a clipped settings form). Here each room sits in a scroll area, so the docks keep their widths and a
room that does not fit scrolls. The methods that name pages (widget, currentWidget, setCurrentWidget, indexOf)
speak of the rooms, not of their scroll areas.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QScrollArea, QTabWidget, QWidget


class _RoomScroll(QScrollArea):
    """The room fills the tab, and never gets smaller than its minimum size (then it scrolls).

    Sized here rather than by setWidgetResizable: that sizes a room holding a word-wrapped label by its
    height-for-width, i.e. by its preferred height (the Timeline grew to 1,500 pixels and scrolled)."""

    def __init__(self, room: QWidget) -> None:
        super().__init__()
        self.setObjectName("roomScroll")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidgetResizable(False)
        self.setWidget(room)
        room.installEventFilter(self)  # its minimum changes as it fills (a network's layers, a run's filters)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.LayoutRequest:
            self._fit()
        return False

    def _fit(self) -> None:
        room = self.widget()
        smallest = room.minimumSizeHint().expandedTo(room.minimumSize())
        room.resize(self.viewport().size().expandedTo(smallest))


class RoomTabs(QTabWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rooms: dict[QWidget, QWidget] = {}  # scroll area -> room

    def add_room(self, room: QWidget, title: str, *, scrolls: bool = True) -> int:
        """A tab for `room`; `scrolls=False` for a room that is itself a scrolling view (the canvas)."""
        page = room
        if scrolls:
            page = _RoomScroll(room)
            self._rooms[page] = room
        return self.addTab(page, title)

    def widget(self, index: int) -> QWidget | None:
        page = super().widget(index)
        return self._rooms.get(page, page)

    def currentWidget(self) -> QWidget | None:  # noqa: N802
        page = super().currentWidget()
        return self._rooms.get(page, page)

    def indexOf(self, room: QWidget) -> int:  # noqa: N802
        return super().indexOf(self._page(room))

    def setCurrentWidget(self, room: QWidget) -> None:  # noqa: N802
        super().setCurrentWidget(self._page(room))

    def _page(self, room: QWidget) -> QWidget:
        return next((page for page, r in self._rooms.items() if r is room), room)
