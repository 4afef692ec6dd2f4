"""The training panel on its own: settings round trip, dataset loading off the GUI thread, errors, Train gating."""

from __future__ import annotations

import pytest

from engine.config import TrainConfig
from gui.training.dataset_loader import DatasetLoader
from gui.training.run_status import format_duration
from gui.training.training_panel import TrainingPanel
from gui.training.training_session import TrainingSession

WAIT_MS = 30_000


@pytest.fixture
def panel(qtbot):
    session, loader = TrainingSession(), DatasetLoader()
    widget = TrainingPanel(session, loader)
    qtbot.addWidget(widget)
    widget.setMinimumSize(100, 100)
    widget.show()
    qtbot.waitExposed(widget)
    try:
        yield widget
    finally:
        assert loader.shutdown() and session.shutdown()


def loaded(qtbot, panel, source: str = "mnist"):
    with qtbot.waitSignal(panel.dataset_changed, timeout=WAIT_MS) as signal:
        panel.select_dataset(source)
    return signal.args[0]


def failed(qtbot, panel, source: str) -> str:
    with qtbot.waitSignal(panel._loader.failed, timeout=WAIT_MS) as signal:
        panel.select_dataset(source)
    return signal.args[0]


def test_config_round_trips_through_the_form(panel):
    config = TrainConfig(dataset="fashion-mnist", optimizer="sgd", learning_rate=0.05, momentum=0.8, batch_size=32,
                         epochs=3, seed=7, weight_decay=1e-4, device="cpu", val_fraction=0.1, snapshot_interval=1.0)
    panel.set_config(config)
    assert panel.config() == config
    assert panel.form.dataset_combo.currentText() == "Fashion-MNIST (bundled)"


def test_momentum_is_shown_for_sgd_only(panel):
    panel.set_config(TrainConfig(optimizer="adam"))
    assert not panel.form.field("momentum").isVisible()
    panel.form.field("optimizer").setCurrentIndex(panel.form.field("optimizer").findData("sgd"))
    assert panel.form.field("momentum").isVisible()
    assert panel.config().optimizer == "sgd"


def test_loading_shows_a_busy_indicator_then_what_was_loaded(qtbot, panel):
    panel.select_dataset("mnist")
    assert panel.form.busy_bar.isVisible() and "Loading MNIST" in panel.form.dataset_label.text()
    assert not panel.dataset_ready
    qtbot.waitUntil(lambda: panel.dataset_ready, timeout=WAIT_MS)
    assert not panel.form.busy_bar.isVisible()
    assert panel.form.dataset_label.text().startswith("8,000 train \u00b7 2,000 validation \u00b7 10 classes")
    assert panel.train_button.isEnabled() and panel.step_button.isEnabled()
    assert not panel.pause_button.isEnabled() and not panel.stop_button.isEnabled()


def test_a_missing_path_is_shown_in_the_panel_and_blocks_training(qtbot, panel, tmp_path):
    message = failed(qtbot, panel, str(tmp_path / "nowhere"))
    assert "nowhere" in message and "no such file or folder" in message
    error = panel.form.dataset_error
    assert error.isVisible() and error.text().startswith("Cannot load this dataset:") and "nowhere" in error.text()
    assert "Traceback" not in error.text()
    assert not panel.train_button.isEnabled() and "could not be loaded" in panel.train_button.toolTip()
    loaded(qtbot, panel, "mnist")  # picking a good set clears the error
    assert not error.isVisible() and panel.train_button.isEnabled()


def test_a_damaged_file_from_open_file_is_reported(qtbot, panel, tmp_path):
    bad = tmp_path / "digits.npz"
    bad.write_bytes(b"not a zip archive")
    panel.form.ask_dataset_file = lambda: str(bad)
    with qtbot.waitSignal(panel._loader.failed, timeout=WAIT_MS):
        panel.form.open_file_button.click()
    assert panel.form.dataset_combo.currentText() == "digits.npz"
    assert "digits.npz" in panel.form.dataset_error.text()


def test_a_seed_change_reloads_the_split(qtbot, panel):
    first = loaded(qtbot, panel)
    with qtbot.waitSignal(panel.dataset_changed, timeout=WAIT_MS) as signal:
        panel.form.field("seed").setValue(5)
    second = signal.args[0]
    assert second is not first and panel.dataset_ready
    assert not (second.val.labels[:50] == first.val.labels[:50]).all()  # another validation split


def test_train_waits_for_the_dataset_then_asks_to_start(qtbot, panel):
    with qtbot.waitSignal(panel.train_requested, timeout=WAIT_MS) as signal:
        panel.step_button.click()  # idle: Step asks for a paused start
        assert panel.outcome()[0] == "running" and "Loading the dataset" in panel.outcome()[1]
        assert panel.stop_button.isEnabled()  # cancels the pending start
    assert signal.args == [True] and panel.dataset_ready


def test_a_blocked_reason_disables_train_and_is_shown(qtbot, panel):
    loaded(qtbot, panel)
    panel.set_blocked("the network outputs 84 scores but mnist has 10 classes")
    assert not panel.train_button.isEnabled() and not panel.step_button.isEnabled()
    assert panel.blocked_label.isVisible() and "84 scores" in panel.blocked_label.text()
    with qtbot.assertNotEmitted(panel.train_requested):
        panel.request_train()
    panel.set_blocked(None)
    assert panel.train_button.isEnabled() and not panel.blocked_label.isVisible()


def test_the_learning_rate_shows_short_numbers_and_steps_in_decades_thirds(panel):
    spin = panel.form.field("learning_rate")
    spin.setValue(0.001)
    assert spin.text() == "0.001"
    spin.stepBy(1)
    assert spin.value() == pytest.approx(0.002)
    spin.stepBy(2)
    assert spin.value() == pytest.approx(0.01)
    spin.stepBy(-4)
    assert spin.value() == pytest.approx(0.0005)
    assert spin.valueFromText("3e-05") == pytest.approx(3e-5)


def test_format_duration():
    assert [format_duration(s) for s in (0, 9.6, 75, 3600 + 62)] == ["0:00", "0:10", "1:15", "1:01:02"]


def test_the_run_controls_stay_in_view_below_the_scrolling_settings(panel):
    from PySide6.QtWidgets import QScrollArea
    scroll = panel.findChild(QScrollArea)
    assert scroll.widget().isAncestorOf(panel.form)
    for widget in (panel.train_button, panel.pause_button, panel.step_button, panel.stop_button,
                   panel.progress_bar, panel.progress_label, panel.outcome_label):
        assert panel.controls.isAncestorOf(widget) and not scroll.isAncestorOf(widget)


def test_the_settings_fit_the_docks_default_width_without_clipping(qtbot, panel):
    # The dock opens 340 px wide; the form lives in it with 14 px margins each side and a vertical scroll bar.
    # Long combo titles and check boxes once made it 390 px wide, clipped on the right ("Default for th"), and
    # the augmentation preview (shown once a dataset is loaded) 340.
    fits = 340 - 2 * 14 - 16
    assert panel.form.minimumSizeHint().width() <= fits
    loaded(qtbot, panel)
    assert panel.form.augment_preview.isVisibleTo(panel) and panel.form.minimumSizeHint().width() <= fits
