"""MosaicPanel: a titled image with a fixed colour scale, the building block of mosaic views."""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QPainterPath
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsRectItem, QLabel, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from gui.views import colour_bar_ticks
from gui.views.palette import HIGHLIGHT_COLOR, MOSAIC_BACKGROUND, OUTLINE_COLOR, diverging_colormap
from gui.views.pg_setup import pg

# Height of the plot area in pixels for a given image aspect (rows / cols), assuming the
# panel is about NOMINAL_WIDTH wide; clamped so one layer never hides the rest.
NOMINAL_WIDTH = 320
MIN_HEIGHT, MAX_HEIGHT = 90, 420
STRIP_HEIGHT = 56


class PixelImageItem(pg.ImageItem):
    """ImageItem that reports clicks and hovers as image pixels (row, col)."""

    pixel_clicked = Signal(int, int)
    pixel_hovered = Signal(int, int)
    hover_left = Signal()

    def mouseClickEvent(self, ev) -> None:  # noqa: N802  (Qt/pyqtgraph override)
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        ev.accept()
        self.pixel_clicked.emit(math.floor(ev.pos().y()), math.floor(ev.pos().x()))

    def hoverEvent(self, ev) -> None:  # noqa: N802
        if ev.isExit():
            self.hover_left.emit()
        else:
            self.pixel_hovered.emit(math.floor(ev.pos().y()), math.floor(ev.pos().x()))


class MosaicPanel(QWidget):
    """Title + image (row 0 at the top) + a colour bar showing its levels.

    ``set_image(image, levels)``: a 2-D image is coloured with the diverging map over
    ``levels``; an (H, W, 3) image is shown as RGB in [levels] and the colour bar hides.
    Square pixels and a height that follows the image's aspect, unless ``strip``: then the
    image stretches over a fixed, short height (for a (1, N) vector shown as a strip).
    """

    pixel_clicked = Signal(int, int)
    pixel_hovered = Signal(int, int)
    hover_left = Signal()

    def __init__(self, title: str = "", parent: QWidget | None = None,
                 bar_label: str = "", strip: bool = False) -> None:
        super().__init__(parent)
        self._title = QLabel(title)
        self._title.setStyleSheet("font-weight: bold;")
        self._title.setWordWrap(True)
        self._title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._graphics = pg.GraphicsLayoutWidget()
        self._graphics.setBackground(MOSAIC_BACKGROUND)
        self._graphics.ci.setContentsMargins(2, 2, 2, 2)
        self._graphics.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._strip = strip
        self._auto_height = not strip
        self._view = self._graphics.addViewBox(row=0, col=0, lockAspect=not strip,
                                               enableMouse=False, enableMenu=False)
        self._view.invertY(True)
        self._image = PixelImageItem()
        self._image.setColorMap(diverging_colormap())
        self._view.addItem(self._image)
        self._highlight = QGraphicsRectItem()
        self._highlight.setPen(pg.mkPen(HIGHLIGHT_COLOR, width=2, cosmetic=True))
        self._highlight.setZValue(10)
        self._highlight.setVisible(False)
        self._view.addItem(self._highlight, ignoreBounds=True)  # its pen must not widen autoRange
        self._outlines = QGraphicsPathItem()  # marked tiles, e.g. frozen filters (dashed, under the highlight)
        self._outlines.setPen(pg.mkPen(OUTLINE_COLOR, width=2, cosmetic=True, style=Qt.PenStyle.DashLine))
        self._outlines.setZValue(9)
        self._outline_rects: list[tuple[int, int, int, int]] = []
        self._view.addItem(self._outlines, ignoreBounds=True)
        self._bar = pg.ColorBarItem(values=(-1.0, 1.0), colorMap=diverging_colormap(),
                                    interactive=False, width=12, label=bar_label or None)
        self._bar.axis.setTextPen(pg.mkPen("#e0e0e0"))
        colour_bar_ticks.install(self._bar.axis)
        self._graphics.addItem(self._bar, row=0, col=1)
        self._shape: tuple[int, ...] | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 4)
        layout.setSpacing(2)
        layout.addWidget(self._title)
        layout.addWidget(self._graphics)
        self._graphics.setFixedHeight(STRIP_HEIGHT if strip else MIN_HEIGHT)
        self._image.pixel_clicked.connect(self.pixel_clicked)
        self._image.pixel_hovered.connect(self.pixel_hovered)
        self._image.hover_left.connect(self.hover_left)
        # pyqtgraph drops mouse moves closer than its rate limit (10 ms): a quick move off the image into the
        # margin or onto the colour bar can lose the item's exit, leaving a readout of a pixel no longer under
        # the mouse. Every move reaches the viewport, so the panel says when the mouse is off the image.
        self._graphics.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.Leave or (event.type() == QEvent.Type.MouseMove
                                                  and not self._over_image(event.position().toPoint())):
            self.hover_left.emit()
        return False

    def _over_image(self, point: QPoint) -> bool:
        image = self._image.image
        if image is None:
            return False
        at = self._image.mapFromScene(self._graphics.mapToScene(point))
        return 0 <= at.x() < image.shape[1] and 0 <= at.y() < image.shape[0]

    @property
    def image_item(self) -> PixelImageItem:
        """The pyqtgraph item (tests read its ``image`` and ``levels``)."""
        return self._image

    @property
    def color_bar(self) -> pg.ColorBarItem:
        return self._bar

    @property
    def is_strip(self) -> bool:
        return self._strip

    def title(self) -> str:
        return self._title.text()

    def set_bar_label(self, text: str) -> None:
        """Say what the colour bar's values are (e.g. which scale), beside the bar."""
        self._bar.getAxis("left").setLabel(text or None)

    def bar_label(self) -> str:
        return self._bar.getAxis("left").labelText

    def set_title(self, text: str) -> None:
        self._title.setText(text)

    def set_plot_height(self, height: int) -> None:
        """Fix the image area's height in pixels (turns off the aspect-based height)."""
        self._auto_height = False
        self._graphics.setFixedHeight(height)

    def set_aspect_locked(self, locked: bool) -> None:
        """Square pixels (True) or stretch the image to fill the area (False)."""
        is_locked = self._view.state["aspectLocked"] is not False
        if locked != is_locked:
            self._view.setAspectLocked(locked)
            self._view.autoRange(padding=0.02)

    def graphics_view(self) -> pg.GraphicsLayoutWidget:
        return self._graphics

    def pixel_position(self, y: float, x: float) -> QPoint:
        """Viewport position of image point (y, x), e.g. (r + 0.5, c + 0.5) for a pixel centre;
        tests deliver real mouse events there (valid once the panel is shown and laid out)."""
        return self._graphics.mapFromScene(self._image.mapToScene(QPointF(x, y)))

    def set_highlight(self, rect: tuple[int, int, int, int] | None) -> None:
        """Outline pixels (y, x, height, width) of the image, e.g. the selected tile; None hides."""
        if rect is not None:
            y, x, height, width = rect
            self._highlight.setRect(x, y, width, height)
        self._highlight.setVisible(rect is not None)

    def set_outlines(self, rects: list[tuple[int, int, int, int]]) -> None:
        """Outline each (y, x, height, width) pixel block of the image with a dashed frame; [] removes them."""
        path = QPainterPath()
        for y, x, height, width in rects:
            path.addRect(x - 0.5, y - 0.5, width + 1, height + 1)  # around the tile, over the padding
        self._outlines.setPath(path)
        self._outline_rects = list(rects)

    def outlines(self) -> list[tuple[int, int, int, int]]:
        return list(self._outline_rects)

    def highlight(self) -> tuple[int, int, int, int] | None:
        if not self._highlight.isVisible():
            return None
        r = self._highlight.rect()
        return int(r.y()), int(r.x()), int(r.height()), int(r.width())

    def set_image(self, image: np.ndarray, levels: tuple[float, float]) -> None:
        rgb = image.ndim == 3
        if rgb:
            self._image.setLookupTable(None, update=False)
        elif self._image.lut is None:
            self._image.setColorMap(diverging_colormap())
        self._image.setImage(image, levels=levels, autoLevels=False)
        self._bar.setVisible(not rgb)
        if not rgb:
            self._bar.setLevels(levels)
        if image.shape[:2] != (self._shape or ())[:2]:
            self._shape = image.shape
            self._view.autoRange(padding=0.02)
            if not self._auto_height:
                return
            aspect = image.shape[0] / max(image.shape[1], 1)
            self._graphics.setFixedHeight(
                int(min(MAX_HEIGHT, max(MIN_HEIGHT, NOMINAL_WIDTH * aspect))))


def scrolling_panel_list(empty_text: str) -> tuple[QScrollArea, QVBoxLayout, QLabel]:
    """A vertical list of panels in a scroll area: (scroll area, its layout, the 'nothing yet' label).

    The layout holds the label first and a stretch last; panels go in between.
    """
    empty = QLabel(empty_text)
    empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
    empty.setWordWrap(True)
    content = QWidget()
    layout = QVBoxLayout(content)
    layout.setContentsMargins(6, 6, 6, 6)
    layout.addWidget(empty)
    layout.addStretch(1)
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setWidget(content)
    return scroll, layout, empty
