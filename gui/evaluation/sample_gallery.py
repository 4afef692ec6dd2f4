"""SampleGallery: a list of samples with their thumbnail, true class and top-3 probabilities; a click names one."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from gui.views.images import to_pixmap

THUMBNAIL = 48
MAX_SHOWN = 300  # a diagonal cell of a big set holds thousands; the first few hundred in order are what one reads


class SampleGallery(QWidget):
    """Data in: `show_samples(title, indices, thumbnails, lines)` with `lines[i]` the text of sample `indices[i]`.
    A click emits `sample_clicked(index)` (an index into the evaluated split)."""

    sample_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("Click a cell of the confusion matrix to see its samples.")
        self.title.setObjectName("galleryTitle")
        self.title.setWordWrap(True)
        self.list = QListWidget()
        self.list.setObjectName("sampleGallery")
        self.list.setIconSize(QSize(THUMBNAIL, THUMBNAIL))
        self.list.setUniformItemSizes(True)
        self.list.setSpacing(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.list, 1)
        self.list.itemClicked.connect(self._on_item_clicked)  # a bound slot, not a lambda holding self (no cycle)

    @Slot(QListWidgetItem)
    def _on_item_clicked(self, item: QListWidgetItem) -> None:
        self.sample_clicked.emit(int(item.data(Qt.ItemDataRole.UserRole)))

    def show_samples(self, title: str, indices: np.ndarray, thumbnails: np.ndarray, lines: list[str]) -> None:
        """`thumbnails` uint8 (N, H, W, C) of the whole split; only the first MAX_SHOWN samples get rows."""
        total = len(indices)
        shown = indices[:MAX_SHOWN]
        more = f" (the first {MAX_SHOWN:,} of {total:,} shown)" if total > MAX_SHOWN else ""
        self.title.setText(f"{title}: {total:,} sample{'s' if total != 1 else ''}{more}" if total else
                           f"{title}: no samples")
        self.list.clear()
        for index, line in zip(shown, lines):
            item = QListWidgetItem(QIcon(to_pixmap(thumbnails[int(index)], THUMBNAIL)), line)
            item.setData(Qt.ItemDataRole.UserRole, int(index))
            self.list.addItem(item)

    def indices(self) -> list[int]:
        """The sample indices of the rows, top to bottom."""
        return [int(self.list.item(r).data(Qt.ItemDataRole.UserRole)) for r in range(self.list.count())]

    def clear(self, text: str = "") -> None:
        self.list.clear()
        self.title.setText(text)
