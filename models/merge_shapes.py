"""The shape rules of the merge layers (add, concat): several input shapes in, one out, or a message that names
both branches and says what to change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from models.layers import AddSpec, ConcatSpec, LayerSpec

Shape = tuple[int, ...]
Branch = tuple[str, Shape]  # ('layer 3 (relu)' or 'the input', its output shape)


class MergeProblem(ValueError):
    """The inputs cannot be joined; models.shapes reports it as the layer's error (LayerProblem's role)."""


@dataclass(frozen=True)
class MergeResult:
    shape: Shape
    formula: tuple[str, ...] = ()


def dims(shape: Shape) -> str:
    return "x".join(map(str, shape))


def _fix(have: Branch, want: Shape) -> str:
    """What to put on the branch `have` so that its output becomes `want` (the other branch's shape)."""
    label, shape = have
    if len(shape) != len(want):
        return ("one branch gives maps and the other a vector; join them before the flatten (or "
                "global_avgpool2d), or flatten both")
    if len(want) == 1:
        return f"use a linear layer with {want[0]} units on the branch from {label}"
    (_, h, w), (wc, wh, ww) = shape, want
    if h % wh == 0 and w % ww == 0 and h // wh == w // ww:
        stride = h // wh
        return (f"use a 1x1 conv2d with {wc} filters" + (f" and stride {stride}" if stride > 1 else "")
                + f" on the branch from {label} (the shortcut)")
    return (f"make both branches {dims(want)}: a 1x1 conv2d sets the channels, stride or pooling the height "
            f"and width ('same' padding keeps them)")


def _by_age(branches: list[Branch]) -> list[Branch]:
    """The branches with the main path first: the one from the latest layer (the input counts as layer 0)."""
    def number(branch: Branch) -> int:
        label = branch[0]
        return int(label.split()[1]) if label.startswith("layer ") else 0
    return sorted(branches, key=number, reverse=True)


def _add(spec: AddSpec, branches: list[Branch]) -> MergeResult:
    main_label, main = _by_age(branches)[0]
    for label, shape in _by_age(branches)[1:]:
        if shape != main:
            raise MergeProblem(f"{dims(main)} from {main_label} vs {dims(shape)} from {label}: "
                               f"{_fix((label, shape), main)}")
    return MergeResult(main, (f"{' + '.join(dims(s) for _, s in branches)} = {dims(main)} (element by element)",))


def _concat(spec: ConcatSpec, branches: list[Branch]) -> MergeResult:
    main_label, main = _by_age(branches)[0]
    for label, shape in _by_age(branches)[1:]:
        if len(shape) != len(main):
            raise MergeProblem(f"{dims(main)} from {main_label} vs {dims(shape)} from {label}: "
                               f"{_fix((label, shape), main)}")
        if shape[1:] != main[1:]:
            (h, w), (mh, mw) = shape[1:], main[1:]
            step = (f"give the branch from {label} a stride of {h // mh} (a conv2d or a {h // mh}x{h // mh} "
                    f"maxpool2d)" if h % mh == 0 and w % mw == 0 and h // mh == w // mw
                    else "give both branches the same height and width (stride, pooling or 'same' padding)")
            raise MergeProblem(f"concat stacks channels, so heights and widths must be equal: {dims(main)} from "
                               f"{main_label} vs {dims(shape)} from {label}; {step}")
    total = sum(s[0] for _, s in branches)
    what = "channels" if len(main) == 3 else "features"
    return MergeResult((total, *main[1:]), (f"{what}: {' + '.join(str(s[0]) for _, s in branches)} = {total}",))


# One rule per merge spec class, looked up by exact class as models.shapes does for the others.
MERGE_RULES: dict[type[LayerSpec], Callable[[LayerSpec, list[Branch]], MergeResult]] = {
    AddSpec: _add,
    ConcatSpec: _concat,
}
