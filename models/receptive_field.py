"""Receptive fields: which input pixels one unit of each layer sees, by the textbook recurrence (no torch).

Along each axis, for a layer with kernel k, stride s, dilation d and p zeros before the input (top or left; for
"same" the padding the shape rules computed), from the previous layer's field r, jump j and start:

    r = r_prev + (k - 1) * d * j_prev        (input pixels one unit sees)
    j = j_prev * s                           (input pixels between neighbouring units)
    start = start_prev + ((k - 1) / 2 - p) * j_prev     (centre of the first unit's field, 0-based pixels)

starting from the input's r = 1, j = 1, start = 0. The fields are theoretical: not clipped at the border, so a
unit near it (or any unit of a deep layer) may reach past the image. Element-wise layers keep the previous values.
A layer whose units see everything the layer before saw (linear, global pooling) reports the size of the input
region its input's units reach, clipped to the image, with no jump and no start, and so does every layer after it:
that is the whole input, unless strides leave the last rows or columns unread (Keras' MNIST convnet reads 26x26 of
its 28x28 input: autograd agrees, tests/engine/test_receptive_field_gradients.py). A flatten's units are the previous
maps' units, one each: they keep their field, but their grid is gone (no jump, no start).

Graphs: each layer works from the layers it reads, in the order they run ("previous" above is its input). A merge
(add, concat) of inputs on the same grid (equal jumps) sees the union of their fields: per axis the smallest span
that covers every input's first-unit span start - (r - 1)/2 .. start + (r - 1)/2, whose length is r and centre the
start (so, for centred branches such as ResNet's, the largest input field). Inputs on different grids leave the
field unknown (unit i of one and of the other are not a fixed distance apart, so no single r, j and start fits);
inputs without a grid give the largest of their fields. A unit's field means all its channels at that place: after a
concat, a channel of a channel-wise layer (pooling, activation) sees only its own branch, a part of that union.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from models import graph
from models.architecture import Architecture
from models.layers import (AvgPool2dSpec, BatchNorm2dSpec, Conv2dSpec, DropoutSpec, EluSpec, FlattenSpec,
                           GlobalAvgPool2dSpec, LayerSpec, LeakyReluSpec, LinearSpec, LocallyConnected2dSpec,
                           MaxPool2dSpec, ReluSpec, SigmoidSpec, SoftmaxSpec, TanhSpec, is_merge, pair,
                           registered)
from models.shapes import Analysis, LayerAnalysis, analyze

Pair = tuple[int, int]
Point = tuple[float, float]

FORMULA = "r = r_prev + (k - 1)*d*j_prev;  j = j_prev*s;  start = start_prev + ((k - 1)/2 - p)*j_prev"


@dataclass(frozen=True)
class LayerField:
    """One layer's receptive field along (height, width); all None when the layer's shape is unknown (an error).

    `jump` and `start` are None when the units have no grid on the input (after linear, global pooling, flatten);
    `whole` marks a layer whose every unit sees all the input its layer reaches (`receptive_field` is then that
    region's size: the input's, unless strides leave some rows or columns unread)."""

    index: int
    receptive_field: Pair | None
    jump: Pair | None = None
    start: Point | None = None
    whole: bool = False
    formula: tuple[str, ...] = ()
    input_size: Pair | None = None
    reach: tuple[Pair, Pair] | None = None  # first and last row, first and last column its units see, clipped

    @property
    def on_grid(self) -> bool:
        return self.jump is not None and self.start is not None

    def unit_box(self, row: int, col: int) -> tuple[float, float, float, float]:
        """(top, left, height, width) in input pixels of unit (row, col)'s field, unclipped: pixel i spans [i, i+1),
        so the field's pixels are centre - (r-1)/2 .. centre + (r-1)/2 with centre = start + index * jump."""
        if not self.on_grid:
            raise ValueError(f"layer {self.index}'s units have no place on the input (no jump or start)")
        (rh, rw), (jh, jw), (sh, sw) = self.receptive_field, self.jump, self.start  # type: ignore[misc]
        return (sh + row * jh - (rh - 1) / 2, sw + col * jw - (rw - 1) / 2, float(rh), float(rw))

    def as_json(self) -> dict:
        return {"receptive_field": _listed(self.receptive_field), "jump": _listed(self.jump),
                "start": _listed(self.start)}

    def text(self) -> str:
        """For the summary table: '5x5', '28x28 (all)', or '?' when unknown."""
        if self.receptive_field is None:
            return "?"
        h, w = self.receptive_field
        if not self.whole:
            return f"{h}x{w}"
        return f"{h}x{w} (all)" if self.receptive_field == self.input_size else f"{h}x{w} (all it reaches)"


@dataclass(frozen=True)
class _Step:
    """The values a layer hands to the next: field, jump and start per axis (jump/start None: no grid)."""

    field: Pair
    jump: Pair | None
    start: Point | None
    reach: tuple[Pair, Pair]  # ((first row, last row), (first col, last col)) the units see, clipped to the input
    whole: bool = False


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def _listed(values: tuple | None) -> list | None:
    return None if values is None else [_number(v) for v in values]


def _axes(lines: list[tuple[str, str]]) -> tuple[str, ...]:
    """One line per quantity when both axes read the same, else one per axis."""
    out = []
    for name, (h, w) in lines:
        out += [f"{name}: {h}"] if h == w else [f"{name} H: {h}", f"{name} W: {w}"]
    return tuple(out)


def _windowed(spec: LayerSpec, la: LayerAnalysis, prev: _Step, input_size: Pair) -> tuple[_Step, tuple[str, ...]]:
    kernel = pair(spec.kernel_size)  # type: ignore[attr-defined]
    stride = getattr(spec, "stride", None)
    stride = pair(stride if stride is not None else spec.kernel_size)  # type: ignore[attr-defined]
    dilation = pair(getattr(spec, "dilation", 1))
    top, _bottom, left, _right = la.padding or (0, 0, 0, 0)
    if prev.jump is None or prev.start is None:
        return prev, ("the input has no grid here (after flatten, linear or global pooling)",)
    d_text = [f"*{d}" if getattr(spec, "dilation", None) is not None else "" for d in dilation]
    fields, jumps, starts, texts = [], [], [], {"receptive field": [], "jump": [], "start": []}
    for axis, pad in enumerate((top, left)):
        r0, j0, s0, k, s, d = prev.field[axis], prev.jump[axis], prev.start[axis], kernel[axis], stride[axis], \
            dilation[axis]
        r, j, start = r0 + (k - 1) * d * j0, j0 * s, s0 + ((k - 1) / 2 - pad) * j0
        fields.append(r)
        jumps.append(j)
        starts.append(start)
        texts["receptive field"].append(f"{r0} + ({k} - 1){d_text[axis]}*{j0} = {r}")
        texts["jump"].append(f"{j0}*{s} = {j}")
        texts["start"].append(f"{_number(s0)} + (({k} - 1)/2 - {pad})*{j0} = {_number(start)}")
    reach = tuple(_reach(fields[a], jumps[a], starts[a], la.output_shape[1 + a], input_size[a])  # type: ignore[index]
                  for a in (0, 1))
    step = _Step((fields[0], fields[1]), (jumps[0], jumps[1]), (starts[0], starts[1]), reach)  # type: ignore[arg-type]
    return step, _axes([(name, tuple(values)) for name, values in texts.items()])  # type: ignore[misc]


def _reach(field: int, jump: int, start: float, units: int, size: int) -> Pair:
    """First and last input pixel (inclusive) that some unit of `units` along this axis sees, clipped to the input."""
    first, last = start - (field - 1) / 2, start + (units - 1) * jump + (field - 1) / 2
    return max(int(first), 0), min(int(last), size - 1)


def _elementwise(spec: LayerSpec, la: LayerAnalysis, prev: _Step, input_size: Pair) -> tuple[_Step, tuple[str, ...]]:
    return prev, ("receptive field, jump and start unchanged (each unit sees what the unit under it saw)",)


def _whole(spec: LayerSpec, la: LayerAnalysis, prev: _Step, input_size: Pair) -> tuple[_Step, tuple[str, ...]]:
    (top, bottom), (left, right) = prev.reach
    return _Step((bottom - top + 1, right - left + 1), None, None, prev.reach, whole=True), \
        (_whole_text(prev.reach, input_size),)


def _whole_text(reach: tuple[Pair, Pair], input_size: Pair) -> str:
    (top, bottom), (left, right) = reach
    h, w = input_size
    if (top, bottom, left, right) == (0, h - 1, 0, w - 1):
        return f"every unit sees the whole {h}x{w} input"
    return (f"every unit sees all the input the maps before it reach: rows {top}..{bottom} and columns "
            f"{left}..{right} of the {h}x{w} input (no window reaches the rest)")


def _flatten(spec: LayerSpec, la: LayerAnalysis, prev: _Step, input_size: Pair) -> tuple[_Step, tuple[str, ...]]:
    if prev.jump is None:  # already flat: nothing changes
        return _elementwise(spec, la, prev, input_size)
    h, w = prev.field
    return _Step(prev.field, None, None, prev.reach), (
        f"receptive field {h}x{w} unchanged (each unit is one unit of the maps before it); no grid any more: no jump, "
        f"no start",)


_ELEMENTWISE = (ReluSpec, LeakyReluSpec, EluSpec, SigmoidSpec, TanhSpec, SoftmaxSpec, DropoutSpec, BatchNorm2dSpec)
_Rule = Callable[[LayerSpec, LayerAnalysis, _Step, Pair], tuple[_Step, tuple[str, ...]]]
# One rule per spec class, by exact class as the shape rules are: a new layer type has to choose its rule here.
RULES: dict[type[LayerSpec], _Rule] = {
    # Weight sharing changes nothing here: a locally connected unit has conv2d's window.
    Conv2dSpec: _windowed, LocallyConnected2dSpec: _windowed, MaxPool2dSpec: _windowed, AvgPool2dSpec: _windowed,
    GlobalAvgPool2dSpec: _whole, LinearSpec: _whole,
    FlattenSpec: _flatten,
    **{cls: _elementwise for cls in _ELEMENTWISE},  # softmax over channels: still one pixel of the map per unit
}


def _merged(ins: list[_Step], labels: list[str]) -> tuple[_Step | None, tuple[str, ...]]:
    """An add's or concat's step from its inputs' (None, with the reason, when their grids differ)."""
    reach = tuple((min(s.reach[a][0] for s in ins), max(s.reach[a][1] for s in ins)) for a in (0, 1))
    if all(s.jump is not None and s.start is not None for s in ins):
        jumps = {s.jump for s in ins}
        if len(jumps) > 1:
            return None, (f"unknown: its inputs' units lie on different grids (jumps "
                          f"{', '.join(f'{j[0]}x{j[1]}' for j in (s.jump for s in ins))}), so one unit's field "
                          f"changes in size across the map",)
        fields, starts, texts = [], [], []
        for axis in (0, 1):
            spans = [(s.start[axis] - (s.field[axis] - 1) / 2, s.start[axis] + (s.field[axis] - 1) / 2)
                     for s in ins]  # type: ignore[index]
            low, high = min(a for a, _ in spans), max(b for _, b in spans)
            fields.append(int(high - low) + 1)
            starts.append((low + high) / 2)
            texts.append(f"first unit's pixels {' and '.join(f'{_number(a)}..{_number(b)}' for a, b in spans)} "
                         f"({' and '.join(labels)}): together {_number(low)}..{_number(high)}, "
                         f"r = {fields[-1]}, start = {_number(starts[-1])}")
        lines = texts[:1] if texts[0] == texts[1] else [f"H: {texts[0]}", f"W: {texts[1]}"]
        (jump,) = jumps
        return _Step((fields[0], fields[1]), jump, (starts[0], starts[1]), reach), tuple(lines)  # type: ignore
    if all(s.whole for s in ins):
        (top, bottom), (left, right) = reach
        return _Step((bottom - top + 1, right - left + 1), None, None, reach, whole=True), \
            ("every unit sees all the input its inputs reach",)
    largest = (max(s.field[0] for s in ins), max(s.field[1] for s in ins))
    return _Step(largest, None, None, reach), (  # type: ignore[arg-type]
        f"{largest[0]}x{largest[1]}: the largest of its inputs' fields (no grid: a unit's field depends on the "
        f"branch it comes from)",)


def _walk(arch: Architecture, analysis: Analysis, origin: int, input_size: Pair) -> dict[int, LayerField]:
    """Layer number -> its field on the maps of `origin` (0: the input), in the order the layers run. Layers that
    do not read `origin` (directly or not) are left out; a layer that also reads around it gets an unknown field."""
    steps: dict[int, _Step | None] = {
        origin: _Step((1, 1), (1, 1), (0.0, 0.0), ((0, input_size[0] - 1), (0, input_size[1] - 1)))}
    out: dict[int, LayerField] = {}
    for number in analysis.order:
        spec, la = arch.layers[number - 1], analysis.layers[number - 1]
        if number == origin or not any(s in steps for s in la.sources):
            continue
        merge = is_merge(spec)
        rule = None if merge else registered(RULES, type(spec), "receptive-field rule",
                                             "models/receptive_field.py (RULES)")
        ins = [steps.get(s) for s in la.sources]
        if any(s is None for s in ins) or la.output_shape is None:
            steps[number] = None
            out[number] = LayerField(number, None)
            continue
        step: _Step | None
        if merge:
            step, formula = _merged(ins, [graph.source_label(s, arch) for s in la.sources])  # type: ignore[arg-type]
        elif ins[0].whole:  # after a layer that sees everything, every unit does
            step, formula = ins[0], (_whole_text(ins[0].reach, input_size),)  # type: ignore[union-attr]
        else:
            step, formula = rule(spec, la, ins[0], input_size)  # type: ignore[misc, arg-type]
        steps[number] = step
        out[number] = (LayerField(number, None, formula=formula) if step is None else
                       LayerField(number, step.field, step.jump, step.start, step.whole, formula, input_size,
                                  step.reach))
    return out


def receptive_fields(arch: Architecture, analysis: Analysis | None = None) -> tuple[LayerField, ...]:
    """Every layer's field, in list order (index 1-based, as the analysis numbers them). `analysis` is
    `analyze(arch)`, passed when already at hand; the padding of "same" layers comes from it."""
    analysis = analysis if analysis is not None else analyze(arch)
    found = _walk(arch, analysis, graph.INPUT, (arch.input.height, arch.input.width))
    return tuple(found.get(n, LayerField(n, None)) for n in range(1, len(arch.layers) + 1))


def field_between(arch: Architecture, analysis: Analysis, lower: int, upper: int) -> LayerField | None:
    """The field of one unit of layer `upper` on the maps of layer `lower` (1-based, lower <= upper), in units of
    those maps (a layer on itself: 1x1); None when either layer's units have no grid, a shape is unknown, or
    `upper` does not read `lower` or also reads around it (a shortcut from before `lower`).

    The layers in between see lower's output as their input, so their arithmetic (the padding of "same" included)
    is the same as in the whole network."""
    if not 1 <= lower <= upper <= len(arch.layers):
        raise ValueError(f"layers {lower} and {upper}: need 1 <= lower <= upper <= {len(arch.layers)}")
    shape = analysis.layers[lower - 1].output_shape
    if shape is None or len(shape) != 3:
        return None
    if lower == upper:
        return LayerField(upper, (1, 1), (1, 1), (0, 0), input_size=shape[1:])
    field = _walk(arch, analysis, lower, shape[1:]).get(upper)
    return field if field is not None and field.on_grid else None
