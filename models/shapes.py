"""Shape inference and the textbook arithmetic of every layer: output shapes, parameters, multiply-adds."""

from __future__ import annotations


import math
from dataclasses import dataclass, field, replace
from typing import Callable

from models import graph
from models.architecture import Architecture
from models.layers import (AvgPool2dSpec, BatchNorm2dSpec, Conv2dSpec, DropoutSpec, EluSpec, FlattenSpec,
                           GlobalAvgPool2dSpec, LayerSpec, LeakyReluSpec, LinearSpec, LocallyConnected2dSpec,
                           MaxPool2dSpec, Pool2dSpec, ReluSpec, SigmoidSpec, SoftmaxSpec, TanhSpec, is_merge, pair,
                           registered)
from models.kernel_library import init_problem
from models.merge_shapes import MERGE_RULES, MergeProblem
from models.validation import check_spec

NEVER_REACH = "the windows never reach"  # the start of a strided layer's warning about rows it skips

Shape = tuple[int, ...]


class LayerProblem(ValueError):
    """Raised by a shape rule when the layer cannot work on its input; the message says what to change."""


@dataclass(frozen=True)
class LayerAnalysis:
    """Everything the table, the canvas and the inspector show for one layer (index is 1-based).

    `sources` are the layers it reads (0 = the network's input), `input_shapes` their shapes; `input_shape`
    is the first of them (a merge layer's others are in `input_shapes`).
    """

    index: int
    type: str
    input_shape: Shape | None
    output_shape: Shape | None = None
    weights: int = 0
    biases: int = 0
    macs: int = 0
    formula: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    error: str | None = None
    padding: tuple[int, int, int, int] | None = None  # (top, bottom, left, right) zeros, for conv/pool
    frozen: int = 0  # of `params`, those training leaves as set (conv2d frozen_init: weights and zero biases)
    sources: tuple[int, ...] = ()
    input_shapes: tuple[Shape | None, ...] = ()

    @property
    def params(self) -> int:
        return self.weights + self.biases

    @property
    def activation_size(self) -> int:
        return math.prod(self.output_shape) if self.output_shape else 0

    @property
    def label(self) -> str:
        return f"layer {self.index} ({self.type})"


@dataclass(frozen=True)
class Analysis:
    """The arithmetic of a whole architecture, layer by layer (list order); `order` is the order they run in."""

    input_shape: Shape
    layers: tuple[LayerAnalysis, ...]
    warnings: tuple[str, ...] = field(default=())
    order: tuple[int, ...] = ()

    @property
    def errors(self) -> tuple[str, ...]:
        return tuple(f"{la.label}: {la.error}" for la in self.layers if la.error)

    @property
    def is_valid(self) -> bool:
        return not self.errors and bool(self.layers)

    @property
    def output_shape(self) -> Shape | None:
        return self.layers[-1].output_shape if self.layers else self.input_shape

    @property
    def total_params(self) -> int:
        return sum(la.params for la in self.layers)

    @property
    def total_frozen(self) -> int:
        return sum(la.frozen for la in self.layers)

    @property
    def total_macs(self) -> int:
        return sum(la.macs for la in self.layers)

    @property
    def first_error(self) -> str | None:
        return self.errors[0] if self.errors else None


@dataclass(frozen=True)
class _Result:
    shape: Shape
    weights: int = 0
    biases: int = 0
    macs: int = 0
    formula: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    padding: tuple[int, int, int, int] | None = None
    frozen: int = 0


def same_padding(n: int, f: int, s: int) -> tuple[int, int]:
    """Zeros (before, after) so that the output is ceil(n / s), extra zero after, as in Keras/TensorFlow."""
    total = max((math.ceil(n / s) - 1) * s + f - n, 0)
    return total // 2, total - total // 2


def _window_axis(n: int, f: int, s: int, pad: tuple[int, int], same: bool) -> tuple[int, str, int]:
    """Output size along one axis, its formula with numbers, and how many input pixels the windows skip."""
    padded = n + pad[0] + pad[1]
    out = (padded - f) // s + 1
    if same:
        text = f"ceil({n}/{s}) = {out}   (padding {pad[0]}+{pad[1]})"
    else:
        p = f"2*{pad[0]}" if pad[0] == pad[1] else f"{pad[0]}+{pad[1]}"
        core = f"({n} + {p} - {f})/{s}"
        text = f"{core} + 1 = {out}" if (padded - f) % s == 0 else f"floor({core}) + 1 = {out}"
    # The windows skip the last (padded - f) % s rows; those that are bottom padding hold only zeros.
    unused = max((padded - f) % s - pad[1], 0) if s > 1 and not same else 0
    return out, text, unused


def _windowed(spec: Conv2dSpec | LocallyConnected2dSpec | Pool2dSpec, c: int, h: int, w: int, hint: str) -> tuple[Shape, _Result]:
    (fh, fw), stride = pair(spec.kernel_size), spec.stride if spec.stride is not None else spec.kernel_size
    (sh, sw) = pair(stride)
    padding = spec.padding
    same = padding == "same"
    if same:
        ph, pw = same_padding(h, fh, sh), same_padding(w, fw, sw)
    else:
        ph, pw = (pair(padding) if padding != "valid" else (0, 0))
        ph, pw = (ph, ph), (pw, pw)
    padded_h, padded_w = h + sum(ph), w + sum(pw)
    if fh > padded_h or fw > padded_w:
        padded = f" ({padded_h}x{padded_w} with padding)" if sum(ph) + sum(pw) else ""
        raise LayerProblem(f"the {fh}x{fw} kernel is larger than its {h}x{w} input{padded}; {hint}")
    oh, th, unused_h = _window_axis(h, fh, sh, ph, same)
    ow, tw, unused_w = _window_axis(w, fw, sw, pw, same)
    formula = (f"H, W: {th}",) if th == tw else (f"H: {th}", f"W: {tw}")
    skipped = [f"{n} {axis}" for n, axis in ((unused_h, "row(s)"), (unused_w, "column(s)")) if n]
    warnings = ()
    if skipped:
        warnings = (f"{NEVER_REACH} the last {' and '.join(skipped)} of the input (stride {sh}x{sw}, "
                    f"kernel {fh}x{fw}); change the stride, kernel or padding so that (n + 2p - f) divides by s",)
    return (oh, ow), _Result((), formula=formula, warnings=warnings, padding=(ph[0], ph[1], pw[0], pw[1]))


def _conv(spec: Conv2dSpec, c: int, h: int, w: int) -> _Result:
    k, g = spec.out_channels, spec.groups
    if c % g or k % g:
        raise LayerProblem(f"groups {g} must divide both the {c} input channels and the {k} filters; use a "
                           f"groups value that divides both (1 = ordinary, {c} = depthwise when filters "
                           f"are a multiple of {c})")
    (oh, ow), r = _windowed(spec, c, h, w, "use a smaller kernel_size, add padding, or remove a pooling layer "
                                         "before it")
    fh, fw = pair(spec.kernel_size)
    c_group = c // g  # each filter sees only the input channels of its own group
    problem = init_problem(spec.init, k, c_group, fh, fw)
    if problem:
        raise LayerProblem(problem)
    weights, biases = k * c_group * fh * fw, (k if spec.bias else 0)
    channels = f"{c}/{g}" if g != 1 else f"{c}"
    params = f"params: {k}*({channels}*{fh}*{fw}" + (" + 1)" if spec.bias else ")") + f" = {weights + biases}"
    warnings = r.warnings
    if spec.padding not in ("same", "valid") and max(pair(spec.padding)) >= max(fh, fw):
        warnings += ("padding is as large as the kernel: the border outputs see only zeros",)
    frozen = len(spec.frozen_filters()) * (c_group * fh * fw + (1 if spec.bias else 0))
    return _Result((k, oh, ow), weights, biases, k * oh * ow * c_group * fh * fw, r.formula + (params,),
                   warnings, r.padding, frozen)


def _locally_connected(spec: LocallyConnected2dSpec, c: int, h: int, w: int) -> _Result:
    (oh, ow), r = _windowed(spec, c, h, w, "use a smaller kernel_size, add padding, or remove a pooling layer "
                                         "before it")
    k, (fh, fw) = spec.out_channels, pair(spec.kernel_size)
    positions = k * oh * ow  # one filter of c*fh*fw weights and one bias per output value: nothing shared
    weights = positions * c * fh * fw
    params = f"params: {k}*{oh}*{ow}*({c}*{fh}*{fw} + 1) = {weights + positions}"
    return _Result((k, oh, ow), weights, positions, weights, r.formula + (params,), r.warnings, r.padding)


def _pool(spec: Pool2dSpec, c: int, h: int, w: int) -> _Result:
    fh, fw = pair(spec.kernel_size)
    ph, pw = pair(spec.padding)
    if ph > fh // 2 or pw > fw // 2:
        raise LayerProblem(f"padding {ph}x{pw} is more than half the {fh}x{fw} window; use padding at most "
                           f"{fh // 2}")
    (oh, ow), r = _windowed(spec, c, h, w, "use a smaller kernel_size or remove a pooling layer before it")
    return _Result((c, oh, ow), formula=r.formula, warnings=r.warnings, padding=r.padding)


def _needs_image(shape: Shape) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise LayerProblem(f"needs a (channels, height, width) input but receives a flat vector of {shape[0]}; "
                           f"move it before the flatten / linear layers")
    return shape  # type: ignore[return-value]


def _on_image(rule: Callable[..., _Result]) -> Callable[[LayerSpec, Shape], _Result]:
    return lambda spec, shape: rule(spec, *_needs_image(shape))


def _global_avgpool(spec: GlobalAvgPool2dSpec, c: int, h: int, w: int) -> _Result:
    return _Result((c,), formula=(f"({c}, {h}, {w}) -> ({c}): one average per channel",))


def _batchnorm(spec: BatchNorm2dSpec, c: int, h: int, w: int) -> _Result:
    return _Result((c, h, w), weights=c, biases=c, formula=(f"params: 2*{c} = {2 * c} (scale and shift)",))


def _flatten(spec: FlattenSpec, shape: Shape) -> _Result:
    if len(shape) == 1:
        return _Result(shape, warnings=("the input is already flat; this flatten does nothing",))
    n = math.prod(shape)
    return _Result((n,), formula=(f"{' * '.join(map(str, shape))} = {n}",))


def _linear(spec: LinearSpec, shape: Shape) -> _Result:
    if len(shape) != 1:
        dims = "x".join(map(str, shape))
        raise LayerProblem(f"receives a {dims} input; insert a flatten (or global_avgpool2d) layer before it")
    n, k = shape[0], spec.out_features
    weights, biases = n * k, (k if spec.bias else 0)
    bias_text = f" + {k}" if spec.bias else ""
    return _Result((k,), weights, biases, n * k, (f"params: {n}*{k}{bias_text} = {weights + biases}",))


def _unchanged(spec: LayerSpec, shape: Shape) -> _Result:
    return _Result(shape)


# One rule per spec class, looked up by exact class: a type missing here is refused, never passed through.
SHAPE_RULES: dict[type[LayerSpec], Callable[[LayerSpec, Shape], _Result]] = {
    Conv2dSpec: _on_image(_conv),
    LocallyConnected2dSpec: _on_image(_locally_connected),
    MaxPool2dSpec: _on_image(_pool),
    AvgPool2dSpec: _on_image(_pool),
    GlobalAvgPool2dSpec: _on_image(_global_avgpool),
    BatchNorm2dSpec: _on_image(_batchnorm),
    FlattenSpec: _flatten,
    LinearSpec: _linear,
    # Shape-preserving, no parameters: listed one by one so a new type has to choose its rule.
    **{cls: _unchanged for cls in (ReluSpec, LeakyReluSpec, EluSpec, SigmoidSpec, TanhSpec, SoftmaxSpec,
                                   DropoutSpec)},
}


def _rule(spec: LayerSpec, shape: Shape) -> _Result:
    return registered(SHAPE_RULES, type(spec), "shape rule", "models/shapes.py (SHAPE_RULES)")(spec, shape)


def _layer(spec: LayerSpec, number: int, arch: Architecture, ins: list[tuple[int, Shape]]) -> _Result:
    """The rule's result for one layer given (source number, shape) of each input; LayerProblem if it fails."""
    problems = check_spec(spec)
    if problems:
        raise LayerProblem("; ".join(problems))
    if is_merge(spec):
        if len(ins) < 2:
            raise LayerProblem(f"{spec.TYPE} joins two or more inputs but reads only "
                               f"{graph.source_label(ins[0][0], arch)}; name another layer in its inputs")
        rule = registered(MERGE_RULES, type(spec), "merge shape rule", "models/merge_shapes.py (MERGE_RULES)")
        try:
            r = rule(spec, [(graph.source_label(n, arch), shape) for n, shape in ins])
        except MergeProblem as exc:
            raise LayerProblem(str(exc)) from None
        return _Result(r.shape, formula=r.formula)
    if len(ins) != 1:
        names = " and ".join(graph.source_label(n, arch) for n, _ in ins)
        raise LayerProblem(f"{spec.TYPE} takes one input but reads {len(ins)} ({names}); join them first with "
                           f"an add or concat layer")
    return _rule(spec, ins[0][1])


def _forgive_rows_another_reader_reads(results: list[LayerAnalysis]) -> list[LayerAnalysis]:
    """Rows a layer's windows skip are lost only if nothing else reads them: ResNet's 1x1 stride-2 shortcut skips
    every other row of the block's input, which the main branch's 3x3 stride-2 conv beside it reads. Its warning
    would flag the canonical design as a mistake, so it is dropped when another working reader of the same
    layer reaches all of it."""
    readers: dict[int, list[LayerAnalysis]] = {}
    for la in results:
        for source in set(la.sources):
            readers.setdefault(source, []).append(la)

    def reads_all(la: LayerAnalysis) -> bool:
        return la.error is None and la.output_shape is not None and not any(
            w.startswith(NEVER_REACH) for w in la.warnings)

    out = []
    for la in results:
        skips = [w for w in la.warnings if w.startswith(NEVER_REACH)]
        if skips and len(la.sources) == 1 and any(
                other is not la and reads_all(other) for other in readers.get(la.sources[0], ())):
            la = replace(la, warnings=tuple(w for w in la.warnings if w not in skips))
        out.append(la)
    return out


def analyze(arch: Architecture) -> Analysis:
    """Infer every layer's shape and arithmetic, in the order the layers run (a chain's: list order).

    A layer that fails gets the error; the layers that depend on it get no shape and no error. A layer whose
    output feeds nothing keeps its shape and gets the error (one output: the last layer)."""
    input_shape = arch.input.as_tuple()
    count = len(arch.layers)
    srcs = graph.sources(arch)
    wiring = graph.problems(arch) if arch.is_graph else {}
    unread = graph.dead_ends(arch) if arch.is_graph else {}
    bad_input = [n for n, v in zip(("channels", "height", "width"), input_shape) if v < 1]
    shapes: dict[int, Shape | None] = {graph.INPUT: input_shape}
    found: dict[int, LayerAnalysis] = {}
    run_order = graph.order(arch)
    for number in run_order:
        spec = arch.layers[number - 1]
        ins = [shapes.get(s) for s in srcs[number - 1]]
        first = ins[0] if ins else None
        base = dict(sources=srcs[number - 1], input_shapes=tuple(ins))
        if number in wiring or any(shape is None for shape in ins):
            found[number] = LayerAnalysis(number, spec.TYPE, first, error=wiring.get(number), **base)
            shapes[number] = None
            continue
        try:
            if bad_input:
                raise LayerProblem(f"the input's {', '.join(bad_input)} must be at least 1")
            r = _layer(spec, number, arch, list(zip(srcs[number - 1], ins)))
        except LayerProblem as exc:
            found[number] = LayerAnalysis(number, spec.TYPE, first, error=str(exc), **base)
            shapes[number] = None
            continue
        warnings = r.warnings
        if isinstance(spec, SoftmaxSpec) and number != count:
            warnings += ("softmax is not the last layer; it is normally only the output activation",)
        found[number] = LayerAnalysis(number, spec.TYPE, first, r.shape, r.weights, r.biases, r.macs, r.formula,
                                      warnings, unread.get(number), r.padding, r.frozen, **base)
        shapes[number] = r.shape
    for number in range(1, count + 1):  # not run: on a cycle or reading a layer that does not exist
        if number not in found:
            found[number] = LayerAnalysis(number, arch.layers[number - 1].TYPE, None, error=wiring.get(number),
                                          sources=srcs[number - 1])
    results = [found[n] for n in range(1, count + 1)]
    if arch.is_graph:
        results = _forgive_rows_another_reader_reads(results)
    network_warnings = []
    if results and results[-1].output_shape is not None and len(results[-1].output_shape) != 1:
        network_warnings.append("the output is not a vector of class scores; end with flatten + linear or "
                                "global_avgpool2d")
    all_warnings = tuple(f"{la.label}: {w}" for la in results for w in la.warnings) + tuple(network_warnings)
    return Analysis(input_shape, tuple(results), all_warnings, run_order)
