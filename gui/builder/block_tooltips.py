"""What hovering a canvas block says: a layer's arithmetic, where the input comes from, what the output means."""

from __future__ import annotations

import html

from gui.builder.layer_style import display_name, shape_text
from models.layers import NODE_TYPES, LayerSpec
from models.shapes import Analysis, LayerAnalysis


def layer_tooltip(spec: LayerSpec, la: LayerAnalysis) -> str:
    """Rich text for a layer block: what the layer does, its arithmetic, warnings and error."""
    lines = [f"<b>{display_name(spec.TYPE)}</b> (layer {la.index})", NODE_TYPES[spec.TYPE].SUMMARY]
    lines += [f"<code>{html.escape(line)}</code>" for line in la.formula]
    lines += [f"<span style='color:#b45309'>\u26a0 {html.escape(w)}</span>" for w in la.warnings]
    if la.error:
        lines.append(f"<span style='color:#dc2626'>{html.escape(la.error)}</span>")
    lines.append("<i>Drag to move it; Delete removes it.</i>")
    return "<br>".join(lines)


def input_tooltip(analysis: Analysis, caption: str) -> str:
    channels, height, width = analysis.input_shape
    return (f"<b>Input</b>: {html.escape(caption)}<br>Each image enters the first layer as {channels} "
            f"channel{'s' if channels != 1 else ''} of {height}\u00d7{width} pixels.<br><i>The dataset chosen in "
            "the Training panel sets this shape.</i>")


def output_tooltip(analysis: Analysis, problem: str | None) -> str:
    """The output pill: why training cannot start (`problem`), else what its numbers are."""
    if problem and analysis.is_valid:
        return f"Cannot train: {html.escape(problem)}"
    if not analysis.is_valid or analysis.output_shape is None:
        return "<b>Output</b>: unknown until the layer marked in red is fixed"
    shape = analysis.output_shape
    if len(shape) == 1:
        return (f"<b>Output</b>: {shape[0]} scores (logits), one per class; the highest is the prediction.<br>"
                "Training needs as many as the dataset has classes.")
    return (f"<b>Output</b>: {shape_text(shape)}, not yet one score per class: end the network with Flatten "
            "and a Linear layer")
