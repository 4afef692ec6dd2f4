"""What both importers share: the network assembled node by node (layers, wiring, weights under the built
ConvNet's state-dict keys), the conversions of windows and batch norm, and the finished Project."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.config import TrainConfig
from engine.metrics import MetricsHistory
from engine.normalization import Normalization
from models import graph
from models.architecture import Architecture, InputShape
from models.layers import FlattenSpec, LayerSpec
from models.shapes import analyze, same_padding

# Said after every refusal: what an importable network is made of.
SUPPORTED = ("ConvScope imports Conv, Relu, LeakyRelu, Elu, Sigmoid, Tanh, Softmax, MaxPool, AveragePool, "
             "GlobalAveragePool or ReduceMean over height and width, BatchNormalization, Gemm or MatMul + Add, "
             "Flatten or Reshape to a vector, Dropout, Identity, Add, Concat, a zero Pad before a Conv, and Sub / Div by per-channel constants on the input (its "
             "normalisation)")
TORCH_EPS = 1e-5
# The bundled sets by image shape (gui/dataset_inputs.py's BUNDLED_INPUTS); other shapes keep the default dataset.
BUNDLED_FOR_INPUT = {(1, 28, 28): "mnist", (3, 32, 32): "shapes-rgb"}  # nn.BatchNorm2d's epsilon, which the built network uses


class ModelImportError(ValueError):
    """A model that cannot become a ConvScope project; the message names the node, its op type and why."""


@dataclass(frozen=True)
class Value:
    """A tensor of the source model as ConvScope sees it: the layer that makes it (0: the input) and its shape
    without the batch (a global average pool's output is (C,) here, (C, 1, 1) in ONNX: `spatial_ones`)."""

    layer: int
    shape: tuple[int, ...]
    spatial_ones: bool = False


class NetworkAssembly:
    """Layers appended in the source's (topological) order, each reading earlier values by name."""

    def __init__(self, name: str, input_name: str, input_shape: tuple[int, int, int]) -> None:
        if any(int(n) < 1 for n in input_shape):
            raise ModelImportError(f"the input's shape {input_shape} has a dimension below 1; give --input CxHxW")
        self.name = name
        self.input = InputShape(*(int(n) for n in input_shape))
        self.values: dict[str, Value] = {input_name: Value(graph.INPUT, self.input.as_tuple())}
        self.layers: list[LayerSpec] = []
        self.sources: list[tuple[int, ...]] = []
        self.weights: dict[str, torch.Tensor] = {}
        self.mean: tuple[float, ...] | None = None  # an input normalisation the source applies first (ONNX
        self.std: tuple[float, ...] | None = None   # exports of ConvScope's trained networks), else the identity

    def value(self, name: str) -> Value:
        return self.values[name]

    def alias(self, out_name: str, in_name: str, **changes: object) -> None:
        """`out_name` is `in_name` under another name (Identity, an eval-mode Dropout, a redundant flatten)."""
        old = self.values[in_name]
        self.values[out_name] = Value(old.layer, old.shape, bool(changes.get("spatial_ones", old.spatial_ones)))

    def add(self, where: str, spec: LayerSpec, in_names: list[str], out_name: str,
            tensors: dict[str, torch.Tensor] | None = None, *, spatial_ones: bool = False) -> Value:
        """Append `spec` reading `in_names`; `tensors` are its parameters by the torch module's names. The shape
        analysis runs at once, so a layer ConvScope cannot run is named by its node (`where`)."""
        self.layers.append(spec)
        self.sources.append(tuple(self.values[n].layer for n in in_names))
        index = len(self.layers) - 1
        for key, tensor in (tensors or {}).items():
            self.weights[f"{index}.{key}"] = tensor.detach().to("cpu", torch.float32 if tensor.is_floating_point()
                                                                 else tensor.dtype).clone().contiguous()
        la = analyze(self._architecture()).layers[-1]
        if la.output_shape is None:
            raise ModelImportError(f"{where}: as ConvScope's {spec.TYPE} layer it does not fit its input: "
                                   f"{la.error or 'an earlier layer failed'}")
        value = Value(len(self.layers), la.output_shape, spatial_ones)
        self.values[out_name] = value
        return value

    def vector(self, where: str, in_name: str, out_name: str) -> None:
        """A flatten of each sample: none at all when ConvScope has a vector there already (after a global
        average pool, whose (C, 1, 1) output the source then flattens)."""
        if len(self.values[in_name].shape) == 1:
            self.alias(out_name, in_name, spatial_ones=False)
        else:
            self.add(where, FlattenSpec(), [in_name], out_name)

    def _architecture(self) -> Architecture:
        return Architecture(self.name, self.input, tuple(self.layers), graph.compact(self.sources))

    def finish(self, output_name: str):
        """The Project: these layers and weights, no history, and the identity as the normalisation (an imported
        network saw no ConvScope dataset, so its exports take what the source took) unless the source began by
        normalising its input."""
        from engine.network.weights import WeightsError, fit_to_architecture
        from engine.project.project_file import Project

        out = self.values.get(output_name)
        if out is None:
            raise ModelImportError(f"the model's output {output_name!r} is made by no node ConvScope read; the file "
                                   f"is incomplete")
        if not self.layers:
            raise ModelImportError("the model has no layers: its output is its input")
        if out.layer != len(self.layers):
            raise ModelImportError(f"the model's output comes from layer {out.layer} "
                                   f"({self.layers[out.layer - 1].TYPE}), but layers after it compute what the "
                                   f"output never reads; remove them from the source model")
        arch = self._architecture()
        analysis = analyze(arch)
        if analysis.errors:
            raise ModelImportError(f"the imported network cannot run in ConvScope: {analysis.errors[0]}")
        try:
            weights = fit_to_architecture(arch, self.weights, "the imported weights")
        except WeightsError as exc:
            raise ModelImportError(str(exc)) from None
        channels = self.input.channels
        normalization = Normalization(self.mean or (0.0,) * channels, self.std or (1.0,) * channels)
        # The window's input follows the project's dataset: a bundled set of the network's input shape keeps it.
        config = TrainConfig(dataset=BUNDLED_FOR_INPUT.get(self.input.as_tuple(), TrainConfig.dataset))
        return Project(arch, config, MetricsHistory(), weights, normalization=normalization)


def square(h: int, w: int) -> int | tuple[int, int]:
    """A size as the file format writes it: one number when square."""
    return int(h) if h == w else (int(h), int(w))


def conv_padding(where: str, pads: tuple[int, int, int, int], size: tuple[int, int], kernel: tuple[int, int],
                 stride: tuple[int, int]) -> int | tuple[int, int] | str:
    """(top, bottom, left, right) zeros as ConvScope's conv2d padding: symmetric numbers, or 'same' where the
    extra zero goes after (Keras's rule, ONNX's SAME_UPPER); any other uneven padding is refused."""
    top, bottom, left, right = pads
    if top == bottom and left == right:
        return square(top, left)
    if (same_padding(size[0], kernel[0], stride[0]) == (top, bottom)
            and same_padding(size[1], kernel[1], stride[1]) == (left, right)):
        return "same"
    raise ModelImportError(f"{where}: padding top {top}, bottom {bottom}, left {left}, right {right} is uneven and "
                           f"not 'same' (extra zero after); ConvScope pads evenly or 'same'")


def pool_padding(where: str, pads: tuple[int, int, int, int]) -> int | tuple[int, int]:
    top, bottom, left, right = pads
    if top != bottom or left != right:
        raise ModelImportError(f"{where}: pooling padding top {top}, bottom {bottom}, left {left}, right {right} is "
                               f"uneven; ConvScope pools with the same padding on both sides")
    return square(top, left)


def batchnorm_tensors(scale: torch.Tensor, bias: torch.Tensor, mean: torch.Tensor, var: torch.Tensor,
                      eps: float) -> dict[str, torch.Tensor]:
    """nn.BatchNorm2d's state for statistics normalised with `eps`: the difference to torch's 1e-5 goes into
    the running variance, since (x - m) / sqrt(v + eps) = (x - m) / sqrt((v + eps - 1e-5) + 1e-5)."""
    var = var.double() + (float(eps) - TORCH_EPS)
    return {"weight": scale, "bias": bias, "running_mean": mean, "running_var": var.float(),
            "num_batches_tracked": torch.tensor(0, dtype=torch.int64)}


def unsupported(problems: list[str]) -> ModelImportError:
    """One error naming every node that has no ConvScope layer (each entry 'node 7 (Upsample 'up1')...')."""
    return ModelImportError("; ".join(problems) + f". {SUPPORTED}; nothing was written")
