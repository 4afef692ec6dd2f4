"""All views together in a shown window, fed after showing: drawn, and no Qt warnings."""
from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QMainWindow, QTabWidget

from gui.views.activation_view import ActivationView
from gui.views.curves import LossPlot
from gui.views.filter_grid import FilterGrid
from gui.views.probabilities import ProbabilityBars
from gui.views.sample_browser import SampleBrowser


def test_views_in_tabs_take_data_while_shown(qtbot, rng, shown) -> None:
    window = QMainWindow()
    qtbot.addWidget(window)
    window.resize(900, 700)
    tabs = QTabWidget()
    window.setCentralWidget(tabs)
    grid, activations, curves = FilterGrid(), ActivationView(), LossPlot()
    bars, browser = ProbabilityBars(), SampleBrowser()
    views = (grid, activations, curves, bars, browser)
    for view in views:
        tabs.addTab(view, type(view).__name__)
    shown(window)

    for tab in range(len(views)):  # the visible tab changes; hidden views still take data
        tabs.setCurrentIndex(tab)
        grid.show_layer("conv2d #1", rng.normal(size=(6, 1, 5, 5)))
        grid.show_layer("conv2d #2", rng.normal(size=(16, 6, 5, 5)))
        activations.show_activations({"conv2d #1": rng.normal(size=(6, 24, 24)),
                                      "linear #1": rng.normal(size=84)})
        activations.select_map("conv2d #1", tab)
        curves.append_batch(tab, 2.0 / (tab + 1), tab / 10)
        curves.append_epoch(tab, 2.1 / (tab + 1), tab / 10)
        bars.show_probabilities(rng.dirichlet(np.ones(10)), [str(i) for i in range(10)], tab)
        browser.set_samples(rng.integers(0, 256, (300, 28, 28, 1), dtype=np.uint8),
                            rng.integers(0, 10, 300), [str(i) for i in range(10)])
        browser.select(tab)
        qtbot.waitUntil(lambda: min(v.redraw_count for v in views[:4]) >= tab + 1)

    assert grid.layer_names() == ["conv2d #1", "conv2d #2"]
    assert activations.detail()[:2] == ("conv2d #1", 4)
    assert len(curves.train_curve()[0]) == 5
    assert browser.current_index() == 4
    window.close()
