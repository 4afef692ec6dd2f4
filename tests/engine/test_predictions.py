"""Per-sample predictions, the confusion matrix, per-class metrics and the mistakes list, against a loop of our own."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from engine.network.builder import build_model
from engine.scoring.evaluation import evaluate, inspection_copy
from engine.scoring.predictions import Cancelled, class_metrics, predict
from engine.project.run_input import read_run_input
from engine.scoring.split import images_to_score
from engine.network.weights import WeightsError
from models.presets import load_preset
from tests.engine.training_data import evaluate_json, tiny_arch, tiny_dataset, train_tiny_run


def hand_loop(model, images, labels):
    """One sample at a time, plain Python: (true, predicted, confidence, loss) per sample."""
    rows = []
    with torch.no_grad():
        for x, y in zip(images, labels):
            logits = model.logits(x.unsqueeze(0))[0]
            probs = torch.exp(logits - torch.logsumexp(logits, 0))
            best = max(range(len(probs)), key=lambda k: float(probs[k]))
            rows.append((int(y), best, float(probs[best]), -math.log(float(probs[int(y)]))))
    return rows


@pytest.fixture(scope="module")
def scored():
    torch.manual_seed(3)
    data = tiny_dataset(n_train=8, n_val=64)
    model = build_model(tiny_arch()).eval()
    return model, data.val, predict(model, data.val.images, data.val.labels, batch_size=10)


def test_confusion_matrix_and_losses_agree_with_a_sample_by_sample_loop(scored):
    model, split, predictions = scored
    rows = hand_loop(model, split.images, split.labels)
    counts = np.zeros((3, 3), dtype=np.int64)
    for true, predicted, _, _ in rows:
        counts[true, predicted] += 1
    np.testing.assert_array_equal(predictions.confusion(), counts)
    np.testing.assert_array_equal(predictions.confusion(), evaluate(model, split.images, split.labels, 3).confusion)
    np.testing.assert_allclose(predictions.losses, [r[3] for r in rows], rtol=1e-5)
    assert predictions.accuracy == pytest.approx(sum(r[0] == r[1] for r in rows) / len(rows))


def test_a_cell_holds_exactly_its_samples_most_confident_first(scored):
    model, split, predictions = scored
    rows = hand_loop(model, split.images, split.labels)
    for true in range(3):
        for predicted in range(3):
            expected = [i for i, r in enumerate(rows) if r[0] == true and r[1] == predicted]
            cell = predictions.cell(true, predicted)
            assert sorted(cell.tolist()) == expected
            confidences = [rows[i][2] for i in cell]
            assert confidences == sorted(confidences, reverse=True)
            rising = [rows[i][2] for i in predictions.cell(true, predicted, most_confident_first=False)]
            assert rising == sorted(confidences)


def test_mistakes_and_hardest_examples(scored):
    model, split, predictions = scored
    rows = hand_loop(model, split.images, split.labels)
    wrong = [i for i, r in enumerate(rows) if r[0] != r[1]]
    assert wrong, "the untrained network must make some mistakes for this test to mean anything"
    assert sorted(predictions.confident_mistakes().tolist()) == wrong
    assert [rows[i][2] for i in predictions.confident_mistakes()] == sorted((rows[i][2] for i in wrong), reverse=True)
    hardest = predictions.hardest(5).tolist()
    assert hardest == sorted(range(len(rows)), key=lambda i: -rows[i][3])[:5]
    top = predictions.top(hardest[0])
    assert [c for c, _ in top] == sorted(range(3), key=lambda k: -predictions.probabilities[hardest[0], k])
    assert sum(p for _, p in top) == pytest.approx(1.0, abs=1e-5)  # 3 classes: the top 3 are all of them


def test_class_metrics_by_hand():
    confusion = np.array([[5, 1, 0], [2, 3, 0], [0, 0, 0]])
    metrics = class_metrics(confusion)
    np.testing.assert_allclose(metrics.precision[:2], [5 / 7, 3 / 4])
    np.testing.assert_allclose(metrics.recall[:2], [5 / 6, 3 / 5])
    assert np.isnan(metrics.precision[2]) and np.isnan(metrics.recall[2])  # nothing predicted, no samples
    assert metrics.to_json(("a", "b", "c"))[2] == {"class": 2, "name": "c", "precision": None, "recall": None,
                                                   "support": 0}


def test_progress_is_reported_and_a_cancelled_pass_stops(scored):
    model, split, _ = scored
    seen = []
    predict(model, split.images, split.labels, batch_size=16, progress=seen.append)
    assert seen == [0.25, 0.5, 0.75, 1.0]
    with pytest.raises(Cancelled):
        predict(model, split.images, split.labels, batch_size=16, is_cancelled=lambda: True)


def test_the_inspection_copy_is_a_model_of_its_own():
    arch = load_preset("lenet5")
    torch.manual_seed(0)
    state = {k: v.clone() for k, v in build_model(arch).state_dict().items()}
    before = {k: v.clone() for k, v in state.items()}
    copy = inspection_copy(arch, state)
    with torch.no_grad():
        copy[0].weight.add_(1.0)
    for name in state:
        assert torch.equal(state[name], before[name])
    assert not copy.training
    with pytest.raises(WeightsError, match="0.weight"):
        inspection_copy(arch, {**state, "0.weight": torch.zeros(2, 1, 5, 5)})


def test_evaluate_json_per_class_and_mistakes_agree_with_an_independent_loop(tmp_path, capsys):
    arch, data, out = train_tiny_run(tmp_path)
    result = evaluate_json(capsys, str(out))
    project = read_run_input(out)
    split = images_to_score(project.config, None, None, project.normalization, 3).split
    rows = hand_loop(inspection_copy(project.architecture, project.weights), split.images, split.labels)
    wrong = sorted((i for i, r in enumerate(rows) if r[0] != r[1]), key=lambda i: -rows[i][2])
    assert [m["index"] for m in result["mistakes"]] == wrong
    for m in result["mistakes"]:
        assert (m["label"], m["predicted"]) == rows[m["index"]][:2]
        assert m["confidence"] == pytest.approx(rows[m["index"]][2], rel=1e-5)
    for entry in result["per_class"]:
        k = entry["class"]
        support = sum(r[0] == k for r in rows)
        hits = sum(r[0] == k and r[1] == k for r in rows)
        called = sum(r[1] == k for r in rows)
        assert entry["support"] == support
        assert entry["recall"] == (pytest.approx(hits / support) if support else None)
        assert entry["precision"] == (pytest.approx(hits / called) if called else None)
