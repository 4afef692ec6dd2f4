"""ProbabilityBars: class probabilities of one sample as bars, prediction and truth marked."""
from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gui.views.palette import BAR_COLOR, PLOT_BACKGROUND, PREDICTED_COLOR, TRUE_LABEL_COLOR
from gui.views.pg_setup import pg
from gui.views.redraw import RedrawScheduler

# Above this many classes the per-bar percentages would overlap; only the marks remain.
MAX_VALUE_LABELS = 20
_BAR_HEIGHT = 0.7  # in class rows
_LABEL_INSIDE_FROM = 0.7  # bars longer than this carry their percentage inside


class ProbabilityBars(QWidget):
    """One bar per class (class 0 on top), x in [0, 1]. The predicted class (argmax) is
    filled orange; the true class's row is shaded green, its bar outlined green and its
    axis label reads "name (true)"."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.redraw_count = 0
        self._probs = np.zeros(0)
        self._names: list[str] = []
        self._true: int | None = None
        self._scheduler = RedrawScheduler(self._redraw, self)

        self._header = QLabel("No prediction yet.")
        self._header.setWordWrap(True)
        self._graphics = pg.GraphicsLayoutWidget()
        self._graphics.setBackground(PLOT_BACKGROUND)
        self._graphics.ci.setContentsMargins(4, 4, 14, 4)  # right: room for the "1.0" label
        self._plot = self._graphics.addPlot()
        self._plot.setMenuEnabled(False)
        self._plot.setMouseEnabled(x=False, y=False)
        self._plot.hideButtons()
        self._plot.invertY(True)
        self._plot.setXRange(0.0, 1.05, padding=0)
        self._plot.setLabel("bottom", "probability")
        self._plot.getAxis("left").setStyle(tickLength=0)  # inward ticks read as "-0.0%"
        self._plot.getAxis("bottom").setStyle(hideOverlappingLabels=False)  # keep "0" and "1.0"
        # Fixed ticks: at the narrow width beside the sample browser, pyqtgraph's own choice of 0.2 steps
        # printed "0.20.40.60.81.0" run together.
        self._plot.getAxis("bottom").setTicks([[(v, f"{v:g}") for v in (0.0, 0.5, 1.0)],
                                              [(v, "") for v in (0.25, 0.75)]])
        for side in ("left", "bottom"):
            self._plot.getAxis(side).setTextPen("#202020")
            self._plot.getAxis(side).setPen("#808080")
        # A pale green band behind the true class's row: visible even when its bar is tiny.
        self._true_band = pg.BarGraphItem(x0=[0.0], y=[0.0], height=0.96, width=[1.0],
                                          brush=(*TRUE_LABEL_COLOR, 45), pen=pg.mkPen(None))
        self._true_band.setVisible(False)
        self._plot.addItem(self._true_band)
        self._bars = pg.BarGraphItem(x0=[], y=[], height=_BAR_HEIGHT, width=[])
        self._plot.addItem(self._bars)
        self._value_labels: list[pg.TextItem] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self._header)
        layout.addWidget(self._graphics)

    # -- data in ------------------------------------------------------------------------
    def show_probabilities(self, probs: np.ndarray, class_names: Sequence[str],
                           true_label: int | None) -> None:
        """Show class probabilities (n_classes,) with their names and the true class (or None)."""
        probs = np.asarray(probs, dtype=np.float64)
        if probs.ndim != 1 or probs.size == 0:
            raise ValueError(f"ProbabilityBars: expected a 1-D vector of class probabilities, "
                             f"got shape {probs.shape}")
        if len(class_names) != probs.size:
            raise ValueError(f"ProbabilityBars: {probs.size} probabilities but "
                             f"{len(class_names)} class names")
        if true_label is not None and not 0 <= true_label < probs.size:
            raise ValueError(f"ProbabilityBars: true label {true_label} is not a class index "
                             f"0..{probs.size - 1}")
        self._probs, self._names = probs.copy(), [str(n) for n in class_names]
        self._true = None if true_label is None else int(true_label)
        self._scheduler.request()

    def clear(self) -> None:
        self._probs, self._names, self._true = np.zeros(0), [], None
        self._scheduler.request()

    def flush(self) -> None:
        self._scheduler.flush()

    # -- accessors ----------------------------------------------------------------------
    def values(self) -> np.ndarray:
        return self._probs.copy()

    def predicted(self) -> int | None:
        """Index of the highest probability, or None when empty."""
        return int(np.argmax(self._probs)) if self._probs.size else None

    def true_label(self) -> int | None:
        return self._true

    def tick_labels(self) -> list[str]:
        """Class names as shown on the axis; the true class reads "name (true)"."""
        return [f"{name} (true)" if i == self._true else name for i, name in enumerate(self._names)]

    def header_text(self) -> str:
        return self._header.text()

    def bar_item(self) -> pg.BarGraphItem:
        return self._bars

    # -- drawing ------------------------------------------------------------------------
    def _redraw(self) -> None:
        self.redraw_count += 1
        count, predicted = self._probs.size, self.predicted()
        rows = np.arange(count)
        brushes = [pg.mkBrush(PREDICTED_COLOR if i == predicted else BAR_COLOR) for i in rows]
        pens = [pg.mkPen(TRUE_LABEL_COLOR, width=3) if i == self._true else pg.mkPen(None)
                for i in rows]
        if count:
            self._bars.setOpts(x0=np.zeros(count), y=rows, height=_BAR_HEIGHT,
                               width=np.clip(self._probs, 0.0, 1.0), brushes=brushes, pens=pens)
        else:  # pyqtgraph 0.14 fails on empty per-bar pen lists
            self._bars.setOpts(x0=[], y=[], width=[], brushes=None, pens=None)
        labels = self.tick_labels()
        axis = self._plot.getAxis("left")
        axis.setTicks([list(zip(rows.tolist(), labels))])
        # The axis only widens for long names after a paint, dropping them on the first;
        # size it from the font up front.
        metrics = QFontMetrics(axis.style.get("tickFont") or self.font())
        axis.setWidth(max([metrics.horizontalAdvance(t) for t in labels], default=0) + 14)
        if self._true is not None:
            self._true_band.setOpts(x0=[0.0], y=[self._true], width=[1.0])
        self._true_band.setVisible(self._true is not None)
        self._plot.setYRange(-0.5, max(count, 1) - 0.5, padding=0.02)
        self._update_value_labels(count <= MAX_VALUE_LABELS)
        self._graphics.setMinimumHeight(60 + 18 * min(count, 30))
        self._header.setText(self._describe())

    def _update_value_labels(self, visible: bool) -> None:
        count = self._probs.size if visible else 0
        while len(self._value_labels) < count:
            label = pg.TextItem("", color="#202020", anchor=(0, 0.5))
            self._plot.addItem(label)
            self._value_labels.append(label)
        for i, label in enumerate(self._value_labels):
            label.setVisible(i < count)
            if i < count:
                value = float(min(max(self._probs[i], 0.0), 1.0))
                inside = value > _LABEL_INSIDE_FROM  # long bar: write inside it, not past the edge
                label.setText(f"{100 * self._probs[i]:.1f}%")
                label.setColor("#ffffff" if inside else "#202020")
                label.setAnchor((1, 0.5) if inside else (0, 0.5))
                label.setPos(value - 0.01 if inside else value + 0.005, i)

    def _describe(self) -> str:
        predicted = self.predicted()
        if predicted is None:
            return "No prediction yet."
        name = html.escape(self._names[predicted])
        text = f"Predicted: <b>{name}</b> ({100 * self._probs[predicted]:.1f}%)"
        if self._true is not None:
            verdict = "correct" if predicted == self._true else "wrong"
            text += f" — true: <b>{html.escape(self._names[self._true])}</b> ({verdict})"
        return text
