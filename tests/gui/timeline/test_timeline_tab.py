"""The Timeline tab scrubs a run folder: an early step shows that step's stored filters; a live folder extends it."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PySide6.QtWidgets import QLabel

from engine.config import TrainConfig
from engine.events import SnapshotTaken
from engine.run_folder import RunFolderWriter
from engine.run_folder.layout import FORMAT, VERSION
from engine.run_folder.timeline import load_timeline_weights, timeline
from engine.training.trainer import Trainer
from gui.timeline.timeline_tab import TimelineTab
from tests.engine.training_data import tiny_arch, tiny_dataset
from tests.gui.timeline.timeline_host import shown_tab


def write_run(folder, epochs: int = 2):
    config = TrainConfig(epochs=epochs, batch_size=16, learning_rate=0.01, snapshot_interval=0.0, device="cpu",
                         threads=1)
    trainer = Trainer(tiny_arch(), tiny_dataset(), config)
    writer = RunFolderWriter(folder, trainer.model, tiny_arch(), config)
    writer.start()
    trainer.callbacks.append(writer)
    trainer.fit()
    return writer


def open_folder(qtbot, tab: TimelineTab, folder, architecture=None) -> None:
    """Open `folder` in the tab and wait until its views have caught up (the read runs on a TaskRunner)."""
    with qtbot.waitSignal(tab.updated, timeout=20_000):
        tab.set_run(folder, architecture)


def test_scrubbing_to_an_early_step_shows_its_stored_filters_and_distribution(qtbot, tmp_path):
    write_run(tmp_path).close()
    tab = shown_tab(qtbot)
    open_folder(qtbot, tab, tmp_path)  # the architecture comes from the log
    entries = timeline(tmp_path)
    assert tab.entries == entries and tab.slider.maximum() == len(entries) - 1
    assert tab.shown_entry() == entries[-1]  # the live end
    with qtbot.waitSignal(tab.step_changed) as blocker:
        tab.slider.setValue(1)
    assert blocker.args == [entries[1].step] and "step" in tab.status.text()
    stored = load_timeline_weights(tmp_path, entries[1])["0.weight"].numpy()
    np.testing.assert_array_equal(tab.shown_filters("layer 1 (conv2d)"), stored)
    tab.tensor.setCurrentIndex(tab.tensor.findData("0.weight"))
    dist = tab._distributions["0.weight"]
    assert dist.counts.shape == (len(entries), 32) and dist.counts[1].sum() == stored.size
    np.testing.assert_array_equal(dist.counts[1], np.histogram(stored.astype(np.float64), bins=dist.edges)[0])
    assert tab.jump.value() == entries[1].step  # the jump box follows the slider
    tab.jump_to_step(entries[0].step)
    assert tab.shown_entry() == entries[0] and tab.slider.value() == 0 and tab.jump.value() == entries[0].step


def test_play_runs_to_the_end_and_a_live_folder_is_followed(qtbot, tmp_path):
    writer = write_run(tmp_path, epochs=1)
    tab = shown_tab(qtbot)
    open_folder(qtbot, tab, tmp_path, tiny_arch())
    before = len(tab.entries)
    tab.show_index(0)
    tab.play_button.setChecked(True)
    qtbot.waitUntil(lambda: not tab.play_button.isChecked(), timeout=10_000)
    assert tab.shown_entry() == tab.entries[-1]
    # More snapshots in the folder (as a live run writes them): the tab's own tail reads them, the slider extends.
    model = writer.model
    with torch.no_grad():
        model[0].weight.add_(1.0)
    writer.on_snapshot(SnapshotTaken(10_000, 5, {}, {}, {}, 0))
    writer.close()
    with qtbot.waitSignal(tab.updated, timeout=20_000):
        tab.refresh()
    assert tab.shown_entry().step == 10_000 and len(tab.entries) >= before
    np.testing.assert_array_equal(tab.shown_filters("layer 1 (conv2d)"), model[0].weight.detach().numpy())


def test_the_plots_read_their_own_values_and_start_on_the_first_layers_weights(qtbot, tmp_path):
    write_run(tmp_path, epochs=1).close()
    tab = shown_tab(qtbot)
    open_folder(qtbot, tab, tmp_path)
    try:
        # Named as the summary numbers layers, in its order, each layer's weights before its biases.
        assert tab.shown_tensor() == "0.weight" and tab.tensor.currentText() == "layer 1 (conv2d) weights"
        keys = [tab.tensor.itemData(i) for i in range(tab.tensor.count())]
        assert keys == sorted(keys, key=lambda k: (int(k.split(".")[0]), k.endswith(".bias")))
        assert len(keys) > 2 and keys[-1].endswith(".bias")  # the last layer's bias is last, not the default
        plots = tab.plots
        assert plots.currentWidget() is plots.plots  # a run with snapshots: the plots, not the empty line
        for plot in (plots.heatmap, plots.histogram, plots.norms):
            for side in ("left", "bottom"):
                axis = plot.getPlotItem().getAxis(side)
                assert axis.autoSIPrefixScale == 1.0 and "(x" not in axis.labelString()
    finally:
        tab.shutdown()


def test_scrubbing_in_the_window_marks_the_step_on_the_training_curves(window, qtbot, tmp_path):
    write_run(tmp_path, epochs=1).close()
    window.tabs.setCurrentWidget(window.timeline)
    open_folder(qtbot, window.timeline, tmp_path)
    entry = window.timeline.entries[1]
    window.timeline.show_index(1)
    assert window.live_views.curves.marker() == entry.step
    window.timeline.show_index(len(window.timeline.entries) - 1)  # the newest: the curves' own end
    assert window.live_views.curves.marker() is None


@pytest.mark.parametrize("architecture", [{}, {"architecture": None}, {"architecture": {"format": "x"}}])
def test_a_started_line_without_a_usable_architecture_is_reported_in_the_status(qtbot, tmp_path, architecture):
    """Timeline > Open on a stranger's folder: the architecture from its log is refused in the status line."""
    started = {"kind": "started", "format": FORMAT, "version": VERSION, **architecture}
    (tmp_path / "events.jsonl").write_text(json.dumps(started) + "\n")
    tab = shown_tab(qtbot)
    tab.set_run(tmp_path, None)  # raised ArchitectureFileError from architecture_file.from_dict before
    qtbot.waitUntil(lambda: tab.status.text().startswith(
        f"Cannot show {tmp_path}: the started line of its events.jsonl holds no usable architecture ("))
    assert tab.architecture is None and tab.entries == [] and tab.redraw_count == 0


def test_an_empty_timeline_says_so_instead_of_claiming_the_network_has_no_conv_layers(qtbot):
    tab = TimelineTab()
    qtbot.addWidget(tab)
    labels = [label.text() for label in tab.filters.findChildren(QLabel)]
    assert any("once a run folder is open" in text for text in labels)
    assert not any("No convolution layers yet" in text for text in labels)
