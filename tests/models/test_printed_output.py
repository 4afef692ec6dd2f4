"""A lesson's "printed" output (the course's, misprints and all): shapes are checked, differences are exact cells."""

import json

import numpy as np
import pytest

from models import lesson as lesson_format
from models.lesson import LessonError
from models.lesson_library import open_lesson
from models.printed_output import agrees, printed_differences


def doc(**changes):
    # input 3x3, kernel [[1, 0], [0, -1]], bias 1: output [[1-5+1, 2-6+1], [4-8+1, 5-9+1]] = [[-3, -3], [-3, -3]]
    base = {"format": "convscope.lesson", "version": 1, "title": "t", "operation": "conv",
            "input": [[1, 2, 3], [4, 5, 6], [7, 8, 9]], "kernels": [{"weights": [[1, 0], [0, -1]], "bias": 1}]}
    base.update(changes)
    return base


def test_one_wrong_printed_cell_is_reported_with_both_values():
    lesson = lesson_format.from_dict(doc(printed=[[-3, -3], [-3, 4]]))
    (only,) = printed_differences(lesson)
    assert (only.map, only.position, only.printed, only.computed) == (0, (1, 1), 4.0, -3.0)
    assert only.as_json() == {"map": 0, "position": [1, 1], "printed": 4, "computed": -3}
    assert only.text() == "the course printed 4, the computation gives -3"


def test_a_lesson_without_printed_values_and_one_printed_right_have_no_differences():
    assert printed_differences(lesson_format.from_dict(doc())) == []
    assert printed_differences(lesson_format.from_dict(doc(printed=[[[-3, -3], [-3, -3]]]))) == []


def test_rounded_printing_agrees_and_a_wrong_digit_does_not():
    assert agrees(0.33, 1 / 3) and agrees(88, 88.0) and agrees(-0.5, -0.5)
    assert not agrees(0.34, 1 / 3) and not agrees(83, 88) and not agrees(0.3, 0.36)


@pytest.mark.parametrize("printed, words", [
    ([[-3, -3]], "1x1x2 printed values, but the lesson's output is 1 map(s) of 2x2"),
    ([[[-3, -3], [-3, -3]], [[0, 0], [0, 0]]], "2x2x2 printed values"),
    ([[-3, "x"], [-3, -3]], 'field "printed"[0][1]: expected a number'),
    (7, 'field "printed": expected rows of numbers'),
])
def test_a_printed_output_of_the_wrong_shape_is_refused_naming_the_file(tmp_path, printed, words):
    path = tmp_path / "errata.json"
    path.write_text(json.dumps(doc(printed=printed)))
    with pytest.raises(LessonError) as info:
        lesson_format.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and words in message and "\n" not in message


def test_the_built_in_stride_2_lesson_carries_the_decks_two_misprints():
    lesson = open_lesson("stride-2")
    found = [(d.map, d.position, d.printed, d.computed) for d in printed_differences(lesson)]
    assert found == [(0, (0, 2), 83.0, 88.0), (0, (1, 2), 127.0, 117.0)]  # as its notes say
    again = lesson_format.loads(json.dumps(lesson_format.to_dict(lesson)))  # the round trip keeps them
    np.testing.assert_array_equal(again.printed, lesson.printed)
