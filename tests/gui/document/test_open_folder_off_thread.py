"""File > Open Run Folder reads the folder on a job thread: the window goes back to its event loop at once and
shows the folder when the read is done (an hour-long run's log takes seconds to read)."""

from __future__ import annotations

import threading

import torch

from engine.metrics import MetricsHistory
from engine.network.builder import build_model
from engine.network.weights import save_weights
from engine.project import sources
from models import architecture_file
from models.presets import load_preset

HISTORY = MetricsHistory(batches=[(1, 1, 2.31, 0.09), (2, 1, 2.05, 0.31)], epochs=[(1, 2, 2.18, 0.20, 2.01, 0.33)])
WAIT_MS = 60_000


def run_folder(folder, seed: int = 1, history: MetricsHistory = HISTORY):
    """A finished `train --out` folder of LeNet-5: its architecture, weights and curves."""
    folder.mkdir()
    arch = load_preset("lenet5")
    architecture_file.save(arch, folder / "architecture.json")
    torch.manual_seed(seed)
    model = build_model(arch)
    save_weights(model, folder / "weights.safetensors")
    (folder / "metrics.csv").write_text(history.to_csv())
    return folder, model.state_dict()


def held_reads(monkeypatch):
    """Wraps the engine's folder reader: each read notes its thread and path, then waits for `release`, so a test
    can look at the window while a read is still going (a read on the GUI thread would wait out the timeout and
    then show up as made on the main thread)."""
    reads, release, read = [], threading.Event(), sources.open_project_or_run

    def reading(path):
        reads.append((threading.current_thread(), path))
        release.wait(10)
        return read(path)

    monkeypatch.setattr(sources, "open_project_or_run", reading)
    return reads, release


def test_open_run_folder_returns_before_the_read_and_then_shows_the_folder(qtbot, window, tmp_path, monkeypatch):
    folder, weights = run_folder(tmp_path / "run")
    reads, release = held_reads(monkeypatch)
    document, state = window.document, window.document.state
    document.ask_open_folder = lambda: folder
    window.window_actions.open_folder.trigger()
    # Back in the event loop with the read still going: nothing in the window changed yet, and it says so.
    assert document.is_reading and state.trained_state() is None and state.history() == MetricsHistory()
    assert window.statusBar().currentMessage() == f"Reading {folder}\u2026"
    with qtbot.waitSignal(document.opened, timeout=WAIT_MS) as opened:
        release.set()
    assert [(thread is threading.main_thread(), path) for thread, path in reads] == [(False, folder)]
    assert opened.args == [folder] and not document.is_reading
    shown = state.trained_state()
    assert shown.keys() == weights.keys() and all(torch.equal(shown[k], weights[k]) for k in weights)
    assert state.history() == HISTORY and document.recent_files()[0] == folder.resolve()
    assert window.statusBar().currentMessage().startswith(f"Opened {folder}")


def test_a_folder_that_cannot_be_read_goes_to_the_error_dialog_and_changes_nothing(qtbot, window, tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "architecture.json").write_text("{not json")
    errors = []
    window.document.show_error = lambda title, message: errors.append((title, message))
    before = window.network.architecture
    assert window.document.open(folder)  # the read has begun
    qtbot.waitUntil(lambda: errors != [], timeout=WAIT_MS)
    assert errors[0][0] == "Cannot open" and str(folder) in errors[0][1]
    assert not window.document.is_reading and window.network.architecture is before
    assert window.document.state.trained_state() is None


def test_a_newer_open_wins_over_a_read_still_going(qtbot, window, tmp_path, monkeypatch):
    first, _ = run_folder(tmp_path / "first", seed=1)
    later = MetricsHistory(batches=[(1, 1, 1.0, 0.5)])
    second, weights = run_folder(tmp_path / "second", seed=2, history=later)
    reads, release = held_reads(monkeypatch)
    opened = []
    window.document.opened.connect(opened.append)
    assert window.document.open(first) and window.document.open(second)
    release.set()
    qtbot.waitUntil(lambda: opened != [], timeout=WAIT_MS)
    # Each read ran (one job thread at a time: the second began when the first ended); the first was dropped.
    assert [path for _, path in reads] == [first, second] and not window.document.is_reading
    assert opened == [second] and window.document.state.history() == later
    shown = window.document.state.trained_state()
    assert all(torch.equal(shown[k], weights[k]) for k in weights)
