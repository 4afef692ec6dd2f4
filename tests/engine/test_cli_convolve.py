"""`python main.py convolve`: the map and every step as text, the documented --json, one line for a bad lesson."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args):
    return subprocess.run([sys.executable, "main.py", "convolve", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


def test_text_prints_the_formula_the_map_and_every_step():
    result = run("resources/lessons/vertical-edge.json")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "H, W: floor((6 + 2*0 - 3)/1) + 1 = 4" in lines
    map_row = lines.index("map 0:") + 1
    assert lines[map_row].split() == ["-5", "-4", "0", "8"]
    steps = [line for line in lines if line.startswith("map 0 (")]
    assert len(steps) == 16
    assert steps[0] == "map 0 (0, 0): 3*1 + 0*0 + 1*(-1) + 1*1 + 5*0 + 8*(-1) + 2*1 + 7*0 + 2*(-1) + bias 0 = -5"


def test_json_has_the_documented_keys_and_terms_in_channel_row_column_order():
    data = json.loads(run("rgb", "--json").stdout)
    assert data["output_shape"] == [2, 4, 4] and len(data["output"]) == 2 and len(data["output"][0]) == 4
    assert len(data["steps"]) == 32
    first = data["steps"][0]
    assert first["map"] == 0 and first["position"] == [0, 0] and first["bias"] == 0
    assert len(first["terms"]) == 27 and first["terms"][:3] == [[10, 1], [10, 0], [10, -1]]
    assert first["value"] == sum(x * w for x, w in first["terms"]) + first["bias"]
    assert data["steps"][16]["map"] == 1


def test_pooling_terms_are_the_window_values():
    data = json.loads(run("max-pool-4x4", "--json").stdout)
    assert data["output"] == [[[9, 2], [6, 3]]]
    assert data["steps"][0]["terms"] == [1, 3, 2, 9] and data["steps"][0]["value"] == 9


def test_stride_warning_is_printed():
    assert "warning: the windows never reach the last 1 row(s) and 1 column(s)" in run("stride-unused").stdout


def test_bad_lesson_is_one_line_naming_the_field(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "convscope.lesson", "version": 1, "title": "t", "operation": "conv", '
                   '"input": [[1, 2], [3, 4]], "kernels": [{"weights": [[1, "x"]]}]}')
    result = run(str(bad))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and 'field "kernels"[0].weights[0][1]: expected a number' in result.stderr


def _errata_lesson(tmp_path):
    """The vertical-edge lesson with one cell printed wrong: (2, 3) is -7, the 'course' printed -1."""
    data = json.loads((ROOT / "resources/lessons/vertical-edge.json").read_text())
    data["printed"] = [[-5, -4, 0, 8], [-10, -2, 2, 3], [0, -2, -4, -1], [-3, -2, -3, -16]]
    path = tmp_path / "errata.json"
    path.write_text(json.dumps(data))
    return path


def test_json_reports_exactly_the_misprinted_cell(tmp_path):
    data = json.loads(run(str(_errata_lesson(tmp_path)), "--json").stdout)
    assert data["printed_differs"] == [{"map": 0, "position": [2, 3], "printed": -1, "computed": -7}]
    assert data["output"][0][2][3] == -7
    assert json.loads(run("vertical-edge", "--json").stdout)["printed_differs"] == []  # nothing printed


def test_text_prints_both_maps_and_marks_the_differing_cell(tmp_path):
    lines = run(str(_errata_lesson(tmp_path))).stdout.splitlines()
    at = lines.index("map 0 as printed by the course (* differs from the computation):")
    assert lines[at - 2].split() == ["0", "-2", "-4", "-7"]  # the computed map comes first
    assert lines[at + 3].split() == ["0", "-2", "-4", "-1*"]
    assert [line for line in lines[at + 1:at + 5] if "*" in line] == [lines[at + 3]]
    assert lines[at + 5] == "  (2, 3): the course printed -1, the computation gives -7"


def test_the_built_in_stride_2_lesson_reports_the_decks_two_misprints():
    data = json.loads(run("stride-2", "--json").stdout)
    assert data["printed_differs"] == [{"map": 0, "position": [0, 2], "printed": 83, "computed": 88},
                                       {"map": 0, "position": [1, 2], "printed": 127, "computed": 117}]


def test_a_printed_output_of_the_wrong_shape_names_the_file(tmp_path):
    path = tmp_path / "bad.json"
    data = json.loads((ROOT / "resources/lessons/vertical-edge.json").read_text())
    data["printed"] = [[1, 2], [3, 4]]
    path.write_text(json.dumps(data))
    result = run(str(path))
    assert result.returncode == 2 and result.stdout == ""
    assert "bad.json: field \"printed\": 1x2x2 printed values, but the lesson's output is 1 map(s) of 4x4" in result.stderr
