"""Validation accuracy per epoch of several variants overlaid: one colour each, the mean over seeds and a band."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QVBoxLayout, QWidget

from gui.views.pg_setup import pg

PALETTE = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
           (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207))


def mean_and_band(curves: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, min and max per epoch over the seeds' curves (shorter curves: over the seeds that got there)."""
    length = max(len(c) for c in curves)
    table = np.full((len(curves), length), np.nan)
    for row, c in zip(table, curves):
        row[:len(c)] = c
    return np.nanmean(table, axis=0), np.nanmin(table, axis=0), np.nanmax(table, axis=0)


class VariantCurves(QWidget):
    """`set_curves({label: [per-seed array of validation accuracy by epoch, ...]})` redraws every variant:
    its mean over seeds as a line (epoch 1, 2, ...) and, with several seeds, the min-max band around it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget()
        self.plot.setBackground("w")
        self.plot.showGrid(x=True, y=True, alpha=0.3)
        self.plot.setLabel("bottom", "epoch")
        self.plot.setLabel("left", "validation accuracy")
        self.plot.getAxis("bottom").setTickSpacing(1, 1)  # whole epochs
        for axis in ("left", "bottom"):
            self.plot.getAxis(axis).enableAutoSIPrefix(False)
        self.legend = self.plot.addLegend(offset=(-10, -10))
        self.lines: dict[str, pg.PlotDataItem] = {}
        self.bands: dict[str, pg.FillBetweenItem] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)

    def set_curves(self, curves: dict[str, list[np.ndarray]]) -> None:
        self.plot.clear()
        self.legend.clear()
        self.lines, self.bands = {}, {}
        low_all, high_all, longest = 1.0, 0.0, 1
        for n, (label, runs) in enumerate(curves.items()):
            runs = [np.asarray(r, dtype=float) for r in runs if len(r)]
            if not runs:
                continue
            colour = PALETTE[n % len(PALETTE)]
            mean, low, high = mean_and_band(runs)
            epochs = np.arange(1, len(mean) + 1, dtype=float)
            low_all, high_all = min(low_all, float(np.nanmin(low))), max(high_all, float(np.nanmax(high)))
            longest = max(longest, len(mean))
            line = self.plot.plot(epochs, mean, pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=5,
                                  symbolBrush=colour, name=label)
            self.lines[label] = line
            if len(runs) > 1:
                lower = pg.PlotCurveItem(epochs, low)
                upper = pg.PlotCurveItem(epochs, high)
                band = pg.FillBetweenItem(lower, upper, brush=pg.mkBrush(*colour, 70))
                self.plot.addItem(band)
                self.bands[label] = band
        # variants of one network differ by a few points: zoom to the accuracies shown, not 0-1
        if high_all >= low_all:
            margin = max(0.01, (high_all - low_all) * 0.1)
            self.plot.setYRange(max(0.0, low_all - margin), min(1.0, high_all + margin))
        self.plot.setXRange(1, max(2, longest))
