"""TimelinePlots: the Timeline's plots (a tensor's distribution over the snapshots and at one step, gradient norms),
or one line saying why there is nothing to plot yet instead of empty black plots."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSplitter, QStackedWidget, QWidget

from engine.inspection.timeline_histograms import LayerDistribution
from gui.timeline.log_axis import LogAxis

NO_PLOTS = "No snapshots to plot yet: the distributions and gradient norms appear once a run folder has snapshots."


class TimelinePlots(QStackedWidget):
    """Page `empty` (a label) until `show_distribution` or `show_norms` has data; then page `plots`.

    Curves are created once per gradient-norm label and updated with setData (their points come from every
    snapshot line; pyqtgraph thins them to the pixels shown)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.empty = QLabel(NO_PLOTS)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.heatmap = pg.PlotWidget(title="distribution over training (snapshot x value, brighter = more)")
        self.heatmap.setLabel("bottom", "snapshot")
        self.heatmap.setLabel("left", "value")
        self._heat = pg.ImageItem()
        self._heat.setColorMap(pg.colormap.get("viridis"))
        self.heatmap.addItem(self._heat)
        self._heat_line = pg.InfiniteLine(angle=90, pen=pg.mkPen("#ff5050", width=2))
        self.heatmap.addItem(self._heat_line)
        self.histogram = pg.PlotWidget(title="at this step")
        self._bars = pg.BarGraphItem(x=[], height=[], width=1.0, brush="#4a90d9")
        self.histogram.addItem(self._bars)
        self.norms = pg.PlotWidget(title="gradient norm per layer", axisItems={"left": LogAxis("left")})
        self.norms.addLegend(offset=(-10, 10))
        self.norms.setLogMode(y=True)
        self._norm_line = pg.InfiniteLine(angle=90, pen=pg.mkPen("#ff5050", width=2))
        self.norms.addItem(self._norm_line)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.plots = QSplitter(Qt.Orientation.Vertical)
        for widget in (self.heatmap, self.histogram, self.norms):
            for side in ("left", "bottom"):  # weights of 0.05 read as 0.05, not "value (x0.001)" with ticks 50
                widget.getPlotItem().getAxis(side).enableAutoSIPrefix(False)
            self.plots.addWidget(widget)
        self.addWidget(self.empty)
        self.addWidget(self.plots)
        self._distribution: LayerDistribution | None = None
        self._title = ""

    def clear(self, text: str = NO_PLOTS) -> None:
        self._distribution = None
        self._heat.clear()
        self._bars.setOpts(x=[], height=[])
        for curve in self.curves.values():
            curve.setData([], [])
        self.empty.setText(text)
        self.setCurrentWidget(self.empty)

    def show_distribution(self, dist: LayerDistribution | None, title: str = "") -> None:
        """The step x bin image of one tensor (None: none to show)."""
        self._distribution = dist
        if dist is None:
            self._heat.clear()
            self._bars.setOpts(x=[], height=[])
            return
        self.setCurrentWidget(self.plots)
        image = np.log1p(dist.counts.astype(np.float64))  # (snapshot, bin); log: the tails stay visible
        row_major = pg.getConfigOption("imageAxisOrder") == "row-major"  # gui/views/pg_setup.py sets it
        self._heat.setImage(image.T if row_major else image, autoLevels=True)
        self._heat.setRect(0, dist.edges[0], len(dist.steps), dist.edges[-1] - dist.edges[0])
        self._title = title

    def show_step(self, index: int, step: int) -> None:
        """Snapshot `index` (its `step`) marked on every plot, and its histogram."""
        self._heat_line.setValue(index + 0.5)
        self._norm_line.setValue(step)
        dist = self._distribution
        if dist is None or not 0 <= index < len(dist.counts):
            self._bars.setOpts(x=[], height=[])
            return
        centres = (dist.edges[:-1] + dist.edges[1:]) / 2
        self._bars.setOpts(x=centres, height=dist.counts[index], width=float(dist.edges[1] - dist.edges[0]))
        self.histogram.setTitle(f"{self._title} at step {dist.steps[index]:,}")

    def show_norms(self, curves: dict[str, tuple[list[int], list[float]]]) -> None:
        """Per layer label, (steps, norms); only positive norms can stand on the log axis."""
        for i, (label, (steps, values)) in enumerate(curves.items()):
            curve = self.curves.get(label)
            if curve is None:
                curve = self.curves[label] = self.norms.plot([], [], pen=pg.intColor(i), name=label)
                curve.setDownsampling(auto=True)
                curve.setClipToView(True)
            x, y = np.asarray(steps, dtype=np.float64), np.asarray(values, dtype=np.float64)
            positive = y > 0
            curve.setData(x[positive], y[positive])
        if curves:
            self.setCurrentWidget(self.plots)

    def forget_norms(self) -> None:
        """A new run: its layers' curves start afresh (the legend too)."""
        for curve in self.curves.values():
            self.norms.removeItem(curve)
        self.curves.clear()
