"""The Explainer marks the output cells a lesson's course printed otherwise: a dashed red outline and a tooltip
'the course printed a, the computation gives b'; the notes list them."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _errata_lesson(tmp_path) -> Path:
    """The vertical-edge lesson with one cell printed wrong: (2, 3) is -7, the 'course' printed -1."""
    data = json.loads((ROOT / "resources/lessons/vertical-edge.json").read_text())
    data["printed"] = [[-5, -4, 0, 8], [-10, -2, 2, 3], [0, -2, -4, -1], [-3, -2, -3, -16]]
    path = tmp_path / "errata.json"
    path.write_text(json.dumps(data))
    return path


def test_a_lesson_with_one_wrong_printed_cell_marks_exactly_that_cell(qtbot, window, tmp_path):
    window.tabs.setCurrentWidget(window.explainer)
    explainer = window.explainer
    assert explainer.open_lesson_file(str(_errata_lesson(tmp_path)))
    grid = explainer.output_grid
    expected = "the course printed -1, the computation gives -7"
    assert grid.flags == {(2, 3): expected}
    assert grid.tooltip_at(grid.cell_rect(2, 3).center()) == expected
    assert grid.tooltip_at(grid.cell_rect(2, 2).center()) == ""  # what the ToolTip event shows (offscreen Qt
    # cannot raise a real tooltip window without a warning)
    assert "Errata" in explainer.notes_label.text() and f"map 0 (2, 3): {expected}" in explainer.notes_label.text()
    explainer.jump_to(3, 3)  # moving on keeps the mark: it belongs to the map, not the step
    assert grid.flags == {(2, 3): expected}


def test_the_built_in_stride_2_lesson_marks_the_decks_two_misprints_and_a_network_marks_none(qtbot, window):
    window.tabs.setCurrentWidget(window.explainer)
    explainer = window.explainer
    explainer.source_box.setCurrentIndex(explainer.source_box.findData("stride-2"))
    assert explainer.output_grid.flags == {(0, 2): "the course printed 83, the computation gives 88",
                                           (1, 2): "the course printed 127, the computation gives 117"}
    explainer.source_box.setCurrentIndex(explainer.source_box.findData("vertical-edge"))
    assert explainer.output_grid.flags == {} and "Errata" not in explainer.notes_label.text()
