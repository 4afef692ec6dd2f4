"""ScoreMapsView: a wide input image, the arg-max class at each window position, and one score map per class.

A numpy-in view (no torch, no threads). Every row shares the input image's x axis: position (r, c) of a map is
drawn as a stride-sized cell centred on the centre of the window it scores, so a class lighting up sits under
the digit that made it. The class maps share one 0..1 colour scale and one colour bar.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Slot
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from gui.views.mosaic_panel import PixelImageItem
from gui.views.palette import MOSAIC_BACKGROUND
from gui.views.pg_setup import pg

INPUT_HEIGHT = (60, 180)  # px of the input row: as tall as square pixels need, within these (the maps need room)
BAR_ROOM = 90         # px right of the maps: the colour bar and its labels
PREDICTED_HEIGHT = 44  # px of the arg-max row
CLASS_HEIGHT = 30     # px of each class's row
NAME_WIDTH = 110      # px of the class-name column
HOVER_HINT = "Hover a map to read its probabilities."
MAX_CELL_LABELS = 80  # beyond this many positions the arg-max cells carry no text (it would not fit)
# Categorical colours for the arg-max classes (matplotlib's tab10, then tab20's lighter partners).
CLASS_COLOURS = np.array([
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
    (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207), (174, 199, 232), (255, 187, 120),
    (152, 223, 138), (255, 152, 150), (197, 176, 213), (196, 156, 148), (247, 182, 210), (199, 199, 199),
    (219, 219, 141), (158, 218, 229)], dtype=np.uint8)


def class_colours(predicted: np.ndarray) -> np.ndarray:
    """(rows, cols) class indices -> (rows, cols, 3) uint8 colours (the table repeats past 20 classes)."""
    return CLASS_COLOURS[np.asarray(predicted, dtype=np.int64) % len(CLASS_COLOURS)]


class ScoreMapsView(QWidget):
    """``show_maps(pixels, probabilities, predicted, class_names, stride, window)`` draws them; ``clear()`` empties.

    ``pixels`` (H, W) grey or (H, W, 3) in [0, 1]; ``probabilities`` (K, rows, cols) in [0, 1]; ``predicted``
    (rows, cols) class indices; ``stride`` and ``window`` (height, width) in image pixels.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._graphics = pg.GraphicsLayoutWidget()
        self._graphics.setBackground(MOSAIC_BACKGROUND)
        self._graphics.setFixedHeight(INPUT_HEIGHT[0] + PREDICTED_HEIGHT)
        self._image_shape: tuple[int, int] | None = None  # (H, W) of the input shown
        # Made by _build, fresh each time: clearing the layout frees the items it held.
        self._bar: pg.ColorBarItem | None = None
        self._input: pg.ImageItem | None = None
        self._predicted: pg.ImageItem | None = None
        self._class_items: list[pg.ImageItem] = []
        self._names: list[str] = []
        self._cell_labels: list[pg.TextItem] = []
        self._predicted_view: pg.ViewBox | None = None
        self._cells: tuple[QRectF, int, int] | None = None  # (the maps' rect, rows, cols) in image pixels
        self.legend = QLabel()
        self.legend.setObjectName("scoreMapLegend")
        self.legend.setWordWrap(True)
        self.readout = QLabel(HOVER_HINT)
        self.readout.setObjectName("scoreMapReadout")
        self._scores: tuple[np.ndarray, np.ndarray, tuple[int, int], tuple[int, int]] | None = None
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        content = QWidget()  # the graphics at their own height, at the top; the scroll area's room below them
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(0, 0, 0, 0)
        content_layout.addWidget(self._graphics)
        content_layout.addStretch(1)
        scroll.setWidget(content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.legend)
        layout.addWidget(self.readout)

    # -- data in ----------------------------------------------------------------------------------------------
    def show_maps(self, pixels: np.ndarray, probabilities: np.ndarray, predicted: np.ndarray,
                  class_names: list[str], stride: tuple[int, int], window: tuple[int, int]) -> None:
        classes, rows, cols = probabilities.shape
        if predicted.shape != (rows, cols) or len(class_names) != classes:
            raise ValueError(f"{classes} class maps of {rows}x{cols} need {classes} names and a {rows}x{cols} "
                             f"arg-max map; got {len(class_names)} names and {predicted.shape}")
        if list(class_names) != self._names:
            self._build(list(class_names))
        height, width = pixels.shape[:2]
        (sh, sw), (wh, ww) = stride, window
        # Cell (r, c) is centred on its window's centre: (r * sh + wh / 2, c * sw + ww / 2).
        rect = QRectF(ww / 2 - sw / 2, wh / 2 - sh / 2, cols * sw, rows * sh)
        self._cells = (rect, rows, cols)
        self._scores = (probabilities, predicted, tuple(stride), tuple(window))
        self._input.setImage(np.clip(pixels, 0.0, 1.0), levels=(0.0, 1.0), autoLevels=False)
        self._input.setRect(QRectF(0, 0, width, height))
        self._image_shape = (height, width)
        self._fit_heights()
        self._predicted.setImage(class_colours(predicted), autoLevels=False, levels=(0, 255))
        self._predicted.setRect(rect)
        for item, scores in zip(self._class_items, probabilities):
            item.setImage(np.asarray(scores, dtype=np.float32), levels=(0.0, 1.0), autoLevels=False)
            item.setRect(rect)
        self._label_cells(predicted, class_names)
        # One x axis for every row; the maps' rows fill their height (a 1-row map would be a thin line in the
        # image's full height).
        self._input.getViewBox().setRange(xRange=(0, width), yRange=(0, height), padding=0)
        for view in self._views()[1:]:
            view.setRange(xRange=(0, width), yRange=(rect.top(), rect.bottom()), padding=0)
        self.legend.setText(self._legend_text(predicted, class_names))

    def clear(self) -> None:
        self._graphics.clear()
        self._class_items, self._names, self._cell_labels = [], [], []
        self._bar = self._input = self._predicted = self._predicted_view = self._cells = None
        self._image_shape = None
        self.legend.clear()
        self._scores = None
        self.readout.setText(HOVER_HINT)

    # -- what is shown (tests read these) ---------------------------------------------------------------------
    def class_titles(self) -> list[str]:
        return list(self._names)

    def class_map(self, k: int) -> np.ndarray:
        return self._class_items[k].image

    def class_item(self, k: int) -> PixelImageItem:
        """Class k's map item (its pixel_hovered is what the mouse over it emits)."""
        return self._class_items[k]

    def predicted_item(self) -> PixelImageItem | None:
        return self._predicted

    def predicted_colours(self) -> np.ndarray | None:
        return self._predicted.image if self._cells is not None else None

    def map_shape(self) -> tuple[int, int] | None:
        """(rows, cols) of the maps shown, or None."""
        return None if self._cells is None else self._cells[1:]

    def cell_centre(self, row: int, col: int) -> tuple[float, float]:
        """(y, x) in input-image pixels where map cell (row, col) is drawn."""
        rect, rows, cols = self._cells
        return (rect.y() + (row + 0.5) * rect.height() / rows, rect.x() + (col + 0.5) * rect.width() / cols)

    def cell_labels(self) -> list[str]:
        return [label.textItem.toPlainText() for label in self._cell_labels]

    def bar_levels(self) -> tuple[float, float]:
        return (float("nan"), float("nan")) if self._bar is None else tuple(self._bar.levels())

    @Slot(int, int)
    def _on_pixel_hovered(self, row: int, col: int) -> None:
        """Read out the map cell under the mouse: the class's probability and the window it scores."""
        if self._scores is None:
            return
        probabilities, predicted, (sh, sw), (wh, ww) = self._scores
        if not (0 <= row < predicted.shape[0] and 0 <= col < predicted.shape[1]):
            return
        sender = self.sender()
        k = int(predicted[row, col]) if sender is self._predicted else self._class_items.index(sender)
        what = "arg-max " if sender is self._predicted else ""
        self.readout.setText(f"{what}{self._names[k]}: probability {probabilities[k, row, col]:.3f} at position "
                             f"({row}, {col}), the window of rows {row * sh}-{row * sh + wh - 1}, columns "
                             f"{col * sw}-{col * sw + ww - 1}")

    # -- building ---------------------------------------------------------------------------------------------
    def _build(self, names: list[str]) -> None:
        """One row per class (its name, its map), under the input and arg-max rows; the bar beside the maps."""
        self.clear()
        self._names = names
        layout = self._graphics.ci
        self._input, self._predicted = pg.ImageItem(), PixelImageItem()
        self._predicted.pixel_hovered.connect(self._on_pixel_hovered)
        self._bar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=pg.colormap.get("viridis"), interactive=False,
                                    width=12, label="probability")
        self._bar.axis.setTextPen(pg.mkPen("#e0e0e0"))
        first = self._row(0, "input", self._input, INPUT_HEIGHT[0])
        self._predicted_view = self._row(1, "arg-max class", self._predicted, PREDICTED_HEIGHT)
        for k, name in enumerate(names):
            item = PixelImageItem()
            item.pixel_hovered.connect(self._on_pixel_hovered)
            item.setColorMap(pg.colormap.get("viridis"))
            self._class_items.append(item)
            self._row(2 + k, name, item, CLASS_HEIGHT)
        self._graphics.addItem(self._bar, row=2, col=2, rowspan=max(1, len(names)))
        for view in self._views():
            if view is not first:
                view.setXLink(first)
        layout.setSpacing(2)
        self._fit_heights()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._fit_heights()

    def _fit_heights(self) -> None:
        """The input row as tall as its width needs for square pixels (the rows share the x axis, so the input
        cannot keep its aspect by narrowing), and the graphics as tall as their rows."""
        if self._input is None or self._input.getViewBox() is None:
            return
        input_height = INPUT_HEIGHT[0]
        if self._image_shape is not None:
            height, width = self._image_shape
            room = max(1, self.width() - NAME_WIDTH - BAR_ROOM)
            input_height = int(min(INPUT_HEIGHT[1], max(INPUT_HEIGHT[0], room * height / max(width, 1))))
        self._input.getViewBox().setFixedHeight(input_height)
        rows = input_height + PREDICTED_HEIGHT + len(self._names) * (CLASS_HEIGHT + 2)
        self._graphics.setFixedHeight(rows + 24)

    def _row(self, row: int, name: str, item: pg.ImageItem, height: int) -> pg.ViewBox:
        label = pg.LabelItem(name, color="#e0e0e0", justify="right")
        label.setFixedWidth(NAME_WIDTH)
        self._graphics.addItem(label, row=row, col=0)
        view = pg.ViewBox(enableMouse=False, enableMenu=False, invertY=True, defaultPadding=0)
        view.setFixedHeight(height)
        view.addItem(item)
        self._graphics.addItem(view, row=row, col=1)
        return view

    def _views(self) -> list[pg.ViewBox]:
        return [item.getViewBox() for item in (self._input, self._predicted, *self._class_items)
                if item.getViewBox() is not None]

    def _label_cells(self, predicted: np.ndarray, names: list[str]) -> None:
        """The class name on each arg-max cell, while there are few enough to read."""
        view = self._predicted_view
        for label in self._cell_labels:
            view.removeItem(label)
        self._cell_labels = []
        if predicted.size > MAX_CELL_LABELS:
            return
        for (row, col), k in np.ndenumerate(predicted):
            y, x = self.cell_centre(row, col)
            label = pg.TextItem(names[int(k)], color="#ffffff", anchor=(0.5, 0.5))
            label.setPos(x, y)
            view.addItem(label, ignoreBounds=True)
            self._cell_labels.append(label)

    @staticmethod
    def _legend_text(predicted: np.ndarray, names: list[str]) -> str:
        present = sorted({int(k) for k in np.unique(predicted)})
        swatches = " ".join(f'<span style="color: rgb{tuple(int(v) for v in CLASS_COLOURS[k % len(CLASS_COLOURS)])}">'
                            f"\u25a0</span> {names[k]}" for k in present)
        return f"Arg-max classes: {swatches}"
