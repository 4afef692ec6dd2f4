"""The palette lists every registered layer type by group and drags its registry key."""

from __future__ import annotations

from PySide6.QtCore import Qt

from gui.builder.mime import LAYER_MIME, layer_key
from gui.builder.palette import Palette
from models.layers import GROUPS, LAYER_TYPES, MERGE_TYPES
from models.residual_block import BLOCK_TYPES


def test_every_layer_type_in_group_order_with_its_summary(qtbot):
    palette = Palette()
    qtbot.addWidget(palette)
    keys = palette.keys()
    layers = keys[:len(LAYER_TYPES)]
    assert sorted(layers) == sorted(LAYER_TYPES)
    assert keys[len(LAYER_TYPES):] == [*MERGE_TYPES, *BLOCK_TYPES]  # a graph's pieces come last
    groups = [LAYER_TYPES[k].GROUP for k in layers]
    assert groups == sorted(groups, key=GROUPS.index)
    accessible = Qt.ItemDataRole.AccessibleTextRole
    headings = [palette.topLevelItem(i).data(0, accessible) for i in range(palette.topLevelItemCount())]
    assert headings == [*GROUPS, "Merge", "Blocks"]
    assert "Adds its inputs" in palette.item_for("add").toolTip(0)
    assert BLOCK_TYPES["residual_block"].SUMMARY in palette.item_for("residual_block").toolTip(0)
    for key in layers:
        assert LAYER_TYPES[key].SUMMARY in palette.item_for(key).toolTip(0)


def test_drag_data_carries_the_registry_key(qtbot):
    palette = Palette()
    qtbot.addWidget(palette)
    data = palette.mimeData([palette.item_for("leaky_relu")])
    assert data.formats()[0] == LAYER_MIME and layer_key(data) == "leaky_relu"
    assert palette.mimeTypes() == [LAYER_MIME]


def test_enter_on_an_item_emits_its_key(qtbot):
    palette = Palette()
    qtbot.addWidget(palette)
    palette.setCurrentItem(palette.item_for("flatten"))
    with qtbot.waitSignal(palette.layer_activated) as blocker:
        qtbot.keyClick(palette, Qt.Key.Key_Return)
    assert blocker.args == ["flatten"]
