"""ONNX files (opsets 13 to 20) read with the onnx package, no code run: each node becomes a ConvScope layer,
its initializers the layer's weights."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from engine.project.importers.assembly import (ModelImportError, NetworkAssembly, Value, batchnorm_tensors,
                                               conv_padding, pool_padding, square, unsupported)
from models.safe_text import clean
from models.layers import (AddSpec, AvgPool2dSpec, BatchNorm2dSpec, ConcatSpec, Conv2dSpec, DropoutSpec, EluSpec,
                           GlobalAvgPool2dSpec, LeakyReluSpec, LinearSpec, MaxPool2dSpec, ReluSpec,
                           SigmoidSpec, SoftmaxSpec, TanhSpec)

OPSETS = range(13, 21)
# Nodes whose outputs only feed a Reshape's target shape (x.view(x.size(0), -1) exports Shape, Gather,
# Unsqueeze, Concat): they compute no data, so they are skipped and the Reshape is judged by its result's rank.
SHAPE_OPS = {"Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Constant", "Slice", "Cast", "Mul", "Div",
             "Identity", "ConstantOfShape", "ReduceProd"}


# Ops evaluated when every input is a stored tensor: index and shape arithmetic whose results are no larger than
# their inputs (ConstantOfShape is checked against FOLD_CAP first), so a hostile file cannot make folding huge.
FOLDABLE = {"Identity", "Cast", "Reshape", "Transpose", "Slice", "Concat", "Gather", "Unsqueeze", "Squeeze",
            "ConstantOfShape", "Add", "Sub", "Mul", "Div", "Neg", "Flatten", "Shape", "Dropout"}
FOLD_CAP = 1 << 16


def import_onnx(path: str | os.PathLike, input_shape: tuple[int, int, int] | None = None):
    """The Project of the ONNX file at `path`; ModelImportError naming every node ConvScope cannot represent."""
    try:
        import onnx
        from onnx import numpy_helper, shape_inference
    except ImportError:
        raise ModelImportError("importing ONNX needs the onnx package: pip install -e '.[export]'") from None
    path = Path(path)
    try:
        model = onnx.load(str(path))
    except OSError as exc:
        raise ModelImportError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except Exception as exc:  # noqa: BLE001 - protobuf's DecodeError and friends: not an ONNX file
        raise ModelImportError(f"{path}: not an ONNX model ({type(exc).__name__}); give an .onnx file or "
                               f"FILE.py:FACTORY") from None
    versions = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
    if not versions or versions[0] not in OPSETS:
        raise ModelImportError(f"{path}: opset {versions[0] if versions else 'none'}; ConvScope imports opsets 13 "
                               f"to 20 (re-export with opset_version=17)")
    try:
        inferred = shape_inference.infer_shapes(model, data_prop=True)
    except Exception:  # noqa: BLE001 - inference is a help for Reshape only; without it a Reshape needs constants
        inferred = model
    reader = _Reader(model.graph, numpy_helper, _ranks(inferred.graph), path, input_shape)
    return reader.run()


def _ranks(graph: Any) -> dict[str, int]:
    out = {}
    for info in list(graph.value_info) + list(graph.output):
        if info.type.HasField("tensor_type") and info.type.tensor_type.HasField("shape"):
            out[info.name] = len(info.type.tensor_type.shape.dim)
    return out


class _Reader:
    def __init__(self, graph: Any, numpy_helper: Any, ranks: dict[str, int], path: Path,
                 input_shape: tuple[int, int, int] | None) -> None:
        self.graph, self.ranks, self.path = graph, ranks, path
        self.constants: dict[str, np.ndarray] = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
        self._numpy_helper = numpy_helper
        self.pending_pads: dict[str, tuple[int, int, int, int]] = {}  # a Pad's output -> (top, bottom, left, right)
        self.absorbed: dict[int, str] = {}  # an Add's position -> the MatMul output it is the bias of
        self.consumers: dict[str, list[tuple[int, int]]] = {}
        for position, node in enumerate(graph.node):
            for slot, name in enumerate(node.input):
                self.consumers.setdefault(name, []).append((position, slot))
        self.asm = self._assembly(input_shape)

    def _assembly(self, given: tuple[int, int, int] | None) -> NetworkAssembly:
        inputs = [i for i in self.graph.input if i.name not in self.constants]
        if len(inputs) != 1:
            raise ModelImportError(f"{self.path}: the model takes {len(inputs)} inputs; ConvScope networks take one "
                                   f"image batch (N x C x H x W)")
        if len(self.graph.output) != 1:
            raise ModelImportError(f"{self.path}: the model has {len(self.graph.output)} outputs; ConvScope networks "
                                   f"have one")
        (info,) = inputs
        dims = [d.dim_value if d.HasField("dim_value") else None for d in info.type.tensor_type.shape.dim]
        if len(dims) != 4:
            raise ModelImportError(f"{self.path}: input {info.name!r} has {len(dims)} dimensions; ConvScope networks "
                                   f"take N x C x H x W images")
        shape = list(dims[1:])
        if given is not None:
            if any(d is not None and d != g for d, g in zip(shape, given)):
                raise ModelImportError(f"{self.path}: --input {'x'.join(map(str, given))} differs from the model's "
                                       f"input {'x'.join(str(d or '?') for d in shape)}")
            shape = list(given)
        if None in shape:
            raise ModelImportError(f"{self.path}: the input's C x H x W is not fixed in the file "
                                   f"({'x'.join(str(d or '?') for d in shape)}); give --input CxHxW")
        return NetworkAssembly(self.path.stem, info.name, tuple(shape))

    def run(self):
        skipped = self._shape_only()
        shape_values: set[str] = set()  # outputs of the skipped nodes: a Reshape's computed target only
        problems: list[str] = []
        for position, node in enumerate(self.graph.node):
            where = f"node {position} ({node.op_type} {node.name!r})"
            if node.domain not in ("", "ai.onnx"):
                problems.append(f"{where}: not supported (operator domain {node.domain!r})")
                continue
            if node.op_type == "Constant":
                self.constants[node.output[0]] = self._constant_node(node)
                continue
            if node.op_type in FOLDABLE and node.input and all(n in self.constants for n in node.input if n):
                self._fold(node, where, problems)  # arithmetic on stored tensors (F.pad's pads): its results
                continue
            if position in skipped:
                shape_values.update(node.output)
                continue
            handler = _HANDLERS.get(node.op_type)
            if handler is None:
                problems.append(f"{where}: not supported")
                continue
            if any(n and n not in self.constants and n not in self.asm.values and n not in shape_values
                   for n in node.input):
                continue  # reads what an unsupported node made: that node is named already
            try:
                handler(self, node, position, where)
            except ModelImportError as exc:
                problems.append(str(exc))
            except (KeyError, IndexError, ValueError, TypeError, RuntimeError) as exc:  # a malformed node
                problems.append(f"{where}: malformed ({type(exc).__name__}: {clean(str(exc))[:200]})")
        if problems:
            raise unsupported(problems)
        return self.asm.finish(self.graph.output[0].name)

    # -- reading nodes --------------------------------------------------------------------------------------------
    def _constant_node(self, node: Any) -> np.ndarray:
        attr = {a.name: a for a in node.attribute}
        if "value" in attr:
            return self._numpy_helper.to_array(attr["value"].t)
        import onnx

        (a,) = node.attribute
        return np.asarray(onnx.helper.get_attribute_value(a))

    def _fold(self, node: Any, where: str, problems: list[str]) -> None:
        """Evaluate a node whose inputs are all stored tensors with onnx's reference operators (numpy, no code
        from the file), so its outputs are stored tensors too."""
        from onnx.reference import ReferenceEvaluator

        inputs = {n: self.constants[n] for n in node.input if n}
        if node.op_type == "ConstantOfShape" and math.prod(int(v) for v in inputs[node.input[0]].reshape(-1)) > FOLD_CAP:
            problems.append(f"{where}: asks for more than {FOLD_CAP:,} values; a damaged or hostile file")
            return
        try:
            results = ReferenceEvaluator(node).run(None, inputs)
        except Exception as exc:  # noqa: BLE001 - an op the reference lacks, or bad constants
            problems.append(f"{where}: not supported on stored tensors ({type(exc).__name__})")
            return
        for name, value in zip(node.output, results):
            self.constants[name] = np.asarray(value)

    def _shape_only(self) -> set[int]:
        """Positions of nodes that only compute a Reshape's target shape (walked backwards from the Reshapes)."""
        nodes = self.graph.node
        skipped: set[int] = set()
        for position in range(len(nodes) - 1, -1, -1):
            node = nodes[position]
            if node.op_type not in SHAPE_OPS:
                continue
            readers = [r for o in node.output for r in self.consumers.get(o, [])]
            if readers and all(p in skipped or (nodes[p].op_type == "Reshape" and s == 1) for p, s in readers):
                skipped.add(position)
        return skipped

    def attrs(self, node: Any) -> dict[str, Any]:
        import onnx

        return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}

    def data(self, node: Any, where: str, count: int = 1) -> list[str]:
        names = [n for n in node.input if n and n not in self.constants]
        if len(names) != count:
            raise ModelImportError(f"{where}: reads {len(names)} computed tensors where ConvScope's layer reads "
                                   f"{count} (the others must be weights stored in the file)")
        return names

    def const(self, node: Any, slot: int, where: str) -> torch.Tensor | None:
        if len(node.input) <= slot or not node.input[slot]:
            return None
        name = node.input[slot]
        if name not in self.constants:
            raise ModelImportError(f"{where}: its input {slot} ({name!r}) is computed; ConvScope needs weights "
                                   f"stored in the file there")
        return torch.from_numpy(np.array(self.constants[name], dtype=np.float32))

    def single_output(self, node: Any, where: str) -> str:
        for extra in node.output[1:]:
            if extra and self.consumers.get(extra):
                raise ModelImportError(f"{where}: its output {extra!r} (indices or mask) is used; ConvScope's "
                                       f"layer has one output")
        return node.output[0]


def _windows(r: _Reader, node: Any, where: str, value: Value, kernel: tuple[int, int], pool: bool,
             extra: tuple[int, int, int, int] | None = None):
    """(stride, padding) from kernel_shape / strides / pads / auto_pad / dilations; refuses what ConvScope lacks."""
    a = r.attrs(node)
    if any(d != 1 for d in a.get("dilations", [1, 1])):
        raise ModelImportError(f"{where}: dilations {list(a['dilations'])}; ConvScope's windows are not dilated")
    stride = tuple(a.get("strides", [1, 1]))
    auto = a.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    size = value.shape[1:3] if len(value.shape) == 3 else (0, 0)
    if auto != "NOTSET" and extra is not None:
        raise ModelImportError(f"{where}: auto_pad {auto} after a Pad node; ConvScope pads once, explicitly")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        if auto == "SAME_LOWER" or pool:
            raise ModelImportError(f"{where}: auto_pad {auto}; ConvScope pads 'same' with the extra zero after "
                                   f"(SAME_UPPER), and only for conv layers")
        return stride, "same"
    p = list(a.get("pads", [0, 0, 0, 0])) if auto == "NOTSET" else [0, 0, 0, 0]
    pads = (p[0], p[2], p[1], p[3])  # ONNX: all begins, then all ends
    if extra is not None:  # a Pad node before this Conv
        pads = tuple(a + b for a, b in zip(pads, extra))
    if pool:
        if a.get("ceil_mode", 0) and any((n + 2 * q - k) % s for n, q, k, s in
                                         zip(size, (pads[0], pads[2]), kernel, stride)):
            raise ModelImportError(f"{where}: ceil_mode rounds its output up here; ConvScope pools round down")
        return stride, pool_padding(where, pads)
    return stride, conv_padding(where, pads, size, kernel, stride)


def _pad(r: _Reader, node: Any, position: int, where: str) -> None:
    """Zero padding of height and width (what F.pad exports for ConvScope's uneven 'same'): held on the value
    and added to the padding of the Conv that reads it, the only reader allowed."""
    (x,) = r.data(node, where)
    mode = r.attrs(node).get("mode", b"constant")
    pads = r.const(node, 1, where)
    value = r.const(node, 2, where)
    if (mode.decode() if isinstance(mode, bytes) else mode) != "constant" or (value is not None and value.any()):
        raise ModelImportError(f"{where}: pads with {mode!r} or a value other than 0; ConvScope pads with zeros")
    if pads is None or len(node.input) > 3 and node.input[3]:
        raise ModelImportError(f"{where}: pads given per axis; ConvScope pads height and width only")
    p = [int(v) for v in pads.reshape(-1)]
    if len(p) != 8 or any(p[i] for i in (0, 1, 4, 5)) or min(p) < 0:
        raise ModelImportError(f"{where}: pads {p}; ConvScope pads the height and width of an image only")
    readers = r.consumers.get(node.output[0], [])
    if not readers or any(r.graph.node[q].op_type != "Conv" or s != 0 for q, s in readers):
        raise ModelImportError(f"{where}: padding read by other than a Conv; ConvScope pads inside conv layers")
    r.asm.alias(node.output[0], x)
    r.pending_pads[node.output[0]] = (p[2], p[6], p[3], p[7])


def _conv(r: _Reader, node: Any, position: int, where: str) -> None:
    (x,) = r.data(node, where)
    weight, bias = r.const(node, 1, where), r.const(node, 2, where)
    if weight is None or weight.dim() != 4:
        raise ModelImportError(f"{where}: only 2-D convolutions (4-D weights) are imported")
    kernel = tuple(weight.shape[2:])
    stride, padding = _windows(r, node, where, r.asm.value(x), kernel, pool=False, extra=r.pending_pads.get(x))
    spec = Conv2dSpec(out_channels=weight.shape[0], kernel_size=square(*kernel), stride=square(*stride),
                      padding=padding, bias=bias is not None, groups=int(r.attrs(node).get("group", 1)))
    r.asm.add(where, spec, [x], node.output[0], {"weight": weight, **({"bias": bias} if bias is not None else {})})


def _pool(spec_class: type) -> Callable:
    def handler(r: _Reader, node: Any, position: int, where: str) -> None:
        (x,) = r.data(node, where)
        a = r.attrs(node)
        kernel = tuple(a["kernel_shape"])
        stride, padding = _windows(r, node, where, r.asm.value(x), kernel, pool=True)
        if spec_class is AvgPool2dSpec and padding != 0 and not a.get("count_include_pad", 0):
            raise ModelImportError(f"{where}: averages without the padding zeros (count_include_pad 0); "
                                   f"ConvScope's avgpool2d counts them, as torch's default does")
        spec = spec_class(kernel_size=square(*kernel), stride=None if stride == kernel else square(*stride),
                          padding=padding)
        r.asm.add(where, spec, [x], r.single_output(node, where))
    return handler


def _global_pool(r: _Reader, node: Any, position: int, where: str) -> None:
    (x,) = r.data(node, where)
    r.asm.add(where, GlobalAvgPool2dSpec(), [x], node.output[0], spatial_ones=True)


def _reduce_mean(r: _Reader, node: Any, position: int, where: str) -> None:
    """The mean over height and width (x.mean((2, 3)) exports this): a global average pool."""
    (x,) = r.data(node, where)
    a = r.attrs(node)
    axes = a.get("axes")
    if axes is None and len(node.input) > 1 and node.input[1] in r.constants:  # opset 18: axes is an input
        axes = [int(v) for v in np.asarray(r.constants[node.input[1]]).reshape(-1)]
    if len(r.asm.value(x).shape) != 3 or axes is None or sorted(int(v) % 4 for v in axes) != [2, 3]:
        raise ModelImportError(f"{where}: a mean over axes {axes}; ConvScope imports the mean over height and width "
                               f"of an image (a global average pool)")
    r.asm.add(where, GlobalAvgPool2dSpec(), [x], node.output[0], spatial_ones=bool(a.get("keepdims", 1)))


def _batchnorm(r: _Reader, node: Any, position: int, where: str) -> None:
    (x,) = r.data(node, where)
    a = r.attrs(node)
    if a.get("training_mode", 0):
        raise ModelImportError(f"{where}: training_mode 1; export the model in eval mode")
    scale, bias, mean, var = (r.const(node, slot, where) for slot in (1, 2, 3, 4))
    r.asm.add(where, BatchNorm2dSpec(), [x], r.single_output(node, where),
              batchnorm_tensors(scale, bias, mean, var, a.get("epsilon", 1e-5)))


def _elementwise(make: Callable[[dict], object]) -> Callable:
    def handler(r: _Reader, node: Any, position: int, where: str) -> None:
        (x,) = r.data(node, where)
        r.asm.add(where, make(r.attrs(node)), [x], node.output[0], spatial_ones=r.asm.value(x).spatial_ones)
    return handler


def _softmax(r: _Reader, node: Any, position: int, where: str) -> None:
    (x,) = r.data(node, where)
    value = r.asm.value(x)
    rank = 1 + len(value.shape) + (2 if value.spatial_ones else 0)
    axis = r.attrs(node).get("axis", -1)
    if axis % rank != 1:
        raise ModelImportError(f"{where}: softmax over axis {axis} of a {rank}-D tensor; ConvScope's softmax runs "
                               f"over the channels or features (axis 1)")
    r.asm.add(where, SoftmaxSpec(), [x], node.output[0], spatial_ones=value.spatial_ones)


def _flatten(r: _Reader, node: Any, position: int, where: str) -> None:
    (x,) = r.data(node, where)
    if r.attrs(node).get("axis", 1) != 1:
        raise ModelImportError(f"{where}: flattens from axis {r.attrs(node)['axis']}; ConvScope flattens each "
                               f"sample (axis 1)")
    r.asm.vector(where, x, node.output[0])


def _reshape(r: _Reader, node: Any, position: int, where: str) -> None:
    x = node.input[0]
    if x in r.constants:
        raise ModelImportError(f"{where}: reshapes a stored constant; ConvScope reshapes layer outputs only")
    size = math.prod(r.asm.value(x).shape)
    target = node.input[1]
    if target in r.constants:
        shape = [int(v) for v in np.asarray(r.constants[target]).reshape(-1)]
        flat = len(shape) == 2 and (shape[1] in (-1, size) and (shape[0] != -1 or shape[1] == size))
    else:
        shape, flat = ["computed"], r.ranks.get(node.output[0]) == 2
    if not flat:
        raise ModelImportError(f"{where}: reshapes to {shape}; ConvScope reshapes only to one vector per sample "
                               f"(a flatten)")
    r.asm.vector(where, x, node.output[0])


def _gemm(r: _Reader, node: Any, position: int, where: str) -> None:
    (x,) = r.data(node, where)
    a = r.attrs(node)
    if a.get("transA", 0):
        raise ModelImportError(f"{where}: transA 1 (the input transposed); ConvScope's linear reads rows")
    weight, bias = r.const(node, 1, where), r.const(node, 2, where)
    weight = (weight if a.get("transB", 0) else weight.T) * a.get("alpha", 1.0)
    tensors = {"weight": weight}
    if bias is not None:
        tensors["bias"] = (bias * a.get("beta", 1.0)).reshape(-1).expand(weight.shape[0]).clone()
    r.asm.add(where, LinearSpec(out_features=weight.shape[0], bias=bias is not None), [x], node.output[0], tensors)


def _matmul(r: _Reader, node: Any, position: int, where: str) -> None:
    (x,) = r.data(node, where)
    weight = r.const(node, 1, where)
    if weight is None or weight.dim() != 2:
        raise ModelImportError(f"{where}: multiplies by a {0 if weight is None else weight.dim()}-D tensor; "
                               f"ConvScope's linear needs a stored 2-D weight")
    tensors = {"weight": weight.T}
    readers = r.consumers.get(node.output[0], [])
    if len(readers) == 1 and r.graph.node[readers[0][0]].op_type == "Add":  # MatMul + Add = a linear with bias
        add = r.graph.node[readers[0][0]]
        other = [n for n in add.input if n != node.output[0]]
        if len(other) == 1 and other[0] in r.constants and np.asarray(r.constants[other[0]]).size == weight.shape[1]:
            tensors["bias"] = torch.from_numpy(np.array(r.constants[other[0]], dtype=np.float32)).reshape(-1)
            r.absorbed[readers[0][0]] = node.output[0]
    r.asm.add(where, LinearSpec(out_features=weight.shape[1], bias="bias" in tensors), [x], node.output[0], tensors)


def _add(r: _Reader, node: Any, position: int, where: str) -> None:
    if position in r.absorbed:
        r.asm.alias(node.output[0], r.absorbed[position])
        return
    if any(n in r.constants for n in node.input):
        raise ModelImportError(f"{where}: adds a stored constant; ConvScope adds layer outputs (a shortcut), and "
                               f"a constant only as the bias right after a MatMul")
    r.asm.add(where, AddSpec(), r.data(node, where, 2), node.output[0])


def _concat(r: _Reader, node: Any, position: int, where: str) -> None:
    names = r.data(node, where, len(node.input))
    values = [r.asm.value(n) for n in names]
    rank = 1 + len(values[0].shape) + (2 if values[0].spatial_ones else 0)
    if r.attrs(node)["axis"] % rank != 1:
        raise ModelImportError(f"{where}: concatenates along axis {r.attrs(node)['axis']}; ConvScope's concat "
                               f"stacks channels or features (axis 1)")
    r.asm.add(where, ConcatSpec(), names, node.output[0], spatial_ones=values[0].spatial_ones)


def _dropout(r: _Reader, node: Any, position: int, where: str) -> None:
    (x,) = r.data(node, where)
    ratio = r.const(node, 1, where)
    p = _float32(ratio.reshape(-1)[0]) if ratio is not None else _float32(r.attrs(node).get("ratio", 0.5))
    r.asm.add(where, DropoutSpec(p=p), [x], r.single_output(node, where), spatial_ones=r.asm.value(x).spatial_ones)


def _float32(value: object) -> float:
    """A float32 attribute as the decimal it was written from (0.01, not 0.009999999776482582)."""
    return float(f"{float(value):.7g}")


def _input_statistic(which: str) -> Callable:
    """x - mean, then / std, on the input itself: the input normalisation a ConvScope export puts first, which
    becomes the project's (so its exports take pixels again) instead of layers."""
    def handler(r: _Reader, node: Any, position: int, where: str) -> None:
        x = node.input[0]
        if x not in r.asm.values:
            raise ModelImportError(f"{where}: {node.op_type} of a stored constant by a computed tensor; ConvScope "
                                   f"does this only as the input normalisation, per channel, before any layer")
        constant = r.const(node, 1, where)
        channels = r.asm.input.channels
        at_input = (r.asm.value(x).layer == 0 and not r.asm.layers and len(r.consumers.get(x, [])) == 1
                    and getattr(r.asm, which) is None and (which == "std" or r.asm.std is None))
        # One value, or one per channel on the channel axis ((1, C, 1, 1) or (C, 1, 1)); (C,) would meet the width.
        per_channel = constant is not None and (constant.numel() == 1 or (
            constant.dim() >= 3 and constant.shape[-3] == channels == constant.numel()))
        if not at_input or not per_channel:
            raise ModelImportError(f"{where}: {node.op_type} by a constant; ConvScope does this only as the input "
                                   f"normalisation, per channel, before any layer")
        values = tuple(_float32(v) for v in constant.reshape(-1).expand(channels))
        if which == "std" and min(values) <= 0:
            raise ModelImportError(f"{where}: divides the input by {values}; a normalisation's std must be positive")
        setattr(r.asm, which, values)
        r.asm.alias(node.output[0], x)
    return handler


def _identity(r: _Reader, node: Any, position: int, where: str) -> None:
    (x,) = r.data(node, where)
    r.asm.alias(node.output[0], x)


_HANDLERS: dict[str, Callable[[_Reader, Any, int, str], None]] = {
    "Conv": _conv,
    "MaxPool": _pool(MaxPool2dSpec),
    "AveragePool": _pool(AvgPool2dSpec),
    "GlobalAveragePool": _global_pool,
    "ReduceMean": _reduce_mean,
    "BatchNormalization": _batchnorm,
    "Relu": _elementwise(lambda a: ReluSpec()),
    "LeakyRelu": _elementwise(lambda a: LeakyReluSpec(negative_slope=_float32(a.get("alpha", 0.01)))),
    "Elu": _elementwise(lambda a: EluSpec(alpha=_float32(a.get("alpha", 1.0)))),
    "Sigmoid": _elementwise(lambda a: SigmoidSpec()),
    "Tanh": _elementwise(lambda a: TanhSpec()),
    "Softmax": _softmax,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Gemm": _gemm,
    "MatMul": _matmul,
    "Add": _add,
    "Concat": _concat,
    "Dropout": _dropout,
    "Identity": _identity,
    "Pad": _pad,
    "Sub": _input_statistic("mean"),
    "Div": _input_statistic("std"),
}
