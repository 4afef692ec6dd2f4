"""Small pieces shared by the window's forms (inspector, training settings): wheel-safe spin boxes, headings."""

from __future__ import annotations

from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QLabel


class NoWheelUnlessFocused:
    """Mixin for spin boxes and combos: scrolling a dock must not change the value under the pointer by accident."""

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        if self.hasFocus():  # type: ignore[attr-defined]
            super().wheelEvent(event)  # type: ignore[misc]
        else:
            event.ignore()


def section_heading(text: str) -> QLabel:
    """An upper-case section title, styled by the style sheet's #sectionHeading."""
    label = QLabel(text.upper())
    label.setObjectName("sectionHeading")
    return label
