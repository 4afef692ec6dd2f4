"""One handler per torch.fx node kind (module class, function, method): the traced node as a ConvScope layer with
the module's weights, or a ModelImportError naming the node and what ConvScope lacks."""

from __future__ import annotations

import math
import operator
from typing import TYPE_CHECKING, Any, Callable

import torch
import torch.nn.functional as F
from torch import fx, nn

from engine.project.importers.assembly import (ModelImportError, batchnorm_tensors, conv_padding, pool_padding,
                                               square)
from models.layers import (AddSpec, AvgPool2dSpec, BatchNorm2dSpec, ConcatSpec, Conv2dSpec, DropoutSpec, EluSpec,
                           GlobalAvgPool2dSpec, LeakyReluSpec, LinearSpec, MaxPool2dSpec, ReluSpec, SigmoidSpec,
                           SoftmaxSpec, TanhSpec)

if TYPE_CHECKING:
    from engine.project.importers.torch_source import Mapper


def tensor_shape(node: fx.Node) -> tuple[int, ...] | None:
    meta = node.meta.get("tensor_meta")
    return tuple(meta.shape) if meta is not None and hasattr(meta, "shape") else None


def _arg(node: fx.Node, index: int, name: str, default: Any) -> Any:
    return node.args[index] if len(node.args) > index else node.kwargs.get(name, default)


def _conv(m: Mapper, node: fx.Node, where: str) -> None:
    conv = m.module(node)
    if conv.padding_mode != "zeros" or tuple(conv.dilation) != (1, 1):
        raise ModelImportError(f"{where}: padding_mode {conv.padding_mode!r}, dilation {tuple(conv.dilation)}; "
                               f"ConvScope's conv2d pads with zeros and is not dilated")
    kernel, stride = tuple(conv.kernel_size), tuple(conv.stride)
    size = m.asm.value(node.args[0].name).shape[1:3]
    if conv.padding == "same":  # torch's: total k - 1, the extra zero after
        pads = tuple(p for k in kernel for p in ((k - 1) // 2, k - 1 - (k - 1) // 2))
    elif conv.padding == "valid":
        pads = (0, 0, 0, 0)
    else:
        pads = (conv.padding[0], conv.padding[0], conv.padding[1], conv.padding[1])
    padding = conv_padding(where, pads, size, kernel, stride)
    spec = Conv2dSpec(out_channels=conv.out_channels, kernel_size=square(*kernel), stride=square(*stride),
                      padding=padding, bias=conv.bias is not None, groups=conv.groups)
    tensors = {"weight": conv.weight, **({"bias": conv.bias} if conv.bias is not None else {})}
    m.add(where, spec, node, tensors=tensors)


def _pool(spec_class: type) -> Callable:
    def handler(m: Mapper, node: fx.Node, where: str) -> None:
        pool = m.module(node)
        if getattr(pool, "dilation", 1) not in (1, (1, 1)) or pool.ceil_mode:
            raise ModelImportError(f"{where}: dilation or ceil_mode; ConvScope pools undilated, rounding down")
        if isinstance(pool, nn.AvgPool2d) and (pool.divisor_override or not pool.count_include_pad):
            raise ModelImportError(f"{where}: count_include_pad False or a divisor_override; ConvScope's avgpool2d "
                                   f"divides by the window's size, padding zeros included")
        kernel = _pair(pool.kernel_size)
        stride = _pair(pool.stride if pool.stride is not None else pool.kernel_size)
        ph, pw = _pair(pool.padding)
        spec = spec_class(kernel_size=square(*kernel), stride=None if stride == kernel else square(*stride),
                          padding=pool_padding(where, (ph, ph, pw, pw)))
        m.add(where, spec, node)
    return handler


def _pair(value: Any) -> tuple[int, int]:
    return (int(value[0]), int(value[1])) if isinstance(value, (tuple, list)) else (int(value), int(value))


def _adaptive_pool(m: Mapper, node: fx.Node, where: str) -> None:
    if _pair(m.module(node).output_size) != (1, 1):
        raise ModelImportError(f"{where}: output size {m.module(node).output_size}; ConvScope imports adaptive "
                               f"average pooling to 1 x 1 (a global average pool)")
    m.add(where, GlobalAvgPool2dSpec(), node, spatial_ones=True)


def _batchnorm(m: Mapper, node: fx.Node, where: str) -> None:
    bn = m.module(node)
    if bn.running_mean is None:
        raise ModelImportError(f"{where}: track_running_stats False (normalises by each batch even in eval mode); "
                               f"ConvScope's batchnorm2d uses running statistics")
    ones = torch.ones(bn.num_features)
    scale = bn.weight if bn.weight is not None else ones
    bias = bn.bias if bn.bias is not None else torch.zeros_like(ones)
    m.add(where, BatchNorm2dSpec(), node, tensors=batchnorm_tensors(scale, bias, bn.running_mean, bn.running_var,
                                                                   bn.eps))


def _linear(m: Mapper, node: fx.Node, where: str) -> None:
    linear = m.module(node)
    tensors = {"weight": linear.weight, **({"bias": linear.bias} if linear.bias is not None else {})}
    m.add(where, LinearSpec(out_features=linear.out_features, bias=linear.bias is not None), node, tensors=tensors)


def _vector(m: Mapper, node: fx.Node, where: str) -> None:
    """nn.Flatten, torch.flatten, x.view / x.reshape: one vector per sample, judged by the traced shapes."""
    x = node.args[0]
    before, after = tensor_shape(x), tensor_shape(node)
    if len(after) != 2 or after[0] != before[0] or after[1] != math.prod(before[1:]):
        raise ModelImportError(f"{where}: gives shape {list(after)} from {list(before)}; ConvScope reshapes only to "
                               f"one vector per sample (a flatten)")
    m.asm.vector(where, x.name, node.name)


def _plain(spec: Any) -> Callable:
    return lambda m, node, where: m.add(where, spec, node)


def _softmax(dim_of: Callable[[Mapper, fx.Node], Any]) -> Callable:
    def handler(m: Mapper, node: fx.Node, where: str) -> None:
        dim, rank = dim_of(m, node), len(tensor_shape(node))
        if dim is None or dim % rank != 1:
            raise ModelImportError(f"{where}: softmax over dim {dim} of a {rank}-D tensor; ConvScope's softmax runs "
                                   f"over the channels or features (dim 1)")
        m.add(where, SoftmaxSpec(), node)
    return handler


def _mean(m: Mapper, node: fx.Node, where: str) -> None:
    """x.mean((2, 3)) / x.mean([-2, -1]): a global average pool."""
    dims = _arg(node, 1, "dim", None)
    rank = len(tensor_shape(node.args[0]))
    keep = _arg(node, 2, "keepdim", False)
    if rank != 4 or not isinstance(dims, (tuple, list)) or sorted(d % 4 for d in dims) != [2, 3]:
        raise ModelImportError(f"{where}: a mean over dims {dims}; ConvScope imports the mean over height and "
                               f"width (a global average pool)")
    m.add(where, GlobalAvgPool2dSpec(), node, spatial_ones=bool(keep))


def _add(m: Mapper, node: fx.Node, where: str) -> None:
    inputs = [a for a in node.args[:2]]
    if len(inputs) != 2 or not all(isinstance(a, fx.Node) and tensor_shape(a) is not None for a in inputs):
        raise ModelImportError(f"{where}: adds a constant; ConvScope adds layer outputs (a shortcut)")
    m.add(where, AddSpec(), node, inputs=inputs, spatial_ones=False)


def _cat(m: Mapper, node: fx.Node, where: str) -> None:
    inputs, dim = list(node.args[0]), _arg(node, 1, "dim", 0)
    if dim % len(tensor_shape(node)) != 1:
        raise ModelImportError(f"{where}: concatenates along dim {dim}; ConvScope's concat stacks channels or "
                               f"features (dim 1)")
    m.add(where, ConcatSpec(), node, inputs=inputs)


def _identity(m: Mapper, node: fx.Node, where: str) -> None:
    m.asm.alias(node.name, node.args[0].name)


MODULES: dict[type, Callable] = {
    nn.Conv2d: _conv,
    nn.MaxPool2d: _pool(MaxPool2dSpec),
    nn.AvgPool2d: _pool(AvgPool2dSpec),
    nn.AdaptiveAvgPool2d: _adaptive_pool,
    nn.BatchNorm2d: _batchnorm,
    nn.Linear: _linear,
    nn.Flatten: lambda m, node, where: (_vector(m, node, where) if (m.module(node).start_dim, m.module(node).end_dim)
                                        == (1, -1) else _refuse(where, "flattens other dims than 1 to the last")),
    nn.ReLU: _plain(ReluSpec()),
    nn.LeakyReLU: lambda m, node, where: m.add(where, LeakyReluSpec(negative_slope=m.module(node).negative_slope),
                                               node),
    nn.ELU: lambda m, node, where: m.add(where, EluSpec(alpha=m.module(node).alpha), node),
    nn.Sigmoid: _plain(SigmoidSpec()),
    nn.Tanh: _plain(TanhSpec()),
    nn.Softmax: _softmax(lambda m, node: m.module(node).dim),
    nn.Dropout: lambda m, node, where: m.add(where, DropoutSpec(p=m.module(node).p), node),
    nn.Identity: _identity,
}
FUNCTIONS: dict[Any, Callable] = {
    F.relu: _plain(ReluSpec()), torch.relu: _plain(ReluSpec()),
    torch.sigmoid: _plain(SigmoidSpec()), torch.tanh: _plain(TanhSpec()),
    torch.flatten: _vector,
    F.softmax: _softmax(lambda m, node: _arg(node, 1, "dim", None)),
    torch.softmax: _softmax(lambda m, node: _arg(node, 1, "dim", None)),
    operator.add: _add, operator.iadd: _add, torch.add: _add,
    torch.cat: _cat,
}
METHODS: dict[str, Callable] = {
    "relu": _plain(ReluSpec()), "sigmoid": _plain(SigmoidSpec()), "tanh": _plain(TanhSpec()),
    "flatten": _vector, "view": _vector, "reshape": _vector,
    "softmax": _softmax(lambda m, node: _arg(node, 1, "dim", None)),
    "mean": _mean, "add": _add,
}


def _refuse(where: str, why: str) -> None:
    raise ModelImportError(f"{where}: {why}")
