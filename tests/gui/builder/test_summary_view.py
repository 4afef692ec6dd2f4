"""The summary dock: the textbook table, live, with totals bold, errors red and copy to the clipboard."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from models.architecture import Architecture, InputShape
from models.layers import Conv2dSpec, FlattenSpec, LinearSpec, ReluSpec
from models.receptive_field import receptive_fields
from models.summary_table import FIELD_HEADER, HEADERS, INPUTS_HEADER, as_csv, as_markdown, rows


def cell(model, row: int, column: int, role=Qt.ItemDataRole.DisplayRole):
    return model.data(model.index(row, column), role)


def test_table_matches_the_summary_rows_and_updates_live(window):
    model = window.summary.model
    fields = receptive_fields(window.network.architecture, window.network.analysis)
    expected = rows(window.network.analysis, fields, jumps=True)
    assert model.rowCount() == len(expected) and model.columnCount() == len(HEADERS) + 1
    assert [[cell(model, r, c) for c in range(len(HEADERS) + 1)] for r in range(model.rowCount())] == \
        [list(r) for r in expected]
    assert cell(model, model.rowCount() - 1, 6) == "61,706"
    window.editor.append_new("softmax")
    assert model.rowCount() == len(expected) + 1
    assert cell(model, len(expected) - 1, 1) == "softmax"


def test_totals_row_is_bold_and_error_rows_red(window):
    model = window.summary.model
    last = model.rowCount() - 1
    assert cell(model, last, 1, Qt.ItemDataRole.FontRole).bold()
    assert cell(model, 1, 1, Qt.ItemDataRole.FontRole) is None
    window.editor.replace(0, window.network.layers[0].replace(kernel_size=40))
    assert cell(model, 1, 1) == "conv2d (!)"
    assert cell(model, 1, 1, Qt.ItemDataRole.ForegroundRole).color().red() > 150
    assert "40x40 kernel" in cell(model, 1, 1, Qt.ItemDataRole.ToolTipRole)
    assert cell(model, 2, 1, Qt.ItemDataRole.ForegroundRole) is None  # later rows: unknown, not errors


def test_copy_as_markdown_and_csv(window):
    clipboard = QGuiApplication.clipboard()
    window.summary.copy_markdown_action.trigger()
    fields = receptive_fields(window.network.architecture, window.network.analysis)
    assert clipboard.text() == as_markdown(window.network.analysis, fields, jumps=True)
    assert clipboard.text().startswith("| # | Layer | Output shape |")
    assert "| 1 | conv2d | 6x28x28 | 4,704 | 150 | 6 | 156 | 117,600 | 5x5 (jump 1) |" in clipboard.text()
    window.summary.copy_csv_action.trigger()
    assert clipboard.text() == as_csv(window.network.analysis, fields, jumps=True)
    assert clipboard.text().splitlines()[0].endswith(",Mult-adds,Receptive field")
    assert "1,conv2d,6x28x28,4704,150,6,156,117600,5x5 (jump 1)" in clipboard.text()


def test_context_menu_offers_both_copies(window):
    actions = window.summary.table.actions()
    assert [a.text() for a in actions] == ["Copy as Markdown", "Copy as CSV"]
    assert window.summary.table.contextMenuPolicy() == Qt.ContextMenuPolicy.ActionsContextMenu


def test_a_graph_lists_layers_in_run_order_with_their_inputs(window):
    # layer 1 reads layer 2, which reads the input: they run 2, 1, then the rest
    arch = Architecture("g", InputShape(1, 28, 28), (ReluSpec(), Conv2dSpec(4), FlattenSpec(), LinearSpec(10)),
                        ((2,), (0,), (1,), None))
    window.editor.set_architecture(arch, "graph")
    model = window.summary.model
    assert model.columnCount() == len(HEADERS) + 2
    assert model.headerData(len(HEADERS), Qt.Orientation.Horizontal) == FIELD_HEADER
    assert model.headerData(len(HEADERS) + 1, Qt.Orientation.Horizontal) == INPUTS_HEADER
    numbers = [cell(model, r, 0) for r in range(model.rowCount())]
    inputs = [cell(model, r, len(HEADERS) + 1) for r in range(model.rowCount())]
    assert numbers == ["0", "2", "1", "3", "4", ""]
    assert inputs == ["", "input", "2", "1", "3", ""]
    window.editor.replace(1, Conv2dSpec(4, kernel_size=40))  # layer 2's error is on its row, the second
    assert cell(model, 1, 1) == "conv2d (!)"
    assert "40x40 kernel" in cell(model, 1, 1, Qt.ItemDataRole.ToolTipRole)
    window.summary.copy_csv()
    assert QGuiApplication.clipboard().text().splitlines()[0].endswith(",Inputs")
    window.editor.set_architecture(arch.with_layers(arch.layers, ()), "chain")
    assert model.columnCount() == len(HEADERS) + 1  # a chain keeps the textbook table (and its fields)


def test_resnet20_summary_names_each_adds_two_branches(window):
    window.document.open(Path(__file__).resolve().parents[3] / "resources" / "presets" / "resnet20.json")
    model = window.summary.model
    first_add = next(r for r in range(model.rowCount()) if cell(model, r, 1) == "add")
    assert cell(model, first_add, 0) == "9" and cell(model, first_add, len(HEADERS) + 1) == "8, 3"
    fields = receptive_fields(window.network.architecture, window.network.analysis)
    assert cell(model, first_add, len(HEADERS)) == field_text_of(fields[8])


def field_text_of(field) -> str:
    """What the column says for a field on a grid: '14x14 (jump 2)'."""
    (h, w), (jh, jw) = field.receptive_field, field.jump
    return f"{h}x{w} (jump {jh})" if jh == jw else f"{h}x{w} (jump {jh}x{jw})"


def test_the_receptive_field_column_equals_models_receptive_field_for_lenet5(window):
    model = window.summary.model
    assert window.network.architecture.name.lower().replace("-", "").startswith("lenet")
    column = len(HEADERS)
    assert model.headerData(column, Qt.Orientation.Horizontal) == FIELD_HEADER
    fields = receptive_fields(window.network.architecture, window.network.analysis)
    assert cell(model, 0, column) == "1x1 (jump 1)"  # the input row
    for field in fields:
        row = next(r for r in range(model.rowCount()) if cell(model, r, 0) == str(field.index))
        shown = cell(model, row, column)
        if field.on_grid:
            assert shown == field_text_of(field)
        else:  # flatten keeps its field without a grid; linear sees all
            assert shown == field.text()
    # LeNet-5 by hand: conv 5x5 (28x28 padded 2), pool 2 -> 6x6 jump 2, conv 5x5 -> 14x14 jump 2, pool 2 -> 16x16
    shown = {cell(model, r, 1): cell(model, r, column) for r in range(1, model.rowCount() - 1)}
    texts = [cell(model, r, column) for r in range(1, model.rowCount() - 1)]
    assert texts[0] == "5x5 (jump 1)" and "14x14 (jump 2)" in texts and "16x16 (jump 4)" in texts
    assert shown["linear"].endswith("(all)")
