"""Per-sample predictions of a network on a split, and what the Evaluation tab asks of them.

One batched pass keeps every sample's class probabilities and loss; the confusion matrix, per-class
precision and recall, the samples of one confusion cell, the hardest examples and the most confident
mistakes are then plain numpy over those arrays (no second pass, no torch).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from engine.network.builder import ConvNet


@dataclass(frozen=True, eq=False)
class Predictions:
    """`probabilities` float32 (N, K) softmax of the logits; `labels` int64 (N,); `losses` float32 (N,) cross-entropy."""

    probabilities: np.ndarray
    labels: np.ndarray
    losses: np.ndarray

    @property
    def num_classes(self) -> int:
        return int(self.probabilities.shape[1])

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def predicted(self) -> np.ndarray:
        return self.probabilities.argmax(axis=1)

    @property
    def confidence(self) -> np.ndarray:
        """The probability of the predicted class."""
        return self.probabilities.max(axis=1)

    @property
    def accuracy(self) -> float:
        return float((self.predicted == self.labels).mean()) if len(self) else float("nan")

    def confusion(self) -> np.ndarray:
        """int64 (K, K): rows are the true class, columns the predicted one."""
        k = self.num_classes
        return np.bincount(self.labels * k + self.predicted, minlength=k * k).reshape(k, k).astype(np.int64)

    def top(self, index: int, n: int = 3) -> list[tuple[int, float]]:
        """The `n` most probable classes of sample `index`, as (class, probability), most probable first."""
        row = self.probabilities[index]
        order = np.argsort(-row, kind="stable")[:n]
        return [(int(c), float(row[c])) for c in order]

    def cell(self, true_class: int, predicted_class: int, most_confident_first: bool = True) -> np.ndarray:
        """Indices of the samples of one confusion cell, sorted by the predicted class's probability."""
        chosen = np.flatnonzero((self.labels == true_class) & (self.predicted == predicted_class))
        return _sorted_by(chosen, self.confidence[chosen], descending=most_confident_first)

    def hardest(self, n: int | None = None) -> np.ndarray:
        """Indices of the samples with the highest loss, highest first."""
        return _sorted_by(np.arange(len(self)), self.losses, descending=True)[:n]

    def confident_mistakes(self, n: int | None = None) -> np.ndarray:
        """Indices of the misclassified samples, most confident first (the likeliest mislabelled images)."""
        wrong = np.flatnonzero(self.predicted != self.labels)
        return _sorted_by(wrong, self.confidence[wrong], descending=True)[:n]


def _sorted_by(indices: np.ndarray, keys: np.ndarray, descending: bool) -> np.ndarray:
    # Stable, so equal confidences keep file order and the result is reproducible.
    order = np.argsort(-keys if descending else keys, kind="stable")
    return indices[order].astype(np.int64)


@dataclass(frozen=True)
class ClassMetrics:
    """Per class (arrays of length K): precision and recall (NaN where undefined: nothing predicted / no samples)."""

    precision: np.ndarray
    recall: np.ndarray
    support: np.ndarray  # true samples of the class

    def to_json(self, class_names: tuple[str, ...]) -> list[dict]:
        return [{"class": k, "name": class_names[k], "precision": _finite_or_none(self.precision[k]),
                 "recall": _finite_or_none(self.recall[k]), "support": int(self.support[k])}
                for k in range(len(self.support))]


def class_metrics(confusion: np.ndarray) -> ClassMetrics:
    """Precision = diagonal / column sum, recall = diagonal / row sum (rows are the true class)."""
    confusion = np.asarray(confusion, dtype=np.float64)
    diagonal = np.diag(confusion)
    predicted, support = confusion.sum(axis=0), confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted > 0, diagonal / predicted, np.nan)
        recall = np.where(support > 0, diagonal / support, np.nan)
    return ClassMetrics(precision, recall, support.astype(np.int64))


def _finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


class Cancelled(Exception):
    """The caller gave up on this pass (a newer one was asked for)."""


@torch.no_grad()
def predict(model: ConvNet, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 500,
            progress: Callable[[float], None] | None = None,
            is_cancelled: Callable[[], bool] | None = None) -> Predictions:
    """Every sample's probabilities and loss, in eval mode on the model's device (its mode is restored).

    `progress(fraction)` is called after each batch; `is_cancelled()` is polled there and raises Cancelled.
    """
    device = next(model.parameters(), torch.empty(0)).device
    was_training = model.training
    model.eval()
    probabilities, losses = [], []
    try:
        for start in range(0, len(labels), batch_size):
            if is_cancelled is not None and is_cancelled():
                raise Cancelled()
            x = images[start:start + batch_size].to(device)
            y = labels[start:start + batch_size].to(device)
            logits = model.logits(x).float()
            losses.append(F.cross_entropy(logits, y, reduction="none").cpu())
            probabilities.append(F.softmax(logits, dim=1).cpu())
            if progress is not None:
                progress(min(1.0, (start + len(y)) / len(labels)))
    finally:
        model.train(was_training)
    k = int(probabilities[0].shape[1]) if probabilities else 0
    probs = torch.cat(probabilities).numpy() if probabilities else np.zeros((0, k), np.float32)
    loss = torch.cat(losses).numpy() if losses else np.zeros(0, np.float32)
    return Predictions(probs.astype(np.float32), labels.numpy().astype(np.int64), loss.astype(np.float32))
