"""The training statistics travel with the weights: settings.json, projects, `evaluate` on other data, exports."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from engine.network.builder import build_model
from engine.datasets.assembly import channel_stats, split_indices
from engine.normalization import Normalization, NormalizationError
from engine.project.project_file import Project, from_bytes, to_bytes
from engine.project.sources import open_project_or_run
from engine.network.weights import load_state_dict
from main import main
from tests.engine.training_data import CLASSES, evaluate_json, quadrant_images, tiny_arch, train_tiny_run


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One trained run folder (2 epochs on the tiny set, 20% held out) shared by the tests below."""
    return train_tiny_run(tmp_path_factory.mktemp("normalization"))


def scores_by_hand(out, images: np.ndarray, labels: np.ndarray, mean: float, std: float) -> tuple[float, float]:
    """Oracle: the run's network on images normalised with given statistics, written out with plain torch."""
    model = build_model(tiny_arch())
    model.load_state_dict(load_state_dict(out / "weights.safetensors"))
    x = (torch.from_numpy(images).float().unsqueeze(1) / 255.0 - mean) / std
    with torch.no_grad():
        logits = model.eval().logits(x)
    y = torch.from_numpy(labels)
    loss = torch.nn.functional.cross_entropy(logits, y).item()
    return float((logits.argmax(1) == y).float().mean()), loss


def test_settings_json_holds_the_train_split_statistics(run):
    _, _, out = run
    settings = json.loads((out / "settings.json").read_text())
    images, _ = quadrant_images(120, 8)
    train_idx, _ = split_indices(120, 0.2, seed=2)
    mean, std = channel_stats(images[train_idx][..., np.newaxis])
    assert settings["normalization"] == {"mean": list(mean), "std": list(std)}
    assert open_project_or_run(out).normalization == Normalization(mean, std)


def test_another_dataset_is_scored_whole_with_the_training_statistics(run, tmp_path, capsys):
    _, _, out = run
    stats = open_project_or_run(out).normalization
    other_images, other_labels = quadrant_images(50, 8, seed=7)
    other_images = (other_images // 2).astype(np.uint8)  # a darker set: its own statistics differ a lot
    other = tmp_path / "other.npz"
    np.savez_compressed(other, images=other_images, labels=other_labels, class_names=np.array(CLASSES))
    result = evaluate_json(capsys, str(out), "--dataset", str(other))
    assert result["samples"] == 50 and result["split"] == "all"
    accuracy, loss = scores_by_hand(out, other_images, other_labels, stats.mean[0], stats.std[0])
    assert result["accuracy"] == pytest.approx(accuracy)
    assert result["loss"] == pytest.approx(loss, rel=1e-5)


def test_the_held_out_images_alone_score_as_inside_the_whole_set(run, tmp_path, capsys):
    _, data, out = run
    images, labels = quadrant_images(120, 8)
    _, val_idx = split_indices(120, 0.2, seed=2)
    subset = tmp_path / "held_out.npz"
    np.savez_compressed(subset, images=images[val_idx], labels=labels[val_idx], class_names=np.array(CLASSES))
    inside = evaluate_json(capsys, str(out))
    alone = evaluate_json(capsys, str(out), "--dataset", str(subset))
    assert alone["samples"] == inside["samples"] == len(val_idx)
    assert alone["confusion_matrix"] == inside["confusion_matrix"]
    assert alone["loss"] == pytest.approx(inside["loss"], rel=1e-6)


def test_a_set_holding_a_subset_of_the_classes_scores_against_all_outputs(run, tmp_path, capsys):
    _, _, out = run
    images, labels = quadrant_images(120, 8, seed=3)
    only_bottom = labels == 2
    subset = tmp_path / "bottom_only.npz"  # labels 2 only and no class names: 0..2 would come from the labels
    np.savez_compressed(subset, images=images[only_bottom], labels=labels[only_bottom])
    result = evaluate_json(capsys, str(out), "--dataset", str(subset))
    matrix = np.array(result["confusion_matrix"])
    assert matrix.shape == (3, 3) and matrix[2].sum() == only_bottom.sum() and matrix[:2].sum() == 0
    only_first = labels == 0
    np.savez_compressed(subset, images=images[only_first], labels=labels[only_first])
    assert np.array(evaluate_json(capsys, str(out), "--dataset", str(subset))["confusion_matrix"]).shape == (3, 3)


def test_a_label_beyond_the_network_outputs_is_named(run, tmp_path, capsys):
    _, _, out = run
    images, _ = quadrant_images(10, 8)
    bad = tmp_path / "five.npz"
    np.savez_compressed(bad, images=images, labels=np.full(10, 5))
    capsys.readouterr()
    assert main(["evaluate", str(out), "--dataset", str(bad)]) == 2
    assert "has label 5, but the network has only 3 outputs" in capsys.readouterr().err


def test_an_older_run_without_statistics_still_evaluates_with_a_notice(run, tmp_path, capsys):
    import shutil
    _, _, out = run
    old = tmp_path / "old-run"
    shutil.copytree(out, old)
    settings = json.loads((old / "settings.json").read_text())
    del settings["normalization"]
    (old / "settings.json").write_text(json.dumps(settings))
    assert open_project_or_run(old).normalization is None
    assert evaluate_json(capsys, str(old))["samples"] == 24  # its own set: the statistics are recomputed exactly
    images, labels = quadrant_images(20, 8, seed=9)
    other = tmp_path / "other.npz"
    np.savez_compressed(other, images=images, labels=labels)
    capsys.readouterr()
    assert main(["evaluate", str(old), "--dataset", str(other)]) == 0
    assert "stores no input normalisation" in capsys.readouterr().err


def test_projects_keep_the_statistics_and_older_projects_open_without_them():
    stats = Normalization((0.25,), (0.5,))
    project = Project(tiny_arch(), normalization=stats)
    assert from_bytes(to_bytes(project)).normalization == stats
    assert from_bytes(to_bytes(Project(tiny_arch()))).normalization is None


@pytest.mark.parametrize("data, problem", [
    ({"mean": [0.5]}, "must be"),
    ({"mean": [0.5], "std": [0.0]}, "positive"),
    ({"mean": [0.5, 0.5], "std": [0.2]}, "one value per channel"),
    ({"mean": ["a"], "std": [0.2]}, "finite numbers"),
    ({"mean": [float("nan")], "std": [0.2]}, "finite numbers"),
    ([0.5, 0.2], "must be"),
])
def test_bad_statistics_are_refused_with_the_reason(data, problem):
    with pytest.raises(NormalizationError, match=problem):
        Normalization.from_json(data)


def test_the_live_run_folder_carries_the_statistics_from_its_first_line(run):
    from engine.run_folder import read_run_log
    _, _, out = run
    stored = open_project_or_run(out).normalization
    started = read_run_log(out).started
    assert Normalization.from_json(started["settings"]["normalization"]) == stored
