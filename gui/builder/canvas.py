"""The network canvas: the input, every layer and the output as a chain of blocks (or a graph with its connectors),
with drag and drop, and connections drawn from output ports."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import replace

from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, Qt, Signal, Slot
from PySide6.QtGui import (QColor, QContextMenuEvent, QDrag, QHelpEvent, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPixmap, QResizeEvent,
                           QWheelEvent)
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QMenu, QToolTip, QWidget

from gui.builder.block_tooltips import input_tooltip, layer_tooltip, output_tooltip
from gui.builder.canvas_zoom import WheelSteps, clamp_zoom, fit_zoom, zoomed_in, zoomed_out
from gui.builder.canvas_drops import DropTarget
from gui.builder.canvas_layout import INPUT, MARGIN, MIN_WIDTH, OUTPUT, ChainLayout, Placed, lay_out
from gui.builder.canvas_wiring import Wiring, port_point
from gui.builder.graph_edges import Connector, paint_connectors
from gui.builder.graph_layout import COLUMN_GAP, lay_out_graph
from gui.builder.layer_style import shape_text
from gui.builder.layer_block import BlockView, paint_block, paint_connector, paint_insertion_marker
from gui.builder.mime import move_mime_data
from gui.builder.network_editor import NetworkEditor
from models import graph
from models.architecture import Architecture

SCROLL_STEP = 20  # pixels per wheel line, as QScrollArea scrolls the other panels (Qt's default here is 1)


class Canvas(DropTarget, QAbstractScrollArea):
    """Paints the network and turns clicks and drops into selection changes and undoable edits.

    Drops of LAYER_MIME insert a new layer, drops of MOVE_MIME move one; either lands in the gap given by
    `index_at(drop position)`. Context-menu actions: add them with `addAction`.
    Zoom (`zoom`, `set_zoom`, `zoom_in`, `zoom_out`, `zoom_to_fit`; Ctrl+wheel) scales the painting; the layout
    stays in unzoomed content coordinates and the scroll bars count zoomed pixels.

    Connections: dragging from a block's output port (the middle of its bottom edge) to another block makes that
    block read it (NetworkEditor.connect; a refusal is emitted as `wiring_refused`, which the window shows in its status bar). A
    graph's connectors can be clicked; Delete or the context menu removes the selected one.
    """

    zoom_changed = Signal(float)
    wiring_refused = Signal(str)

    def __init__(self, editor: NetworkEditor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("canvas")
        self._editor = editor
        self._network = editor.network
        self._caption = "custom input"
        self._output_problem: str | None = None
        # The followed run's health notes by layer number (1-based, as the summary table), and the network they
        # describe: shown only while the network is that one (an edit hides them, its undo brings them back).
        self._health: dict[int, tuple[str, ...]] = {}
        self._health_architecture: Architecture | None = None
        self._layout: ChainLayout
        self._placed: list[Placed] = []
        self._drop_gap: int | None = None
        self._input_selected = False
        self._press: tuple[QPoint, int] | None = None
        self._zoom = 1.0
        self._wheel_steps = WheelSteps()
        self._wiring = Wiring()
        self._hovered: int | None = None
        self.setFrameShape(QAbstractScrollArea.Shape.NoFrame)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)  # zoomed in, blocks outgrow it
        self.verticalScrollBar().setSingleStep(SCROLL_STEP)
        self.horizontalScrollBar().setSingleStep(SCROLL_STEP)
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

    def set_output_problem(self, reason: str | None) -> None:
        """Why training cannot start, or None. Shown on the output block (red, reason as its tooltip) when the
        network itself is valid: then the output is what disagrees with the dataset (e.g. its class count)."""
        self._output_problem = reason
        self._relayout()

    @Slot(object, object)
    def show_health(self, notes: Mapping[int, Sequence[str]], architecture: Architecture | None) -> None:
        """Badge the layers in `notes` ({layer number, 1-based: (warning and what to try, ...)}, plain data from
        gui/training/health_line.py) while the network is `architecture`; empty `notes` take the badges off."""
        self._health = {int(layer): tuple(texts) for layer, texts in notes.items() if texts}
        self._health_architecture = architecture
        self._relayout()

    def health_notes(self, block: int) -> tuple[str, ...]:
        """The health notes a layer index (0-based) shows now: () when it has none or the network was edited since."""
        return self._shown_health().get(block + 1, ())

    def _shown_health(self) -> dict[int, tuple[str, ...]]:
        if self._health_architecture is None or self._network.architecture != self._health_architecture:
            return {}
        return self._health

    @property
    def input_selected(self) -> bool:
        return self._input_selected

    @property
    def connectors(self) -> tuple[Connector, ...]:
        """A graph's connectors (every input of every layer, and the last layer's line to the output); () for a
        chain, whose blocks are joined in list order."""
        return tuple(self._layout.connectors)

    @property
    def selected_connection(self) -> tuple[int, int] | None:
        """(source number, target layer index) of the selected connector, or None."""
        return self._wiring.selected

    def select_connection(self, source: int, target: int) -> None:
        self._wiring.selected = (source, target)
        self._network.select(None)
        self._input_selected = False
        self.viewport().update()

    def delete_selected_connection(self) -> None:
        if self._wiring.selected is not None:
            source, target = self._wiring.selected
            self._refuse(self._editor.disconnect(source, target))

    def port_point(self, block: int) -> QPoint:
        """Viewport point of the output port of a layer index or INPUT."""
        return self._to_viewport(port_point(next(p.rect for p in self._placed if p.block == block)))

    def connector_point(self, source: int, target: int) -> QPoint:
        """Viewport point halfway along the connector from layer number `source` to layer index `target`."""
        connector = next(c for c in self._layout.connectors if (c.source, c.target) == (source, target))
        return self._to_viewport(connector.path.pointAtPercent(0.5))

    def _to_viewport(self, point: QPointF) -> QPoint:
        return QPointF(point.x() * self._zoom - self.horizontalScrollBar().value(),
                       point.y() * self._zoom - self.verticalScrollBar().value()).toPoint()

    def _refuse(self, reason: str | None) -> None:
        if reason:
            self.wiring_refused.emit(reason)

    @property
    def drop_gap(self) -> int | None:
        """The gap the insertion marker shows while a drag hovers, else None."""
        return self._drop_gap

    @property
    def zoom(self) -> float:
        return self._zoom

    def set_zoom(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom to `factor` (bounded by canvas_zoom), keeping the content under viewport point `anchor` (default:
        the centre) in place vertically."""
        factor = clamp_zoom(factor)
        if abs(factor - self._zoom) < 1e-9:
            return
        anchor = anchor if anchor is not None else QPointF(self.viewport().rect().center())
        fixed = self._to_content(anchor)
        self._zoom = factor
        self._relayout()
        self.verticalScrollBar().setValue(round(fixed.y() * factor - anchor.y()))
        self.zoom_changed.emit(factor)

    def zoom_in(self) -> None:
        self.set_zoom(zoomed_in(self._zoom))

    def zoom_out(self) -> None:
        self.set_zoom(zoomed_out(self._zoom))

    def zoom_to_fit(self) -> None:
        """The whole chain in view (at most 100%). Wider blocks wrap less, so the height is measured again."""
        for _ in range(3):
            self.set_zoom(fit_zoom(self._layout.height, self.viewport().height()))

    def index_at(self, pos: QPoint | QPointF) -> int:
        """Insertion index (0..len) for a drop at viewport position `pos`: the gap nearest above or below. In a
        graph: just after the block above the point in its column (the new layer goes on that block's way out)."""
        point = self._to_content(pos)
        y = point.y()
        if not self._layout.is_graph:
            return sum(1 for placed in self._placed if placed.block >= 0 and placed.rect.center().y() < y)
        above = [p for p in self._placed if (p.block >= 0 or p.block == INPUT) and p.rect.center().y() < y]
        column = [p for p in above if p.rect.left() - COLUMN_GAP / 2 <= point.x() <= p.rect.right() + COLUMN_GAP / 2]
        nearest = max(column or above, key=lambda p: p.rect.center().y(), default=None)
        return 0 if nearest is None or nearest.block == INPUT else nearest.block + 1

    def block_at(self, pos: QPoint | QPointF) -> int | None:
        """Layer index, INPUT, OUTPUT, or None for the background at viewport position `pos`."""
        return self._content_block(self._to_content(pos))

    def _content_block(self, point: QPointF) -> int | None:
        for placed in self._placed:
            if placed.rect.contains(point) and placed.block >= OUTPUT:
                return placed.block
        return None

    def block_rect(self, block: int) -> QRect:
        """Viewport rectangle of a layer index, INPUT or OUTPUT."""
        rect, zoom = next(p.rect for p in self._placed if p.block == block), self._zoom
        return QRectF(rect.x() * zoom - self.horizontalScrollBar().value(),
                      rect.y() * zoom - self.verticalScrollBar().value(),
                      rect.width() * zoom, rect.height() * zoom).toAlignedRect()

    def block_view(self, block: int) -> BlockView:
        """What a block currently shows (for tests and accessibility)."""
        return next(p.view for p in self._placed if p.block == block)

    def tooltip_text(self, block: int) -> str:
        """Rich text shown on hovering a layer index, INPUT or OUTPUT ("" for none)."""
        analysis = self._network.analysis
        if block == INPUT:
            return input_tooltip(analysis, self._caption)
        if block == OUTPUT:
            return output_tooltip(analysis, self._output_problem)
        if 0 <= block < len(self._network):
            text = layer_tooltip(self._network.layers[block], analysis.layers[block])
            notes = self.health_notes(block)
            if notes:
                text += "<br><b style='color:#e11d48'>Health of the run</b><br>" + "<br>".join(
                    f"<span style='color:#be123c'>\u26a0 {html.escape(note)}</span>" for note in notes)
            return text
        return ""

    def connector_tooltip(self, source: int, target: int) -> str:
        """What hovering a connector says: which layer feeds which, and the shape that flows along it."""
        arch, analysis = self._network.architecture, self._network.analysis
        shape = analysis.input_shape if source == 0 else analysis.layers[source - 1].output_shape
        return (f"{html.escape(graph.source_label(source, arch))} \u2192 "
                f"{html.escape(graph.source_label(target + 1, arch))}: {shape_text(shape)}<br>"
                "<i>Click it, then Delete (or right-click) to remove it.</i>")

    def _to_content(self, pos: QPoint | QPointF) -> QPointF:
        return QPointF((pos.x() + self.horizontalScrollBar().value()) / self._zoom,
                       (pos.y() + self.verticalScrollBar().value()) / self._zoom)

    # -- model events -------------------------------------------------------------------------------------
    def _on_network_changed(self, _architecture: object) -> None:
        self._relayout()
        self._wiring.keep_if_present(self._layout)

    def _on_selection_changed(self, index: int | None) -> None:
        if index is not None:
            self._input_selected = False
            self._wiring.selected = None
            self._ensure_visible(index)
        self.viewport().update()

    # -- layout -------------------------------------------------------------------------------------------
    def _relayout(self) -> None:
        room = self.viewport().width() / self._zoom  # the viewport's width in content coordinates
        arrange = lay_out_graph if self._network.architecture.is_graph else lay_out
        self._layout = arrange(self._network, self._caption, self._output_problem, room, self.font())
        health = self._shown_health()
        self._placed = [replace(p, view=replace(p.view, health=health[p.block + 1])) if p.block + 1 in health else p
                        for p in self._layout.placed]
        for bar, content, room in ((self.verticalScrollBar(), self._layout.height, self.viewport().height()),
                                   (self.horizontalScrollBar(), self._layout.width, self.viewport().width())):
            bar.setPageStep(room)
            bar.setRange(0, max(0, int(content * self._zoom - room)))
        self.viewport().update()

    def _ensure_visible(self, block: int) -> None:
        rect = next((p.rect for p in self._placed if p.block == block), None)
        if rect is None:
            return
        bar, height = self.verticalScrollBar(), self.viewport().height()
        top, bottom = rect.top() * self._zoom - 8, rect.bottom() * self._zoom + 8
        if top < bar.value():
            bar.setValue(int(top))
        elif bottom > bar.value() + height:
            bar.setValue(int(bottom - height))

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
        p.translate(-self.horizontalScrollBar().value(), -self.verticalScrollBar().value())
        p.scale(self._zoom, self._zoom)
        if self._layout.is_graph:
            paint_connectors(p, list(self._layout.connectors), self._wiring.selected)
        else:
            for above, below in zip(self._placed, self._placed[1:]):
                paint_connector(p, QPointF(above.rect.center().x(), above.rect.bottom() + 3),
                                QPointF(below.rect.center().x(), below.rect.top() - 2))
        selected = self._network.selected
        for placed in self._placed:
            is_selected = placed.block == selected or (placed.block == INPUT and self._input_selected)
            paint_block(p, placed.rect, placed.view, self.font(), is_selected)
        self._paint_wiring(p)
        if self._drop_gap is not None:
            lines = self._layout.gap_lines
            if lines is not None:
                left, y, width = lines[self._drop_gap]
            else:
                first = self._placed[0].rect
                left, y, width = first.left() - 6, self._layout.gap_y(self._drop_gap), first.width() + 12
            paint_insertion_marker(p, QPointF(left, y), width)
        p.end()

    def _paint_wiring(self, p: QPainter) -> None:
        shown = {b for b in (self._hovered, self._network.selected) if b is not None and b != OUTPUT}
        target = None
        if self._wiring.drawing is not None:
            block = self._content_block(self._wiring.drawing[1])
            target = next((pl.rect for pl in self._placed if pl.block == block), None) if block is not None \
                and block >= 0 else None
        self._wiring.paint(p, self._layout, shown, target)

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
        if block is not None:
            text = self.tooltip_text(block)
        else:
            connector = Wiring.connector_at(self._layout, self._to_content(event.pos()))
            text = self.connector_tooltip(connector.source, connector.target) if connector is not None else ""
        if text:
            QToolTip.showText(event.globalPos(), text, self.viewport())
        else:
            QToolTip.hideText()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        if not event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            super().wheelEvent(event)  # scrolls SCROLL_STEP pixels a line
            return
        steps = self._wheel_steps.steps(event.angleDelta().y())
        factor = self._zoom
        for _ in range(abs(steps)):
            factor = zoomed_in(factor) if steps > 0 else zoomed_out(factor)
        self.set_zoom(factor, event.position())
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        point = self._to_content(event.position())
        source = Wiring.port_at(self._layout, point)
        if source is not None and event.button() == Qt.MouseButton.LeftButton:
            self._wiring.drawing, self._press = (source, point), None
            return
        block = self.block_at(event.position())
        connector = Wiring.connector_at(self._layout, point) if block is None else None
        if connector is not None:
            self.select_connection(connector.source, connector.target)
            return
        self._wiring.selected = None
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
        if self._wiring.drawing is not None:
            self._wiring.drawing = (self._wiring.drawing[0], self._to_content(event.position()))
            self.viewport().update()
            return
        if self._press is None or not event.buttons() & Qt.MouseButton.LeftButton:
            block = self.block_at(event.position())  # layer blocks can be picked up
            on_port = Wiring.port_at(self._layout, self._to_content(event.position())) is not None
            hand = (Qt.CursorShape.CrossCursor if on_port else Qt.CursorShape.OpenHandCursor
                    if block is not None and block >= 0 else Qt.CursorShape.ArrowCursor)
            self.viewport().setCursor(hand)
            if block != self._hovered:
                self._hovered = block
                self.viewport().update()
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
        if self._wiring.drawing is None:
            return
        source, self._wiring.drawing = self._wiring.drawing[0], None
        target = self.block_at(event.position())
        if target is not None and target >= 0 and source != target + 1:
            self._refuse(self._editor.connect(source, target))
        self.viewport().update()

    def _block_pixmap(self, index: int) -> QPixmap:
        placed = next(p for p in self._placed if p.block == index)
        ratio = self.devicePixelRatioF()
        scale = ratio * self._zoom  # the dragged block looks as big as the one on the canvas
        pixmap = QPixmap(int(placed.rect.width() * scale) + 2, int(placed.rect.height() * scale) + 4)
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        p = QPainter(pixmap)
        p.scale(self._zoom, self._zoom)
        p.setOpacity(0.75)
        paint_block(p, QRectF(QPointF(0, 0), placed.rect.size()), placed.view, self.font(), True)
        p.end()
        return pixmap

    def event(self, event: QEvent) -> bool:
        # The window's Delete shortcut deletes the selected layer; with a connector selected the key is ours.
        if (event.type() == QEvent.Type.ShortcutOverride and self._wiring.selected is not None
                and event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)):  # type: ignore[attr-defined]
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if self._wiring.selected is not None and event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.delete_selected_connection()
            return
        step = {Qt.Key.Key_Up: -1, Qt.Key.Key_Down: 1}.get(Qt.Key(event.key()))
        if step is None or not len(self._network):
            super().keyPressEvent(event)
            return
        current = self._network.selected
        target = (0 if step > 0 else len(self._network) - 1) if current is None else current + step
        if 0 <= target < len(self._network):
            self._network.select(target)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802
        point = self._to_content(QPointF(self.viewport().mapFrom(self, event.pos())))
        connector = Wiring.connector_at(self._layout, point) if self._content_block(point) is None else None
        if connector is not None:
            self.select_connection(connector.source, connector.target)
            menu = QMenu(self)
            menu.addAction("Delete connection", self.delete_selected_connection)
            menu.exec(event.globalPos())
            return
        if self.actions():
            menu = QMenu(self)
            menu.addActions(self.actions())
            menu.exec(event.globalPos())
