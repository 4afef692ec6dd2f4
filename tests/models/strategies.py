"""Hypothesis strategies for layer specs and architectures (valid and invalid alike)."""

from hypothesis import strategies as st

from models.architecture import Architecture, InputShape
from models.layers import (AvgPool2dSpec, BatchNorm2dSpec, Conv2dSpec, DropoutSpec, EluSpec, FlattenSpec,
                           GlobalAvgPool2dSpec, LeakyReluSpec, LinearSpec, MaxPool2dSpec, ReluSpec, SigmoidSpec,
                           SoftmaxSpec, TanhSpec)

small = st.integers(1, 5)
size = st.one_of(small, st.tuples(small, small))

conv = st.builds(Conv2dSpec, out_channels=st.integers(1, 6), kernel_size=size, stride=st.one_of(st.integers(1, 3),
                 st.tuples(st.integers(1, 3), st.integers(1, 3))),
                 padding=st.one_of(st.integers(0, 2), st.tuples(st.integers(0, 2), st.integers(0, 2)),
                                   st.sampled_from(["valid", "same"])), bias=st.booleans())
pool_kernel = st.integers(1, 3)


@st.composite
def pools(draw):
    k = draw(st.one_of(pool_kernel, st.tuples(pool_kernel, pool_kernel)))
    kh, kw = k if isinstance(k, tuple) else (k, k)
    pad = draw(st.tuples(st.integers(0, kh // 2), st.integers(0, kw // 2)))
    stride = draw(st.one_of(st.none(), st.integers(1, 3)))
    cls = draw(st.sampled_from([MaxPool2dSpec, AvgPool2dSpec]))
    return cls(k, stride, pad)


simple = st.sampled_from([ReluSpec(), SigmoidSpec(), TanhSpec(), BatchNorm2dSpec(), DropoutSpec(0.3),
                          LeakyReluSpec(0.2), EluSpec(0.5)])
image_layer = st.one_of(conv, pools(), simple)
head = st.lists(st.one_of(st.builds(LinearSpec, out_features=st.integers(1, 12), bias=st.booleans()),
                          st.sampled_from([ReluSpec(), DropoutSpec(0.1), TanhSpec()])), max_size=3)


@st.composite
def architectures(draw):
    """Mostly valid networks: image layers, then flatten or global pooling, then dense layers."""
    shape = InputShape(draw(st.integers(1, 3)), draw(st.integers(1, 16)), draw(st.integers(1, 16)))
    body = draw(st.lists(image_layer, min_size=1, max_size=5))
    reshape = draw(st.sampled_from([FlattenSpec(), GlobalAvgPool2dSpec()]))
    tail = draw(head)
    end = [SoftmaxSpec()] if draw(st.booleans()) else []
    return Architecture("generated", shape, tuple(body + [reshape] + tail + end))
