"""Issue 28 items 9 and 14 in the Experiments tab: headers in words, counts that agree, and folder choosers that
open in the documents folder or the last folder used, not the program's working directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine.config import TrainConfig
from gui.experiments import experiments_tab
from gui.experiments.experiments_tab import ExperimentsTab
from gui.experiments.folder_memory import documents_folder
from models.network import Network
from models.presets import load_preset

HEADER = "variant,seed,params,macs,best_val_accuracy,final_val_accuracy,best_epoch,seconds,folder\n"


@pytest.fixture
def tab(qtbot):
    widget = ExperimentsTab(Network(load_preset("lenet5")), TrainConfig)
    qtbot.addWidget(widget)
    return widget


@pytest.fixture
def chooser_starts(monkeypatch):
    """The start folder each folder chooser was given (the chooser itself answers "cancelled")."""
    starts: list[str] = []

    def fake(_parent, _title, start="", *_args):
        starts.append(start)
        return ""
    monkeypatch.setattr(experiments_tab.QFileDialog, "getExistingDirectory", staticmethod(fake))
    return starts


def one_run_experiment(folder: Path) -> Path:
    folder.mkdir()
    (folder / "experiment.json").write_text('{"name": "t"}')
    (folder / "results.csv").write_text(HEADER + "pooling max,0,100,2000,0.5,0.25,1,2.5,run\n"
                                                 "pooling none,0,120,2400,0.75,0.5,1,3.5,run2\n")
    return folder


def test_the_results_table_has_titles_in_words_and_the_csv_names_as_tips(tab, tmp_path):
    assert tab.open_folder(one_run_experiment(tmp_path / "exp")), tab.status_label.text()
    headers = [tab.table.horizontalHeaderItem(c) for c in range(tab.table.columnCount())]
    titles = [h.text() for h in headers]
    assert titles[:3] == ["Variant", "Parameters", "Mult-adds"] and "Best val. accuracy" in titles
    assert not any("_" in title for title in titles)
    assert headers[titles.index("Best val. accuracy")].toolTip() == "best_val_accuracy in results.csv"
    assert tab.status_label.text() == "Opened t: 2 runs."


def test_counts_agree_with_their_nouns(tab):
    tab.values_edit.setText("max")
    tab.values_edit.editingFinished.emit()
    tab.epochs_box.setValue(1)  # the line follows the epochs and the seeds too (it kept the old count)
    assert tab.status_label.text().startswith("1 variant x 1 seed, 1 epoch each")
    tab.seeds_edit.setText("0, 1")
    tab.seeds_edit.editingFinished.emit()
    assert tab.status_label.text().startswith("1 variant x 2 seeds, 1 epoch each")


def test_folder_choosers_open_in_documents_then_the_last_folder_used(tab, tmp_path, chooser_starts):
    assert not tab.start()  # cancelled
    tab.open_button.click()
    assert chooser_starts == [str(documents_folder())] * 2 and chooser_starts[0] != str(Path.cwd())
    opened = one_run_experiment(tmp_path / "exp")
    assert tab.open_folder(opened)
    tab.open_button.click()
    assert chooser_starts[-1] == str(opened)
