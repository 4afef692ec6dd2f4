"""The confusion matrix colours errors on a scale of their own: a cell with 7 errors beside 1,000 right answers
is visibly orange, not white (on the row's scale it was 0.7% coloured)."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from gui.evaluation.confusion_view import MIN_ERROR_STRENGTH, ConfusionMatrixView

WHITE = 255


def _background(view: ConfusionMatrixView, row: int, column: int) -> tuple[int, int, int]:
    colour = view.matrix.data(view.matrix.index(row, column), Qt.ItemDataRole.BackgroundRole)
    return colour.red(), colour.green(), colour.blue()


def _colouring(rgb: tuple[int, int, int]) -> float:
    """How far a cell is from white, 0 (white) .. 1, by its most changed channel."""
    return max(WHITE - c for c in rgb) / WHITE


@pytest.fixture
def view(qtbot) -> ConfusionMatrixView:
    widget = ConfusionMatrixView()
    qtbot.addWidget(widget)
    counts = np.array([[1000, 7, 0],
                       [0, 980, 20],
                       [1, 0, 990]])
    widget.set_matrix(counts, ["0", "1", "2"])
    return widget


@pytest.mark.parametrize("normalised", [False, True])
def test_a_cell_with_seven_errors_is_visibly_coloured(view, normalised) -> None:
    view.set_normalized(normalised)
    seven, twenty, one = _background(view, 0, 1), _background(view, 1, 2), _background(view, 2, 0)
    # orange: red stays high, blue drops the most
    assert seven[0] > seven[2] and _colouring(seven) > 0.3
    # the errors' own scale: the largest error (20) is the darkest, 7 and 1 lighter but never near white
    assert _colouring(twenty) > _colouring(seven) > _colouring(one) >= 0.15
    assert view.matrix.strength(1, 2) == pytest.approx(1.0)
    assert view.matrix.strength(0, 1) == pytest.approx(MIN_ERROR_STRENGTH + (1 - MIN_ERROR_STRENGTH) * 7 / 20)
    assert _background(view, 0, 2) == (WHITE, WHITE, WHITE)  # no error: empty
    assert view.cell_text(0, 1) == ("1%" if normalised else "7")


def test_the_diagonal_keeps_its_share_of_the_row_and_the_tooltip_names_the_scales(view) -> None:
    assert view.matrix.strength(1, 1) == pytest.approx(980 / 1000)
    diagonal = _background(view, 0, 0)
    assert diagonal[2] > diagonal[0]  # blue
    tip = view.matrix.data(view.matrix.index(0, 1), Qt.ItemDataRole.ToolTipRole)
    assert "own scale" in tip and "(20)" in tip
    assert view.matrix.data(view.matrix.index(1, 2), Qt.ItemDataRole.ForegroundRole).name() == "#ffffff"
