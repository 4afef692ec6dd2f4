"""The network canvas: the input, every layer and the output as a vertical chain of blocks, with drag and drop."""

from __future__ import annotations

import html
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, Qt
from PySide6.QtGui import (QColor, QContextMenuEvent, QDrag, QDragEnterEvent, QDragMoveEvent, QDropEvent,
                           QHelpEvent, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPixmap, QResizeEvent)
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QMenu, QToolTip, QWidget

from gui.builder.layer_block import (BlockView, block_height, input_view, layer_view, output_view, paint_block,
                             paint_connector, paint_insertion_marker)
from gui.builder.layer_style import display_name
from gui.builder.mime import layer_key, move_mime_data, moved_index
from gui.builder.network_editor import NetworkEditor
from models.layers import LAYER_TYPES

MARGIN, GAP = 28.0, 30.0
MIN_WIDTH, MAX_WIDTH = 320.0, 520.0
INPUT, OUTPUT = -1, -2  # block ids besides layer indices


@dataclass(frozen=True)
class _Placed:
    block: int  # layer index, INPUT or OUTPUT (or OUTPUT - 1 for the empty-network hint)
    rect: QRectF  # content coordinates
    view: BlockView


class Canvas(QAbstractScrollArea):
    """Paints the network and turns clicks and drops into selection changes and undoable edits.

    Drops of LAYER_MIME insert a new layer, drops of MOVE_MIME move one; either lands in the gap given by
    `index_at(drop position)`. Context-menu actions: add them with `addAction`.
    """

    def __init__(self, editor: NetworkEditor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("canvas")
        self._editor = editor
        self._network = editor.network
        self._caption = "custom input"
        self._placed: list[_Placed] = []
        self._drop_gap: int | None = None
        self._input_selected = False
        self._press: tuple[QPoint, int] | None = None
        self.setFrameShape(QAbstractScrollArea.Shape.NoFrame)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(int(MIN_WIDTH + 2 * MARGIN))
        self.viewport().setMouseTracking(True)
        self._network.changed.connect(self._on_network_changed)
        self._network.selection_changed.connect(self._on_selection_changed)
        self._relayout()

    # -- public -------------------------------------------------------------------------------------------
    def set_input_caption(self, caption: str) -> None:
        """The text beside 'Input' (the dataset's name)."""
        self._caption = caption
        self._relayout()

    @property
    def input_selected(self) -> bool:
        return self._input_selected

    @property
    def drop_gap(self) -> int | None:
        """The gap the insertion marker shows while a drag hovers, else None."""
        return self._drop_gap

    def index_at(self, pos: QPoint | QPointF) -> int:
        """Insertion index (0..len) for a drop at viewport position `pos`: the gap nearest above or below."""
        y = pos.y() + self.verticalScrollBar().value()
        return sum(1 for placed in self._placed if placed.block >= 0 and placed.rect.center().y() < y)

    def block_at(self, pos: QPoint | QPointF) -> int | None:
        """Layer index, INPUT, OUTPUT, or None for the background at viewport position `pos`."""
        point = QPointF(pos) + QPointF(0, self.verticalScrollBar().value())
        for placed in self._placed:
            if placed.rect.contains(point) and placed.block >= OUTPUT:
                return placed.block
        return None

    def block_rect(self, block: int) -> QRect:
        """Viewport rectangle of a layer index, INPUT or OUTPUT."""
        rect = next(p.rect for p in self._placed if p.block == block)
        return rect.translated(0, -self.verticalScrollBar().value()).toAlignedRect()

    def block_view(self, block: int) -> BlockView:
        """What a block currently shows (for tests and accessibility)."""
        return next(p.view for p in self._placed if p.block == block)

    # -- model events -------------------------------------------------------------------------------------
    def _on_network_changed(self, _architecture: object) -> None:
        self._relayout()

    def _on_selection_changed(self, index: int | None) -> None:
        if index is not None:
            self._input_selected = False
            self._ensure_visible(index)
        self.viewport().update()

    # -- layout -------------------------------------------------------------------------------------------
    def _block_width(self) -> float:
        return max(MIN_WIDTH, min(MAX_WIDTH, self.viewport().width() - 2 * MARGIN))

    def _relayout(self) -> None:
        analysis = self._network.analysis
        width = self._block_width()
        x = (self.viewport().width() - width) / 2
        views = [(INPUT, input_view(analysis.input_shape, self._caption))]
        views += [(i, layer_view(spec, la)) for i, (spec, la) in enumerate(zip(self._network.layers,
                                                                               analysis.layers))]
        if not self._network.layers:
            views.append((OUTPUT - 1, BlockView("placeholder", "Drag layers here from the palette")))
        views.append((OUTPUT, output_view(analysis.output_shape if analysis.is_valid else None)))
        y, placed = MARGIN, []
        for block, view in views:
            h = block_height(view, width, self.font())
            w = width * 0.6 if view.kind == "output" else width
            placed.append(_Placed(block, QRectF(x + (width - w) / 2, y, w, h), view))
            y += h + GAP
        self._placed = placed
        content = y - GAP + MARGIN
        self.verticalScrollBar().setPageStep(self.viewport().height())
        self.verticalScrollBar().setRange(0, max(0, int(content - self.viewport().height())))
        self.viewport().update()

    def _ensure_visible(self, block: int) -> None:
        rect = next((p.rect for p in self._placed if p.block == block), None)
        if rect is None:
            return
        bar, height = self.verticalScrollBar(), self.viewport().height()
        if rect.top() - 8 < bar.value():
            bar.setValue(int(rect.top() - 8))
        elif rect.bottom() + 8 > bar.value() + height:
            bar.setValue(int(rect.bottom() + 8 - height))

    def _gap_y(self, gap: int) -> float:
        """Content y of the middle of the gap before layer `gap` (after the input for 0)."""
        chain = [p for p in self._placed if p.block != OUTPUT - 1]
        above, below = chain[gap], chain[gap + 1]  # chain[0] is the input block
        return (above.rect.bottom() + below.rect.top()) / 2

    # -- Qt overrides -------------------------------------------------------------------------------------
    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._relayout()

    def scrollContentsBy(self, dx: int, dy: int) -> None:  # noqa: N802
        self.viewport().update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self.viewport())
        p.fillRect(self.viewport().rect(), QColor("#f4f6fa"))
        self._paint_dots(p)
        p.translate(0, -self.verticalScrollBar().value())
        for above, below in zip(self._placed, self._placed[1:]):
            paint_connector(p, QPointF(above.rect.center().x(), above.rect.bottom() + 3),
                            QPointF(below.rect.center().x(), below.rect.top() - 2))
        selected = self._network.selected
        for placed in self._placed:
            is_selected = placed.block == selected or (placed.block == INPUT and self._input_selected)
            paint_block(p, placed.rect, placed.view, self.font(), is_selected)
        if self._drop_gap is not None:
            first = self._placed[0].rect
            paint_insertion_marker(p, QPointF(first.left() - 6, self._gap_y(self._drop_gap)), first.width() + 12)
        p.end()

    def _paint_dots(self, p: QPainter) -> None:
        step, offset = 22, self.verticalScrollBar().value() % 22
        p.setPen(QColor("#dde2ea"))
        for y in range(-offset, self.viewport().height(), step):
            for x in range(11, self.viewport().width(), step):
                p.drawPoint(x, y)

    def viewportEvent(self, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.ToolTip:
            self._show_tooltip(event)  # type: ignore[arg-type]
            return True
        return super().viewportEvent(event)

    def _show_tooltip(self, event: QHelpEvent) -> None:
        block = self.block_at(event.pos())
        if block is None or block < 0:
            QToolTip.hideText()
            return
        QToolTip.showText(event.globalPos(), self.tooltip_text(block), self.viewport())

    def tooltip_text(self, index: int) -> str:
        """Rich text for a layer block: what the layer does, its arithmetic, warnings and error."""
        spec, la = self._network.layers[index], self._network.analysis.layers[index]
        lines = [f"<b>{display_name(spec.TYPE)}</b> (layer {la.index})", LAYER_TYPES[spec.TYPE].SUMMARY]
        lines += [f"<code>{html.escape(line)}</code>" for line in la.formula]
        lines += [f"<span style='color:#b45309'>\u26a0 {html.escape(w)}</span>" for w in la.warnings]
        if la.error:
            lines.append(f"<span style='color:#dc2626'>{html.escape(la.error)}</span>")
        return "<br>".join(lines)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        block = self.block_at(event.position())
        self._press = None
        if block is not None and block >= 0:
            self._network.select(block)
            if event.button() == Qt.MouseButton.LeftButton:
                self._press = (event.position().toPoint(), block)
        else:
            self._network.select(None)
            self._input_selected = block == INPUT
        self.viewport().update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._press is None or not event.buttons() & Qt.MouseButton.LeftButton:
            block = self.block_at(event.position())  # layer blocks can be picked up
            hand = Qt.CursorShape.OpenHandCursor if block is not None and block >= 0 else Qt.CursorShape.ArrowCursor
            self.viewport().setCursor(hand)
            return
        start, index = self._press
        if (event.position().toPoint() - start).manhattanLength() < QApplication.startDragDistance():
            return
        self._press = None
        drag = QDrag(self)
        drag.setMimeData(move_mime_data(index))
        drag.setPixmap(self._block_pixmap(index))
        drag.setHotSpot(start - self.block_rect(index).topLeft())
        drag.exec(Qt.DropAction.MoveAction)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._press = None

    def _block_pixmap(self, index: int) -> QPixmap:
        placed = next(p for p in self._placed if p.block == index)
        ratio = self.devicePixelRatioF()
        pixmap = QPixmap(int(placed.rect.width() * ratio) + 2, int(placed.rect.height() * ratio) + 4)
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        p = QPainter(pixmap)
        p.setOpacity(0.75)
        paint_block(p, QRectF(QPointF(0, 0), placed.rect.size()), placed.view, self.font(), True)
        p.end()
        return pixmap

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        step = {Qt.Key.Key_Up: -1, Qt.Key.Key_Down: 1}.get(Qt.Key(event.key()))
        if step is None or not len(self._network):
            super().keyPressEvent(event)
            return
        current = self._network.selected
        target = (0 if step > 0 else len(self._network) - 1) if current is None else current + step
        if 0 <= target < len(self._network):
            self._network.select(target)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802
        if self.actions():
            menu = QMenu(self)
            menu.addActions(self.actions())
            menu.exec(event.globalPos())

    # -- drag and drop ------------------------------------------------------------------------------------
    def _accepts(self, event: QDropEvent) -> bool:
        data = event.mimeData()
        if layer_key(data) is not None:
            return True
        index = moved_index(data)
        return index is not None and index < len(self._network)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if self._accepts(event):
            event.acceptProposedAction()
            self._set_drop_gap(self.index_at(event.position()))
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802
        if not self._accepts(event):
            event.ignore()
            return
        event.acceptProposedAction()
        y, bar = event.position().y(), self.verticalScrollBar()
        if y < 24 or y > self.viewport().height() - 24:  # scroll while hovering near an edge
            bar.setValue(bar.value() + (-14 if y < 24 else 14))
        self._set_drop_gap(self.index_at(event.position()))

    def dragLeaveEvent(self, event: QEvent) -> None:  # noqa: N802
        self._set_drop_gap(None)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        self._set_drop_gap(None)
        if not self._accepts(event):
            event.ignore()
            return
        gap, data = self.index_at(event.position()), event.mimeData()
        key = layer_key(data)
        if key is not None:
            self._editor.insert_new(gap, key)
            event.setDropAction(Qt.DropAction.CopyAction)
        else:
            self._editor.move_to_gap(moved_index(data), gap)  # type: ignore[arg-type]
            event.setDropAction(Qt.DropAction.MoveAction)
        event.accept()
        self.setFocus(Qt.FocusReason.OtherFocusReason)

    def _set_drop_gap(self, gap: int | None) -> None:
        if gap != self._drop_gap:
            self._drop_gap = gap
            self.viewport().update()
