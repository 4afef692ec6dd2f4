"""The textbook summary table of an Analysis, as text, Markdown, CSV or a JSON-ready dict."""

from __future__ import annotations

import csv
import io

from models.shapes import Analysis

HEADERS = ("#", "Layer", "Output shape", "Activations", "Weights", "Biases", "Params", "Mult-adds")


def _shape(shape: tuple[int, ...] | None) -> str:
    return "x".join(map(str, shape)) if shape else "?"


def rows(analysis: Analysis) -> list[tuple[str, ...]]:
    """One row per layer (input first), then totals; numbers formatted with thousands separators.

    A layer whose output is unknown (the error itself and every layer after it) shows "?" rather than 0,
    and so do the totals of such a network: a partial sum would read as the network's size."""
    out = [("0", "input", _shape(analysis.input_shape), f"{_prod(analysis.input_shape):,}", "", "", "", "")]
    for la in analysis.layers:
        counts = (la.activation_size, la.weights, la.biases, la.params, la.macs)
        out.append((str(la.index), la.type + (" (!)" if la.error else ""), _shape(la.output_shape),
                    *(f"{n:,}" if la.output_shape is not None else "?" for n in counts)))
    if all(la.output_shape is not None for la in analysis.layers):
        totals = (sum(la.weights for la in analysis.layers), sum(la.biases for la in analysis.layers),
                  analysis.total_params, analysis.total_macs)
        out.append(("", "total", "", "", *(f"{n:,}" for n in totals)))
    else:
        out.append(("", "total", "", "", "?", "?", "?", "?"))
    return out


def _prod(shape: tuple[int, ...]) -> int:
    n = 1
    for v in shape:
        n *= v
    return n


def as_text(analysis: Analysis) -> str:
    table = [HEADERS] + rows(analysis)
    widths = [max(len(r[i]) for r in table) for i in range(len(HEADERS))]
    numeric = {0, 3, 4, 5, 6, 7}

    def line(r: tuple[str, ...]) -> str:
        return "  ".join(c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))

    rule = "-" * len(line(HEADERS))
    body = [line(r) for r in table[1:-1]]
    out = [line(HEADERS), rule, *body, rule, line(table[-1])]
    for la in analysis.layers:
        if la.error:
            out.append(f"error: {la.label}: {la.error}")
    out += [f"warning: {w}" for w in analysis.warnings]
    return "\n".join(out) + "\n"


def as_markdown(analysis: Analysis) -> str:
    table = [HEADERS] + rows(analysis)
    lines = ["| " + " | ".join(r) + " |" for r in table]
    lines.insert(1, "|" + "|".join("---:" if i in (0, 3, 4, 5, 6, 7) else "---" for i in range(len(HEADERS))) + "|")
    return "\n".join(lines) + "\n"


def as_csv(analysis: Analysis) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HEADERS)
    for r in rows(analysis):
        writer.writerow([c.replace(",", "") for c in r])
    return buf.getvalue()


def as_json(analysis: Analysis) -> dict:
    return {
        "input_shape": list(analysis.input_shape),
        "layers": [{"index": la.index, "type": la.type,
                    "output_shape": list(la.output_shape) if la.output_shape else None,
                    "activation_size": la.activation_size, "weights": la.weights, "biases": la.biases,
                    "params": la.params, "macs": la.macs, "formula": list(la.formula),
                    "warnings": list(la.warnings), "error": la.error} for la in analysis.layers],
        "total_params": analysis.total_params,
        "total_macs": analysis.total_macs,
        "valid": analysis.is_valid,
        "errors": list(analysis.errors),
        "warnings": list(analysis.warnings),
    }
