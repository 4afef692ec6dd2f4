"""The layer palette: every registered layer type, grouped, to drag onto the canvas or double-click to append."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QModelIndex, QPersistentModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QKeyEvent, QPainter, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QStyledItemDelegate, QStyleOptionViewItem, QTreeWidget,
                               QTreeWidgetItem, QWidget)

from gui.builder.layer_style import GROUP_COLORS, display_name
from gui.builder.mime import LAYER_MIME, layer_mime_data
from models.layers import GROUPS, LAYER_TYPES, MERGE_TYPES
from models.residual_block import BLOCK_TYPES

KEY_ROLE = Qt.ItemDataRole.UserRole


def _dot(color: str, size: int = 12) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(color))
    painter.drawRoundedRect(1, 1, size - 2, size - 2, 3, 3)
    painter.end()
    return QIcon(pixmap)


class _RowDelegate(QStyledItemDelegate):
    """Roomier rows than the style's default: group headings 30 px, layers 26 px."""

    def sizeHint(self, option: QStyleOptionViewItem,  # noqa: N802
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        size = super().sizeHint(option, index)
        return QSize(size.width(), max(size.height(), 26 if index.parent().isValid() else 30))


# After the layer groups: the merges that join branches, then the blocks of wired layers (a graph's pieces).
MERGE_GROUP, BLOCK_GROUP = "Merge", "Blocks"


def _entries() -> list[tuple[str, list[tuple[str, str, str]]]]:
    """(group, [(key, name, summary)]) in palette order."""
    out = [(group, [(key, display_name(key), cls.SUMMARY) for key, cls in LAYER_TYPES.items() if cls.GROUP == group])
           for group in GROUPS]
    out.append((MERGE_GROUP, [(key, display_name(key), cls.SUMMARY) for key, cls in MERGE_TYPES.items()]))
    out.append((BLOCK_GROUP, [(key, block.DISPLAY_NAME, block.SUMMARY) for key, block in BLOCK_TYPES.items()]))
    return out


class Palette(QTreeWidget):
    """Groups in `GROUPS` order, then merges and blocks; each item carries its registry key (KEY_ROLE) and its
    SUMMARY as tooltip.

    Dragging an item puts the key under LAYER_MIME; double-click or Enter emits `layer_activated(key)`.
    """

    layer_activated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("palette")
        self.setHeaderHidden(True)
        self.setRootIsDecorated(False)
        self.setIndentation(8)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setItemDelegate(_RowDelegate(self))
        for group, entries in _entries():
            header = QTreeWidgetItem(self, [group.upper()])
            header.setFlags(Qt.ItemFlag.ItemIsEnabled)  # not selectable, not draggable
            header.setData(0, Qt.ItemDataRole.AccessibleTextRole, group)
            font = header.font(0)
            font.setBold(True)
            font.setPointSizeF(font.pointSizeF() * 0.85)
            header.setFont(0, font)
            header.setForeground(0, QColor("#64748b"))
            for key, name, summary in entries:
                item = QTreeWidgetItem(header, [name])
                item.setData(0, KEY_ROLE, key)
                item.setToolTip(0, f"<b>{name}</b><br>{summary}<br><i>Drag onto the network, "
                                   f"or double-click to append.</i>")
                item.setIcon(0, _dot(GROUP_COLORS[group]))
                item.setForeground(0, QColor("#1e293b"))
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                              | Qt.ItemFlag.ItemIsDragEnabled)
        self.expandAll()
        # Not itemActivated: some platforms activate on a single click, which would append on every drag.
        self.itemDoubleClicked.connect(self._on_item_double_clicked)

    def keys(self) -> list[str]:
        """The registry keys in display order."""
        return [item.data(0, KEY_ROLE) for item in self._layer_items()]

    def item_for(self, key: str) -> QTreeWidgetItem:
        return next(item for item in self._layer_items() if item.data(0, KEY_ROLE) == key)

    def _layer_items(self) -> list[QTreeWidgetItem]:
        return [self.topLevelItem(g).child(i) for g in range(self.topLevelItemCount())
                for i in range(self.topLevelItem(g).childCount())]

    def mimeTypes(self) -> list[str]:  # noqa: N802 (Qt override)
        return [LAYER_MIME]

    def mimeData(self, items: list[QTreeWidgetItem]) -> QMimeData:  # noqa: N802 (Qt override)
        keys = [item.data(0, KEY_ROLE) for item in items if item.data(0, KEY_ROLE)]
        return layer_mime_data(keys[0]) if keys else QMimeData()

    def supportedDropActions(self) -> Qt.DropAction:  # noqa: N802 (Qt override)
        return Qt.DropAction.CopyAction

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        item = self.currentItem()
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and item is not None and item.data(0, KEY_ROLE):
            self.layer_activated.emit(item.data(0, KEY_ROLE))
            return
        super().keyPressEvent(event)

    def _on_item_double_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        key = item.data(0, KEY_ROLE)
        if key:
            self.layer_activated.emit(key)
