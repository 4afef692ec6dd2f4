"""Hypothesis strategy for random valid graphs: branches, residual adds and concats, several sinks joined at the end.

Shapes come from the analysis of the prefix drawn so far (so that adds join equal shapes and concats equal
heights and widths); the tests then hold the analysis to torch's own forward pass, parameters and flops.
"""

from hypothesis import strategies as st

from models.architecture import Architecture, InputShape
from models.layers import (AddSpec, BatchNorm2dSpec, ConcatSpec, Conv2dSpec, GlobalAvgPool2dSpec, LinearSpec,
                           MaxPool2dSpec, ReluSpec, TanhSpec)
from models.shapes import analyze


def _image_layer(draw, shape):
    c, h, w = shape
    kind = draw(st.sampled_from(["conv", "conv", "relu", "bn", "pool", "tanh"]))
    if kind == "conv":
        k = draw(st.sampled_from([1, 3]))
        stride = draw(st.sampled_from([1, 1, 2]))
        padding = draw(st.sampled_from(["same", k // 2]))
        groups = draw(st.sampled_from([1, c]))
        return Conv2dSpec(groups * draw(st.integers(1, 3)), k, stride, padding, draw(st.booleans()), groups)
    if kind == "pool" and min(h, w) >= 2:
        return MaxPool2dSpec(2)
    return {"bn": BatchNorm2dSpec(), "tanh": TanhSpec()}.get(kind, ReluSpec())


@st.composite
def graphs(draw) -> Architecture:
    """A valid graph of 3 to about 16 layers on a small image, ending in one linear layer."""
    input_shape = InputShape(draw(st.integers(1, 3)), draw(st.integers(4, 9)), draw(st.integers(4, 9)))
    layers: list = []
    inputs: list = []

    def shapes() -> dict[int, tuple[int, ...]]:
        analysis = analyze(Architecture("g", input_shape, tuple(layers), tuple(inputs)))
        out = {0: input_shape.as_tuple()}
        out.update({la.index: la.output_shape for la in analysis.layers})
        return out

    for _ in range(draw(st.integers(2, 9))):
        known = shapes()
        kind = draw(st.sampled_from(["layer", "layer", "add", "concat"]))
        groups: dict = {}
        for n, shape in known.items():
            key = shape if kind == "add" else (len(shape), shape[1:])
            groups.setdefault(key, []).append(n)
        joinable = [g for g in groups.values() if len(g) >= 2]
        if kind != "layer" and joinable:
            group = draw(st.sampled_from(joinable))
            picked = draw(st.lists(st.sampled_from(group), min_size=2, max_size=3, unique=True))
            layers.append(AddSpec() if kind == "add" else ConcatSpec())
            inputs.append(tuple(picked))
        else:
            source = draw(st.sampled_from(sorted(known)))
            layers.append(_image_layer(draw, known[source]))
            inputs.append((source,))
    # Every layer nobody reads (and there may be several) is pooled to a vector; the vectors are concatenated
    # into one linear layer, so the network has one output.
    read = {s for srcs in inputs for s in srcs}
    sinks = [n for n in range(1, len(layers) + 1) if n not in read]
    pooled = []
    for n in sinks:
        layers.append(GlobalAvgPool2dSpec())
        inputs.append((n,))
        pooled.append(len(layers))
    if len(pooled) > 1:
        layers.append(ConcatSpec())
        inputs.append(tuple(pooled))
    layers.append(LinearSpec(draw(st.integers(1, 4)), draw(st.booleans())))
    inputs.append((len(layers) - 1,))
    return Architecture("random graph", input_shape, tuple(layers), tuple(inputs))
