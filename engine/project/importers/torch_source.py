"""PyTorch modules given as FILE.py:FACTORY: the file is run (the caller has asked), the module traced with
torch.fx and its shapes propagated, and every node mapped to a ConvScope layer with the module's weights."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any, Callable

import torch
from torch import fx, nn

from engine.project.importers.assembly import ModelImportError, NetworkAssembly, unsupported
from engine.project.importers.torch_nodes import FUNCTIONS, METHODS, MODULES, tensor_shape
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
    return Mapper(traced, input_shape, name).run()


class Mapper:
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
            if node.op != "get_attr" and tensor_shape(node) is None:
                continue  # a size or a shape (x.size(0) for a view): arithmetic, not a layer
            handler = self._handler(node)
            if handler is None:
                problems.append(f"{where}: not supported")
                continue
            if any(a.name not in self.asm.values for a in node.all_input_nodes if tensor_shape(a) is not None):
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
            return MODULES.get(type(self.traced.get_submodule(node.target)))
        if node.op == "call_function":
            return FUNCTIONS.get(node.target)
        if node.op == "call_method":
            return METHODS.get(node.target)
        return None

    def module(self, node: fx.Node) -> nn.Module:
        return self.traced.get_submodule(node.target)

    def add(self, where: str, spec: Any, node: fx.Node, inputs: list[fx.Node] | None = None,
            tensors: dict[str, torch.Tensor] | None = None, *, spatial_ones: bool | None = None) -> None:
        inputs = inputs if inputs is not None else [node.args[0]]
        if spatial_ones is None:
            spatial_ones = self.asm.value(inputs[0].name).spatial_ones
        self.asm.add(where, spec, [n.name for n in inputs], node.name, tensors, spatial_ones=spatial_ones)
