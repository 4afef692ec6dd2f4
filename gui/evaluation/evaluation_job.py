"""The Evaluation tab's background jobs: score a split and explain one sample, each on an inspection copy.

Both run on a TaskRunner thread and take only frozen inputs (an architecture, a CPU state dict that is
never written to, tensors): they never see a widget, the editable network or a live training model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from engine.datasets import Dataset
from engine.datasets.assembly import renormalized
from engine.scoring.evaluation import inspection_copy
from engine.inspection.explanations import explain
from engine.normalization import Normalization
from engine.scoring.predictions import Predictions, predict
from models.architecture import Architecture

SPLIT_TITLES = {"val": "validation split", "test": "test split"}


@dataclass(frozen=True, eq=False)
class EvaluationRun:
    """What one evaluation found, plus what the galleries and explanations need of the split."""

    architecture: Architecture
    weights: dict[str, torch.Tensor]     # the very dict evaluated (the tab compares identity to see staleness)
    dataset: Dataset                     # the dataset object as it was when evaluated (identity too)
    normalization: Normalization         # what `images` are normalised with: the weights' statistics
    split: str                           # "val" | "test"
    images: torch.Tensor                 # (N, C, H, W) normalised as the weights expect
    thumbnails: np.ndarray               # uint8 (N, H, W, C)
    class_names: tuple[str, ...]         # one per network output
    predictions: Predictions


class EvaluationInputError(ValueError):
    """The dataset and the trained network do not go together; the message says why and what to do."""


def evaluate_split(architecture: Architecture, weights: dict[str, torch.Tensor], dataset: Dataset,
                   normalization: Normalization | None, split: str, *, state) -> EvaluationRun:
    """Score `split` of `dataset` with the weights; `state` is the TaskRunner's TaskState (progress, cancel)."""
    if tuple(dataset.input_shape) != architecture.input.as_tuple():
        raise EvaluationInputError(f"{dataset.name} has {'x'.join(map(str, dataset.input_shape))} images but the "
                                   f"trained network takes {'x'.join(map(str, architecture.input.as_tuple()))}; "
                                   f"choose the dataset it was trained on")
    model = inspection_copy(architecture, weights)
    if normalization is not None and normalization != dataset.normalization:
        dataset_used = renormalized(dataset, normalization)  # the weights see inputs as when they were trained
    else:
        dataset_used, normalization = dataset, dataset.normalization
    chosen = dataset_used.val if split == "val" else dataset_used.test
    if chosen is None:
        raise EvaluationInputError(f"{dataset.name} has no test split; evaluate on the validation split")
    with torch.no_grad():
        outputs = int(model.logits(chosen.images[:1]).shape[1]) if len(chosen) else len(dataset.class_names)
    top = int(chosen.labels.max()) if len(chosen) else -1
    if top >= outputs:
        raise EvaluationInputError(f"{dataset.name} has class {top}, but the network has only {outputs} outputs; "
                                   f"train it on this dataset first")
    predictions = predict(model, chosen.images, chosen.labels, progress=state.set_progress,
                          is_cancelled=lambda: state.is_cancelled)
    names = tuple(dataset.class_names[:outputs]) + tuple(str(i) for i in range(len(dataset.class_names), outputs))
    return EvaluationRun(architecture, weights, dataset, normalization, split, chosen.images,
                         dataset_used.to_uint8(chosen.images), names, predictions)


def explain_sample(architecture: Architecture, weights: dict[str, torch.Tensor], image: torch.Tensor, target: int,
                   method: str, layer: int | None, normalization: Normalization) -> np.ndarray:
    """One explanation map (H, W), on an inspection copy of its own (Captum's hooks never share a model)."""
    model = inspection_copy(architecture, weights)
    return explain(model, image, target, method, normalization=normalization, layer=layer, arch=architecture)
