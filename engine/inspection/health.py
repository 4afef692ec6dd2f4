"""Network health on a probe batch: dead, dormant and saturated units, gradient norms, weight statistics, warnings.

All figures are computed in eval mode on one fixed batch (engine/inspection/probe_batch.py), layer by layer
(docs/command-line.md#health). A unit is one output value per input: channel x position for conv maps, one
feature for vectors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from models.architecture import Architecture

ACTIVATIONS = ("relu", "leaky_relu", "elu", "sigmoid", "tanh")
SATURATING = ("sigmoid", "tanh")


@dataclass(frozen=True)
class Thresholds:
    """What counts as unhealthy; every figure a fraction or a ratio (docs/command-line.md#health)."""

    tau: float = 0.025              # dormant: a unit's mean |output| below tau x the layer's mean |output|
    sigmoid_low: float = 0.01       # sigmoid outputs below this or above 1 - this are saturated
    tanh_limit: float = 0.99        # tanh outputs beyond +-this are saturated
    dead_warn: float = 0.3          # warn when at least this share of a ReLU layer's units is dead
    dormant_warn: float = 0.5       # ... of another activation's units is dormant
    saturated_warn: float = 0.5     # ... of a sigmoid / tanh layer's outputs is saturated
    vanishing_ratio: float = 1e-3   # a layer's gradient norm below this x the median of the others' non-zero
    exploding_ratio: float = 1e3    # norms: vanishing; above this x that median: exploding


@dataclass(frozen=True)
class LayerHealth:
    index: int
    type: str
    dead_fraction: float | None = None            # ReLU: units 0 on every input
    dormant_fraction: float | None = None         # activations: tau-dormant units
    saturated_fraction: float | None = None       # sigmoid / tanh: share of all outputs saturated
    saturated_unit_fraction: float | None = None  # sigmoid / tanh: units saturated on every input
    gradient_norm: float | None = None            # layers with parameters: of the last step before the snapshot
    weight_mean: float | None = None
    weight_std: float | None = None
    bias_mean: float | None = None
    bias_std: float | None = None
    # {"weight": (count, size)} for each of the layer's parameters and buffers holding inf or NaN: a blown-up
    # snapshot. Its statistics are then None (a mean of inf says nothing), and so are the unit figures of it and
    # of every later layer (their inputs are not numbers).
    non_finite: dict[str, tuple[int, int]] | None = None

    @property
    def label(self) -> str:
        return f"layer {self.index} ({self.type})"

    def to_dict(self) -> dict[str, Any]:
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class HealthWarning:
    layer: int     # 1-based, as the summary table numbers layers
    kind: str      # "non_finite" | "dead" | "dormant" | "saturated" | "no_gradient" | "vanishing" | "exploding"
    label: str     # "layer 3 (relu)"
    finding: str   # for people: what is wrong, e.g. "40% of units dead (0 for every probe input)"
    advice: str    # what to try, e.g. "try a lower learning rate, leaky ReLU, ..."

    @property
    def message(self) -> str:
        return f"{self.label}: {self.finding}; {self.advice}"


def percent(fraction: float) -> str:
    """`fraction` as a percentage that never says 100% or 0% unless it is exactly that (0.9994 is 99.94%, not
    100%): as many decimals as it takes, at most 4, then '>99.9999%' / '<0.0001%'."""
    if fraction in (0.0, 1.0) or not math.isfinite(fraction):
        return f"{fraction:.0%}"
    for decimals in range(5):
        rounded = round(fraction * 100, decimals)
        if 0 < rounded < 100:
            return f"{fraction:.{decimals}%}"
    return ">99.9999%" if fraction > 0.5 else "<0.0001%"


def layer_outputs(model: torch.nn.Module, images: torch.Tensor, batch: int = 256) -> list[torch.Tensor]:
    """Every layer's output (N, ...) for `images`, in eval mode, batch by batch (the model's mode is restored)."""
    was_training = model.training
    model.eval()
    outputs: list[list[torch.Tensor]] = [[] for _ in model]
    try:
        with torch.no_grad():
            for start in range(0, len(images), batch):
                x = images[start:start + batch]
                for i, layer in enumerate(model):
                    x = layer(x)
                    outputs[i].append(x.detach().float().cpu())
    finally:
        model.train(was_training)
    return [torch.cat(parts) for parts in outputs]


def unit_figures(kind: str, y: torch.Tensor, t: Thresholds) -> dict[str, float | None]:
    """Dead / dormant / saturated figures of one activation layer's output y (N, ...)."""
    units = y.reshape(len(y), -1).double()
    figures: dict[str, float | None] = {}
    if kind == "relu":
        figures["dead_fraction"] = float((units == 0).all(dim=0).double().mean())
    if kind in ACTIVATIONS:
        per_unit = units.abs().mean(dim=0)
        layer_mean = float(units.abs().mean())
        # A layer whose every output is 0 has every unit dormant (no unit carries anything).
        figures["dormant_fraction"] = (float((per_unit < t.tau * layer_mean).double().mean()) if layer_mean > 0
                                       else 1.0)
    if kind in SATURATING:
        if kind == "sigmoid":
            saturated = (units < t.sigmoid_low) | (units > 1 - t.sigmoid_low)
        else:
            saturated = units.abs() > t.tanh_limit
        figures["saturated_fraction"] = float(saturated.double().mean())
        figures["saturated_unit_fraction"] = float(saturated.all(dim=0).double().mean())
    return figures


def _stats(tensor: torch.Tensor | None) -> tuple[float | None, float | None]:
    if tensor is None or tensor.numel() == 0 or not bool(torch.isfinite(tensor).all()):
        return None, None
    values = tensor.detach().double()
    return float(values.mean()), float(values.std(unbiased=False))


def non_finite_tensors(module: torch.nn.Module) -> dict[str, tuple[int, int]]:
    """{name: (inf/NaN values, values)} of the module's own floating parameters and buffers that hold any."""
    found = {}
    for name, tensor in [*module.named_parameters(recurse=False), *module.named_buffers(recurse=False)]:
        if tensor is not None and tensor.is_floating_point():
            bad = int((~torch.isfinite(tensor.detach())).sum())
            if bad:
                found[name] = (bad, tensor.numel())
    return found


def network_health(arch: Architecture, model: torch.nn.Module, images: torch.Tensor,
                   gradient_norms: dict[str, float] | None = None, thresholds: Thresholds = Thresholds()
                   ) -> list[LayerHealth]:
    """Per layer, the figures above; `gradient_norms` by layer label ('layer 1 (conv2d)'), e.g. a snapshot line's."""
    outputs = layer_outputs(model, images)
    result = []
    broken = False  # a layer with inf/NaN weights was met: later layers' inputs are not numbers
    for index, (spec, module, y) in enumerate(zip(arch.layers, model, outputs), start=1):
        label = f"layer {index} ({spec.TYPE})"
        weight_mean, weight_std = _stats(getattr(module, "weight", None))
        bias_mean, bias_std = _stats(getattr(module, "bias", None))
        # Numbers already: a run log's norms are checked where the line is read (engine/run_folder/records.py).
        norm = (gradient_norms or {}).get(label)
        non_finite = non_finite_tensors(module)
        broken = broken or bool(non_finite)
        units = {} if broken else unit_figures(spec.TYPE, y, thresholds)
        result.append(LayerHealth(index, spec.TYPE, gradient_norm=norm, weight_mean=weight_mean,
                                  weight_std=weight_std, bias_mean=bias_mean, bias_std=bias_std,
                                  non_finite=non_finite or None, **units))
    return result


def warnings_for(layers: list[LayerHealth], thresholds: Thresholds = Thresholds()) -> list[HealthWarning]:
    """What is wrong, layer by layer, each with what to try."""
    t, found = thresholds, []

    def warn(la: LayerHealth, kind: str, finding: str, advice: str) -> None:
        found.append(HealthWarning(la.index, kind, la.label, finding, advice))

    for la in layers:
        if la.non_finite:
            tensors = ", ".join(f"{name} {bad:,} of {size:,}" for name, (bad, size) in la.non_finite.items())
            warn(la, "non_finite", f"the snapshot holds inf or NaN values ({tensors}): the weights blew up, and "
                 f"the figures of this and later layers mean nothing", "lower the learning rate or clip gradients, "
                 "and train again from an earlier snapshot")
        if la.dead_fraction is not None and la.dead_fraction >= t.dead_warn:
            warn(la, "dead", f"{percent(la.dead_fraction)} of units dead (0 for every probe input)",
                 "try a lower learning rate, leaky ReLU, batch norm before it, or another initialisation")
        elif la.type != "relu" and la.dormant_fraction is not None and la.dormant_fraction >= t.dormant_warn:
            warn(la, "dormant", f"{percent(la.dormant_fraction)} of units dormant (mean |output| below {t.tau} x "
                 f"the layer's)", "try a lower learning rate, batch norm, or another initialisation")
        if la.saturated_fraction is not None and la.saturated_fraction >= t.saturated_warn:
            warn(la, "saturated", f"{percent(la.saturated_fraction)} of outputs saturated",
                 "try smaller initial weights, batch norm before it, a lower learning rate, or ReLU")
    norms = [(la, la.gradient_norm) for la in layers if la.gradient_norm is not None]
    for la, norm in norms:
        if not math.isfinite(norm):
            warn(la, "exploding", "gradient norm is not finite", "lower the learning rate, add batch norm, or clip "
                 "gradients")
            continue
        if norm == 0:
            # Exactly 0: nothing reaches its parameters (its units, or every path after it, are dead). Compared
            # with the others it would hide in their median when most layers are like it.
            warn(la, "no_gradient", "gradient is exactly 0: its parameters no longer learn", "look for dead "
                 "layers after it; try a lower learning rate, leaky ReLU, or batch norm")
            continue
        # The other layers' non-zero norms: zeros are warned about above, and a median of zeros compares with
        # nothing (4 layers of 5 at 0 made the median 0 and hid the vanishing fifth).
        others = [n for other, n in norms if other is not la and math.isfinite(n) and n > 0]
        if not others:
            continue
        median = float(np.median(others))
        if norm < t.vanishing_ratio * median:
            warn(la, "vanishing", f"gradient norm {norm:.3g} is under {t.vanishing_ratio:g} x the other layers' "
                 f"median ({median:.3g})", "try ReLU instead of sigmoid/tanh, batch norm, or another "
                 "initialisation")
        elif norm > t.exploding_ratio * median:
            warn(la, "exploding", f"gradient norm {norm:.3g} is over {t.exploding_ratio:g} x the other layers' "
                 f"median ({median:.3g})", "lower the learning rate, add batch norm, or clip gradients")
    return found


def histogram(values: torch.Tensor | np.ndarray, bins: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """(edges (bins + 1,), counts (bins,)) of the finite values, over their own range."""
    array = np.asarray(values.detach().cpu() if isinstance(values, torch.Tensor) else values, dtype=np.float64)
    finite = array[np.isfinite(array)].ravel()
    if finite.size == 0:
        return np.linspace(0.0, 1.0, bins + 1), np.zeros(bins, np.int64)
    low, high = float(finite.min()), float(finite.max())
    if low == high:
        low, high = low - 0.5, high + 0.5
    counts, edges = np.histogram(finite, bins=bins, range=(low, high))
    return edges, counts
