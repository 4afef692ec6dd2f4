"""MessageLabel: a word-wrapped plain-text label whose long words (URLs, paths) wrap too.

A QLabel wraps only between words, so one long URL in a failed download's message set the label's minimum
width, and the Training dock's form grew wider than its viewport (cut off, since it never scrolls sideways).
Zero-width spaces after the separators of a long word give the line breaker places to break; `text()` gives
back the text as set.
"""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

LONG_WORD = 24  # characters: shorter words wrap as words
BREAK = "\u200b"
_SEPARATORS = re.compile(r"([/\\_.\-?&=:,])")


def breakable(text: str, longest: int = LONG_WORD) -> str:
    """`text` with a zero-width space after each separator of a word longer than `longest`, and every
    `longest` characters where a word has none."""
    def split(match: re.Match) -> str:
        word = _SEPARATORS.sub(lambda m: m.group(1) + BREAK, match.group(0))
        pieces = word.split(BREAK)
        return BREAK.join(BREAK.join(p[i:i + longest] for i in range(0, len(p), longest)) or p for p in pieces)
    return re.sub(r"\S{%d,}" % (longest + 1), split, text)


class MessageLabel(QLabel):
    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self._text = ""
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        self._text = text
        super().setText(breakable(text))

    def text(self) -> str:
        return self._text
