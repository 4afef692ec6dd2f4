"""One handler per ONNX op type: the node's attributes and stored tensors as a ConvScope layer with its weights,
or a ModelImportError naming the node and what ConvScope lacks."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import torch

from engine.project.importers.assembly import (ModelImportError, Value, batchnorm_tensors, conv_padding,
                                               pool_padding, square)
from models.layers import (AddSpec, AvgPool2dSpec, BatchNorm2dSpec, ConcatSpec, Conv2dSpec, DropoutSpec, EluSpec,
                           GlobalAvgPool2dSpec, LeakyReluSpec, LinearSpec, MaxPool2dSpec, ReluSpec, SigmoidSpec,
                           SoftmaxSpec, TanhSpec)

if TYPE_CHECKING:
    from engine.project.importers.onnx_source import Reader


def _windows(r: Reader, node: Any, where: str, value: Value, kernel: tuple[int, int], pool: bool,
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


def _pad(r: Reader, node: Any, position: int, where: str) -> None:
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


def _conv(r: Reader, node: Any, position: int, where: str) -> None:
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
    def handler(r: Reader, node: Any, position: int, where: str) -> None:
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


def _global_pool(r: Reader, node: Any, position: int, where: str) -> None:
    (x,) = r.data(node, where)
    r.asm.add(where, GlobalAvgPool2dSpec(), [x], node.output[0], spatial_ones=True)


def _reduce_mean(r: Reader, node: Any, position: int, where: str) -> None:
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


def _batchnorm(r: Reader, node: Any, position: int, where: str) -> None:
    (x,) = r.data(node, where)
    a = r.attrs(node)
    if a.get("training_mode", 0):
        raise ModelImportError(f"{where}: training_mode 1; export the model in eval mode")
    scale, bias, mean, var = (r.const(node, slot, where) for slot in (1, 2, 3, 4))
    r.asm.add(where, BatchNorm2dSpec(), [x], r.single_output(node, where),
              batchnorm_tensors(scale, bias, mean, var, a.get("epsilon", 1e-5)))


def _elementwise(make: Callable[[dict], object]) -> Callable:
    def handler(r: Reader, node: Any, position: int, where: str) -> None:
        (x,) = r.data(node, where)
        r.asm.add(where, make(r.attrs(node)), [x], node.output[0], spatial_ones=r.asm.value(x).spatial_ones)
    return handler


def _softmax(r: Reader, node: Any, position: int, where: str) -> None:
    (x,) = r.data(node, where)
    value = r.asm.value(x)
    rank = 1 + len(value.shape) + (2 if value.spatial_ones else 0)
    axis = r.attrs(node).get("axis", -1)
    if axis % rank != 1:
        raise ModelImportError(f"{where}: softmax over axis {axis} of a {rank}-D tensor; ConvScope's softmax runs "
                               f"over the channels or features (axis 1)")
    r.asm.add(where, SoftmaxSpec(), [x], node.output[0], spatial_ones=value.spatial_ones)


def _flatten(r: Reader, node: Any, position: int, where: str) -> None:
    (x,) = r.data(node, where)
    if r.attrs(node).get("axis", 1) != 1:
        raise ModelImportError(f"{where}: flattens from axis {r.attrs(node)['axis']}; ConvScope flattens each "
                               f"sample (axis 1)")
    r.asm.vector(where, x, node.output[0])


def _reshape(r: Reader, node: Any, position: int, where: str) -> None:
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


def _gemm(r: Reader, node: Any, position: int, where: str) -> None:
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


def _matmul(r: Reader, node: Any, position: int, where: str) -> None:
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


def _add(r: Reader, node: Any, position: int, where: str) -> None:
    if position in r.absorbed:
        r.asm.alias(node.output[0], r.absorbed[position])
        return
    if any(n in r.constants for n in node.input):
        raise ModelImportError(f"{where}: adds a stored constant; ConvScope adds layer outputs (a shortcut), and "
                               f"a constant only as the bias right after a MatMul")
    r.asm.add(where, AddSpec(), r.data(node, where, 2), node.output[0])


def _concat(r: Reader, node: Any, position: int, where: str) -> None:
    names = r.data(node, where, len(node.input))
    values = [r.asm.value(n) for n in names]
    rank = 1 + len(values[0].shape) + (2 if values[0].spatial_ones else 0)
    if r.attrs(node)["axis"] % rank != 1:
        raise ModelImportError(f"{where}: concatenates along axis {r.attrs(node)['axis']}; ConvScope's concat "
                               f"stacks channels or features (axis 1)")
    r.asm.add(where, ConcatSpec(), names, node.output[0], spatial_ones=values[0].spatial_ones)


def _dropout(r: Reader, node: Any, position: int, where: str) -> None:
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
    def handler(r: Reader, node: Any, position: int, where: str) -> None:
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


def _identity(r: Reader, node: Any, position: int, where: str) -> None:
    (x,) = r.data(node, where)
    r.asm.alias(node.output[0], x)


HANDLERS: dict[str, Callable[[Reader, Any, int, str], None]] = {
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
