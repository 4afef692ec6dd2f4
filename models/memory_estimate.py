"""How much memory training a network takes: weights, gradients, optimiser state and activations, in bytes.

Plain arithmetic on models.shapes.analyze (no torch), so `summary` can print it and `train` can refuse a
network too big for the machine before building it. Everything is float32 (4 bytes a number), as trained
on the CPU; mixed precision on CUDA stores most activations in 2 bytes, so there the estimate is high.

Activations: autograd keeps every layer's output (the next layer's input) from the forward pass until the
backward pass has used it, so the estimate is batch x (sum of every layer's output size) x 4 bytes x
ACTIVATION_FACTOR. The factor 2 stands for what the backward pass adds on top of the kept outputs: the
gradient of each activation (as large as the activation itself) and the per-operation extras autograd
saves (max-pool indices in int64, the padded copy of a conv's input, dropout masks). Flatten is counted
although torch makes it a view: the estimate errs high rather than low. A trailing softmax is left out:
training runs the logits only (engine/network/builder.py ConvNet.logits).

Validation runs without gradients, one layer at a time, at a batch of its own (engine/scoring/evaluation.py's
1000): it needs only the largest input + output pair of one layer, and never while training activations
are held, so the total counts the larger of the two.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from models.shapes import Analysis

BYTES_PER_NUMBER = 4  # float32
ACTIVATION_FACTOR = 2  # kept outputs + their gradients and autograd's extras (see the module docstring)
# Optimiser state per parameter, in copies of the weights (torch.optim's own buffers).
_STATE_COPIES = {"adam": 2, "adamw": 2}  # exp_avg and exp_avg_sq


def optimizer_copies(optimizer: str, momentum: float = 0.0) -> int:
    """How many weight-sized buffers the optimiser keeps: Adam/AdamW 2 (first and second moments), SGD 1
    with momentum (its velocity) else 0, RMSprop 1 (the running square) + 1 with momentum."""
    if optimizer in _STATE_COPIES:
        return _STATE_COPIES[optimizer]
    if optimizer == "sgd":
        return 1 if momentum > 0 else 0
    if optimizer == "rmsprop":
        return 2 if momentum > 0 else 1
    raise ValueError(f"unknown optimizer {optimizer!r}")


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes to train one network at `batch_size`; `total` is what must fit on the device."""

    batch_size: int
    weights: int           # the parameters (weights + biases), float32
    gradients: int         # one gradient per parameter
    optimizer_state: int   # optimizer_copies() x weights
    activations: int       # training, at batch_size (module docstring: ACTIVATION_FACTOR)
    evaluation: int = 0    # the no-gradient validation pass at evaluation_batch (0: not counted)
    optimizer: str = "adam"
    evaluation_batch: int = 0

    @property
    def total(self) -> int:
        return self.weights + self.gradients + self.optimizer_state + max(self.activations, self.evaluation)

    def to_json(self) -> dict:
        return {"batch_size": self.batch_size, "optimizer": self.optimizer, "weights_bytes": self.weights,
                "gradients_bytes": self.gradients, "optimizer_state_bytes": self.optimizer_state,
                "activations_bytes": self.activations, "evaluation_bytes": self.evaluation,
                "evaluation_batch_size": self.evaluation_batch,
                "total_bytes": self.total}

    def describe(self, extra: tuple[str, int] | None = None) -> str:
        """One line: 'about 1.2 GB to train (weights 40 MB, gradients 40 MB, ...)'; `extra` (what, bytes) is
        one more part the caller knows of, counted in the total."""
        parts = [f"weights {format_bytes(self.weights)}", f"gradients {format_bytes(self.gradients)}",
                 f"{self.optimizer} state {format_bytes(self.optimizer_state)}",
                 f"activations at batch {self.batch_size} {format_bytes(self.activations)}"]
        if self.evaluation > self.activations:
            parts.append(f"validation at batch {self.evaluation_batch} {format_bytes(self.evaluation)}")
        total = self.total
        if extra and extra[1]:
            parts.append(f"{extra[0]} {format_bytes(extra[1])}")
            total += extra[1]
        return f"about {format_bytes(total)} to train ({', '.join(parts)})"


def estimate_memory(analysis: Analysis, batch_size: int, optimizer: str = "adam", momentum: float = 0.0,
                    evaluation_batch: int = 0) -> MemoryEstimate:
    """The estimate for a valid analysis (ValueError if it has an error: its sizes are unknown)."""
    if analysis.errors:
        raise ValueError(f"no memory estimate for an invalid network: {analysis.errors[0]}")
    params = analysis.total_params
    weights = params * BYTES_PER_NUMBER
    trained = _trained_layers(analysis)
    outputs = sum(la.activation_size for la in trained)
    activations = batch_size * outputs * BYTES_PER_NUMBER * ACTIVATION_FACTOR
    evaluation = 0
    if evaluation_batch and trained:
        widest = max(math.prod(la.input_shape or ()) + la.activation_size for la in trained)
        evaluation = evaluation_batch * widest * BYTES_PER_NUMBER
    return MemoryEstimate(batch_size, weights, weights, weights * optimizer_copies(optimizer, momentum),
                          activations, evaluation, optimizer, evaluation_batch)


def largest_layers(analysis: Analysis) -> tuple[str | None, str | None]:
    """Labels of the layer with the most parameters and of the one with the largest output (what to shrink)."""
    layers = _trained_layers(analysis)
    if not layers:
        return None, None
    heaviest = max(layers, key=lambda la: la.params)
    widest = max(layers, key=lambda la: la.activation_size)
    return (heaviest.label if heaviest.params else None), widest.label


def format_bytes(n: int) -> str:
    """Decimal units, as disks and `free -h --si` print them: 950 B, 1.2 kB, 34 MB, 842 GB, 1.7 TB."""
    if n < 1000:
        return f"{n} B"
    value = float(n)
    for unit in ("kB", "MB", "GB", "TB", "PB"):
        value /= 1000
        if value < 999.5 or unit == "PB":
            return f"{value:.1f} {unit}" if value < 9.95 else f"{value:.0f} {unit}"
    raise AssertionError("unreachable")


def _trained_layers(analysis: Analysis):
    layers = analysis.layers
    return layers[:-1] if layers and layers[-1].type == "softmax" else layers
