"""The end of a run beyond validation: the test split scored once on the weights kept, and summary.json's fields."""

from __future__ import annotations

import math
from typing import Any

from engine.scoring.evaluation import Evaluation, evaluate


def score_test(model, dataset, score=evaluate) -> Evaluation | None:
    """The model on the dataset's test split (None when it has none). Called once, after the weights to keep
    are in place: the test split never chooses an epoch or a stopping point. `score` is evaluate, or under
    torchrun the ranks' shared evaluate (every rank calls it)."""
    test = dataset.test
    if test is None or not len(test):
        return None
    return score(model, test.images, test.labels, dataset.num_classes)


def test_note(result: Evaluation | None) -> str:
    """What the end message adds for the test split."""
    if result is None or not result.samples:
        return ""
    return f"; test accuracy {result.accuracy:.2%} on {result.samples:,} test images"


def final_scores(trainer, dataset) -> dict[str, Any]:
    """best_epoch, best_val_accuracy, best_val_loss, early_stopped, kept_weights; test_accuracy, test_loss and
    test_samples of the trainer's end-of-run test score (None and 0 without a test split)."""
    scores = trainer.best.summary()
    result = trainer.test_result
    if result is None:
        return {**scores, "test_accuracy": None, "test_loss": None, "test_samples": 0}
    return {**scores, "test_accuracy": _finite(result.accuracy), "test_loss": _finite(result.loss),
            "test_samples": result.samples}


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
