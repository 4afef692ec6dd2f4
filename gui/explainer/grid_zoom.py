"""The Explainer's zoom keys: Ctrl+= (or Ctrl++) in, Ctrl+- out, Ctrl+0 back to the default size."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent

ZOOM_STEP = 1.25
IN, OUT, RESET = 1, -1, 0
_KEYS = {Qt.Key.Key_Equal: IN, Qt.Key.Key_Plus: IN, Qt.Key.Key_Minus: OUT, Qt.Key.Key_0: RESET}
# Shift is how most layouts type "+"; the keypad's keys carry KeypadModifier
_IGNORED = Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier


def zoom_key(event: QEvent) -> int | None:
    """IN, OUT or RESET for a zoom key press (or its ShortcutOverride), else None."""
    if event.type() not in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride) or not isinstance(event, QKeyEvent):
        return None
    if event.modifiers() & ~_IGNORED != Qt.KeyboardModifier.ControlModifier:
        return None
    return _KEYS.get(Qt.Key(event.key()))


def zoomed(factor: float, key: int) -> float:
    """The zoom factor after `key` (RESET: 1)."""
    return 1.0 if key == RESET else factor * ZOOM_STEP ** key
