"""Issue 29 item 1 in the Explainer: an output cell of the user's network (hovered, clicked or stepped to) frames
its receptive field on the probe sample and says which input rows and columns it sees."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from gui.document.document_io import DISCARD
from gui.views.sample_frame import clipped
from models.receptive_field import receptive_fields

WAIT_MS = 120_000


@pytest.fixture
def explainer(qtbot, window):
    window.tabs.setCurrentWidget(window.explainer)
    window.document.ask_unsaved_changes = lambda: DISCARD
    panel = window.training_panel
    with qtbot.waitSignal(panel.dataset_changed, timeout=WAIT_MS):
        panel.select_dataset("mnist")
    explainer = window.explainer
    explainer.source_box.setCurrentIndex(explainer.source_box.findData("network"))
    return explainer


def hover(grid, row, col):
    """A mouse move over an output cell, as the window system delivers it (no button held)."""
    pos = QPointF(grid.cell_rect(row, col).center())
    event = QMouseEvent(QEvent.Type.MouseMove, pos, grid.mapToGlobal(pos), Qt.MouseButton.NoButton,
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(grid, event)


def leave(grid):
    QApplication.sendEvent(grid, QEvent(QEvent.Type.Leave))


def test_hovering_a_layer4_unit_frames_its_receptive_field_on_the_probe_sample(qtbot, window, explainer):
    explainer.layer_box.setCurrentIndex(explainer.layer_box.findText("layer 4 (conv2d)"))
    field = receptive_fields(window.network.architecture, window.network.analysis)[3]
    assert field.receptive_field == (14, 14) and field.jump == (2, 2)
    view = explainer.view
    sample = view.sample_panel
    assert sample.isVisibleTo(view)
    dataset = window.training_panel.dataset
    probe = dataset.to_uint8(dataset.val.images_at(window.workspace.probe_index))
    assert sample.image_item.image.shape[:2] == probe.shape[:2] == (28, 28)
    # the current step's cell (0, 0): its field reaches past the top-left corner, clipped to the image
    assert view.field_rect() == clipped(field.unit_box(0, 0), (28, 28)) == (0.0, 0.0, 12.0, 12.0)
    assert view.field_label.text().startswith("Output cell (0, 0) sees rows 0-11, columns 0-11 of the 28x28 input")
    hover(explainer.output_grid, 5, 6)
    assert view.field_rect() == clipped(field.unit_box(5, 6), (28, 28)) == (8.0, 10.0, 14.0, 14.0)
    assert view.field_label.text() == ("Output cell (5, 6) sees rows 8-21, columns 10-23 of the 28x28 input "
                                       "(its receptive field: 14x14, jump 2).")
    hover(explainer.output_grid, 9, 9)  # the far corner: clipped at the bottom and right
    assert view.field_rect() == clipped(field.unit_box(9, 9), (28, 28))
    leave(explainer.output_grid)  # back to the current step's cell
    assert view.field_rect() == clipped(field.unit_box(0, 0), (28, 28))
    qtbot.mouseClick(explainer.output_grid, Qt.MouseButton.LeftButton,
                     pos=explainer.output_grid.cell_rect(4, 2).center())
    assert explainer.position == (4, 2)
    assert view.field_rect() == clipped(field.unit_box(4, 2), (28, 28))
    explainer.next_step()
    assert view.field_rect() == clipped(field.unit_box(4, 3), (28, 28))


def test_each_layer_frames_its_own_field_and_lessons_show_none(qtbot, window, explainer):
    fields = receptive_fields(window.network.architecture, window.network.analysis)
    for label, index in (("layer 1 (conv2d)", 1), ("layer 3 (maxpool2d)", 3), ("layer 6 (maxpool2d)", 6)):
        explainer.layer_box.setCurrentIndex(explainer.layer_box.findText(label))
        hover(explainer.output_grid, 2, 3)
        assert explainer.view.field_rect() == clipped(fields[index - 1].unit_box(2, 3), (28, 28)), label
    explainer.source_box.setCurrentIndex(explainer.source_box.findData("vertical-edge"))
    assert explainer.view.field_rect() is None
    assert not explainer.view.sample_panel.isVisibleTo(explainer.view)
    assert not explainer.view.field_label.isVisibleTo(explainer.view)


def test_classical_vs_learned_maps_frame_a_hovered_units_field(qtbot, window, explainer):
    compare = explainer.compare
    explainer.pages.setCurrentWidget(compare)
    compare.select("layer 4 (conv2d)", "laplacian")
    assert compare.sample_panel.isVisibleTo(compare) and compare.sample_panel.frame() is None
    field = receptive_fields(window.network.architecture, window.network.analysis)[3]
    for amap, (i, j) in ((compare.learned_map, (5, 6)), (compare.classical_map, (9, 0))):
        hover(amap, i, j)
        assert compare.sample_panel.frame() == clipped(field.unit_box(i, j), (28, 28))
        assert compare.field_label.text().startswith(f"Unit ({i}, {j}) sees rows ")
    leave(compare.learned_map)  # the frame stays: the mouse may go to the sample to look
    assert compare.sample_panel.frame() == clipped(field.unit_box(9, 0), (28, 28))
    compare.select("layer 1 (conv2d)", "laplacian")  # another layer: no stale frame
    assert compare.sample_panel.frame() is None
    hover(compare.learned_map, 9, 0)
    assert compare.sample_panel.frame() == clipped(
        receptive_fields(window.network.architecture)[0].unit_box(9, 0), (28, 28)) == (7.0, 0.0, 5.0, 3.0)
    qtbot.mouseClick(compare.classical_map, Qt.MouseButton.LeftButton,
                     pos=compare.classical_map.cell_rect(2, 3).center())  # a click frames it too
    assert compare.sample_panel.frame() == clipped(receptive_fields(window.network.architecture)[0].unit_box(2, 3),
                                                   (28, 28))
