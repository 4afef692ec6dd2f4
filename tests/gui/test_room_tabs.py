"""RoomTabs: a room fills its tab, and scrolls only when the tab is smaller than the room's minimum."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gui.room_tabs import RoomTabs


class _Tall(QWidget):
    """Prefers 1,500 px of height but can do with 100 (like a filter mosaic in a scroll area)."""

    def sizeHint(self):  # noqa: N802
        size = super().sizeHint()
        size.setHeight(1500)
        return size

    def minimumSizeHint(self):  # noqa: N802
        size = super().minimumSizeHint()
        size.setHeight(100)
        return size


def _room(min_width: int = 0) -> QWidget:
    room = QWidget()
    layout = QVBoxLayout(room)
    label = QLabel("a status line long enough to wrap when the room is narrow " * 3)
    label.setWordWrap(True)  # gives the layout a height-for-width: a resizable scroll area took the preferred height
    layout.addWidget(label)
    layout.addWidget(_Tall(), 1)
    room.setMinimumWidth(min_width)
    return room


def test_a_room_fills_the_tab_instead_of_its_preferred_height(qtbot):
    tabs = RoomTabs()
    qtbot.addWidget(tabs)
    room = _room()
    tabs.add_room(room, "Room")
    tabs.setMinimumSize(100, 100)
    tabs.resize(600, 500)
    tabs.show()
    qtbot.waitExposed(tabs)
    page = tabs.currentWidget().parentWidget().parentWidget()  # room -> viewport -> scroll area
    qtbot.waitUntil(lambda: room.size() == page.viewport().size() and not page.verticalScrollBar().isVisible())
    assert room.height() < 500 and page.verticalScrollBar().maximum() == 0


def test_a_room_wider_than_the_tab_scrolls_sideways(qtbot):
    tabs = RoomTabs()
    qtbot.addWidget(tabs)
    room = _room(min_width=1200)
    tabs.add_room(room, "Wide")
    tabs.setMinimumSize(100, 100)
    tabs.resize(600, 500)
    tabs.show()
    qtbot.waitExposed(tabs)
    page = room.parentWidget().parentWidget()
    qtbot.waitUntil(lambda: room.width() == 1200)
    assert page.horizontalScrollBar().maximum() > 0 and tabs.minimumSizeHint().width() < 600
    assert tabs.currentWidget() is room and tabs.widget(0) is room and tabs.indexOf(room) == 0
