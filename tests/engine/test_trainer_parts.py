"""The trainer's parts on their own: device and thread choice, run control, compatibility, evaluation, bar."""

from __future__ import annotations

import io
import threading

import numpy as np
import pytest
import torch

from engine.network.builder import build_model
from engine.cli.progress_bar import ProgressBar
from engine.network.compatibility import check_compatibility
from engine.training.device import DeviceError, choose_threads, select_device
from engine.scoring.evaluation import evaluate
from engine.training.rollback import FiniteCheckpoint
from engine.training.control import TrainingControl
from models.architecture import Architecture, InputShape
from models.layers import Conv2dSpec, LinearSpec
from tests.engine.training_data import random_dataset, tiny_arch, tiny_dataset


@pytest.mark.parametrize("cores, expected", [(1, 1), (2, 1), (3, 2), (4, 3), (16, 4)])
def test_automatic_thread_count_leaves_a_core_free(cores, expected):
    # 2 threads on 2 cores collapsed to 0.28 of their speed beside one busy core (bench/results/threads.txt).
    assert choose_threads(0, cores=cores) == expected


def test_an_explicit_thread_count_wins():
    assert choose_threads(3, cores=2) == 3


def test_device_selection():
    assert select_device("cpu") == torch.device("cpu")
    assert select_device("auto").type in ("cuda", "mps", "cpu")
    with pytest.raises(DeviceError, match="unknown device 'tpu'"):
        select_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="'cuda' is not available.*available here: .*cpu"):
            select_device("cuda")


def test_pause_blocks_until_step_allows_one_boundary_and_stop_releases():
    control = TrainingControl()
    assert control.wait_at_boundary()  # running: passes straight through
    control.pause()
    passed = []

    def boundary():
        passed.append(control.wait_at_boundary())
        passed.append(control.wait_at_boundary())

    worker = threading.Thread(target=boundary)
    worker.start()
    try:
        assert control.wait_until_blocked(10)
        assert passed == []
        control.step()
        assert control.wait_until_blocked(10)
        assert passed == [True]  # exactly one boundary went by, then it blocked again
        control.stop()
        worker.join(10)
    finally:
        control.stop()
        worker.join(10)
    assert passed == [True, False]


def test_step_while_running_pauses_after_one_batch():
    control = TrainingControl()
    control.step()
    assert control.wait_at_boundary()  # the allowed batch
    assert control.pause_pending


def test_snapshot_requests_are_taken_once_and_set_probe_requests_one():
    control = TrainingControl()
    assert not control.take_snapshot_request()
    control.request_snapshot()
    assert control.take_snapshot_request() and not control.take_snapshot_request()
    control.set_probe(4)
    assert control.probe_index == 4 and control.take_snapshot_request()


def test_compatibility_is_empty_when_the_network_fits():
    assert check_compatibility(tiny_arch(), tiny_dataset()) == []


def test_compatibility_names_the_input_and_the_output_layer():
    dataset = random_dataset((3, 8, 8), num_classes=10)
    problems = check_compatibility(tiny_arch(classes=4), dataset)
    assert problems == [
        "the network's input is 1x8x8 (channels x height x width) but noise has 3x8x8 images; set the input to 3x8x8",
        "the network outputs 4 scores but noise has 10 classes; set layer 5 (linear)'s out_features to 10"]


def test_compatibility_reports_a_non_vector_output_and_shape_errors():
    dataset = tiny_dataset()
    conv_only = Architecture("c", InputShape(1, 8, 8), (Conv2dSpec(out_channels=3),))
    assert "not a vector of class scores" in check_compatibility(conv_only, dataset)[0]
    no_flatten = Architecture("l", InputShape(1, 8, 8), (LinearSpec(out_features=3),))
    assert check_compatibility(no_flatten, dataset)[0].startswith("layer 1 (linear): receives a 1x8x8 input")


def test_evaluate_matches_a_hand_computed_confusion_matrix_and_loss():
    dataset = tiny_dataset()
    model = build_model(tiny_arch())
    result = evaluate(model, dataset.val.images, dataset.val.labels, 3, batch_size=5)
    assert model.training  # evaluate restores the mode
    model.eval()
    with torch.no_grad():
        logits = model(dataset.val.images)
    predicted, truth = logits.argmax(1).numpy(), dataset.val.labels.numpy()
    expected = np.zeros((3, 3), np.int64)
    for t, p in zip(truth, predicted):
        expected[t, p] += 1
    np.testing.assert_array_equal(result.confusion, expected)
    assert result.samples == 32 and result.accuracy == pytest.approx((predicted == truth).mean())
    assert result.loss == pytest.approx(torch.nn.functional.cross_entropy(logits, dataset.val.labels).item(),
                                        rel=1e-5)


def test_finite_checkpoint_refuses_non_finite_states_and_restores():
    model = build_model(tiny_arch())
    checkpoint = FiniteCheckpoint()
    assert checkpoint.save(model, 3)
    saved = model[0].weight.detach().clone()
    with torch.no_grad():
        model[0].weight[0, 0, 0, 0] = float("nan")
    assert not checkpoint.save(model, 4) and checkpoint.step == 3
    checkpoint.restore(model)
    assert torch.equal(model[0].weight, saved)


def test_progress_bar_in_a_log_prints_whole_lines_throttled():
    stream = io.StringIO()
    bar = ProgressBar(stream, width=10, log_interval=3600)
    bar.update(1, 4, "first")
    bar.update(2, 4, "throttled away")
    bar.finish(4, 4, "done")
    assert stream.getvalue() == "[##--------]  25% first\n[##########] 100% done\n"


def test_progress_bar_on_a_terminal_redraws_in_place():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    stream = Tty()
    bar = ProgressBar(stream, width=4, interval=0)
    bar.update(1, 2, "long text here")
    bar.update(2, 2, "x")
    bar.clear()
    first, second = "[##--]  50% long text here", "[####] 100% x"
    assert stream.getvalue() == "\r" + first + "\r" + second + " " * (len(first) - len(second)) + "\n"


def test_history_rows_are_read_by_name_whatever_order_their_columns_have():
    from engine.events import BatchEnded, EpochEnded
    from engine.metrics import MetricsHistory

    history = MetricsHistory(batches=[(1, 1, 2.5, 0.25)])  # plain tuples become rows
    history.record_batch(BatchEnded(epoch=1, step=2, batch=2, batches_per_epoch=2, loss=2.0, accuracy=0.5,
                                    samples_per_second=10.0))
    history.record_epoch(EpochEnded(epoch=1, step=2, train_loss=2.2, train_accuracy=0.4, val_loss=2.1,
                                    val_accuracy=0.45))
    assert [(b.step, b.epoch, b.loss) for b in history.batches] == [(1, 1, 2.5), (2, 1, 2.0)]
    (epoch,) = history.epochs
    assert (epoch.epoch, epoch.step, epoch.val_accuracy) == (1, 2, 0.45)
    back = MetricsHistory.from_csv(history.to_csv())
    assert back == history and back.epochs[0].val_loss == 2.1 and back.batches[1].accuracy == 0.5
