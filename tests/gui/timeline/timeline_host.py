"""A TimelineTab on screen as the window holds it: in a room tab (a scroll area), so its status line can wrap
and grow without the top-level's size hints changing (the offscreen platform warns on that)."""

from __future__ import annotations

from gui.room_tabs import RoomTabs
from gui.timeline.timeline_tab import TimelineTab


def shown_tab(qtbot, tab: TimelineTab | None = None) -> TimelineTab:
    """`tab` (a new TimelineTab by default) shown: a hidden Timeline only keeps the log's lines."""
    tab = tab if tab is not None else TimelineTab()
    tabs = RoomTabs()
    qtbot.addWidget(tabs)
    tabs.add_room(tab, "Timeline")
    tabs.resize(1000, 700)
    tabs.show()
    qtbot.waitExposed(tabs)
    tab.host = tabs  # kept alive with the tab
    return tab
