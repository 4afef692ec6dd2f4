"""The textbook summary table of an Analysis, as text, Markdown, CSV or a JSON-ready dict."""

from __future__ import annotations

import csv
import io

from models.receptive_field import LayerField
from models.shapes import Analysis

HEADERS = ("#", "Layer", "Output shape", "Activations", "Weights", "Biases", "Params", "Mult-adds")
# The last column when the receptive fields are given (models/receptive_field.py); left out otherwise, so a table
# made from an Analysis alone keeps its eight columns.
FIELD_HEADER = "Receptive field"
# The last column of a graph's table (`graph=True`): the layers each one reads, as Keras' "Connected to".
INPUTS_HEADER = "Inputs"
_NUMERIC = {0, 3, 4, 5, 6, 7}


def headers(fields: tuple[LayerField, ...] | None = None, graph: bool = False) -> tuple[str, ...]:
    return HEADERS + ((FIELD_HEADER,) if fields is not None else ()) + ((INPUTS_HEADER,) if graph else ())


def inputs_text(sources: tuple[int, ...]) -> str:
    """'input' for the network's input, else layer numbers: '8, 3'."""
    return ", ".join("input" if s == 0 else str(s) for s in sources)


def field_text(field: LayerField, jumps: bool = False) -> str:
    """A layer's field for the table: LayerField.text() ('5x5', '28x28 (all)', '?'); with `jumps`, units on a grid
    also say how many input pixels apart they are: '14x14 (jump 2)', '7x5 (jump 2x1)'."""
    text = field.text()
    if not jumps or field.receptive_field is None or field.whole or field.jump is None:
        return text
    jh, jw = field.jump
    return f"{text} (jump {jh})" if jh == jw else f"{text} (jump {jh}x{jw})"


def _in_run_order(analysis: Analysis) -> list:
    """The layers in the order they run; those that cannot run (a cycle, a missing input) last, in list order."""
    ran = [analysis.layers[n - 1] for n in analysis.order]
    return ran + [la for la in analysis.layers if la.index not in set(analysis.order)]


def _shape(shape: tuple[int, ...] | None) -> str:
    return "x".join(map(str, shape)) if shape else "?"


def rows(analysis: Analysis, fields: tuple[LayerField, ...] | None = None, graph: bool = False,
         jumps: bool = False) -> list[tuple[str, ...]]:
    """One row per layer (input first), then totals; numbers formatted with thousands separators. With `graph`,
    the layers in the order they run, each ending with the layers it reads (INPUTS_HEADER).

    A layer whose output is unknown (the error itself and every layer after it) shows "?" rather than 0,
    and so do the totals of such a network: a partial sum would read as the network's size. With `fields`
    (receptive_fields of the same architecture), each row ends with the layer's receptive field, and with `jumps`
    its jump too (field_text)."""
    field_of = {f.index: field_text(f, jumps) for f in fields} if fields is not None else None
    extra = (lambda text: (text,)) if field_of is not None else (lambda text: ())
    wired = (lambda text: (text,)) if graph else (lambda text: ())
    out = [("0", "input", _shape(analysis.input_shape), f"{_prod(analysis.input_shape):,}", "", "", "", "",
            *extra("1x1 (jump 1)" if jumps else "1x1"), *wired(""))]
    for la in (_in_run_order(analysis) if graph else analysis.layers):
        counts = (la.activation_size, la.weights, la.biases, la.params, la.macs)
        out.append((str(la.index), la.type + (" (!)" if la.error else ""), _shape(la.output_shape),
                    *(f"{n:,}" if la.output_shape is not None else "?" for n in counts),
                    *extra(field_of.get(la.index, "?") if field_of is not None else ""),
                    *wired(inputs_text(la.sources))))
    if all(la.output_shape is not None for la in analysis.layers):
        totals = (sum(la.weights for la in analysis.layers), sum(la.biases for la in analysis.layers),
                  analysis.total_params, analysis.total_macs)
        out.append(("", "total", "", "", *(f"{n:,}" for n in totals), *extra(""), *wired("")))
    else:
        out.append(("", "total", "", "", "?", "?", "?", "?", *extra(""), *wired("")))
    return out


def _prod(shape: tuple[int, ...]) -> int:
    n = 1
    for v in shape:
        n *= v
    return n


def as_text(analysis: Analysis, fields: tuple[LayerField, ...] | None = None) -> str:
    names = headers(fields)
    table = [names] + rows(analysis, fields)
    widths = [max(len(r[i]) for r in table) for i in range(len(names))]

    def line(r: tuple[str, ...]) -> str:
        return "  ".join(c.rjust(w) if i in _NUMERIC else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))

    rule = "-" * len(line(names).rstrip())
    body = [line(r).rstrip() for r in table[1:-1]]
    out = [line(names).rstrip(), rule, *body, rule, line(table[-1]).rstrip()]
    for la in analysis.layers:
        if la.error:
            out.append(f"error: {la.label}: {la.error}")
    out += [f"warning: {w}" for w in analysis.warnings]
    return "\n".join(out) + "\n"


def as_markdown(analysis: Analysis, fields: tuple[LayerField, ...] | None = None, graph: bool = False,
                jumps: bool = False) -> str:
    names = headers(fields, graph)
    table = [names] + rows(analysis, fields, graph, jumps)
    lines = ["| " + " | ".join(r) + " |" for r in table]
    lines.insert(1, "|" + "|".join("---:" if i in _NUMERIC else "---" for i in range(len(names))) + "|")
    return "\n".join(lines) + "\n"


def as_csv(analysis: Analysis, fields: tuple[LayerField, ...] | None = None, graph: bool = False,
           jumps: bool = False) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(headers(fields, graph))
    for r in rows(analysis, fields, graph, jumps):  # thousands separators out; the csv module quotes "8, 3"
        writer.writerow([c if i == len(r) - 1 and graph else c.replace(",", "") for i, c in enumerate(r)])
    return buf.getvalue()


def as_json(analysis: Analysis, fields: tuple[LayerField, ...] | None = None) -> dict:
    """With `fields`, each layer also has receptive_field, jump and start ([h, w] or null; see
    models/receptive_field.py)."""
    field_of = {f.index: f.as_json() for f in fields} if fields is not None else {}
    return {
        "input_shape": list(analysis.input_shape),
        "layers": [{"index": la.index, "type": la.type,
                    "output_shape": list(la.output_shape) if la.output_shape else None,
                    "activation_size": la.activation_size, "weights": la.weights, "biases": la.biases,
                    "params": la.params, "macs": la.macs, "formula": list(la.formula),
                    "warnings": list(la.warnings), "error": la.error, **field_of.get(la.index, {})}
                   for la in analysis.layers],
        "total_params": analysis.total_params,
        "total_macs": analysis.total_macs,
        "valid": analysis.is_valid,
        "errors": list(analysis.errors),
        "warnings": list(analysis.warnings),
    }
