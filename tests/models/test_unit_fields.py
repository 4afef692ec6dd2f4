"""models/unit_fields.py: the per-unit look-up the Training tab and the Explainer frame fields with."""

from __future__ import annotations

from models.presets import load_preset
from models.receptive_field import receptive_fields
from models.shapes import analyze
from models.unit_fields import UnitFields, clipped_span, unit_sentence

LENET = load_preset("lenet5")


def test_unit_boxes_are_models_receptive_fields():
    fields = UnitFields(LENET)
    for field in receptive_fields(LENET, analyze(LENET)):
        if field.on_grid:
            assert fields.unit_box(field.index, 3, 1) == field.unit_box(3, 1)
        else:
            assert fields.unit_box(field.index, 0, 0) is None
    assert fields.number("layer 4 (conv2d)") == 4
    assert fields.unit_box(4, 0, 0) == (-2.0, -2.0, 14.0, 14.0)  # start 4.5, field 14: pixels -2..11
    assert fields.unit_box(4, 0, 0, (16, 10, 10)) is not None
    assert fields.unit_box(4, 0, 0, (16, 12, 12)) is None  # maps another network made: no frame
    assert fields.between(3, 4).receptive_field == (5, 5) and fields.between(4, 3) is None


def test_the_sentence_names_the_clipped_rows_and_columns():
    field = receptive_fields(LENET)[3]
    assert unit_sentence(field, 5, 6, (28, 28)) == (
        "This unit sees rows 8-21, columns 10-23 of the 28x28 input (its receptive field: 14x14, jump 2).")
    corner = unit_sentence(field, 0, 0, (28, 28))
    assert corner.startswith("This unit sees rows 0-11, columns 0-11 of the 28x28 input") and "padding" in corner
    assert "no place" in unit_sentence(receptive_fields(LENET)[7], 0, 0, (28, 28))
    assert clipped_span(-2.0, 14.0, 28) == (0, 11) and clipped_span(30.0, 2.0, 28) is None


def test_a_graphs_units_have_their_layers_fields():
    resnet = load_preset("resnet20")
    fields, analysis = UnitFields(resnet), analyze(resnet)
    for field in receptive_fields(resnet, analysis):
        shape = analysis.layers[field.index - 1].output_shape
        expected = field.unit_box(1, 2) if field.on_grid else None
        assert fields.unit_box(field.index, 1, 2, shape) == expected, field.index
