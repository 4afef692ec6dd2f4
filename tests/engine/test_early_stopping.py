"""Early stopping and keep-best: the stop epoch on scripted metrics, the kept tensors, the test split reported."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

import engine.training.distributed as distributed_module
from engine.config import ConfigError, TrainConfig
from engine.training.early_stopping import BestWeights
from engine.scoring.evaluation import Evaluation
from engine.metrics import MetricsHistory
from engine.training.trainer import Callback, Trainer
from main import main
from models import architecture_file
from tests.engine.training_data import CLASSES, quadrant_images, tiny_arch, tiny_dataset


def _linear_at(value: float) -> torch.nn.Linear:
    layer = torch.nn.Linear(2, 2)
    with torch.no_grad():
        layer.weight.fill_(value)
    return layer


@pytest.mark.parametrize("metric, values, patience, stop_epoch, best_epoch", [
    ("val_loss", [1.0, 0.8, 0.9, 0.85, 0.95, 0.1], 3, 5, 2),
    ("val_loss", [1.0, 0.9, 0.8, 0.7], 2, None, 4),              # always improving: never stops
    ("val_accuracy", [0.5, 0.6, 0.6, 0.55, 0.9], 2, 4, 2),       # equal is no improvement
    ("val_loss", [math.nan, math.nan, 2.0, 3.0], 1, 4, 3),      # NaN neither improves nor uses up patience
])
def test_the_stop_epoch_and_the_best_epoch_on_scripted_metrics(metric, values, patience, stop_epoch, best_epoch):
    best = BestWeights(metric, patience, keep_best=True)
    stopped = None
    for epoch, value in enumerate(values, start=1):
        loss, accuracy = (value, 0.5) if metric == "val_loss" else (1.0, value)
        if best.observe(_linear_at(epoch), epoch, epoch * 10, loss, accuracy):
            stopped = epoch
            break
    assert stopped == stop_epoch and best.best.epoch == best_epoch
    model = _linear_at(-1.0)
    assert best.restore(model) and torch.equal(model.weight, torch.full((2, 2), float(best_epoch)))


def test_keep_last_and_no_early_stop_keep_nothing():
    assert not BestWeights("val_loss", 0, keep_best=False).observe(_linear_at(1), 1, 1, 1.0, 0.5)
    last = BestWeights("val_loss", 2, keep_best=False)
    last.observe(_linear_at(1), 1, 1, 1.0, 0.5)
    assert last.state is None and not last.restore(_linear_at(0)) and last.best.epoch == 1


@pytest.mark.parametrize("changes, problem", [
    ({"early_stop": -1}, "early_stop must be 0 (off) to 10000 epochs, not -1"),
    ({"early_stop_metric": "train_loss"}, "early_stop_metric must be one of val_loss, val_accuracy"),
    ({"keep": "first"}, "keep must be one of auto, best, last, not 'first'"),
])
def test_the_settings_are_refused_by_name(changes, problem):
    with pytest.raises(ConfigError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        TrainConfig(**changes)


class WeightsPerEpoch(Callback):
    def __init__(self):
        self.trainer, self.states = None, {}

    def on_epoch_end(self, event):
        self.states[event.epoch] = {k: v.clone() for k, v in self.trainer.model.state_dict().items()}


SCRIPT = [1.0, 0.7, 0.9, 0.6, 0.65, 0.7, 0.5, 0.4, 0.3, 0.2]  # best 0.6 at epoch 4, patience 2: stop at 6


def _scripted_run(monkeypatch, keep: str):
    """Real training; only the validation numbers are scripted (the evaluate the trainer calls, once per epoch)."""
    script = iter(SCRIPT)
    monkeypatch.setattr(distributed_module, "evaluate",
                        lambda *a, **k: Evaluation(next(script), 0.5, 32, np.zeros((3, 3), np.int64)))
    recorder = WeightsPerEpoch()
    config = TrainConfig(epochs=10, batch_size=32, early_stop=2, keep=keep, device="cpu", threads=1,
                         snapshot_interval=1e9)
    trainer = Trainer(tiny_arch(), tiny_dataset(), config, [recorder], log_interval=0.0)
    recorder.trainer = trainer
    finished = trainer.fit()
    return trainer, finished, recorder.states


def test_the_trainer_stops_at_the_right_epoch_and_keeps_the_best_epochs_tensors(monkeypatch):
    trainer, finished, states = _scripted_run(monkeypatch, "auto")
    assert finished.reason == "completed" and finished.epochs_completed == 6 and sorted(states) == list(range(1, 7))
    assert "stopped early: val_loss had not improved for 2 epochs" in finished.message
    assert "kept the weights of epoch 4" in finished.message
    kept = trainer.model.state_dict()
    assert all(torch.equal(kept[k], states[4][k]) for k in kept)
    assert not all(torch.equal(kept[k], states[6][k]) for k in kept)
    assert trainer.best.summary() == {"best_epoch": 4, "best_val_accuracy": 0.5, "best_val_loss": 0.6,
                                      "early_stopped": True, "kept_weights": "best"}


def test_keep_last_keeps_the_last_epochs_tensors(monkeypatch):
    trainer, finished, states = _scripted_run(monkeypatch, "last")
    kept = trainer.model.state_dict()
    assert finished.epochs_completed == 6 and all(torch.equal(kept[k], states[6][k]) for k in kept)
    assert trainer.best.summary()["kept_weights"] == "last" and trainer.best.summary()["best_epoch"] == 4


def _npz_with_test(path):
    images, labels = quadrant_images(160, 8, seed=3)
    np.savez_compressed(path, images=images[:120], labels=labels[:120], test_images=images[120:],
                        test_labels=labels[120:], class_names=np.array(CLASSES))
    return path


def test_the_cli_reports_best_and_test_and_the_kept_weights_scores(tmp_path, capsys):
    arch = tmp_path / "tiny.json"
    architecture_file.save(tiny_arch(), arch)
    data = _npz_with_test(tmp_path / "with-test.npz")
    out = tmp_path / "run"
    assert main(["train", str(arch), "--dataset", str(data), "--epochs", "6", "--batch-size", "16", "--lr", "0.05",
                 "--early-stop", "2", "--early-stop-metric", "val_accuracy", "--device", "cpu", "--threads", "1",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    history = MetricsHistory.from_csv((out / "metrics.csv").read_text())
    best = max(history.epochs, key=lambda e: (e.val_accuracy, -e.epoch))  # the first epoch at the maximum
    assert summary["best_epoch"] == best.epoch and summary["best_val_accuracy"] == best.val_accuracy
    assert summary["best_val_loss"] == pytest.approx(best.val_loss)
    assert summary["kept_weights"] == "best"
    assert summary["final_val_accuracy"] == best.val_accuracy  # the final numbers are of the weights kept
    assert summary["test_samples"] == 40 and 0 <= summary["test_accuracy"] <= 1
    assert f"test accuracy {summary['test_accuracy']:.2%} on 40 images" in printed
    finished = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()][-1]
    assert f"test accuracy {summary['test_accuracy']:.2%} on 40 test images" in finished["message"]  # the window's
    # the test score is the saved weights' own, by the evaluate command
    capsys.readouterr()
    assert main(["evaluate", str(out), "--split", "test", "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["accuracy"] == pytest.approx(summary["test_accuracy"])


def test_without_a_test_split_the_summary_says_so(tmp_path, capsys):
    from tests.engine.training_data import write_tiny_npz

    arch = tmp_path / "tiny.json"
    architecture_file.save(tiny_arch(), arch)
    out = tmp_path / "run"
    assert main(["train", str(arch), "--dataset", str(write_tiny_npz(tmp_path / "t.npz")), "--epochs", "1",
                 "--device", "cpu", "--threads", "1", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["test_accuracy"] is None and summary["test_samples"] == 0 and summary["kept_weights"] == "last"
    assert summary["best_epoch"] is None  # nothing watched the epochs: no early stopping, keep last
    assert "test accuracy" not in capsys.readouterr().out


def test_a_patience_of_one_says_one_epoch(monkeypatch):
    monkeypatch.setattr(distributed_module, "evaluate",
                        lambda *a, **k: Evaluation(1.0, 0.5, 32, np.zeros((3, 3), np.int64)))  # never improves
    config = TrainConfig(epochs=10, batch_size=32, early_stop=1, device="cpu", threads=1, snapshot_interval=1e9)
    finished = Trainer(tiny_arch(), tiny_dataset(), config, log_interval=0.0).fit()
    assert finished.epochs_completed == 2
    assert "had not improved for 1 epoch" in finished.message and "1 epochs" not in finished.message

