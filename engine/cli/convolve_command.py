"""`convolve LESSON.json|NAME [--json]`: a lesson's output maps and every step of the arithmetic."""

from __future__ import annotations

import argparse
import json
import textwrap

from engine.cli import report_bad_input
from models import convolution_steps as steps
from models.lesson import Lesson, LessonError
from models.lesson_library import LESSON_KEYS, open_lesson
from models.printed_output import PrintedDifference, printed_differences
from models.step_text import grid_text, step_lines


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("convolve", help="print a lesson's output and every step of its convolution or pooling",
                       description="Work a lesson through: the output size formula, each output map, then every "
                                   "window's products, bias and sum (docs/lessons.md). Built-in lessons: "
                                   + ", ".join(LESSON_KEYS) + ".")
    p.add_argument("lesson", metavar="LESSON.json", help="a lesson file, or the name of a built-in lesson")
    p.add_argument("--json", action="store_true",
                   help="print JSON: output, output_shape, steps, printed_differs (the course's misprints)")
    p.set_defaults(func=run)


def as_json(lesson: Lesson) -> dict:
    op, x = lesson.op, lesson.input
    out = steps.output(op, x)
    return {"title": lesson.title, "operation": lesson.operation,
            "output": [[[steps.number(v) for v in row] for row in m] for m in out],
            "output_shape": list(out.shape),
            "printed_differs": [d.as_json() for d in printed_differences(lesson, out)],
            "formula": steps.formula(op, *x.shape[1:]), "warnings": steps.warnings(op, *x.shape[1:]),
            "steps": [{"map": s.map, "position": list(s.position), "terms": s.terms(),
                       "bias": steps.number(s.bias), "value": steps.number(s.value)}
                      for s in steps.all_steps(op, x)]}


def as_text(lesson: Lesson):
    """The lesson worked through, line by line (a generator: big lessons have many steps)."""
    op, x = lesson.op, lesson.input
    c, h, w = x.shape
    maps, oh, ow = lesson.output_shape
    yield lesson.title
    for paragraph in lesson.notes.split("\n"):
        yield from textwrap.wrap(paragraph, 100) or [""]
    yield ""
    what = (f"{maps} kernel(s) {op.kernel[0]}x{op.kernel[1]}x{c}" if lesson.operation == steps.CONV
            else f"window {op.kernel[0]}x{op.kernel[1]}")
    top, bottom, left, right = op.padding
    yield (f"{lesson.operation}: input {c}x{h}x{w}, {what}, stride {op.stride[0]}x{op.stride[1]}, padding "
           f"(top, bottom, left, right) {top} {bottom} {left} {right} -> output {maps}x{oh}x{ow}")
    yield from steps.formula(op, h, w)
    yield from (f"warning: {text}" for text in steps.warnings(op, h, w))
    out = steps.output(op, x)
    differs = printed_differences(lesson, out)
    for m, grid in enumerate(out):
        yield ""
        yield f"map {m}:"
        yield from grid_text(grid).splitlines()
        yield from _printed_text(lesson, m, [d for d in differs if d.map == m])
    yield ""
    yield "steps:"
    for s in steps.all_steps(op, x):
        lines = step_lines(s)
        yield f"map {s.map} ({s.position[0]}, {s.position[1]}): {lines[0]}"
        yield from (f"    {line}" for line in lines[1:])


def _printed_text(lesson: Lesson, m: int, differs: list[PrintedDifference]):
    """Map m as the course printed it, its differing cells marked with *, then each difference in words."""
    if not differs:
        return
    marked = {d.position for d in differs}
    cells = [[steps.number_text(v) + ("*" if (i, j) in marked else " ") for j, v in enumerate(row)]
             for i, row in enumerate(lesson.printed[m])]
    width = max(len(c) for row in cells for c in row)
    yield f"map {m} as printed by the course (* differs from the computation):"
    yield from (" ".join(c.rjust(width) for c in row).rstrip() for row in cells)
    yield from (f"  ({d.position[0]}, {d.position[1]}): {d.text()}" for d in differs)


def run(args: argparse.Namespace) -> int:
    try:
        lesson = open_lesson(args.lesson)
    except LessonError as exc:
        return report_bad_input(exc)
    if args.json:
        print(json.dumps(as_json(lesson), allow_nan=False))  # the lesson loader refused overflowing numbers
    else:
        for line in as_text(lesson):
            print(line)
    return 0
