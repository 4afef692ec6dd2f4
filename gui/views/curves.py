"""LossPlot: training loss and accuracy per batch (raw + smoothed), validation per epoch, the learning rate."""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gui.views.palette import PLOT_BACKGROUND, TRAIN_RAW_COLOR, TRAIN_SMOOTH_COLOR, VALIDATION_COLOR
from gui.views.pg_setup import pg
from gui.views.redraw import RedrawScheduler

# Exponential moving average: s_0 = y_0, s_t = SMOOTHING * s_{t-1} + (1 - SMOOTHING) * y_t.
# 0.9 averages over roughly the last 10 batches. Non-finite values (a diverged loss) are
# drawn as gaps and leave the average where it was.
SMOOTHING = 0.9
MARKER_COLOR = (220, 40, 60)
LINES_ONLY = ("loss_smooth", "acc_smooth", "lr")  # per-batch series drawn as lines (their raw twins lie beneath)
EMPTY_TEXT = "No curves yet: they appear while the network trains."


class GrowingSeries:
    """(x, y) float64 buffers that double when full, so appends are O(1) amortised and a
    redraw hands pyqtgraph views of the filled part instead of converting Python lists."""

    def __init__(self, capacity: int = 1024) -> None:
        self._x = np.empty(capacity)
        self._y = np.empty(capacity)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def append(self, x: float, y: float) -> None:
        if self._size == len(self._x):
            self._grow(2 * len(self._x))
        self._x[self._size] = x
        self._y[self._size] = y
        self._size += 1

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        """Views of the filled part (valid until the next append that grows the buffer)."""
        return self._x[:self._size], self._y[:self._size]

    def clear(self) -> None:
        self._size = 0

    def _grow(self, capacity: int) -> None:
        for name in ("_x", "_y"):
            old = getattr(self, name)
            new = np.empty(capacity)
            new[:self._size] = old[:self._size]
            setattr(self, name, new)


class _Ema:
    """The smoothing of SMOOTHING above, one value at a time."""

    def __init__(self) -> None:
        self.value = math.nan

    def update(self, y: float) -> float:
        if not math.isfinite(y):
            return math.nan
        self.value = y if math.isnan(self.value) else SMOOTHING * self.value + (1 - SMOOTHING) * y
        return self.value


class LossPlot(QWidget):
    """Three stacked plots sharing the step axis: loss (top), accuracy, and a short learning-rate strip.

    Per batch: a thin raw line and a thick EMA line (SMOOTHING = 0.9). Per epoch: the
    validation values as markers joined by a line. Appends only store data; a coalesced
    redraw (<= ~30 Hz) hands the buffers to the plot items.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.redraw_count = 0
        self._series = {key: GrowingSeries() for key in (
            "loss", "loss_smooth", "val_loss", "acc", "acc_smooth", "val_acc", "lr")}
        self._loss_ema, self._acc_ema = _Ema(), _Ema()
        self._scheduler = RedrawScheduler(self._redraw, self)

        self._graphics = pg.GraphicsLayoutWidget()
        self._graphics.setBackground(PLOT_BACKGROUND)
        self._loss_plot = self._graphics.addPlot(row=0, col=0)
        self._acc_plot = self._graphics.addPlot(row=1, col=0)
        self._acc_plot.setXLink(self._loss_plot)
        self._lr_plot = self._graphics.addPlot(row=2, col=0)
        self._lr_plot.setXLink(self._loss_plot)
        self._graphics.ci.layout.setRowStretchFactor(0, 3)  # the rate is a guide: a third of the loss's height
        self._graphics.ci.layout.setRowStretchFactor(1, 3)
        self._graphics.ci.layout.setRowStretchFactor(2, 1)
        self._items: dict[str, pg.PlotDataItem] = {}
        for plot, prefix, title in ((self._loss_plot, "loss", "loss"),
                                    (self._acc_plot, "acc", "accuracy")):
            _style(plot, title)
            self._items[prefix] = _curve(plot, "train (per batch)", TRAIN_RAW_COLOR, 1)
            self._items[prefix + "_smooth"] = _curve(
                plot, f"train, smoothed (EMA {SMOOTHING})", TRAIN_SMOOTH_COLOR, 1)
            self._items["val_" + prefix] = _curve(plot, "validation (per epoch)",
                                                  VALIDATION_COLOR, 2, symbol="o")
        _style(self._lr_plot, "rate")  # the strip is shorter than "learning rate", which ran into the label above
        self._items["lr"] = _curve(self._lr_plot, "learning rate", TRAIN_SMOOTH_COLOR, 1)
        self._lr_plot.setLabel("bottom", "step (batches)")
        for plot in (self._loss_plot, self._acc_plot):  # the step axis is shared: its numbers once, at the bottom
            plot.getAxis("bottom").setStyle(showValues=False)
        self._lr_plot.enableAutoRange(axis="y", enable=False)
        # Accuracy is a fraction: always the whole 0-1 scale, so a glance compares runs and one point shows.
        self._acc_plot.setYRange(0.0, 1.0, padding=0.02)
        self._acc_plot.enableAutoRange(axis="y", enable=False)
        self._acc_plot.setLimits(yMin=-0.05, yMax=1.05)
        # The Timeline's step, on all three plots (hidden until a step is scrubbed to).
        self._markers = [pg.InfiniteLine(angle=90, pen=pg.mkPen(MARKER_COLOR, width=1.5, style=Qt.PenStyle.DashLine))
                         for _ in range(3)]
        for plot, marker in zip((self._loss_plot, self._acc_plot, self._lr_plot), self._markers):
            marker.setVisible(False)
            plot.addItem(marker, ignoreBounds=True)  # the marker never widens the step axis
        # The key sits above the plots, not in them: inside, it covered the curves (the early loss, or at
        # the plot's usual width most of it).
        self.legend = QLabel(legend_html())
        self.legend.setObjectName("curvesLegend")
        self.legend.setWordWrap(True)
        self.empty_note = QLabel(EMPTY_TEXT)  # empty plots keep the last run's axes unless told otherwise
        self.empty_note.setObjectName("curvesEmpty")
        self.empty_note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.legend)
        layout.addWidget(self.empty_note)
        layout.addWidget(self._graphics)

    # -- data in ------------------------------------------------------------------------
    def append_batch(self, step: int, loss: float, accuracy: float, learning_rate: float = math.nan) -> None:
        """One training batch: global step, its loss and accuracy (a fraction in [0, 1]), the rate it used
        (NaN when not recorded: no point)."""
        loss, accuracy = float(loss), float(accuracy)
        self._series["lr"].append(step, float(learning_rate))
        self._series["loss"].append(step, loss)
        self._series["loss_smooth"].append(step, self._loss_ema.update(loss))
        self._series["acc"].append(step, accuracy)
        self._series["acc_smooth"].append(step, self._acc_ema.update(accuracy))
        self._scheduler.request()

    def append_epoch(self, step: int, val_loss: float, val_accuracy: float) -> None:
        """One validation pass at the end of an epoch, placed at global step ``step``."""
        self._series["val_loss"].append(step, float(val_loss))
        self._series["val_acc"].append(step, float(val_accuracy))
        self._scheduler.request()

    def set_history(self, batches: list[tuple[float, ...]],
                    epochs: list[tuple[int, float, float]]) -> None:
        """Replace everything with saved (step, loss, accuracy[, learning_rate]) and (step, val_loss, val_acc)."""
        self._reset()
        for row in batches:
            self.append_batch(*row)
        for step, val_loss, val_accuracy in epochs:
            self.append_epoch(step, val_loss, val_accuracy)
        self._scheduler.request()

    def clear(self) -> None:
        self._reset()
        self.set_marker(None)
        self._scheduler.request()

    def set_marker(self, step: int | None) -> None:
        """A dashed line at `step` on every plot (the Timeline's step); None hides it."""
        for marker in self._markers:
            marker.setVisible(step is not None)
            if step is not None:
                marker.setValue(step)

    def marker(self) -> int | None:
        return int(self._markers[0].value()) if self._markers[0].isVisible() else None

    def flush(self) -> None:
        """Draw pending data now instead of at the next frame."""
        self._scheduler.flush()

    # -- accessors ----------------------------------------------------------------------
    def train_curve(self) -> tuple[np.ndarray, np.ndarray]:
        """(steps, raw training loss)."""
        return self._copy("loss")

    def smoothed_curve(self) -> tuple[np.ndarray, np.ndarray]:
        """(steps, EMA of the training loss); NaN where the raw loss was not finite."""
        return self._copy("loss_smooth")

    def val_curve(self) -> tuple[np.ndarray, np.ndarray]:
        """(steps, validation loss)."""
        return self._copy("val_loss")

    def accuracy_curves(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """{"train": raw, "smoothed": EMA, "val": validation} accuracy, each (steps, values)."""
        return {"train": self._copy("acc"), "smoothed": self._copy("acc_smooth"),
                "val": self._copy("val_acc")}

    def learning_rate_curve(self) -> tuple[np.ndarray, np.ndarray]:
        """(steps, learning rate); NaN where the run did not record it."""
        return self._copy("lr")

    def curve_items(self) -> dict[str, pg.PlotDataItem]:
        """The plot items by key: loss, loss_smooth, val_loss, acc, acc_smooth, val_acc, lr."""
        return dict(self._items)

    # -- drawing ------------------------------------------------------------------------
    def _redraw(self) -> None:
        self.redraw_count += 1
        for key, series in self._series.items():
            x, y = series.data()
            if key in LINES_ONLY:  # a line through one point draws nothing: after one Step, mark the point
                self._items[key].setSymbol("o" if len(x) == 1 else None)
            self._items[key].setData(x, y)
        empty = not any(len(series) for series in self._series.values())
        if empty and not self.empty_note.isVisibleTo(self):  # cleared: no axes left from the run before
            self._loss_plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
            self._loss_plot.enableAutoRange()  # the next run's data frames itself again
        self.empty_note.setVisible(empty)
        rates = self._series["lr"].data()[1]
        top = float(np.nanmax(rates)) if np.isfinite(rates).any() else 0.0
        if top > 0:  # from zero: a constant rate reads as its value, not as a flat line in an arbitrary band
            self._lr_plot.setYRange(0.0, top * 1.15, padding=0)

    def _reset(self) -> None:
        for series in self._series.values():
            series.clear()
        self._loss_ema, self._acc_ema = _Ema(), _Ema()

    def _copy(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        x, y = self._series[key].data()
        return x.copy(), y.copy()


def legend_html() -> str:
    """One key for the loss and accuracy plots (the same three styles in both)."""
    def entry(color, glyph: str, text: str) -> str:
        return f'<span style="color: rgb{tuple(color)}; font-weight: bold">{glyph}</span>&nbsp;{text}'
    return "&nbsp;&nbsp; ".join([entry(TRAIN_RAW_COLOR, "━", "train (per batch)"),
                                 entry(TRAIN_SMOOTH_COLOR, "━", f"smoothed (EMA {SMOOTHING})"),
                                 entry(VALIDATION_COLOR, "●", "validation (per epoch)")])


def _style(plot: pg.PlotItem, title: str) -> None:
    plot.setLabel("left", title)
    plot.showGrid(x=True, y=True, alpha=0.25)
    plot.setMenuEnabled(False)
    for side in ("left", "bottom"):
        axis = plot.getAxis(side)
        axis.setTextPen("#202020")
        axis.setPen("#808080")
        # pyqtgraph would rescale small values with an SI prefix ("accuracy (x0.001)", ticks 200-800).
        axis.enableAutoSIPrefix(False)
        # Grid lines for major and minor ticks only: the third level triples the
        # antialiased lines (about 25 -> 8 ms per repaint of both plots, measured).
        axis.setStyle(maxTickLevel=1)


def _curve(plot: pg.PlotItem, name: str, color, width: int, symbol: str | None = None
           ) -> pg.PlotDataItem:
    """A curve item. Dense per-batch lines stay 1 px wide: an antialiased wider pen costs
    ~15 ms per repaint at 10k points here (measured), a 1 px one ~1 ms. They draw only the
    visible range, peak-downsampled to ~2 points per pixel (autoDownsampleFactor 1)."""
    item = plot.plot(name=name, pen=pg.mkPen(color, width=width), connect="finite",
                     symbol=symbol, symbolSize=7, symbolBrush=color, symbolPen=None,
                     autoDownsampleFactor=1.0)
    if symbol is None:
        item.setDownsampling(auto=True, method="peak")
        item.setClipToView(True)
    return item
