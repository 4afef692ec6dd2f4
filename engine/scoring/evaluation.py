"""Batched evaluation of a built network on a split (loss, accuracy, confusion matrix) and its inspection copy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from engine.network.builder import ConvNet, build_model
from engine.config import EVALUATION_BATCH
from engine.network.weights import apply_state_dict
from models.architecture import Architecture


@dataclass(frozen=True)
class Evaluation:
    loss: float                  # mean cross-entropy per sample
    accuracy: float              # 0..1
    samples: int
    confusion: np.ndarray        # int64 (classes, classes): rows = true class, columns = predicted

    def to_json(self) -> dict:
        return {"accuracy": self.accuracy, "loss": self.loss, "samples": self.samples,
                "confusion_matrix": self.confusion.tolist()}


@torch.no_grad()
def evaluate(model: ConvNet, images: torch.Tensor, labels: torch.Tensor, num_classes: int,
             batch_size: int = EVALUATION_BATCH) -> Evaluation:
    """Evaluate in eval mode (dropout off, batch-norm running statistics) on the model's device.

    `images`/`labels` may live anywhere; each batch is moved to the model's device. Everything is
    accumulated on the device and read back once at the end (one sync). The model's train/eval mode
    is restored afterwards.
    """
    device = next(model.parameters(), torch.empty(0)).device
    was_training = model.training
    model.eval()
    try:
        loss_sum = torch.zeros((), dtype=torch.float64, device=device)
        confusion = torch.zeros(num_classes * num_classes, dtype=torch.int64, device=device)
        for start in range(0, len(labels), batch_size):
            x = images[start:start + batch_size].to(device, non_blocking=True)
            y = labels[start:start + batch_size].to(device, non_blocking=True)
            logits = model.logits(x)
            loss_sum += F.cross_entropy(logits, y, reduction="sum").double()
            predicted = logits.argmax(dim=1)
            confusion += torch.bincount(y * num_classes + predicted, minlength=num_classes * num_classes)
    finally:
        model.train(was_training)
    matrix = confusion.cpu().numpy().reshape(num_classes, num_classes)
    samples = int(len(labels))
    if samples == 0:
        return Evaluation(float("nan"), float("nan"), 0, matrix)
    return Evaluation(float(loss_sum.item()) / samples, float(np.trace(matrix)) / samples, samples, matrix)


def inspection_copy(arch: Architecture, state: dict[str, torch.Tensor], source: str = "the trained weights") -> ConvNet:
    """A CPU model of its own built from `state`, in eval mode: what evaluation and explanations run on.

    `load_state_dict` copies into the new model's own parameters, so nothing done to the copy (gradients,
    hooks) reaches `state` or a live training model. WeightsError if `state` does not fit `arch`. The
    throwaway initialisation runs inside fork_rng, so the caller's torch seed does not move.
    """
    with torch.random.fork_rng(devices=[]):
        model = build_model(arch)
    apply_state_dict(model, state, source=source)
    for parameter in model.parameters():
        parameter.requires_grad_(False)  # explanations need input gradients only
    return model.eval()
