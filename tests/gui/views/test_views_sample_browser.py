"""SampleBrowser: lazy thumbnails of thousands of samples, class filter, selection by index."""
from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import QComboBox

from gui.views.sample_browser import THUMBNAIL_SIZE, SampleBrowser

CLASSES = [str(i) for i in range(10)]


@pytest.fixture
def browser(qtbot) -> SampleBrowser:
    widget = SampleBrowser()
    qtbot.addWidget(widget)
    widget.resize(500, 400)
    return widget


@pytest.fixture
def dataset(rng):
    images = rng.integers(0, 256, size=(5000, 28, 28, 1), dtype=np.uint8)
    labels = rng.integers(0, 10, size=5000)
    return images, labels


def test_thousands_of_samples_get_thumbnails_only_when_asked(browser, dataset) -> None:
    images, labels = dataset
    browser.set_samples(images, labels, CLASSES)
    model = browser.model()
    assert model.rowCount() == 5000 and model.cached_thumbnails() == 0
    pixmap = model.data(model.index(1234), Qt.ItemDataRole.DecorationRole)
    assert isinstance(pixmap, QPixmap) and pixmap.width() == THUMBNAIL_SIZE
    assert model.cached_thumbnails() == 1
    # nearest-neighbour 2x: thumbnail pixel (2r, 2c) is image pixel (r, c)
    image = pixmap.toImage()
    for r, c in [(0, 0), (5, 17), (27, 27)]:
        grey = int(images[1234, r, c, 0])
        assert image.pixelColor(2 * c, 2 * r) == QColor(grey, grey, grey)
    tooltip = model.data(model.index(1234), Qt.ItemDataRole.ToolTipRole)
    assert tooltip == f"#1234 — {labels[1234]}"


def test_rgb_thumbnails_keep_their_colours(browser, rng) -> None:
    images = rng.integers(0, 256, size=(3, 32, 32, 3), dtype=np.uint8)
    browser.set_samples(images, np.array([0, 1, 2]), ["a", "b", "c"])
    model = browser.model()
    image = model.data(model.index(2), Qt.ItemDataRole.DecorationRole).toImage()
    scale = THUMBNAIL_SIZE / 32  # 1.75: source pixel r covers thumbnail rows ceil(r * 1.75)...
    for r, c in [(0, 0), (10, 20), (31, 31)]:
        y, x = math.ceil(r * scale), math.ceil(c * scale)
        assert image.pixelColor(x, y) == QColor(*images[2, r, c].tolist())


def test_select_makes_the_sample_current_and_emits_its_index(qtbot, browser, dataset) -> None:
    browser.set_samples(*dataset, CLASSES)
    with qtbot.waitSignal(browser.sample_selected) as blocker:
        browser.select(4321)
    assert blocker.args == [4321] and browser.current_index() == 4321


def test_filtering_by_class_shows_only_that_class_and_keeps_true_indices(
        qtbot, browser, dataset) -> None:
    images, labels = dataset
    browser.set_samples(images, labels, CLASSES)
    browser.set_class_filter(3)
    visible = browser.visible_indices()
    np.testing.assert_array_equal(visible, np.flatnonzero(labels == 3))
    with qtbot.waitSignal(browser.sample_selected) as blocker:
        browser.list_view().setCurrentIndex(browser.model().index(2))
    assert blocker.args == [int(visible[2])]  # an index into the dataset, not a row

    hidden = int(np.flatnonzero(labels != 3)[0])
    browser.select(hidden)  # a sample the filter hides: the filter is cleared
    assert browser.current_index() == hidden and len(browser.visible_indices()) == 5000


def test_clicking_a_thumbnail_emits_its_sample_index(qtbot, browser, dataset, shown) -> None:
    images, labels = dataset
    browser.set_samples(images, labels, CLASSES)
    browser.set_class_filter(7)
    shown(browser)
    view = browser.list_view()
    rect = view.visualRect(browser.model().index(4))
    with qtbot.waitSignal(browser.sample_selected) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == [int(np.flatnonzero(labels == 7)[4])]
    assert browser.model().cached_thumbnails() < 500  # only what was on screen


def test_clear_and_bad_input(browser, dataset) -> None:
    browser.set_samples(*dataset, CLASSES)
    browser.clear()
    assert browser.model().rowCount() == 0 and browser.current_index() is None
    with pytest.raises(ValueError, match="uint8"):
        browser.set_samples(np.zeros((2, 4, 4, 1), dtype=np.float32), np.zeros(2), ["a"])
    with pytest.raises(ValueError, match="labels shaped"):
        browser.set_samples(np.zeros((2, 4, 4), dtype=np.uint8), np.zeros(3), ["a"])
    with pytest.raises(ValueError, match="class indices 0..1"):
        browser.set_samples(np.zeros((2, 4, 4), dtype=np.uint8), np.array([0, 2]), ["a", "b"])
    with pytest.raises(IndexError, match="out of range"):
        browser.select(0)


def test_the_class_filter_is_never_squeezed_below_its_widest_entry(qtbot, browser, dataset, shown) -> None:
    """Issue 15 item 8: in the Training tab's narrow column the combo read "All classes (200"."""
    images, labels = dataset
    browser.set_samples(images[:2000], labels[:2000], CLASSES)
    shown(browser)
    browser.resize(240, 400)  # about the probe column's share of a small window
    qtbot.waitUntil(lambda: browser.width() <= 260)
    combo = browser.findChild(QComboBox)
    assert combo.currentText() == "All classes (2000)"
    qtbot.waitUntil(lambda: combo.width() >= combo.sizeHint().width())
    assert combo.fontMetrics().horizontalAdvance(combo.currentText()) < combo.width()
    assert combo.geometry().right() < browser.width()  # within the browser, not cut at its edge
