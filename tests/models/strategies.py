"""Hypothesis strategies for layer specs and architectures (valid and invalid alike), built from LAYER_TYPES.

Every registered spec class gets a strategy derived from its fields' kinds and bounds, so a new
layer type is generated (and so fuzzed against torch in tests/engine/test_builder.py) without an
edit here; OVERRIDES narrow a few types whose fields constrain each other.
"""

from hypothesis import strategies as st

from models.architecture import Architecture, InputShape
from models.fields import BOOL, FLOAT, INT, KERNEL_INIT, OPTIONAL_SIZE, PADDING, POOL_PADDING, SIZE, FieldInfo
from models.layers import (LAYER_TYPES, AvgPool2dSpec, Conv2dSpec, DropoutSpec, FlattenSpec, GlobalAvgPool2dSpec,
                           LayerSpec, LinearSpec, MaxPool2dSpec, ReluSpec, SoftmaxSpec, TanhSpec)
from models.shapes import analyze

small = st.integers(1, 5)
size = st.one_of(small, st.tuples(small, small))
stride = st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3)))
padding = st.one_of(st.integers(0, 2), st.tuples(st.integers(0, 2), st.integers(0, 2)),
                    st.sampled_from(["valid", "same"]))

# Small values of each field kind: networks stay tiny enough to run through torch many times.
_KIND_STRATEGIES = {
    INT: lambda info: st.integers(max(int(info.minimum), 1), min(int(info.maximum), 6)),
    FLOAT: lambda info: st.floats(info.minimum, min(info.maximum, 2.0)),
    BOOL: lambda info: st.booleans(),
    SIZE: lambda info: size,
    OPTIONAL_SIZE: lambda info: st.one_of(st.none(), st.integers(1, 3)),
    POOL_PADDING: lambda info: st.integers(0, 1),
    PADDING: lambda info: padding,
    KERNEL_INIT: lambda info: st.none(),  # hand-set filters depend on the layer's shape: tests/engine/test_kernel_init.py
}


def field_strategy(info: FieldInfo) -> st.SearchStrategy:
    return _KIND_STRATEGIES[info.kind](info)


def derived(cls: type[LayerSpec]) -> st.SearchStrategy:
    """Any spec of `cls`, each field drawn from its kind (every spec field has a default, so cls() works)."""
    return st.builds(cls, **{name: field_strategy(info) for name, info in cls().fields().items()})


pool_kernel = st.integers(1, 3)


def pools(cls: type) -> st.SearchStrategy:
    """Pooling with padding at most half the kernel (more is refused by torch and by the analysis)."""
    @st.composite
    def draw_pool(draw):
        k = draw(st.one_of(pool_kernel, st.tuples(pool_kernel, pool_kernel)))
        kh, kw = k if isinstance(k, tuple) else (k, k)
        pad = draw(st.tuples(st.integers(0, kh // 2), st.integers(0, kw // 2)))
        return cls(k, draw(st.one_of(st.none(), st.integers(1, 3))), pad)
    return draw_pool()


# Mostly groups 1; 2 and 3 divide the channels of some generated inputs (1-3 channels, 1-6 filters).
conv = st.builds(Conv2dSpec, out_channels=st.integers(1, 6), kernel_size=size, stride=stride, padding=padding,
                 bias=st.booleans(), groups=st.one_of(st.just(1), st.integers(1, 3)))
OVERRIDES: dict[type[LayerSpec], st.SearchStrategy] = {
    Conv2dSpec: conv, MaxPool2dSpec: pools(MaxPool2dSpec), AvgPool2dSpec: pools(AvgPool2dSpec),
}
SPEC_STRATEGIES: dict[type[LayerSpec], st.SearchStrategy] = {
    cls: OVERRIDES[cls] if cls in OVERRIDES else derived(cls) for cls in LAYER_TYPES.values()}

# Where a type can sit: these turn an image into a vector, or need a vector. Every other type (a new one
# too) is drawn among the image layers.
TO_VECTOR = (FlattenSpec, GlobalAvgPool2dSpec)
ON_VECTOR = (LinearSpec,)


def image_layers() -> st.SearchStrategy:
    return st.one_of(*(s for cls, s in SPEC_STRATEGIES.items() if cls not in TO_VECTOR + ON_VECTOR))


head = st.lists(st.one_of(SPEC_STRATEGIES[LinearSpec], st.sampled_from([ReluSpec(), DropoutSpec(0.1), TanhSpec()])),
                max_size=3)


@st.composite
def architectures(draw):
    """Mostly valid networks: image layers, then flatten or global pooling, then dense layers."""
    shape = InputShape(draw(st.integers(1, 3)), draw(st.integers(1, 16)), draw(st.integers(1, 16)))
    body = draw(st.lists(image_layers(), min_size=1, max_size=5))
    reshape = draw(st.one_of(*(SPEC_STRATEGIES[cls] for cls in TO_VECTOR)))
    tail = draw(head)
    end = [SoftmaxSpec()] if draw(st.booleans()) else []
    return Architecture("generated", shape, tuple(body + [reshape] + tail + end))


def valid_prefix(arch: Architecture) -> Architecture | None:
    """The layers of a generated network up to its first error (None when the very first layer fails)."""
    analysis = analyze(arch)
    valid = [spec for spec, la in zip(arch.layers, analysis.layers) if la.output_shape is not None]
    return arch.with_layers(valid) if valid else None
