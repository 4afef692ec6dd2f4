"""The Timeline's health panel: the network's dead units at the shown step, off the GUI thread."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.run_folder.timeline import load_timeline_weights
from tests.gui.timeline.timeline_host import shown_tab
from tests.engine.test_health import train_run

WAIT_MS = 60_000


def test_the_shown_steps_dead_units_match_a_direct_torch_computation(qtbot, tmp_path):
    trainer, dataset = train_run(tmp_path, 2.0)  # lr 2 kills about a quarter of the ReLU units
    tab = shown_tab(qtbot)  # a hidden Timeline only keeps the log's lines; shown, it draws and computes
    try:
        with qtbot.waitSignal(tab.health.computed, timeout=WAIT_MS) as computed:
            tab.set_run(tmp_path, None)  # shows the newest snapshot, the trained weights
        health = computed.args[0]
        assert health.step == tab.shown_entry().step == trainer.global_step
        with torch.no_grad():
            out = F.relu(trainer.model.eval()[0](dataset.val.images[:512]))
        dead = float((out == 0).all(dim=0).double().mean())
        assert health.layers[1].dead_fraction == dead > 0.2
        assert tab.health.table.item(1, 0).text() == "layer 2 (relu)"
        assert tab.health.table.item(1, 1).text() == f"{dead:.1%}"
        assert f"Health at step {health.step:,}" in tab.health.title.text()

        first = tab.entries[0]
        with qtbot.waitSignal(tab.health.computed, timeout=WAIT_MS) as early:
            tab.show_index(0)  # back to the first snapshot: the initial weights
        assert early.args[0].step == first.step
        model = trainer.model
        model.load_state_dict(load_timeline_weights(tmp_path, first))
        with torch.no_grad():
            out = F.relu(model.eval()[0](dataset.val.images[:512]))
        assert early.args[0].layers[1].dead_fraction == float((out == 0).all(dim=0).double().mean())
    finally:
        tab.shutdown()


def test_a_run_whose_dataset_is_gone_says_so_instead_of_failing(qtbot, tmp_path):
    train_run(tmp_path, 0.01)
    (tmp_path / "tiny.npz").unlink()  # the probe batch comes from the run's dataset
    tab = shown_tab(qtbot)  # a hidden Timeline only keeps the log's lines; shown, it draws and computes
    try:
        tab.set_run(tmp_path, None)
        qtbot.waitUntil(lambda: "Cannot compute the health here" in tab.health.warnings.text(), timeout=WAIT_MS)
        assert "tiny.npz" in tab.health.warnings.text() and tab.health.table.rowCount() == 0
    finally:
        tab.shutdown()
