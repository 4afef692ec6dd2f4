"""ConfusionMatrixView: counts (or row-normalised shares) per true and predicted class; a click names the cell."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

_Index = QModelIndex | QPersistentModelIndex
_RIGHT, _WRONG = (37, 99, 235), (234, 88, 12)  # diagonal blue, off-diagonal orange
# An error cell is coloured at least this strongly: 7 errors beside 1,000 right answers must not look empty.
MIN_ERROR_STRENGTH = 0.2


class ConfusionModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.counts = np.zeros((0, 0), dtype=np.int64)
        self.largest_error = 0  # the largest off-diagonal count: the errors' colour scale
        self.names: list[str] = []
        self.normalized = False

    def set_matrix(self, counts: np.ndarray, names: list[str]) -> None:
        self.beginResetModel()
        self.counts, self.names = np.asarray(counts, dtype=np.int64), list(names)
        off = self.counts.copy()
        np.fill_diagonal(off, 0)
        self.largest_error = int(off.max(initial=0))
        self.endResetModel()

    def strength(self, row: int, column: int) -> float:
        """How strongly a cell is coloured, 0..1. The diagonal by its share of the row; the errors on a scale of
        their own (count / the largest error count, at least MIN_ERROR_STRENGTH when any): on the row's scale a
        cell with 7 of 1,000 images is 0.7% coloured, i.e. white."""
        count = int(self.counts[row, column])
        if not count:
            return 0.0
        if row == column:
            return self.share(row, column)
        return MIN_ERROR_STRENGTH + (1 - MIN_ERROR_STRENGTH) * count / self.largest_error

    def set_normalized(self, on: bool) -> None:
        self.normalized = on
        if self.counts.size:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.names) - 1, len(self.names) - 1))

    def share(self, row: int, column: int) -> float:
        total = int(self.counts[row].sum())
        return float(self.counts[row, column]) / total if total else 0.0

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802 (Qt override)
        return 0 if parent.isValid() else len(self.names)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.names)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        count, share = int(self.counts[row, column]), self.share(row, column)
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{share:.0%}" if self.normalized else f"{count:,}"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return Qt.AlignmentFlag.AlignCenter
        if role == Qt.ItemDataRole.BackgroundRole:
            r, g, b = _RIGHT if row == column else _WRONG
            strength = self.strength(row, column)
            return QColor(round(255 + (r - 255) * strength), round(255 + (g - 255) * strength),
                          round(255 + (b - 255) * strength))
        if role == Qt.ItemDataRole.ForegroundRole:
            return QColor("white") if self.strength(row, column) > 0.55 else QColor("#1f2937")
        if role == Qt.ItemDataRole.ToolTipRole:
            return (f"true {self.names[row]}, predicted {self.names[column]}: {count:,} samples "
                    f"({share:.1%} of the true {self.names[row]}); click to see them\n" + self._scale_text(row, column))
        return None

    def _scale_text(self, row: int, column: int) -> str:
        if row == column:
            return "Blue: the share of the row predicted right."
        return (f"Orange: errors on their own scale, darkest = the largest error count "
                f"({self.largest_error:,}); any error is visibly coloured.")

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role != Qt.ItemDataRole.DisplayRole or section >= len(self.names):
            return None
        return self.names[section]


class ConfusionMatrixView(QTableView):
    """Rows are the true class, columns the predicted class. Data in: `set_matrix(counts, names)`,
    `set_normalized(on)`; a click on a cell emits `cell_clicked(true_class, predicted_class)`."""

    cell_clicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("confusionMatrix")
        self.matrix = ConfusionModel(self)
        self.setModel(self.matrix)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.horizontalHeader().setMinimumSectionSize(30)
        self.verticalHeader().setMinimumSectionSize(20)
        self.clicked.connect(self._on_clicked)  # a bound slot, not a lambda holding self (no cycle)

    @Slot(QModelIndex)
    def _on_clicked(self, index: QModelIndex) -> None:
        self.cell_clicked.emit(index.row(), index.column())

    def set_matrix(self, counts: np.ndarray, names: list[str]) -> None:
        self.matrix.set_matrix(counts, names)

    def set_normalized(self, on: bool) -> None:
        self.matrix.set_normalized(on)

    def cell_text(self, row: int, column: int) -> str:
        return self.matrix.data(self.matrix.index(row, column))
