"""Snapshots for the live views: conv filters, the probe sample's activations, gradient norms, probabilities.

One snapshot costs one forward pass of a single sample and a single device-to-host copy: every
tensor is flattened into one buffer, moved to the CPU once and cut into numpy arrays. The buffer
is freshly allocated, so the arrays never share memory with live parameters (on the CPU
`tensor.numpy()` would otherwise alias the weights the optimiser keeps changing).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.network.builder import ConvNet, GraphNet
from engine.events import SnapshotTaken
from models.layers import has_filters
from models.shapes import Analysis


@dataclass(frozen=True)
class ProbedLayer:
    label: str                       # 'layer 1 (conv2d)', as LayerAnalysis.label
    module: nn.Module
    output_shape: tuple[int, ...]    # inferred, without the batch dimension
    is_conv: bool                    # models.layers.has_filters: its weight is a bank of filters
    has_params: bool


def probe_layout(model: ConvNet, analysis: Analysis) -> list[ProbedLayer]:
    """Pair each child module of the model with its analysed layer (child i is layer i+1, in a graph too)."""
    return [ProbedLayer(la.label, module, tuple(la.output_shape or ()), has_filters(la.type),
                        any(True for _ in module.parameters()))
            for module, la in zip(model, analysis.layers)]


def _gradient_norm(module: nn.Module) -> torch.Tensor:
    grads = [p.grad.detach().float().pow(2).sum() for p in module.parameters() if p.grad is not None]
    if not grads:
        return torch.zeros((), device=next(module.parameters()).device)
    return torch.stack(grads).sum().sqrt()


@torch.no_grad()
def capture_snapshot(model: ConvNet, layout: list[ProbedLayer], probe: torch.Tensor, *, step: int, epoch: int,
                     probe_index: int, layer_tensors: bool = True) -> SnapshotTaken:
    """The network as it is now. `probe` is one sample (C, H, W) on the model's device.

    Activations are taken in eval mode (dropout off, batch-norm running statistics), as for
    validation; the model's mode is restored. Gradient norms are those of the last backward pass
    (0.0 before the first one), keyed like the other dicts so every snapshot has the same keys.
    Without `layer_tensors` the event's activations and filters are empty: only the probabilities and
    gradient norms are copied off the device (what a run folder's writer records besides the state dict).
    """
    was_training = model.training
    model.eval()
    try:
        if isinstance(model, GraphNet):
            outputs, logits = _graph_outputs(model, layout, probe.unsqueeze(0), layer_tensors)
        else:
            x = probe.unsqueeze(0)
            outputs, logits = [], None
            for layer in layout:
                if isinstance(layer.module, nn.Softmax) and layer is layout[-1]:
                    logits = x
                x = layer.module(x)
                if layer_tensors:
                    outputs.append(x[0])
            logits = x if logits is None else logits
    finally:
        model.train(was_training)
    probabilities = F.softmax(logits[0].float(), dim=0) if logits.dim() == 2 else torch.zeros(0)
    shown = layout if layer_tensors else []
    weights = [layer.module.weight for layer in shown if layer.is_conv]
    norms = [_gradient_norm(layer.module) for layer in layout if layer.has_params]
    parts = outputs + weights + ([torch.stack(norms)] if norms else []) + [probabilities]
    flat = torch.cat([t.detach().reshape(-1).float().to(probe.device) for t in parts]).cpu().numpy()
    pieces = _split(flat, [tuple(t.shape) for t in parts])
    activations = {layer.label: pieces[i] for i, layer in enumerate(shown)}
    pieces = pieces[len(shown):]
    conv_labels = [layer.label for layer in shown if layer.is_conv]
    conv_weights = dict(zip(conv_labels, pieces[:len(conv_labels)]))
    pieces = pieces[len(conv_labels):]
    norm_labels = [layer.label for layer in layout if layer.has_params]
    gradient_norms = {label: float(v) for label, v in zip(norm_labels, pieces[0])} if norm_labels else {}
    return SnapshotTaken(step=step, epoch=epoch, weights=conv_weights, activations=activations,
                         gradient_norms=gradient_norms, probe_index=probe_index, probabilities=pieces[-1])


def _graph_outputs(model: GraphNet, layout: list[ProbedLayer], x: torch.Tensor,
                   layer_tensors: bool) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Every layer's output in layout (list) order, computed in the graph's own order, and the scores."""
    by_number = model.layer_outputs(x)
    number = {id(module): n for n, module in enumerate(model, start=1)}
    outputs = [by_number[number[id(layer.module)]][0] for layer in layout] if layer_tensors else []
    logits = by_number[model.sources[-1][0]] if model.ends_with_softmax else by_number[len(model)]
    return outputs, logits


def _split(flat: np.ndarray, shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    out, start = [], 0
    for shape in shapes:
        size = math.prod(shape)
        out.append(flat[start:start + size].reshape(shape))
        start += size
    return out
