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
