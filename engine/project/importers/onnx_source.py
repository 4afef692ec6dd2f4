"""ONNX files (opsets 13 to 20) read with the onnx package, no code run: each node becomes a ConvScope layer,
its initializers the layer's weights."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.project.importers.assembly import ModelImportError, NetworkAssembly, unsupported
from engine.project.importers.onnx_nodes import HANDLERS
from models.safe_text import clean

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
    reader = Reader(model.graph, numpy_helper, _ranks(inferred.graph), path, input_shape)
    return reader.run()


def _fold_size(op_type: str, inputs: list[np.ndarray]) -> int:
    """How many values folding would make, known before it runs, for the ops that can grow (by a shape they read,
    or by broadcasting); 0 for the others, which make no more than the file already holds (a transposed weight)."""
    try:
        if op_type == "ConstantOfShape":
            return math.prod(max(int(v), 0) for v in inputs[0].reshape(-1))
        if op_type in ("Add", "Sub", "Mul", "Div"):
            return math.prod(np.broadcast_shapes(*(np.shape(a) for a in inputs)))
    except ValueError:
        return 0  # shapes that do not broadcast: the evaluator names the problem
    return 0


def _ranks(graph: Any) -> dict[str, int]:
    out = {}
    for info in list(graph.value_info) + list(graph.output):
        if info.type.HasField("tensor_type") and info.type.tensor_type.HasField("shape"):
            out[info.name] = len(info.type.tensor_type.shape.dim)
    return out


class Reader:
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
            handler = HANDLERS.get(node.op_type)
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
        if _fold_size(node.op_type, list(inputs.values())) > FOLD_CAP:
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
