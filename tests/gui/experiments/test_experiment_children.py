"""Issue 26 item 5 in the window: the Experiments tab runs each variant in a child `main.py train`, follows its run
folder (progress per run), stops the child with Stop, and leaves the window's own torch thread count alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PySide6.QtCore import Qt

from engine.run_folder import read_run_log
from engine.run_folder.records import writer_process
from engine.run_folder.timeline import timeline as timeline_of
from gui.document.document_io import DISCARD
from models import architecture_file
from models.architecture import Architecture
from tests.engine.training_data import tiny_arch, write_tiny_npz

ROOT = Path(__file__).resolve().parents[3]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
WAIT_MS = 120_000


@pytest.fixture
def tab(qtbot, window, tmp_path):
    """The tab on the tiny network and data, the children told to use a thread count the window does not."""
    data = write_tiny_npz(tmp_path / "tiny.npz")
    window.document.ask_unsaved_changes = lambda: DISCARD
    arch = tiny_arch()
    window.editor.set_architecture(Architecture(arch.name, arch.input, arch.layers), "tiny")
    panel = window.training_panel
    with qtbot.waitSignal(panel.dataset_changed, timeout=WAIT_MS):
        panel.select_dataset(str(data))
    threads = 1 if torch.get_num_threads() != 1 else 2
    panel.set_config(panel.config().replace(batch_size=32, learning_rate=0.01, device="cpu", threads=threads))
    window.tabs.setCurrentWidget(window.experiments)
    experiments = window.experiments
    experiments.values_edit.setText("none, max")
    experiments.values_edit.editingFinished.emit()
    experiments.ask_output_folder = lambda: str(tmp_path / "exp")
    return experiments


def child_pid(folder: Path) -> int:
    return writer_process(read_run_log(folder).started).pid


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_two_variants_train_in_children_into_full_run_folders(qtbot, tab, tmp_path):
    before = torch.get_num_threads()
    threads = tab._config().threads
    tab.epochs_box.setValue(2)
    with qtbot.waitSignal(tab._runner.finished, timeout=WAIT_MS):
        qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)
    assert torch.get_num_threads() == before  # the window's own jobs keep their threads
    assert tab.status_label.text().startswith("Done: 2 runs")
    assert [tab.runs.state(label, 0).split(":")[0] for label in ("pooling none", "pooling max")] == ["done"] * 2
    folders = sorted(p for p in (tmp_path / "exp").iterdir() if p.is_dir())
    assert [p.name for p in folders] == ["01-pooling-none-seed0", "02-pooling-max-seed0"]
    for row, folder in enumerate(folders):
        log = read_run_log(folder)
        assert log.finished is not None and log.finished["reason"] == "completed"
        assert {"batch", "epoch", "snapshot"} <= {e["kind"] for e in log.events}
        assert child_pid(folder) != os.getpid()
        assert json.loads((folder / "summary.json").read_text())["threads"] == threads
        health = subprocess.run([sys.executable, str(ROOT / "main.py"), "health", str(folder)], env=ENV,
                                capture_output=True, text=True, timeout=120)
        assert health.returncode == 0, health.stderr
        name = architecture_file.load(folder / "architecture.json").name
        assert name.endswith(f"({folder.name[3:-6].replace('-', ' ')})")  # the variant's own network
        assert health.stdout.startswith(f"{name} at step {log.newest_snapshot.step:,} (epoch 2)")
        # the table's row is the folder's: its final accuracy is the log's last epoch's
        final = log.of_kind("epoch")[-1]["val_accuracy"]
        assert tab.results[row].final_val_accuracy == pytest.approx(final)
        column = [tab.table.horizontalHeaderItem(c).text() for c in range(tab.table.columnCount())].index("Seconds")
        seconds = json.loads((folder / "summary.json").read_text())["seconds"]
        assert tab.table.item(row, column).text() == f"{seconds:.1f}"  # timings always differ: always shown


def test_file_attach_follows_a_variant_folder_to_its_end(qtbot, window, tab, tmp_path):
    tab.epochs_box.setValue(2)
    tab.values_edit.setText("max")
    tab.values_edit.editingFinished.emit()
    with qtbot.waitSignal(tab._runner.finished, timeout=WAIT_MS):
        assert tab.start()
    folder = tmp_path / "exp" / "01-pooling-max-seed0"
    with qtbot.waitSignal(window.session.finished, timeout=WAIT_MS) as ended:
        assert window.document.attach(folder)
    assert ended.args[0].reason == "completed" and ended.args[0].epochs_completed == 2
    assert [e.epoch for e in window.workspace.history.epochs] == [1, 2]
    # The Timeline scrubs it as any run folder: every snapshot of its log on the slider, the variant's filters shown.
    timeline = window.timeline
    window.tabs.setCurrentWidget(timeline)
    with qtbot.waitSignal(timeline.updated, timeout=WAIT_MS):
        timeline.set_run(folder, None)
    entries = timeline_of(folder)  # the engine's reading of the folder's snapshots, the independent account
    assert len(entries) >= 2 and timeline.entries == entries and timeline.slider.maximum() == len(entries) - 1
    assert timeline.shown_entry() == entries[-1]


def test_stop_ends_the_running_child_and_no_further_variant_starts(qtbot, tab, tmp_path):
    tab.epochs_box.setValue(1000)
    assert tab.start()
    qtbot.waitUntil(lambda: tab.runs.state("pooling none", 0).startswith("epoch"), timeout=WAIT_MS)
    assert tab.runs.state("pooling max", 0) == "waiting"
    with qtbot.waitSignal(tab._runner.finished, timeout=WAIT_MS):
        qtbot.mouseClick(tab.stop_button, Qt.MouseButton.LeftButton)
    first = tmp_path / "exp" / "01-pooling-none-seed0"
    assert not (tmp_path / "exp" / "02-pooling-max-seed0").exists()
    log = read_run_log(first)
    assert log.finished["reason"] == "stopped" and log.finished["epochs_completed"] < 1000
    assert gone(child_pid(first))
    assert tab.status_label.text().startswith("Done (stopped): 1 run")
    assert tab.runs.state("pooling max", 0) == "not run" and tab.table.rowCount() == 1


def test_closing_the_tab_mid_run_ends_the_child(qtbot, tab, tmp_path):
    tab.epochs_box.setValue(1000)
    assert tab.start()
    qtbot.waitUntil(lambda: tab.runs.state("pooling none", 0).startswith("epoch"), timeout=WAIT_MS)
    pid = child_pid(tmp_path / "exp" / "01-pooling-none-seed0")
    tab.shutdown()  # as the window's close does
    assert not tab.is_running and gone(pid)
    assert not (tmp_path / "exp" / "02-pooling-max-seed0").exists()
