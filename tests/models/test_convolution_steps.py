"""The step-by-step arithmetic equals torch's conv2d / max_pool2d / avg_pool2d, and the course's printed numbers."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from models import convolution_steps as cs
from models.lesson_library import LESSON_KEYS, open_lesson
from models.step_text import step_lines


def torch_output(op: cs.WindowOp, x: np.ndarray) -> np.ndarray:
    """The oracle: torch on the same numbers (explicit F.pad so asymmetric 'same' padding is covered too)."""
    top, bottom, left, right = op.padding
    t = torch.tensor(x, dtype=torch.float64)[None]
    if op.kind == cs.CONV:
        t = F.pad(t, (left, right, top, bottom))
        w = torch.tensor(op.weights, dtype=torch.float64)
        b = None if op.bias is None else torch.tensor(op.bias, dtype=torch.float64)
        return F.conv2d(t, w, b, stride=op.stride, groups=op.groups)[0].numpy()
    if top == bottom and left == right:  # torch's own padding: -inf for max, counted zeros for average
        fn = F.max_pool2d if op.kind == cs.MAXPOOL else F.avg_pool2d
        return fn(t, op.kernel, op.stride, padding=(top, left))[0].numpy()
    fill = -np.inf if op.kind == cs.MAXPOOL else 0.0
    t = F.pad(t, (left, right, top, bottom), value=fill)
    fn = F.max_pool2d if op.kind == cs.MAXPOOL else F.avg_pool2d
    return fn(t, op.kernel, op.stride)[0].numpy()


def stepped(op: cs.WindowOp, x: np.ndarray) -> np.ndarray:
    maps = op.maps(x.shape[0])
    out = np.zeros((maps, *op.output_size(*x.shape[1:])))
    for s in cs.all_steps(op, x):
        out[s.map][s.position] = s.value
    return out


@pytest.mark.parametrize("key", LESSON_KEYS)
def test_every_built_in_lesson_equals_torch_step_by_step_and_at_once(key):
    lesson = open_lesson(key)
    expected = torch_output(lesson.op, lesson.input)
    np.testing.assert_array_equal(cs.output(lesson.op, lesson.input), expected)
    np.testing.assert_array_equal(stepped(lesson.op, lesson.input), expected)


def test_vertical_edge_lesson_prints_the_courses_map():
    lesson = open_lesson("vertical-edge")
    out = cs.output(lesson.op, lesson.input)[0]
    assert out[0].tolist() == [-5, -4, 0, 8]
    assert out.tolist() == [[-5, -4, 0, 8], [-10, -2, 2, 3], [0, -2, -4, -7], [-3, -2, -3, -16]]
    first = cs.step(lesson.op, lesson.input, 0, 0, 0)
    assert step_lines(first) == ["3*1 + 0*0 + 1*(-1) + 1*1 + 5*0 + 8*(-1) + 2*1 + 7*0 + 2*(-1) + bias 0 = -5"]


@pytest.mark.parametrize("key, expected", [
    ("step-edge", [[0, 30, 30, 0]] * 4),
    ("same-padding", None),
    ("max-pool-4x4", [[9, 2], [6, 3]]),
    ("avg-pool-4x4", [[3.75, 1.25], [3.75, 2]]),
    ("max-pool-5x5", [[9, 9, 5], [9, 9, 5], [8, 6, 9]]),
    ("stride-2", [[91, 100, 88], [69, 91, 117], [44, 72, 74]]),
])
def test_course_examples(key, expected):
    lesson = open_lesson(key)
    out = cs.output(lesson.op, lesson.input)[0]
    if key == "same-padding":
        assert out.shape == lesson.input.shape[1:]  # same padding keeps the size
    else:
        assert out.tolist() == expected


def test_a_stride_that_leaves_pixels_unused_is_flagged_and_a_fitting_one_is_not():
    lesson = open_lesson("stride-unused")
    assert cs.unused(lesson.op, 6, 6) == (1, 1)
    assert "never reach the last 1 row(s) and 1 column(s)" in cs.warnings(lesson.op, 6, 6)[0]
    assert cs.warnings(open_lesson("stride-2").op, 7, 7) == []


def test_rgb_step_gives_per_channel_sums_and_their_total():
    lesson = open_lesson("rgb")
    s = cs.step(lesson.op, lesson.input, 1, 0, 1)
    assert len(s.channel_sums) == 3 and s.value == pytest.approx(sum(s.channel_sums) + s.bias)
    lines = step_lines(s)
    assert len(lines) == 4 and lines[-1].startswith("sum: ") and lines[-1].endswith(f"= {int(s.value)}")
    assert len(s.terms()) == 27


def test_max_pool_marks_the_winner_and_never_picks_padding():
    op = cs.WindowOp(cs.MAXPOOL, (2, 2), (2, 2), (1, 1, 1, 1))
    x = -np.arange(1, 10, dtype=float).reshape(1, 3, 3)  # all negative: a padding zero would win if counted
    s = cs.step(op, x, 0, 0, 0)
    assert s.value == -1 and s.winner == (0, 1, 1) and s.terms() == [-1]
    np.testing.assert_array_equal(cs.output(op, x), torch_output(op, x))


@pytest.mark.parametrize("seed", range(12))
def test_random_windows_equal_torch(seed):
    rng = np.random.default_rng(seed)
    kind = cs.OPERATIONS[seed % 3]
    c = int(rng.integers(1, 5))
    h, w = int(rng.integers(3, 12)), int(rng.integers(3, 12))
    kernel = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    stride = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    x = rng.normal(size=(c, h, w))
    if kind == cs.CONV:
        groups = c if seed % 2 else 1
        maps = groups * int(rng.integers(1, 3))
        padding = cs.resolve_padding("same" if seed % 4 == 0 else int(rng.integers(0, 3)), (h, w), kernel, stride)
        op = cs.WindowOp(kind, kernel, stride, padding, rng.normal(size=(maps, c // groups, *kernel)),
                         rng.normal(size=maps), groups)
    else:
        padding = cs.resolve_padding("same" if seed % 4 == 1 else (kernel[0] // 2, kernel[1] // 2), (h, w),
                                     kernel, stride)
        op = cs.WindowOp(kind, kernel, stride, padding)
    expected = torch_output(op, x)
    np.testing.assert_allclose(cs.output(op, x), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(stepped(op, x), expected, rtol=1e-12, atol=1e-12)


def test_formula_names_the_numbers():
    op = cs.WindowOp(cs.CONV, (3, 3), (2, 2), (1, 1, 1, 1), np.ones((1, 1, 3, 3)), np.zeros(1))
    assert cs.formula(op, 7, 7) == ["H, W: floor((7 + 2*1 - 3)/2) + 1 = 4"]
    assert cs.formula(op, 7, 8) == ["H: floor((7 + 2*1 - 3)/2) + 1 = 4", "W: floor((8 + 2*1 - 3)/2) + 1 = 4"]
