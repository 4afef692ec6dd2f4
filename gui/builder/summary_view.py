"""The textbook summary table (models.summary_table), live, with Copy as Markdown / CSV."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QFont, QGuiApplication
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTableView,
                               QVBoxLayout, QWidget)

from gui.builder.layer_style import parameters_text
from models.network import Network
from models.plural import counted
from models.receptive_field import LayerField, receptive_fields
from models.summary_table import as_csv, as_markdown, headers, rows

_NUMERIC = {0, 3, 4, 5, 6, 7}  # right-aligned columns
AnyIndex = QModelIndex | QPersistentModelIndex


def summary_fields(network: Network) -> tuple[LayerField, ...]:
    """Every layer's receptive field, as the table and its copies show them."""
    return receptive_fields(network.architecture, network.analysis)


class SummaryTableModel(QAbstractTableModel):
    """`summary_table.rows(network.analysis, fields)`: input row, one row per layer, totals row (bold), the last
    column each layer's receptive field and jump ('14x14 (jump 2)', models.receptive_field). A graph's rows are
    in the order its layers run, with an Inputs column (the layers each reads)."""

    def __init__(self, network: Network) -> None:
        super().__init__()
        self._network = network
        self._read()
        network.changed.connect(self._on_network_changed)

    def _read(self) -> None:
        network = self._network
        graph = network.architecture.is_graph
        self.fields = summary_fields(network)
        self._headers = headers(self.fields, graph)
        self._rows = rows(network.analysis, self.fields, graph, jumps=True)

    def _on_network_changed(self, _architecture: object) -> None:
        self.beginResetModel()
        self._read()
        self.endResetModel()

    def layer_number(self, row: int) -> int | None:
        """The layer number (1-based) a row shows, or None for the input and totals rows."""
        text = self._rows[row][0] if 0 <= row < len(self._rows) else ""
        return int(text) if text.isdigit() and text != "0" else None

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._headers)

    def is_error_row(self, row: int) -> bool:
        number = self.layer_number(row)
        return number is not None and self._network.analysis.layers[number - 1].error is not None

    def is_total_row(self, row: int) -> bool:
        return row == len(self._rows) - 1

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return self._rows[row][column]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            horizontal = Qt.AlignmentFlag.AlignRight if column in _NUMERIC else Qt.AlignmentFlag.AlignLeft
            return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and self.is_total_row(row):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and self.is_error_row(row):
            return QBrush(QColor("#b91c1c"))
        if role == Qt.ItemDataRole.BackgroundRole:
            if self.is_error_row(row):
                return QBrush(QColor("#fee2e2"))
            if self.is_total_row(row):
                return QBrush(QColor("#f1f5f9"))
        if role == Qt.ItemDataRole.ToolTipRole and self.is_error_row(row):
            return self._network.analysis.layers[self.layer_number(row) - 1].error  # type: ignore[operator]
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.TextAlignmentRole:
            horizontal = Qt.AlignmentFlag.AlignRight if section in _NUMERIC else Qt.AlignmentFlag.AlignLeft
            return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        return None


class SummaryView(QWidget):
    """The table plus Copy as Markdown / Copy as CSV buttons (also in its context menu); `copied(text)` says
    what went to the clipboard (the window shows it in the status bar)."""

    copied = Signal(str)

    def __init__(self, network: Network, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("summaryView")
        self._network = network
        self.model = SummaryTableModel(network)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setDefaultSectionSize(24)

        self.copy_markdown_action = QAction("Copy as Markdown", self)
        self.copy_markdown_action.triggered.connect(self.copy_markdown)
        self.copy_csv_action = QAction("Copy as CSV", self)
        self.copy_csv_action.triggered.connect(self.copy_csv)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.table.addActions([self.copy_markdown_action, self.copy_csv_action])

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        self.status_label = QLabel()
        self.status_label.setObjectName("summaryStatus")
        bar.addWidget(self.status_label, 1)
        for action in (self.copy_markdown_action, self.copy_csv_action):
            button = QPushButton(action.text())
            button.setObjectName("flatButton")
            button.clicked.connect(action.trigger)
            bar.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        layout.setSpacing(6)
        layout.addLayout(bar)
        layout.addWidget(self.table)
        network.changed.connect(self._on_network_changed)
        self._on_network_changed(None)

    def _on_network_changed(self, _architecture: object) -> None:
        analysis = self._network.analysis
        if all(la.output_shape is not None for la in analysis.layers):
            self.status_label.setText(f"{counted(len(analysis.layers), 'layer')} \u00b7 "
                                      f"{parameters_text(analysis.total_params, analysis.total_frozen)} "
                                      f"\u00b7 {analysis.total_macs:,} mult-adds per image")
        else:  # the layers after an error have no known size: no partial total
            self.status_label.setText(f"{counted(len(analysis.layers), 'layer')} \u00b7 ? parameters \u00b7 ? "
                                      "mult-adds (fix the layer marked (!) first)")

    def _is_graph(self) -> bool:
        return self._network.architecture.is_graph

    def copy_markdown(self) -> None:
        QGuiApplication.clipboard().setText(as_markdown(self._network.analysis, self.model.fields, self._is_graph(),
                                                        jumps=True))
        self.copied.emit(f"Copied the summary table as Markdown ({counted(self.model.rowCount(), 'row')})")

    def copy_csv(self) -> None:
        QGuiApplication.clipboard().setText(as_csv(self._network.analysis, self.model.fields, self._is_graph(),
                                                   jumps=True))
        self.copied.emit(f"Copied the summary table as CSV ({counted(self.model.rowCount(), 'row')})")
