"""The receptive field of one unit of a network's maps: a look-up over models.receptive_field for the views that
frame it (the Training tab's activations, the Explainer's output grids), and the sentence that says it."""

from __future__ import annotations

import math

from models.architecture import Architecture
from models.receptive_field import LayerField, field_between, receptive_fields
from models.shapes import Analysis, analyze

Box = tuple[float, float, float, float]  # (top, left, height, width) in input pixels, unclipped


class UnitFields:
    """Every layer's field of one architecture, by layer number (1-based) or by its label ('layer 4 (conv2d)').

    `unit_box(index, row, col, shown)` is unit (row, col)'s field on the input, or None when the layer's units have
    no grid, or when `shown` (the shape of the maps on screen) is not the shape the network makes: maps of another
    network (a run before an edit) get no frame rather than a wrong one. Each look-up is a little arithmetic."""

    def __init__(self, arch: Architecture, analysis: Analysis | None = None) -> None:
        self.arch = arch
        self.analysis = analysis if analysis is not None else analyze(arch)
        self.input_size = (arch.input.height, arch.input.width)
        self._fields = {field.index: field for field in receptive_fields(arch, self.analysis)}
        self._shapes = {la.index: la.output_shape for la in self.analysis.layers}
        self._numbers = {la.label: la.index for la in self.analysis.layers if la.output_shape is not None}

    def number(self, label: str) -> int | None:
        """The layer number of a snapshot label, or None."""
        return self._numbers.get(label)

    def makes(self, index: int, shown: tuple[int, ...] | None) -> bool:
        """Whether maps of shape `shown` are what layer `index` makes."""
        return shown is not None and self._shapes.get(index) is not None and tuple(shown) == self._shapes[index]

    def field(self, index: int, shown: tuple[int, ...] | None = None) -> LayerField | None:
        """Layer `index`'s field; None when unknown, or when `shown` is given and is not its output shape."""
        known = self._fields.get(index)
        if known is None or known.receptive_field is None:
            return None
        return known if shown is None or self.makes(index, shown) else None

    def unit_box(self, index: int, row: int, col: int, shown: tuple[int, ...] | None = None) -> Box | None:
        known = self.field(index, shown)
        return known.unit_box(row, col) if known is not None and known.on_grid else None

    def between(self, lower: int, upper: int) -> LayerField | None:
        """One unit of layer `upper` on the maps of layer `lower` (field_between), None where it has no grid."""
        if not 1 <= lower <= upper <= len(self.arch.layers):
            return None
        return field_between(self.arch, self.analysis, lower, upper)


def clipped_span(start: float, length: float, size: int) -> tuple[int, int] | None:
    """First and last pixel (inclusive) of [start, start + length) inside 0..size-1, or None."""
    first, last = max(math.floor(start), 0), min(math.ceil(start + length), size) - 1
    return (first, last) if first <= last else None


def unit_sentence(field: LayerField, row: int, col: int, input_size: tuple[int, int],
                  subject: str = "This unit") -> str:
    """'This unit sees rows 2-15, columns 4-17 of the 28x28 input (its receptive field: 14x14, jump 2).', saying
    so when the field reaches past the border (there it sees padding). `subject` names the unit."""
    h, w = input_size
    if not field.on_grid or field.receptive_field is None:
        return f"{subject}'s field has no place on the {h}x{w} input (after flatten, linear or global pooling)."
    top, left, height, width = field.unit_box(row, col)
    rows, cols = clipped_span(top, height, h), clipped_span(left, width, w)
    rh, rw = field.receptive_field
    jh, jw = field.jump  # type: ignore[misc]
    jump = f"jump {jh}" if jh == jw else f"jump {jh}x{jw}"
    if rows is None or cols is None:
        return f"{subject}'s {rh}x{rw} field lies wholly in the padding, outside the {h}x{w} input ({jump})."
    inside = rows[1] - rows[0] + 1 == rh and cols[1] - cols[0] + 1 == rw
    text = (f"{subject} sees rows {rows[0]}-{rows[1]}, columns {cols[0]}-{cols[1]} of the {h}x{w} input "
            f"(its receptive field: {rh}x{rw}, {jump})")
    return text + ("." if inside else ": the rest of its field reaches past the border, into the padding.")
