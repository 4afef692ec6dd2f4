"""NumberGrid draws only the cells in view, so a large layer stays fast; clicks name the cell."""

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QScrollArea

from gui.views.number_grid import NumberGrid, cell_text


def test_only_visible_cells_are_painted(qtbot):
    grid = NumberGrid(cell=40)
    grid.set_values(np.arange(200 * 200, dtype=float).reshape(200, 200))
    scroll = QScrollArea()
    scroll.setWidget(grid)
    scroll.resize(300, 300)
    qtbot.addWidget(scroll)
    scroll.show()
    qtbot.waitExposed(scroll)
    scroll.viewport().grab()  # renders what the viewport shows
    assert 0 < grid.painted_cells <= 10 * 10  # about (300 / 40 + 1)^2 of the 40,000


def test_click_names_the_cell_and_hidden_cells_show_nothing(qtbot):
    grid = NumberGrid(cell=30)
    qtbot.addWidget(grid)
    grid.set_values(np.array([[1.0, -2.5], [3.25, 400.5]]), shown=np.array([[True, True], [True, False]]))
    with qtbot.waitSignal(grid.cell_clicked) as clicked:
        qtbot.mouseClick(grid, Qt.MouseButton.LeftButton, pos=grid.cell_rect(1, 0).center())
    assert clicked.args == [1, 0]
    assert [grid.text_at(0, 0), grid.text_at(0, 1), grid.text_at(1, 0), grid.text_at(1, 1)] == ["1", "-2.50", "3.25", ""]
    assert (cell_text(400.5), cell_text(12.345), cell_text(-7.0)) == ("400", "12.3", "-7")
