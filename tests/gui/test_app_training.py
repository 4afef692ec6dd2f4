"""Training in the main window: a real run through the bridge into the panel and the live views; control, locking,
divergence, and stopping when the window closes or the network is replaced."""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np
import pytest
import torch

from engine.network.builder import build_model
from engine.events import COMPLETED, DIVERGED, STOPPED
from engine.metrics import MetricsHistory
from engine.inspection.mosaic import tile_kernels
from engine.network.probes import capture_snapshot, probe_layout
from gui.document.document_io import DISCARD
from gui.builder.edit_lock import LOCKED_TEXT
from gui.training.training_controller import STOPPED_BY_CHANGE
from models.layers import LinearSpec
from models.presets import load_preset
from models.shapes import analyze

WAIT_MS = 120_000  # a training child may start cold (a torch import) on a busy machine
LENET = load_preset("lenet5")
LABELS = [la.label for la in analyze(LENET).layers]
CONV = [la.label for la in analyze(LENET).layers if la.type == "conv2d"]


@pytest.fixture
def trainer_window(qtbot, window):
    """The builder's window (LeNet-5, closed by its fixture) with the bundled MNIST loaded and a small config."""
    panel = window.training_panel
    with qtbot.waitSignal(panel.dataset_changed, timeout=WAIT_MS):
        panel.select_dataset("mnist")
    panel.set_config(panel.config().replace(epochs=1, batch_size=256, snapshot_interval=0.0))
    window.document.ask_unsaved_changes = lambda: DISCARD
    return window


def run_to_end(qtbot, window, **changes):
    panel = window.training_panel
    if changes:
        panel.set_config(panel.config().replace(**changes))
    with qtbot.waitSignal(window.session.finished, timeout=WAIT_MS) as finished:
        window.train_action.trigger()
    return finished.args[0]


def start_and_wait_for_a_batch(qtbot, window, **changes):
    panel = window.training_panel
    panel.set_config(panel.config().replace(**changes))
    with qtbot.waitSignal(window.session.batch_ended, timeout=WAIT_MS):
        panel.train_button.click()


def test_a_run_fills_every_view_and_keeps_the_final_state(qtbot, trainer_window):
    window, live = trainer_window, trainer_window.live_views
    batches, epochs = [], []
    window.session.batch_ended.connect(batches.append)
    window.session.epoch_ended.connect(epochs.append)
    result = run_to_end(qtbot, window)
    assert result.reason == COMPLETED
    assert window.tabs.currentWidget() is live and window.training_dock.isVisible()
    live.flush()

    state = window.workspace.trained.state
    assert state["0.weight"].shape == (6, 1, 5, 5)
    assert live.filters.layer_names() == CONV
    np.testing.assert_allclose(live.filters.image_for(CONV[0]), tile_kernels(state["0.weight"].numpy()), atol=1e-6)
    assert live.activations.layer_names() == LABELS
    assert live.activations.panel_for(CONV[0]).image_item.image is not None
    steps, losses = live.curves.train_curve()
    assert len(steps) == len(batches) > 1 and steps[-1] == 32 and np.isfinite(losses).all()
    np.testing.assert_array_equal(live.curves.val_curve()[1], [epochs[0].val_loss])
    assert live.probabilities.values().sum() == pytest.approx(1.0, abs=1e-5)

    history = window.workspace.history
    assert len(history.epochs) == 1 and len(history.batches) == len(batches)
    state_text = window.training_panel.outcome()
    assert state_text[0] == "completed" and "Completed 1 epoch" in state_text[1]
    assert window.training_panel.progress_bar.value() == window.training_panel.progress_bar.maximum()
    assert window.canvas.isEnabled() and window.train_action.isEnabled()


def test_step_when_idle_runs_one_batch_and_pauses_then_resume_finishes(qtbot, trainer_window):
    window, panel = trainer_window, trainer_window.training_panel
    steps = []
    window.session.batch_ended.connect(lambda e: steps.append(e.step))
    with qtbot.waitSignal(window.session.batch_ended, timeout=WAIT_MS):
        panel.step_button.click()
    qtbot.waitUntil(lambda: window.session.is_waiting, timeout=WAIT_MS)  # waiting at the boundary
    assert steps == [1] and window.session.is_paused and panel.pause_button.text() == "Resume"
    with qtbot.waitSignal(window.session.batch_ended, timeout=WAIT_MS):
        panel.step_button.click()
    qtbot.waitUntil(lambda: window.session.is_waiting, timeout=WAIT_MS)
    assert steps == [1, 2]
    qtbot.waitUntil(lambda: panel.progress_label.text().startswith("Paused"), timeout=WAIT_MS)
    with qtbot.waitSignal(window.session.finished, timeout=WAIT_MS) as finished:
        panel.pause_button.click()
    assert finished.args[0].reason == COMPLETED and steps[-1] == 32


def test_pause_and_resume(qtbot, trainer_window):
    window, panel = trainer_window, trainer_window.training_panel
    start_and_wait_for_a_batch(qtbot, window)
    with qtbot.waitSignal(window.session.paused_changed) as paused:
        panel.pause_button.click()
    assert paused.args == [True] and panel.pause_button.text() == "Resume"
    qtbot.waitUntil(lambda: window.session.is_waiting, timeout=WAIT_MS)
    with qtbot.waitSignal(window.session.finished, timeout=WAIT_MS) as finished:
        panel.pause_button.click()
    assert finished.args[0].reason == COMPLETED


def test_editing_is_locked_while_training_and_unlocked_after(qtbot, trainer_window):
    window, panel = trainer_window, trainer_window.training_panel
    window.network.select(0)
    start_and_wait_for_a_batch(qtbot, window, epochs=50)
    for widget in (window.canvas, window.inspector, window.palette, panel.form):
        assert not widget.isEnabled()
    assert window.training.lock.banner.isVisibleTo(window.canvas) and window.training.lock.banner.text() == LOCKED_TEXT
    actions = window.window_actions
    assert not any(a.isEnabled() for a in (actions.undo, actions.delete, actions.duplicate, window.train_action))
    with qtbot.waitSignal(window.session.finished, timeout=WAIT_MS) as finished:
        panel.stop_button.click()
    assert finished.args[0].reason == STOPPED
    assert panel.outcome()[0] == "stopped" and "Stopped at epoch 1" in panel.outcome()[1]
    assert window.canvas.isEnabled() and panel.form.isEnabled() and actions.delete.isEnabled()
    assert not window.training.lock.banner.isVisibleTo(window.canvas)
    assert window.live_views.filters.layer_names() == CONV  # the views keep the stopped run's state


def test_a_diverging_run_shows_its_message(qtbot, trainer_window):
    result = run_to_end(qtbot, trainer_window, optimizer="sgd", learning_rate=10.0, momentum=0.99)
    assert result.reason == DIVERGED
    state, text = trainer_window.training_panel.outcome()
    assert state == "diverged" and "learning rate 10 is probably too high" in text
    assert trainer_window.training_panel.outcome_label.isVisible()
    assert all(torch.isfinite(t).all() for t in trainer_window.workspace.trained.state.values())


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_closing_the_window_during_training_asks_then_ends_the_child_and_offers_to_save(qtbot, trainer_window):
    """Quitting mid-run once stopped the run and dropped its weights without a word (issue 28 item 8)."""
    window, asked = trainer_window, []
    start_and_wait_for_a_batch(qtbot, window, epochs=50)
    pid = window.session.child_pid
    assert pid and process_exists(pid) and not window.isWindowModified()
    window.ask_stop_run_to_quit = lambda: asked.append("stop") or False  # Cancel: nothing happens
    assert not window.close()
    assert asked == ["stop"] and window.session.is_running and process_exists(pid)
    window.ask_stop_run_to_quit = lambda: asked.append("stop") or True
    window.document.ask_unsaved_changes = lambda: asked.append("save?") or DISCARD
    assert window.close()
    assert asked == ["stop", "stop", "save?"]  # the stopped run's weights were the document's unsaved change
    assert not window.session.is_running and not process_exists(pid)  # ended and reaped: no orphan


def test_loading_a_preset_during_a_run_stops_it(qtbot, trainer_window):
    window = trainer_window
    start_and_wait_for_a_batch(qtbot, window, epochs=50)
    with qtbot.waitSignal(window.session.finished, timeout=WAIT_MS) as finished:
        window.load_preset("keras_mnist")
    assert finished.args[0].reason == STOPPED and not window.session.is_running
    assert window.network.layers == load_preset("keras_mnist").layers
    assert window.canvas.isEnabled()
    state, text = window.training_panel.outcome()
    assert state == "stopped" and text.startswith(STOPPED_BY_CHANGE) and "Stopped at epoch 1" in text


def test_an_output_that_does_not_match_the_classes_blocks_training(trainer_window):
    window, panel = trainer_window, trainer_window.training_panel
    last = len(window.network) - 1
    window.editor.replace(last, LinearSpec(out_features=7))
    assert not window.train_action.isEnabled() and not panel.train_button.isEnabled()
    assert "outputs 7 scores but mnist has 10 classes" in panel.blocked_label.text()
    assert "out_features to 10" in window.train_action.toolTip()
    window.undo_stack.undo()
    assert window.train_action.isEnabled() and panel.train_button.isEnabled()


def test_the_train_action_has_one_writer_so_it_never_flickers_on(trainer_window):
    """Two writers (validity alone, and validity + dataset) were right only in one connection order; with one
    owner, an edit from an invalid to a valid network that still does not fit the dataset never turns Train on."""
    window = trainer_window
    window.editor.replace(len(window.network) - 1, LinearSpec(out_features=7))  # valid, but 7 != 10 classes
    window.editor.replace(0, replace(window.network.layers[0], kernel_size=29))  # invalid as well: 29x29 on 28x28
    assert not window.train_action.isEnabled()
    seen = []
    window.train_action.enabledChanged.connect(seen.append)
    window.undo_stack.undo()  # valid again, still the wrong number of classes
    assert window.network.analysis.is_valid and not window.train_action.isEnabled()
    assert seen == [] and "out_features to 10" in window.train_action.toolTip()
    window.undo_stack.undo()
    assert seen == [True] and window.train_action.isEnabled()


def test_a_dataset_that_cannot_load_is_shown_in_the_panel_and_turns_train_off(qtbot, trainer_window, tmp_path):
    window, panel = trainer_window, trainer_window.training_panel
    with qtbot.waitSignal(window.dataset_loader.failed, timeout=WAIT_MS):
        panel.select_dataset(str(tmp_path / "missing"))
    assert panel.form.dataset_error.isVisible() and "missing: no such file or folder" in panel.form.dataset_error.text()
    assert not window.train_action.isEnabled() and "could not be loaded" in window.train_action.toolTip()
    with qtbot.waitSignal(panel.dataset_changed, timeout=WAIT_MS):
        panel.select_dataset("mnist")
    assert window.train_action.isEnabled()


def test_probe_picks_reach_the_run_and_the_trained_model_when_idle(qtbot, trainer_window):
    window, live = trainer_window, trainer_window.live_views
    start_and_wait_for_a_batch(qtbot, window, epochs=50)
    with qtbot.waitSignal(window.session.snapshot_taken, timeout=WAIT_MS,
                          check_params_cb=lambda event: event.probe_index == 9):
        window.workspace.probe_index = 9
    with qtbot.waitSignal(window.session.finished, timeout=WAIT_MS):
        window.training_panel.stop_button.click()
    before = live.activations.value_at(CONV[0], 0, 10, 10)
    with qtbot.waitSignal(window.training.idle_views_shown, timeout=WAIT_MS):  # idle: the trained model answers
        window.workspace.probe_index = 3                                      # (on a job thread)
    dataset = window.training_panel.dataset
    assert live.probabilities.true_label() == int(dataset.val.labels[3])
    model = build_model(LENET)
    model.load_state_dict(window.workspace.trained.state)
    with torch.no_grad():
        expected = model[0](dataset.val.images[3:4])[0, 0, 10, 10].item()
    assert live.activations.value_at(CONV[0], 0, 10, 10) == pytest.approx(expected, abs=1e-5) != before


def test_idle_the_training_tab_shows_the_initial_weights_the_run_will_start_from(qtbot, trainer_window):
    window, live = trainer_window, trainer_window.live_views
    window.tabs.setCurrentWidget(live)
    qtbot.waitUntil(lambda: live.activations.layer_names() == LABELS, timeout=WAIT_MS)
    torch.manual_seed(window.training_panel.config().seed)  # as the Trainer seeds its model
    model = build_model(LENET)
    expected = capture_snapshot(model, probe_layout(model, analyze(LENET)), window.training_panel.dataset.val.images[0],
                                step=0, epoch=0, probe_index=0)
    live.flush()
    np.testing.assert_allclose(live.filters.image_for(CONV[0]), tile_kernels(expected.weights[CONV[0]]))
    np.testing.assert_allclose(live.probabilities.values(), expected.probabilities, atol=1e-6)
    assert live.caption.text().startswith("Before training")
    assert not window.summary_dock.isVisible()  # the Training tab takes the summary's height
    window.tabs.setCurrentWidget(window.evaluation)
    assert not window.summary_dock.isVisible()  # so does every other tab, also coming from Training
    window.tabs.setCurrentIndex(0)
    assert window.summary_dock.isVisible()


def test_restore_shows_saved_curves_and_filters(qtbot, trainer_window):
    window, live = trainer_window, trainer_window.live_views
    torch.manual_seed(3)
    weights = build_model(window.network.architecture).state_dict()
    history = MetricsHistory(batches=[(1, 1, 2.3, 0.1), (2, 1, 2.0, 0.3)], epochs=[(1, 2, 2.2, 0.2, 2.1, 0.25)])
    with qtbot.waitSignal(window.training.idle_views_shown, timeout=WAIT_MS):  # the model runs on a job thread
        window.training.restore(history, weights)
    live.flush()
    np.testing.assert_array_equal(live.curves.train_curve()[1], [2.3, 2.0])
    np.testing.assert_allclose(live.filters.image_for(CONV[0]), tile_kernels(weights["0.weight"].numpy()))
    assert live.activations.layer_names() == LABELS  # the loaded dataset gives the probe's activations
    assert window.workspace.history is history and window.workspace.trained.state["0.weight"].shape == (6, 1, 5, 5)
    # The panel and the views say what they hold, not "Not trained yet." or a snapshot step of no run.
    assert window.training_panel.progress_label.text() == "Trained weights loaded: 2 steps, 1 epoch"
    assert live.caption.text().startswith("Trained weights loaded: 2 steps, 1 epoch")
    window.training.restore(MetricsHistory(), None)
    assert window.training_panel.progress_label.text() == "Not trained yet."
    with pytest.raises(ValueError, match="do not fit"):
        window.training.restore(history, {"0.weight": torch.zeros(1)})


def test_train_again_asks_and_continues_from_the_trained_weights(qtbot, trainer_window):
    from gui.training.weights_prompts import CANCEL, CONTINUE, FRESH
    window = trainer_window
    window.session.batch_ended.connect(lambda _event: window.session.stop())  # one batch per run is enough
    run_to_end(qtbot, window)
    trained = {k: v.clone() for k, v in window.workspace.trained.state.items()}
    asked = []

    def answer(reply):
        def ask():
            asked.append(reply)
            return reply
        return ask

    window.training.ask_continue_training = answer(CANCEL)
    window.train_action.trigger()
    assert asked == [CANCEL] and not window.session.is_running  # cancelled: nothing started, nothing lost
    assert all(torch.equal(trained[k], v) for k, v in window.workspace.trained.state.items())

    starts = []
    original_start = window.session.start
    window.session.start = lambda *a, **kw: (starts.append(kw.get("initial_weights")), original_start(*a, **kw))
    window.training.ask_continue_training = answer(CONTINUE)
    run_to_end(qtbot, window)
    assert starts[-1] is not None and all(torch.equal(trained[k], starts[-1][k]) for k in trained)
    window.training.ask_continue_training = answer(FRESH)
    run_to_end(qtbot, window)
    assert starts[-1] is None and asked == [CANCEL, CONTINUE, FRESH]


def test_a_reopened_project_continues_with_the_statistics_it_was_trained_with(qtbot, trainer_window):
    from engine.normalization import Normalization
    from gui.training.weights_prompts import CONTINUE
    window = trainer_window
    dataset = window.training_panel.dataset
    weights = {k: v.detach().clone() for k, v in build_model(LENET).state_dict().items()}
    stored = Normalization((0.5,), (0.25,))  # not MNIST's own: the continued run must use these
    window.document.state.restore(MetricsHistory(), weights, stored)
    window.training.ask_continue_training = lambda: CONTINUE
    seen = []
    original_start = window.session.start
    window.session.start = lambda arch, data, *a, **kw: (seen.append(data), original_start(arch, data, *a, **kw))
    window.session.batch_ended.connect(lambda _event: window.session.stop())
    run_to_end(qtbot, window)
    continued = seen[-1]
    assert continued.normalization == stored
    pixels = dataset.normalization.undo(dataset.val.images[:4])
    torch.testing.assert_close(continued.val.images[:4], stored.apply(pixels))
    assert window.document.state.normalization() == stored  # and the new weights keep them
