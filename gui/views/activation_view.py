"""ActivationView: one probe sample's feature maps, a mosaic per layer; click to enlarge; the probe sample itself
with the receptive field of the unit under the mouse."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from engine.inspection.mosaic import MosaicLayout, maps_layout, symmetric_limit, tile_maps
from gui.views.mosaic_panel import MosaicPanel, scrolling_panel_list
from gui.views.redraw import RedrawScheduler
from gui.views.sample_frame import Rect, SamplePanel, clipped

_EMPTY_TEXT = "No activations yet: they appear here while the network trains."
_HOVER_HINT = "Hover a map to read values; click one to enlarge it."
_INPUT_TITLE = "Probe sample: the frame is what the unit under the mouse sees"


class ActivationView(QWidget):
    """Per layer: (C, H, W) maps tiled in a near-square grid, (N,) vectors as a 1 x N strip.

    Colours are blue-white-red over +-max|a| of each layer (the detail pane: of that map).
    Clicking a map (or ``select_map``) enlarges it in the detail pane and emits
    ``map_selected(layer, channel)``; for a vector layer the channel is the unit and the
    detail is the whole (1, N) vector. Hovering shows "layer, channel, (row, col) = value".

    ``show_input(image)`` shows the probe sample itself; hovering or clicking a unit (row, col) of a
    map emits ``unit_hovered(layer, row, col)``, and ``show_receptive_field((top, left, height,
    width))`` frames that many input pixels on the sample (clipped to it; None hides the frame);
    ``show_detail_field(rect)`` frames units of the enlarged map the same way (a new selection drops
    it). The view knows no architecture: whoever listens computes the fields.
    """

    map_selected = Signal(str, int)
    unit_hovered = Signal(str, int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.redraw_count = 0
        self._maps: dict[str, np.ndarray] = {}
        self._layouts: dict[str, MosaicLayout | None] = {}  # None: a vector shown as a strip
        self._panels: dict[str, MosaicPanel] = {}
        self._selected: tuple[str, int] | None = None
        self._hovered: tuple[str, int, int, int] | None = None  # (layer, channel, row, col) the readout names
        self._unit: tuple[str, int, int] | None = None  # the map unit last announced by unit_hovered
        self._detail_field: Rect | None = None  # (top, left, height, width) on the enlarged map, unclipped
        self._scheduler = RedrawScheduler(self._redraw, self)

        scroll, self._list_layout, self._empty = scrolling_panel_list(_EMPTY_TEXT)

        self._detail = MosaicPanel("Click a map to enlarge it", bar_label="activation")
        self._detail.set_plot_height(260)
        self._detail.pixel_hovered.connect(self._on_detail_pixel_hovered)
        self._detail.hover_left.connect(self._on_hover_left)
        self._hover = QLabel(_HOVER_HINT)
        self._hover.setWordWrap(True)
        self._hover.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._input_panel = SamplePanel(_INPUT_TITLE)
        self._input_panel.set_plot_height(160)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(6, 6, 6, 6)
        side_layout.addWidget(self._input_panel)
        side_layout.addWidget(self._detail)
        side_layout.addWidget(self._hover)
        side_layout.addStretch(1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(scroll)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([500, 400])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

    # -- data in ------------------------------------------------------------------------
    def show_activations(self, maps: dict[str, np.ndarray]) -> None:
        """Show one probe sample's activations: ordered layer name -> (C, H, W) or (N,).

        A (H, W) map counts as one channel. Raises ValueError naming the layer for other
        shapes. The selected map stays selected while its layer and channel still exist."""
        checked: dict[str, np.ndarray] = {}
        layouts: dict[str, MosaicLayout | None] = {}
        for name, array in maps.items():
            array = np.asarray(array)
            if array.ndim == 2:
                array = array[np.newaxis]
            if array.ndim not in (1, 3) or array.size == 0:
                raise ValueError(
                    f"ActivationView: layer {name!r} has activation shape {array.shape}; "
                    "expected (channels, height, width) or (units,) for one sample")
            checked[name] = array
            layouts[name] = maps_layout(array.shape) if array.ndim == 3 else None
        self._maps, self._layouts = checked, layouts
        if self._selected is not None and not self._has_channel(*self._selected):
            self._selected = self._detail_field = None
        self._scheduler.request()

    def select_map(self, name: str, channel: int) -> None:
        """Enlarge channel ``channel`` of layer ``name`` (what a click on it does)."""
        if not self._has_channel(name, channel):
            raise ValueError(f"ActivationView: no channel {channel} in layer {name!r} "
                             f"(layers: {', '.join(self._maps) or 'none'})")
        self._selected = (name, int(channel))
        self._detail_field = None  # it framed units of the map shown before; a listener may frame this one
        self.map_selected.emit(name, int(channel))
        self._scheduler.request()

    def show_input(self, image: np.ndarray | None) -> None:
        """The probe sample the maps are of: (H, W) grey or (H, W, 3) RGB, uint8 0..255; None hides it.
        Raises ValueError for other shapes or types. The frame stays where it was, clipped to the new image."""
        try:
            self._input_panel.show_image(image)
        except ValueError as exc:
            raise ValueError(f"ActivationView: {exc}") from None

    def show_receptive_field(self, rect: Rect | None) -> None:
        """Frame input pixels (top, left, height, width) on the sample, e.g. a unit's theoretical receptive field:
        the frame is clipped to the image (a field reaching past the border shows its part inside); None hides it."""
        self._input_panel.show_frame(rect)

    def show_detail_field(self, rect: Rect | None) -> None:
        """Frame units (top, left, height, width) of the enlarged map, clipped to it (e.g. the field of a later
        layer's unit on this map); None hides the frame. Selecting another map drops it."""
        self._detail_field = rect
        shown = self.detail()
        if shown is not None and self._layouts[shown[0]] is not None:
            self._detail.set_highlight(clipped(rect, shown[2].shape))  # type: ignore[arg-type]

    def detail_field_rect(self) -> Rect | None:
        """The frame drawn on the enlarged map (top, left, height, width), clipped; None when none is drawn."""
        shown = self.detail()
        if shown is None or self._layouts[shown[0]] is None:
            return None
        return clipped(self._detail_field, shown[2].shape)

    def receptive_field_rect(self) -> Rect | None:
        """The frame drawn on the sample (top, left, height, width), clipped; None when none is drawn."""
        return self._input_panel.frame()

    def clear(self) -> None:
        self._scheduler.cancel()
        self._unit = self._detail_field = None
        self.show_receptive_field(None)
        self.show_input(None)
        self._maps, self._layouts, self._selected = {}, {}, None
        for panel in self._panels.values():
            self._list_layout.removeWidget(panel)
            panel.deleteLater()
        self._panels.clear()
        self._empty.show()
        self._redraw_detail()
        self._show_hovered(None)

    def flush(self) -> None:
        """Draw pending data now instead of at the next frame."""
        self._scheduler.flush()

    # -- accessors ----------------------------------------------------------------------
    def layer_names(self) -> list[str]:
        return list(self._maps)

    def detail(self) -> tuple[str, int, np.ndarray] | None:
        """(layer, channel, enlarged map (H, W); (1, N) for a vector layer) or None."""
        if self._selected is None:
            return None
        name, channel = self._selected
        array = self._maps[name]
        return name, channel, (array[channel] if array.ndim == 3 else array[np.newaxis])

    def value_at(self, name: str, channel: int, row: int, col: int) -> float:
        """Activation of ``name`` at (channel, row, col); for a vector: unit ``channel``."""
        array = self._maps[name]
        return float(array[channel, row, col] if array.ndim == 3 else array[channel])

    def hover_text(self) -> str:
        return self._hover.text()

    def panel_for(self, name: str) -> MosaicPanel:
        return self._panels[name]

    def detail_panel(self) -> MosaicPanel:
        return self._detail

    def input_panel(self) -> SamplePanel:
        return self._input_panel

    def map_shape(self, name: str) -> tuple[int, ...] | None:
        """The shape of layer ``name``'s activations shown now ((C, H, W) or (N,)), or None."""
        array = self._maps.get(name)
        return None if array is None else tuple(array.shape)

    # -- events -------------------------------------------------------------------------
    def _on_pixel_clicked(self, name: str, y: int, x: int) -> None:
        cell = self._cell(name, y, x)
        if cell is not None:
            self.select_map(name, cell[0])
            self._announce_unit(name, cell[1], cell[2], again=True)

    def _on_pixel_hovered(self, name: str, y: int, x: int) -> None:
        cell = self._cell(name, y, x)
        self._show_hovered(None if cell is None else (name, *cell))
        if cell is not None:
            self._announce_unit(name, cell[1], cell[2])

    def _on_detail_pixel_hovered(self, y: int, x: int) -> None:
        if self._selected is None:
            return
        name, channel = self._selected
        if self._layouts[name] is None:
            if y == 0 and 0 <= x < self._maps[name].shape[0]:
                self._show_hovered((name, x, 0, 0))
            return
        _, height, width = self._maps[name].shape
        if 0 <= y < height and 0 <= x < width:
            self._show_hovered((name, channel, y, x))
            self._announce_unit(name, y, x)

    def _announce_unit(self, name: str, row: int, col: int, again: bool = False) -> None:
        """unit_hovered for a map's unit (vectors have no place on the input), once per unit the mouse reaches:
        hover events come with every move. A click announces it again."""
        if self._layouts.get(name) is None or (not again and self._unit == (name, row, col)):
            return
        self._unit = (name, row, col)
        self.unit_hovered.emit(name, row, col)

    def _on_hover_left(self) -> None:
        self._show_hovered(None)
        self._unit = None  # the frame stays (the mouse may go to the sample to look), and comes back on return

    def _show_hovered(self, cell: tuple[str, int, int, int] | None) -> None:
        """Read out `cell` of the maps shown now (None, or a cell they no longer have: the hint)."""
        if cell is not None:
            name, channel, row, col = cell
            array = self._maps.get(name)
            inside = array is not None and 0 <= channel < array.shape[0] and (
                array.ndim == 1 or (0 <= row < array.shape[1] and 0 <= col < array.shape[2]))
            cell = cell if inside else None
        self._hovered = cell
        self._hover.setText(_HOVER_HINT if cell is None else self._describe(*cell))

    # -- helpers ------------------------------------------------------------------------
    def _has_channel(self, name: str, channel: int) -> bool:
        return name in self._maps and 0 <= channel < self._maps[name].shape[0]

    def _cell(self, name: str, y: int, x: int) -> tuple[int, int, int] | None:
        """(channel, row, col) under mosaic pixel (y, x) of layer ``name``, or None."""
        layout = self._layouts.get(name)
        if name not in self._maps:
            return None
        if layout is None:  # strip: one row, one unit per column
            return (x, 0, 0) if y == 0 and 0 <= x < self._maps[name].shape[0] else None
        return layout.cell_at(y, x)

    def _describe(self, name: str, channel: int, row: int, col: int) -> str:
        value = self.value_at(name, channel, row, col)
        if self._layouts[name] is None:
            return f"{name}, unit {channel} = {value:.4g}"
        return f"{name}, channel {channel}, ({row}, {col}) = {value:.4g}"

    def _redraw(self) -> None:
        self.redraw_count += 1
        for name in [n for n in self._panels if n not in self._maps]:
            panel = self._panels.pop(name)
            self._list_layout.removeWidget(panel)
            panel.deleteLater()
        for name, array in self._maps.items():
            panel = self._panels.get(name)
            strip = array.ndim == 1
            if panel is None or panel.is_strip != strip:
                if panel is not None:
                    self._list_layout.removeWidget(panel)
                    panel.deleteLater()
                panel = self._make_panel(name, strip)
            limit = symmetric_limit(array)
            if strip:
                panel.set_title(f"{name} — {array.shape[0]} units")
                panel.set_image(array[np.newaxis].astype(np.float32), (-limit, limit))
            else:
                channels, height, width = array.shape
                panel.set_title(f"{name} — {channels} map{'s' if channels != 1 else ''} "
                                f"{height}x{width}")
                panel.set_image(tile_maps(array), (-limit, limit))
        self._order_panels()
        self._empty.setVisible(not self._maps)
        self._redraw_detail()
        self._redraw_highlights()
        self._show_hovered(self._hovered)  # the mouse rests on a pixel whose value just changed

    def _redraw_highlights(self) -> None:
        """Outline the selected channel's tile (or unit) in its layer's mosaic."""
        for name, panel in self._panels.items():
            rect = None
            if self._selected is not None and self._selected[0] == name:
                channel = self._selected[1]
                layout = self._layouts[name]
                if layout is None:
                    rect = (0, channel, 1, 1)
                else:
                    rect = (*layout.origin(channel), layout.tile_h, layout.tile_w)
            panel.set_highlight(rect)

    def _order_panels(self) -> None:
        """Lay the panels out in the order of the newest activations dict."""
        wanted = [self._panels[name] for name in self._maps]
        current = [self._list_layout.itemAt(i).widget() for i in range(self._list_layout.count())]
        if [w for w in current if isinstance(w, MosaicPanel)] == wanted:
            return
        for panel in wanted:
            self._list_layout.removeWidget(panel)
        for index, panel in enumerate(wanted):
            self._list_layout.insertWidget(index + 1, panel)  # + 1: after the empty label

    def _make_panel(self, name: str, strip: bool) -> MosaicPanel:
        panel = MosaicPanel(bar_label="", strip=strip)
        # GUI-thread-only connections; the lambdas bind the layer name.
        panel.pixel_clicked.connect(lambda y, x, n=name: self._on_pixel_clicked(n, y, x))
        panel.pixel_hovered.connect(lambda y, x, n=name: self._on_pixel_hovered(n, y, x))
        panel.hover_left.connect(self._on_hover_left)
        self._panels[name] = panel
        return panel

    def _redraw_detail(self) -> None:
        shown = self.detail()
        if shown is None:
            self._detail.set_title("Click a map to enlarge it")
            self._detail.set_image(np.full((1, 1), np.nan, dtype=np.float32), (-1.0, 1.0))
            self._detail.set_highlight(None)
            return
        name, channel, image = shown
        limit = symmetric_limit(image)
        vector = self._layouts[name] is None
        self._detail.set_title(f"{name} — unit {channel} of {image.shape[1]}" if vector
                               else f"{name} — channel {channel}")
        self._detail.set_aspect_locked(not vector)
        self._detail.set_highlight((0, channel, 1, 1) if vector
                                   else clipped(self._detail_field, image.shape))  # type: ignore[arg-type]
        self._detail.set_image(image.astype(np.float32), (-limit, limit))
