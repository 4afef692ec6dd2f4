"""PyTorch modules given as FILE.py:FACTORY: the file is run (the caller has asked), the module traced with
torch.fx and its shapes propagated, and every node mapped to a ConvScope layer with the module's weights."""

from __future__ import annotations

import importlib.util
import math
import operator
import os
import sys
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import fx, nn

from engine.project.importers.assembly import (ModelImportError, NetworkAssembly, batchnorm_tensors, conv_padding,
                                               pool_padding, square, unsupported)
from models.layers import (AddSpec, AvgPool2dSpec, BatchNorm2dSpec, ConcatSpec, Conv2dSpec, DropoutSpec, EluSpec,
                           GlobalAvgPool2dSpec, LeakyReluSpec, LinearSpec, MaxPool2dSpec, ReluSpec, SigmoidSpec,
                           SoftmaxSpec, TanhSpec)
from models.safe_text import clean


def load_factory_module(path: str | os.PathLike, factory: str) -> nn.Module:
    """Run the file at `path` and call its `factory` (a function or an nn.Module class) with no arguments."""
    path = Path(path)
    if not path.is_file():
        raise ModelImportError(f"{clean(str(path))}: no such file; give FILE.py:FACTORY")
    spec = importlib.util.spec_from_file_location(f"convscope_import_{abs(hash(str(path.resolve())))}", path)
    if spec is None or spec.loader is None:
        raise ModelImportError(f"{clean(str(path))}: cannot be loaded as a Python module")
    code = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent.resolve()))  # its sibling modules import as they do when it runs there
    try:
        spec.loader.exec_module(code)
        make = getattr(code, factory, None)
        if not callable(make):
            raise ModelImportError(f"{clean(str(path))} defines no function or class {factory!r}")
        module = make()
    except ModelImportError:
        raise
    except Exception as exc:  # noqa: BLE001 - the user's code may raise anything; say what and where
        raise ModelImportError(f"{clean(str(path))}:{factory} failed: {type(exc).__name__}: "
                               f"{clean(str(exc).splitlines()[0] if str(exc) else '')}") from None
    finally:
        sys.path.remove(str(path.parent.resolve()))
    if not isinstance(module, nn.Module):
        raise ModelImportError(f"{clean(str(path))}:{factory} returned a {type(module).__name__}, not a torch "
                               f"nn.Module")
    return module


def import_torch(path: str | os.PathLike, factory: str, *, weights: str | os.PathLike | None = None,
                 input_shape: tuple[int, int, int] | None = None):
    """The Project of `factory`'s module (its own weights, or those of `weights`: the module's state dict)."""
    if input_shape is None:
        raise ModelImportError("a PyTorch module does not say the size of its input; give --input CxHxW "
                               "(e.g. 1x28x28)")
    module = load_factory_module(path, factory)
    if weights is not None:
        from engine.network.weights import WeightsError, load_state_dict

        try:
            module.load_state_dict(load_state_dict(weights), strict=True)
        except WeightsError as exc:
            raise ModelImportError(str(exc)) from None
        except RuntimeError as exc:
            raise ModelImportError(f"{clean(str(weights))}: does not fit {factory}'s module "
                                   f"({clean(str(exc).splitlines()[0])})") from None
    return import_module(module.eval(), input_shape, name=factory)


def import_module(module: nn.Module, input_shape: tuple[int, int, int], name: str = "imported"):
    """The Project of an eval-mode `module` taking N x C x H x W batches of `input_shape`."""
    from torch.fx.passes.shape_prop import ShapeProp

    try:
        traced = fx.symbolic_trace(module)
    except Exception as exc:  # noqa: BLE001 - tracing fails on data-dependent Python control flow, among others
        raise ModelImportError(f"torch.fx cannot trace {name} ({type(exc).__name__}: "
                               f"{clean(str(exc).splitlines()[0] if str(exc) else '')}); ConvScope imports modules "
                               f"whose forward has no data-dependent branches") from None
    try:
        with torch.no_grad():
            ShapeProp(traced).propagate(torch.zeros(1, *input_shape))
    except Exception as exc:  # noqa: BLE001 - the module's own forward failed on that input
        raise ModelImportError(f"{name} fails on a 1 x {' x '.join(map(str, input_shape))} input "
                               f"({type(exc).__name__}: {clean(str(exc).splitlines()[0] if str(exc) else '')}); "
                               f"check --input") from None
    return _Mapper(traced, input_shape, name).run()


def _tensor_shape(node: fx.Node) -> tuple[int, ...] | None:
    meta = node.meta.get("tensor_meta")
    return tuple(meta.shape) if meta is not None and hasattr(meta, "shape") else None


class _Mapper:
    def __init__(self, traced: fx.GraphModule, input_shape: tuple[int, int, int], name: str) -> None:
        self.traced = traced
        self.nodes = list(traced.graph.nodes)
        placeholders = [n for n in self.nodes if n.op == "placeholder"]
        if len(placeholders) != 1:
            raise ModelImportError(f"{name}'s forward takes {len(placeholders)} inputs; ConvScope networks take one "
                                   f"image batch")
        self.asm = NetworkAssembly(name, placeholders[0].name, input_shape)

    def run(self):
        problems: list[str] = []
        output = None
        for position, node in enumerate(self.nodes):
            kind = self._kind(node)
            shown = node.target if node.op == "call_module" else node.name
            where = f"node {position} ({kind} {shown!r})"
            if node.op == "placeholder":
                continue
            if node.op == "output":
                output = node.args[0]
                continue
            if node.op != "get_attr" and _tensor_shape(node) is None:
                continue  # a size or a shape (x.size(0) for a view): arithmetic, not a layer
            handler = self._handler(node)
            if handler is None:
                problems.append(f"{where}: not supported")
                continue
            if any(a.name not in self.asm.values for a in node.all_input_nodes if _tensor_shape(a) is not None):
                continue  # reads what an unsupported node made: that node is named already
            try:
                handler(self, node, where)
            except ModelImportError as exc:
                problems.append(str(exc))
        if problems:
            raise unsupported(problems)
        if not isinstance(output, fx.Node):
            raise ModelImportError("the module returns more than one tensor; ConvScope networks have one output")
        return self.asm.finish(output.name)

    def _kind(self, node: fx.Node) -> str:
        if node.op == "call_module":
            return type(self.traced.get_submodule(node.target)).__name__
        if node.op == "call_function":
            return getattr(node.target, "__name__", str(node.target))
        return str(node.target) if node.op == "call_method" else node.op

    def _handler(self, node: fx.Node) -> Callable | None:
        if node.op == "call_module":
            return _MODULES.get(type(self.traced.get_submodule(node.target)))
        if node.op == "call_function":
            return _FUNCTIONS.get(node.target)
        if node.op == "call_method":
            return _METHODS.get(node.target)
        return None

    def module(self, node: fx.Node) -> nn.Module:
        return self.traced.get_submodule(node.target)

    def add(self, where: str, spec: Any, node: fx.Node, inputs: list[fx.Node] | None = None,
            tensors: dict[str, torch.Tensor] | None = None, *, spatial_ones: bool | None = None) -> None:
        inputs = inputs if inputs is not None else [node.args[0]]
        if spatial_ones is None:
            spatial_ones = self.asm.value(inputs[0].name).spatial_ones
        self.asm.add(where, spec, [n.name for n in inputs], node.name, tensors, spatial_ones=spatial_ones)


def _arg(node: fx.Node, index: int, name: str, default: Any) -> Any:
    return node.args[index] if len(node.args) > index else node.kwargs.get(name, default)


def _conv(m: _Mapper, node: fx.Node, where: str) -> None:
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
    def handler(m: _Mapper, node: fx.Node, where: str) -> None:
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


def _adaptive_pool(m: _Mapper, node: fx.Node, where: str) -> None:
    if _pair(m.module(node).output_size) != (1, 1):
        raise ModelImportError(f"{where}: output size {m.module(node).output_size}; ConvScope imports adaptive "
                               f"average pooling to 1 x 1 (a global average pool)")
    m.add(where, GlobalAvgPool2dSpec(), node, spatial_ones=True)


def _batchnorm(m: _Mapper, node: fx.Node, where: str) -> None:
    bn = m.module(node)
    if bn.running_mean is None:
        raise ModelImportError(f"{where}: track_running_stats False (normalises by each batch even in eval mode); "
                               f"ConvScope's batchnorm2d uses running statistics")
    ones = torch.ones(bn.num_features)
    scale = bn.weight if bn.weight is not None else ones
    bias = bn.bias if bn.bias is not None else torch.zeros_like(ones)
    m.add(where, BatchNorm2dSpec(), node, tensors=batchnorm_tensors(scale, bias, bn.running_mean, bn.running_var,
                                                                   bn.eps))


def _linear(m: _Mapper, node: fx.Node, where: str) -> None:
    linear = m.module(node)
    tensors = {"weight": linear.weight, **({"bias": linear.bias} if linear.bias is not None else {})}
    m.add(where, LinearSpec(out_features=linear.out_features, bias=linear.bias is not None), node, tensors=tensors)


def _vector(m: _Mapper, node: fx.Node, where: str) -> None:
    """nn.Flatten, torch.flatten, x.view / x.reshape: one vector per sample, judged by the traced shapes."""
    x = node.args[0]
    before, after = _tensor_shape(x), _tensor_shape(node)
    if len(after) != 2 or after[0] != before[0] or after[1] != math.prod(before[1:]):
        raise ModelImportError(f"{where}: gives shape {list(after)} from {list(before)}; ConvScope reshapes only to "
                               f"one vector per sample (a flatten)")
    m.asm.vector(where, x.name, node.name)


def _plain(spec: Any) -> Callable:
    return lambda m, node, where: m.add(where, spec, node)


def _softmax(dim_of: Callable[[_Mapper, fx.Node], Any]) -> Callable:
    def handler(m: _Mapper, node: fx.Node, where: str) -> None:
        dim, rank = dim_of(m, node), len(_tensor_shape(node))
        if dim is None or dim % rank != 1:
            raise ModelImportError(f"{where}: softmax over dim {dim} of a {rank}-D tensor; ConvScope's softmax runs "
                                   f"over the channels or features (dim 1)")
        m.add(where, SoftmaxSpec(), node)
    return handler


def _mean(m: _Mapper, node: fx.Node, where: str) -> None:
    """x.mean((2, 3)) / x.mean([-2, -1]): a global average pool."""
    dims = _arg(node, 1, "dim", None)
    rank = len(_tensor_shape(node.args[0]))
    keep = _arg(node, 2, "keepdim", False)
    if rank != 4 or not isinstance(dims, (tuple, list)) or sorted(d % 4 for d in dims) != [2, 3]:
        raise ModelImportError(f"{where}: a mean over dims {dims}; ConvScope imports the mean over height and "
                               f"width (a global average pool)")
    m.add(where, GlobalAvgPool2dSpec(), node, spatial_ones=bool(keep))


def _add(m: _Mapper, node: fx.Node, where: str) -> None:
    inputs = [a for a in node.args[:2]]
    if len(inputs) != 2 or not all(isinstance(a, fx.Node) and _tensor_shape(a) is not None for a in inputs):
        raise ModelImportError(f"{where}: adds a constant; ConvScope adds layer outputs (a shortcut)")
    m.add(where, AddSpec(), node, inputs=inputs, spatial_ones=False)


def _cat(m: _Mapper, node: fx.Node, where: str) -> None:
    inputs, dim = list(node.args[0]), _arg(node, 1, "dim", 0)
    if dim % len(_tensor_shape(node)) != 1:
        raise ModelImportError(f"{where}: concatenates along dim {dim}; ConvScope's concat stacks channels or "
                               f"features (dim 1)")
    m.add(where, ConcatSpec(), node, inputs=inputs)


def _identity(m: _Mapper, node: fx.Node, where: str) -> None:
    m.asm.alias(node.name, node.args[0].name)


_MODULES: dict[type, Callable] = {
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
_FUNCTIONS: dict[Any, Callable] = {
    F.relu: _plain(ReluSpec()), torch.relu: _plain(ReluSpec()),
    torch.sigmoid: _plain(SigmoidSpec()), torch.tanh: _plain(TanhSpec()),
    torch.flatten: _vector,
    F.softmax: _softmax(lambda m, node: _arg(node, 1, "dim", None)),
    torch.softmax: _softmax(lambda m, node: _arg(node, 1, "dim", None)),
    operator.add: _add, operator.iadd: _add, torch.add: _add,
    torch.cat: _cat,
}
_METHODS: dict[str, Callable] = {
    "relu": _plain(ReluSpec()), "sigmoid": _plain(SigmoidSpec()), "tanh": _plain(TanhSpec()),
    "flatten": _vector, "view": _vector, "reshape": _vector,
    "softmax": _softmax(lambda m, node: _arg(node, 1, "dim", None)),
    "mean": _mean, "add": _add,
}


def _refuse(where: str, why: str) -> None:
    raise ModelImportError(f"{where}: {why}")
