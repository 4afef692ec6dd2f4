"""The training loop: hook order, stop, pause/step/resume across threads, determinism, divergence, failures."""

from __future__ import annotations

import re
import threading
import time

import numpy as np
import pytest
import torch

from engine.config import TrainConfig
from engine.events import COMPLETED, DIVERGED, FAILED, STOPPED
from engine.training.trainer import Callback, Trainer, TrainingSetupError
from engine.training.control import TrainingControl
from tests.engine.training_data import linear_arch, tiny_arch, tiny_dataset

WAIT = 30  # seconds: generous bound for cross-thread waits on a loaded 2-core CI machine


class Recorder(Callback):
    """Records every hook as 'kind:step' (epoch ends as 'epoch:N'), plus the events themselves."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.events: list = []

    def on_batch_end(self, event):
        self.calls.append(f"batch:{event.step}")
        self.events.append(event)

    def on_epoch_end(self, event):
        self.calls.append(f"epoch:{event.epoch}")
        self.events.append(event)

    def on_snapshot(self, event):
        self.calls.append(f"snapshot:{event.step}")
        self.events.append(event)

    def on_train_end(self, event):
        self.calls.append(f"end:{event.reason}")
        self.events.append(event)


def make(config=None, callbacks=(), arch=None, dataset=None, **kwargs) -> Trainer:
    config = config or TrainConfig(epochs=2, batch_size=32, snapshot_interval=1e9, device="cpu", threads=1)
    kwargs.setdefault("log_interval", 0.0)  # a BatchEnded for every batch: the order is then exact
    return Trainer(arch or tiny_arch(), dataset or tiny_dataset(), config, list(callbacks), **kwargs)


def test_hooks_fire_in_order_for_two_epochs():
    rec = Recorder()
    finished = make(callbacks=[rec]).fit()
    assert finished.reason == COMPLETED and finished.epochs_completed == 2 and finished.step == 6
    assert rec.calls == ["snapshot:0", "batch:1", "batch:2", "batch:3", "epoch:1",
                         "batch:4", "batch:5", "batch:6", "epoch:2", "snapshot:6", "end:completed"]
    batch = rec.events[1]
    assert (batch.epoch, batch.batch, batch.batches_per_epoch) == (1, 1, 3)
    epoch = rec.events[4]
    assert 0 <= epoch.val_accuracy <= 1 and epoch.val_loss > 0 and epoch.train_loss > 0


def test_history_records_what_the_hooks_saw():
    rec = Recorder()
    trainer = make(callbacks=[rec])
    trainer.fit()
    batches = [e for e in rec.events if type(e).__name__ == "BatchEnded"]
    assert [row[0] for row in trainer.history.batches] == [e.step for e in batches]
    assert [row[2] for row in trainer.history.batches] == [e.loss for e in batches]
    assert len(trainer.history.epochs) == 2


def test_batch_loss_is_the_mean_over_the_logged_batches():
    """With a slow log cadence, BatchEnded carries the sample-weighted mean of the batches since the last one."""
    rec = Recorder()
    trainer = make(TrainConfig(epochs=1, batch_size=32, device="cpu", threads=1), [rec], log_interval=1e9)
    trainer.fit()
    batches = [e for e in rec.events if type(e).__name__ == "BatchEnded"]
    epoch = next(e for e in rec.events if type(e).__name__ == "EpochEnded")
    assert [b.step for b in batches] == [1, 3]  # the first batch, then the end of the epoch
    # batch 1 alone, then batches 2-3 together: their sample-weighted mean is the epoch's train loss
    assert (batches[0].loss * 32 + batches[1].loss * 64) / 96 == pytest.approx(epoch.train_loss)


def test_a_callback_can_stop_at_batch_1():
    class StopAtOne(Recorder):
        def on_batch_end(self, event):
            super().on_batch_end(event)
            trainer.control.stop()

    rec = StopAtOne()
    trainer = make(callbacks=[rec])
    finished = trainer.fit()
    assert finished.reason == STOPPED and finished.step == 1 and finished.epochs_completed == 0
    assert rec.calls == ["snapshot:0", "batch:1", "snapshot:1", "end:stopped"]
    assert "(0 epochs completed)" in finished.message


def test_a_stop_after_one_epoch_says_one_epoch_not_one_epochs():
    class StopInEpochTwo(Recorder):
        def on_batch_end(self, event):
            super().on_batch_end(event)
            if event.epoch == 2:
                trainer.control.stop()

    trainer = make(callbacks=[StopInEpochTwo()])
    finished = trainer.fit()
    assert finished.reason == STOPPED and finished.epochs_completed == 1
    assert "(1 epoch completed)" in finished.message


def test_a_stop_between_logged_batches_logs_the_step_it_stops_at():
    """Issue 15 item 8: the last BatchEnded names the step of the outcome (the progress line showed one before)."""
    class StopAtSnapshotTwo(Recorder):  # snapshots come after the log decision: step 2 is not logged otherwise
        def on_snapshot(self, event):
            super().on_snapshot(event)
            if event.step == 2:
                trainer.control.stop()

    rec = StopAtSnapshotTwo()
    config = TrainConfig(epochs=2, batch_size=16, snapshot_interval=0.0, device="cpu", threads=1)
    trainer = make(config, callbacks=[rec], log_interval=1e9)  # batches logged: step 1, epoch ends, pauses, stops
    finished = trainer.fit()
    assert finished.reason == STOPPED and finished.step == 2
    assert rec.calls == ["snapshot:0", "batch:1", "snapshot:1", "snapshot:2", "batch:2", "end:stopped"]
    assert [b.step for b in trainer.history.batches] == [1, 2]


def test_the_wait_of_a_run_started_paused_is_no_training_time():
    """Issue 15 item 8: Step from idle starts a paused run; samples/s (and so time left) must not count that wait."""
    control = TrainingControl()
    control.pause()
    held: list[float] = []

    def on_wait(pausing: bool) -> None:  # runs on the training thread, inside its wait: this is paused time
        if pausing and not held:
            started = time.perf_counter()
            threading.Event().wait(0.3)
            held.append(time.perf_counter() - started)
            control.step()
        elif pausing:
            control.resume()

    control.on_wait = on_wait
    rec = Recorder()
    config = TrainConfig(epochs=1, batch_size=16, snapshot_interval=1e9, device="cpu", threads=1)
    assert make(config, callbacks=[rec], control=control).fit().reason == COMPLETED
    first = next(e for e in rec.events if getattr(e, "step", None) == 1 and hasattr(e, "samples_per_second"))
    measured_over = 16 / first.samples_per_second  # seconds of the window its rate was taken over
    assert measured_over < held[0]


def test_pause_from_a_callback_then_step_and_resume_from_another_thread():
    class PauseAtTwo(Recorder):
        def on_batch_end(self, event):
            super().on_batch_end(event)
            if event.step == 2:
                trainer.control.pause()

    rec = PauseAtTwo()
    trainer = make(callbacks=[rec])
    result = {}
    worker = threading.Thread(target=lambda: result.setdefault("finished", trainer.fit()))
    worker.start()
    try:
        assert trainer.control.wait_until_blocked(WAIT)
        assert rec.calls[-2:] == ["batch:2", "snapshot:2"]  # pausing takes a snapshot so the views are current
        assert trainer.global_step == 2
        trainer.control.step()
        assert trainer.control.wait_until_blocked(WAIT)
        assert trainer.global_step == 3 and rec.calls[-2:] == ["batch:3", "snapshot:3"]
        trainer.control.step()
        assert trainer.control.wait_until_blocked(WAIT)
        # step 3 ended epoch 1; the single step ran batch 4 of epoch 2
        assert trainer.global_step == 4
        assert rec.calls[-3:] == ["epoch:1", "batch:4", "snapshot:4"]
        trainer.control.resume()
        worker.join(WAIT)
    finally:
        if worker.is_alive():  # never leave a paused thread behind if an assertion failed
            trainer.control.stop()
            worker.join(WAIT)
    assert not worker.is_alive()
    assert result["finished"].reason == COMPLETED and result["finished"].step == 6


def test_stop_wakes_a_paused_trainer():
    class PauseAtOne(Callback):
        def on_batch_end(self, event):
            trainer.control.pause()

    trainer = make(callbacks=[PauseAtOne()])
    result = {}
    worker = threading.Thread(target=lambda: result.setdefault("finished", trainer.fit()))
    worker.start()
    try:
        assert trainer.control.wait_until_blocked(WAIT)
        trainer.control.stop()
        worker.join(WAIT)
    finally:
        if worker.is_alive():
            trainer.control.stop()
            worker.join(WAIT)
    assert not worker.is_alive()
    assert result["finished"].reason == STOPPED and result["finished"].step == 1


def test_request_snapshot_and_set_probe_take_effect_at_the_next_boundary():
    class Probe(Recorder):
        def on_batch_end(self, event):
            super().on_batch_end(event)
            if event.step == 1:
                trainer.set_probe(5)
            if event.step == 4:
                trainer.control.request_snapshot()

    rec = Probe()
    trainer = make(callbacks=[rec])
    trainer.fit()
    snaps = [e for e in rec.events if type(e).__name__ == "SnapshotTaken"]
    assert [(s.step, s.probe_index) for s in snaps] == [(0, 0), (1, 5), (4, 5), (6, 5)]
    with pytest.raises(ValueError, match="outside the validation split"):
        trainer.set_probe(32)


def state(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_same_seed_gives_bitwise_equal_weights_and_another_seed_differs(optimizer):
    def train(seed):
        config = TrainConfig(epochs=2, batch_size=16, seed=seed, optimizer=optimizer, learning_rate=0.05,
                             device="cpu", threads=1)
        trainer = make(config, arch=tiny_arch(dropout=True))
        assert trainer.fit().reason == COMPLETED
        return state(trainer.model), trainer.history.epochs

    a, history_a = train(seed=3)
    b, history_b = train(seed=3)
    c, _ = train(seed=4)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert history_a == history_b
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_training_learns_the_tiny_task():
    config = TrainConfig(epochs=15, batch_size=16, learning_rate=0.01, device="cpu", threads=1)
    trainer = make(config)
    trainer.fit()
    assert trainer.history.epochs[-1][5] >= 0.9  # val accuracy; chance is 1/3


def test_huge_learning_rate_diverges_and_rolls_back_to_finite_weights():
    config = TrainConfig(epochs=5, batch_size=16, optimizer="sgd", learning_rate=10.0, momentum=0.9,
                         device="cpu", threads=1)
    rec = Recorder()
    trainer = make(config, [rec], arch=linear_arch(), log_interval=0.05)
    finished = trainer.fit()
    assert finished.reason == DIVERGED
    assert "learning rate 10" in finished.message and "try 1" in finished.message
    assert all(torch.isfinite(v).all() for v in trainer.model.state_dict().values())
    assert rec.calls[-1] == "end:diverged" and rec.calls[-2].startswith("snapshot:")


def test_an_infinite_input_diverges_and_the_weights_are_those_of_the_last_finite_step():
    dataset = tiny_dataset()
    dataset.train.images[40, 0, 3, 3] = float("inf")  # the batch holding sample 40 produces a NaN loss
    config = TrainConfig(epochs=2, batch_size=16, snapshot_interval=0.0, device="cpu", threads=1)
    rec = Recorder()
    trainer = make(config, [rec], dataset=dataset, rollback_interval=0.0)  # a rollback copy at every batch
    finished = trainer.fit()
    assert finished.reason == DIVERGED and "learning rate 0.001" in finished.message
    snaps = [e for e in rec.events if type(e).__name__ == "SnapshotTaken"]
    before, after = snaps[-2], snaps[-1]  # the last snapshot of a finite state, then the one after rollback
    assert after.step == before.step == finished.step
    conv = "layer 1 (conv2d)"
    np.testing.assert_array_equal(trainer.model[0].weight.detach().numpy(), before.weights[conv])
    np.testing.assert_array_equal(after.weights[conv], before.weights[conv])
    assert all(torch.isfinite(v).all() for v in trainer.model.state_dict().values())


def test_an_exception_in_a_callback_becomes_a_failed_result_not_a_raise():
    class Broken(Recorder):
        def on_batch_end(self, event):
            raise RuntimeError("view exploded")

    rec = Broken()
    finished = make(callbacks=[rec]).fit()
    assert finished.reason == FAILED and "view exploded" in finished.message
    assert rec.calls[-1] == "end:failed"


def test_a_trainer_runs_once():
    trainer = make(TrainConfig(epochs=1, batch_size=96, device="cpu", threads=1))
    trainer.fit()
    with pytest.raises(RuntimeError, match="runs once"):
        trainer.fit()


def test_incompatible_dataset_is_refused_before_training():
    with pytest.raises(TrainingSetupError, match="input is 1x28x28.*8x8"):
        make(arch=tiny_arch(size=28))
    with pytest.raises(TrainingSetupError, match="outputs 5 scores but tiny has 3 classes"):
        make(arch=tiny_arch(classes=5))


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_asking_for_cuda_without_it_is_a_clear_setup_error():
    with pytest.raises(TrainingSetupError, match="'cuda' is not available"):
        make(TrainConfig(device="cuda"))


def test_fit_restores_the_thread_count_and_does_not_move_the_global_seed():
    threads = torch.get_num_threads()
    torch.manual_seed(123)
    first, second = torch.rand(3), torch.rand(3)
    torch.manual_seed(123)
    assert torch.equal(torch.rand(3), first)
    trainer = make(TrainConfig(epochs=1, batch_size=96, device="cpu", threads=1), arch=tiny_arch(dropout=True))
    trainer.fit()
    assert torch.equal(torch.rand(3), second)  # building and training used their own seeded RNG state
    assert torch.get_num_threads() == threads


def test_the_rollback_copy_has_its_own_schedule_independent_of_snapshots():
    dataset = tiny_dataset()
    dataset.train.images[40, 0, 3, 3] = float("inf")
    config = TrainConfig(epochs=2, batch_size=16, snapshot_interval=1e9, device="cpu", threads=1)  # no mid-run snaps
    rec = Recorder()
    finished = make(config, [rec], dataset=dataset, rollback_interval=0.0).fit()
    diverged_at = int(re.search(r"at step (\d+)", finished.message).group(1))
    assert finished.reason == DIVERGED and diverged_at > 1
    assert finished.step == diverged_at - 1 and f"rolled back to step {diverged_at - 1}," in finished.message
    assert [e.step for e in rec.events if type(e).__name__ == "SnapshotTaken"] == [0, diverged_at - 1]
