"""The lesson format: what it accepts, a round trip, and one clear error naming the field for a bad lesson."""

import json

import numpy as np
import pytest

from models import lesson as lesson_format
from models.lesson import LessonError
from models.lesson_library import LESSON_DIR, LESSON_KEYS, open_lesson


def doc(**changes):
    base = {"format": "convscope.lesson", "version": 1, "title": "t", "operation": "conv",
            "input": [[1, 2, 3], [4, 5, 6], [7, 8, 9]], "kernels": [{"weights": [[1, 0], [0, -1]], "bias": 1}]}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def test_every_built_in_lesson_is_listed_and_opens():
    assert sorted(p.stem for p in LESSON_DIR.glob("*.json")) == sorted(LESSON_KEYS)
    for key in LESSON_KEYS:
        assert open_lesson(key).title


def test_shapes_defaults_and_a_k_by_k_kernel_used_for_every_channel():
    one = lesson_format.from_dict(doc())
    assert one.input.shape == (1, 3, 3) and one.weights.shape == (1, 1, 2, 2) and one.output_shape == (1, 2, 2)
    rgb = lesson_format.from_dict(doc(input=[[[1, 2], [3, 4]]] * 3, kernels=[{"weights": [[1]]}]))
    assert rgb.weights.shape == (1, 3, 1, 1) and rgb.bias.tolist() == [0.0]
    pool = lesson_format.from_dict(doc(operation="maxpool", kernels=None, kernel_size=2))
    assert pool.stride == (2, 2) and pool.output_shape == (1, 1, 1)  # pooling's stride defaults to its window
    same = lesson_format.from_dict(doc(padding="same", stride=[2, 1]))
    assert same.output_shape == (1, 2, 3)


@pytest.mark.parametrize("key", LESSON_KEYS)
def test_round_trip(key):
    lesson = open_lesson(key)
    again = lesson_format.loads(json.dumps(lesson_format.to_dict(lesson)))
    assert (again.title, again.notes, again.operation, again.kernel, again.stride) == (
        lesson.title, lesson.notes, lesson.operation, lesson.kernel, lesson.stride)
    np.testing.assert_array_equal(again.input, lesson.input)
    if lesson.weights is not None:
        np.testing.assert_array_equal(again.weights, lesson.weights)


@pytest.mark.parametrize("changes, words", [
    ({"format": "x"}, 'expected "format": "convscope.lesson"'),
    ({"version": 2}, "newer than this ConvScope reads"),
    ({"operation": "sum"}, 'field "operation"'),
    ({"title": None}, 'field "title" is required'),
    ({"title": "two\nlines"}, 'field "title"'),
    ({"input": None}, 'field "input" is required'),
    ({"input": [[1, 2], [3]]}, 'field "input": the rows must all have the same length'),
    ({"input": [[1, "a"], [3, 4]]}, 'field "input"[0][1]: expected a number'),
    ({"input": [[True, 1], [3, 4]]}, 'field "input"[0][0]: expected a number'),
    ({"input": [1, 2]}, 'field "input": expected rows of numbers'),
    ({"input": [[0] * 65] * 2}, 'field "input": 1x2x65, larger than a lesson takes'),
    ({"kernels": None}, 'field "kernels" is required'),
    ({"kernels": []}, 'field "kernels": expected a list'),
    ({"kernels": [{"weights": [[1]], "bais": 0}]}, 'field "kernels"[0]: unknown field'),
    ({"kernels": [{"weights": [[1]]}, {"weights": [[1, 2]]}]}, 'field "kernels"[1].weights: 1x2, but kernel 0'),
    ({"kernels": [{"weights": [[1]], "bias": "0"}]}, 'field "kernels"[0].bias: expected a number'),
    ({"kernels": [{"weights": [[[1]], [[1]]]}]}, 'field "kernels"[0].weights: 2 channel grids for an input of 1'),
    ({"kernels": [{"weights": [[1] * 4] * 4}]}, 'field "kernels": the 4x4 window is larger than the 3x3 input'),
    ({"kernel_size": 2}, 'field "kernel_size": a conv lesson takes its size from "kernels"'),
    ({"stride": 0}, 'field "stride": expected a whole number from 1'),
    ({"padding": "full"}, 'field "padding"'),
    ({"padding": -1}, 'field "padding"'),
    ({"colour": 1}, "unknown field 'colour'"),
    ({"operation": "avgpool", "kernels": None}, 'field "kernel_size" is required for a avgpool lesson'),
    ({"operation": "maxpool"}, 'field "kernels": a maxpool lesson has no weights'),
    ({"operation": "maxpool", "kernels": None, "kernel_size": 2, "padding": 2}, 'field "padding": pooling'),
])
def test_bad_lessons_name_the_field(changes, words):
    with pytest.raises(LessonError) as info:
        lesson_format.from_dict(doc(**changes))
    assert words in str(info.value) and "\n" not in str(info.value)


def test_bad_files_name_the_file(tmp_path):
    path = tmp_path / "l.json"
    path.write_text('{"format": "convscope.lesson", "version": 1, "title": "a", "title": "b"}')
    with pytest.raises(LessonError, match="l.json: not valid JSON: the key 'title' appears twice"):
        lesson_format.load(path)
    with pytest.raises(LessonError, match="no such file, and not a built-in lesson"):
        open_lesson("vertical")
