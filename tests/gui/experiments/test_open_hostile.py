"""Experiments > Open on a stranger's damaged folder (issue 27 item 5): one message in the tab, nothing raised."""

from __future__ import annotations

import pytest

from engine.config import TrainConfig
from gui.experiments.experiments_tab import ExperimentsTab
from models.network import Network
from models.presets import load_preset


@pytest.fixture
def tab(qtbot):
    widget = ExperimentsTab(Network(load_preset("lenet5")), TrainConfig)
    qtbot.addWidget(widget)
    return widget


@pytest.mark.parametrize("member, text, message", [
    ("experiment.json", "[" * 100_000 + "]" * 100_000, "nested more than 64 levels deep"),
    ("results.csv", "variant,seed,params,macs,best_val_accuracy,final_val_accuracy,best_epoch,seconds,folder\n"
                    + "x" * 131_073 + ",0,1,1,,,,1,run\n", "not valid CSV"),
])
def test_a_damaged_experiment_folder_is_one_message(tab, tmp_path, member, text, message):
    (tmp_path / "experiment.json").write_text('{"name": "t"}')
    (tmp_path / "results.csv").write_text("variant,seed,params,macs,best_val_accuracy,final_val_accuracy,"
                                          "best_epoch,seconds,folder\n")
    (tmp_path / member).write_text(text)
    assert not tab.open_folder(tmp_path)
    assert tab.status_label.text().startswith("Cannot open: ") and message in tab.status_label.text()
