"""FilterGrid: every conv layer's kernels as one mosaic image, zero-centred colours per filter or per layer."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Slot
from PySide6.QtWidgets import QCheckBox, QVBoxLayout, QWidget

from engine.inspection.mosaic import filter_limits, kernels_layout, symmetric_limit, tile_kernels
from gui.views.mosaic_panel import MosaicPanel, scrolling_panel_list
from gui.views.redraw import RedrawScheduler

_EMPTY_TEXT = "No convolution layers yet: filters appear here once the network has one."

# Building a layer's panel (a pyqtgraph plot with its colour bar) costs ~25 ms on an idle core, several times
# that beside a training process: one per frame, so a new network's layers never stall the GUI all at once
# (bench/gui_responsiveness.py: a max stall of 239 ms while the first snapshot built every panel).
NEW_PANELS_PER_REDRAW = 1


class FilterGrid(QWidget):
    """A scrollable vertical list of conv layers, in the order first shown.

    ``show_layer(name, weights, rgb)`` stores the newest weights of one layer; a coalesced
    redraw (<= ~30 Hz) tiles them (out_c rows x in_c columns, or one RGB tile per filter)
    and colours them blue-white-red. The colour scale is one per filter by default (each filter over
    (-max |w|, +max |w|) of its own: a frozen Sobel filter, +-2, would wash the learned ones of its layer out
    to white) or, with `scale_box` unticked, one for the layer (lim = max |w| of the layer); the colour bar's
    label says which. Filters listed as `frozen` (hand-set, never trained: conv2d `frozen_init`) get a dashed
    frame and are named in the title.
    """

    def __init__(self, parent: QWidget | None = None, *, empty_text: str = _EMPTY_TEXT) -> None:
        super().__init__(parent)
        self.redraw_count = 0
        self._dirty: set[str] = set()  # layers whose newest data is not drawn yet
        self._weights: dict[str, tuple[np.ndarray, bool]] = {}  # newest (weights, rgb); tiled when drawn
        self._titles: dict[str, str] = {}
        self._outlines: dict[str, list[tuple[int, int, int, int]]] = {}
        self._panels: dict[str, MosaicPanel] = {}
        self._scheduler = RedrawScheduler(self._redraw, self)

        self.scale_box = QCheckBox("One colour scale per filter")
        self.scale_box.setToolTip("Ticked: each filter's colours span its own largest |weight|, so small learned "
                                  "filters stay visible beside large (e.g. frozen) ones. Unticked: one scale for "
                                  "the whole layer, so filters compare by size.")
        self.scale_box.setChecked(True)
        self.scale_box.toggled.connect(self._on_scale_toggled)
        scroll, self._list_layout, self._empty = scrolling_panel_list(empty_text)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scale_box)
        layout.addWidget(scroll)

    # -- data in ------------------------------------------------------------------------
    def show_layer(self, name: str, weights: np.ndarray, rgb: bool = False, frozen: tuple[int, ...] = ()) -> None:
        """Show the newest weights (out_c, in_c, kh, kw) of conv layer ``name``; ``frozen``: the indices of
        its filters that training leaves as set.

        Raises ValueError (naming the layer) for arrays that are not 4-D conv weights."""
        weights = np.asarray(weights)
        if weights.ndim != 4 or min(weights.shape, default=0) < 1:
            raise ValueError(
                f"FilterGrid.show_layer({name!r}): expected conv weights shaped "
                f"(out_channels, in_channels, kh, kw), got shape {weights.shape}")
        out_c, in_c, kh, kw = weights.shape
        rgb = rgb and in_c == 3  # tile_kernels' grey fallback
        self._weights[name] = (weights, rgb)
        if rgb:
            how = "  (RGB, grey = 0)"
        elif in_c > 1:
            how = "  (row = filter, column = input channel)"
        else:
            how = ""
        plural = "s" if out_c != 1 else ""
        frozen = tuple(f for f in frozen if 0 <= f < out_c)
        marked = f"; frozen (dashed): {', '.join(str(f) for f in frozen)}" if frozen else ""
        self._titles[name] = f"{name} — {out_c} filter{plural} {in_c}x{kh}x{kw}{how}{marked}"
        self._outlines[name] = filter_blocks(weights.shape, rgb, frozen)
        self._dirty.add(name)
        self._scheduler.request()

    def set_scale_per_filter(self, on: bool) -> None:
        """One colour scale per filter (True) or one for each layer (False); redraws every layer."""
        self.scale_box.setChecked(on)

    def scale_per_filter(self) -> bool:
        return self.scale_box.isChecked()

    def clear(self) -> None:
        """Remove every layer."""
        self._scheduler.cancel()
        self._dirty.clear()
        self._weights.clear()
        self._titles.clear()
        self._outlines.clear()
        for panel in self._panels.values():
            self._list_layout.removeWidget(panel)
            panel.deleteLater()
        self._panels.clear()
        self._empty.show()

    def flush(self) -> None:
        """Draw pending data now instead of at the next frames."""
        while self._scheduler.pending:
            self._scheduler.flush()

    # -- accessors (tests, screenshots) -------------------------------------------------
    def layer_names(self) -> list[str]:
        return list(self._weights)

    def image_for(self, name: str) -> np.ndarray:
        """The layer's mosaic on one scale for the layer (raw weights, or RGB scaled by the layer's limit;
        NaN = gap between kernels), whichever scale is drawn."""
        weights, rgb = self._weights[name]
        return tile_kernels(weights, rgb=rgb)

    def levels_for(self, name: str) -> tuple[float, float]:
        """Colour levels of ``name`` as drawn: (-1, 1) per filter (each divided by its max |w|), (-lim, +lim)
        for the layer, or (0, 1) for an RGB mosaic."""
        weights, rgb = self._weights[name]
        if rgb:
            return 0.0, 1.0
        if self.scale_per_filter():
            return -1.0, 1.0
        limit = symmetric_limit(weights)
        return -limit, limit

    def bar_label_for(self, name: str) -> str:
        """What the colour bar says its values are; short, as it runs along a bar that may be 90 px tall."""
        if self.scale_per_filter():
            return "w / filter max"
        return "w (layer scale)"

    def title_for(self, name: str) -> str:
        return self._titles[name]

    def panel_for(self, name: str) -> MosaicPanel:
        """The drawn panel (exists after the first redraw that included ``name``)."""
        return self._panels[name]

    # -- drawing ------------------------------------------------------------------------
    @Slot(bool)
    def _on_scale_toggled(self, _on: bool) -> None:
        self._dirty.update(self._weights)
        self._scheduler.request()

    def _redraw(self) -> None:
        self.redraw_count += 1
        per_filter = self.scale_per_filter()
        built = 0
        for name in [n for n in self._weights if n in self._dirty]:
            panel = self._panels.get(name)
            if panel is None:
                if built == NEW_PANELS_PER_REDRAW:  # the rest at the next frames: ResNet-20 has 19 conv layers
                    self._scheduler.request()
                    break
                built += 1
                panel = MosaicPanel(bar_label="weight")
                # keep the trailing stretch last so panels stay packed at the top
                self._list_layout.insertWidget(self._list_layout.count() - 1, panel)
                self._panels[name] = panel
            weights, rgb = self._weights[name]
            panel.set_title(self._titles[name] + (_limits_text(weights) if per_filter and not rgb else ""))
            panel.set_image(tile_kernels(weights, rgb=rgb, per_filter=per_filter), self.levels_for(name))
            panel.set_bar_label(self.bar_label_for(name))
            panel.set_outlines(self._outlines[name])
            self._dirty.discard(name)
        self._empty.setVisible(not self._panels)


def _limits_text(weights: np.ndarray) -> str:
    """The range of the filters' own scales, so per-filter colours still say how large the weights are."""
    limits = filter_limits(weights)
    if len(limits) == 1:
        return f"; max |w| {limits[0]:.3g}"
    return f"; each filter on its own scale, max |w| {limits.min():.3g} to {limits.max():.3g}"


def filter_blocks(shape: tuple[int, ...], rgb: bool, filters: tuple[int, ...]) -> list[tuple[int, int, int, int]]:
    """The (y, x, height, width) pixel block of each of `filters` in the mosaic of conv weights `shape`: one
    tile in a near-square grid, or a whole row (every input channel) in the row-per-filter layout."""
    layout = kernels_layout(shape, rgb=rgb)
    in_c = shape[1]
    per_filter = 1 if layout.count == shape[0] else in_c
    blocks = []
    for f in filters:
        y, x = layout.origin(f * per_filter)
        width = per_filter * (layout.tile_w + layout.pad) - layout.pad
        blocks.append((y, x, layout.tile_h, width))
    return blocks
