"""The Timeline follows a run incrementally: the session's one follower hands it new lines, a hidden tab only keeps
them, and a folder opened here is read off the GUI thread."""

from __future__ import annotations

import threading

import numpy as np
import torch

from engine.config import TrainConfig
from engine.events import SnapshotTaken
from engine.run_folder import EVENTS, EventTail, RunFolderWriter
from engine.run_folder.timeline import timeline
from engine.training.trainer import Trainer
from gui.timeline import folder_follower, timeline_loader
from gui.timeline.timeline_tab import TimelineTab
from tests.engine.training_data import tiny_arch, tiny_dataset
from tests.gui.timeline.timeline_host import shown_tab

WAIT_MS = 20_000


def live_run(folder, epochs: int = 1, size: int = 8) -> RunFolderWriter:
    """A run folder still being written (no finished line): its writer, to add snapshots and close."""
    config = TrainConfig(epochs=epochs, batch_size=16, learning_rate=0.01, snapshot_interval=0.0, device="cpu",
                         threads=1)
    trainer = Trainer(tiny_arch(size), tiny_dataset(size=size), config)
    writer = RunFolderWriter(folder, trainer.model, tiny_arch(size), config)
    writer.start()
    trainer.callbacks.append(writer)
    trainer.fit()
    return writer


def add_snapshot(writer: RunFolderWriter, step: int) -> None:
    with torch.no_grad():
        writer.model[0].weight.add_(1.0)
    writer.on_snapshot(SnapshotTaken(step, 9, {}, {}, {}, 0))


def test_a_hidden_timeline_keeps_the_lines_without_drawing_and_catches_up_when_shown(qtbot, tmp_path):
    live_run(tmp_path).close()
    tab = TimelineTab()
    qtbot.addWidget(tab)  # never shown yet
    tab.follow(tmp_path, tiny_arch())
    tail = EventTail(tmp_path / EVENTS)
    for _ in range(3):
        tab.add_records(tail.poll(4096))  # as the session's polls hand them over
    tab.add_records(tail.poll())
    assert tab.index.entries() == timeline(tmp_path)  # the lines are kept...
    assert tab.redraw_count == 0 and tab.entries == [] and not tab.slider.isEnabled()  # ...and nothing drawn
    shown_tab(qtbot, tab)
    qtbot.waitUntil(lambda: tab.entries == timeline(tmp_path), timeout=WAIT_MS)
    assert tab.redraw_count == 1 and tab.shown_entry() == tab.entries[-1]


def test_opening_a_folder_reads_it_on_a_job_thread_while_the_gui_thread_goes_on(qtbot, tmp_path, monkeypatch):
    live_run(tmp_path).close()
    gate, threads = threading.Event(), []

    def gated_read(folder):  # the real read, held until the test has seen set_run return
        threads.append(threading.current_thread())
        assert gate.wait(WAIT_MS / 1000)
        return timeline_loader.read_folder(folder)

    monkeypatch.setattr(folder_follower, "read_folder", gated_read)
    tab = shown_tab(qtbot)
    tab.set_run(tmp_path, None)  # returns while the read waits: it cannot be on this thread
    assert tab.status.text() == f"Reading {tmp_path}…" and tab.entries == []
    qtbot.waitUntil(lambda: bool(threads))
    with qtbot.waitSignal(tab.updated, timeout=WAIT_MS):
        gate.set()
    assert threads[0] is not threading.main_thread()
    assert tab.entries == timeline(tmp_path) and tab.architecture == tiny_arch()


def test_the_windows_timeline_of_a_followed_run_takes_new_snapshots_without_reading_the_log_again(
        window, qtbot, tmp_path, monkeypatch):
    writer = live_run(tmp_path, size=28)  # MNIST's shape, as its settings name: the window keeps its input
    try:
        with qtbot.waitSignal(window.session.started, timeout=WAIT_MS):  # the folder is read on a job thread
            assert window.document.attach(tmp_path)  # File > Attach: the session follows, the Timeline with it
        window.tabs.setCurrentWidget(window.timeline)  # after the attach, which shows the live views
        qtbot.waitUntil(lambda: window.timeline.entries == timeline(tmp_path), timeout=WAIT_MS)

        read_on_gui_thread = []  # bytes of events.jsonl read on the GUI thread from here on, by any reader
        chunks = EventTail.chunks

        def counting_chunks(self, max_bytes=None):
            lines = chunks(self, max_bytes)
            while True:
                before = 0 if self._inode is None else self._offset  # a new tail starts at the log's first byte
                events = next(lines, None)
                if events is None:
                    return
                if threading.current_thread() is threading.main_thread():
                    read_on_gui_thread.append(self._offset - before)
                yield events

        monkeypatch.setattr(EventTail, "chunks", counting_chunks)
        size = (tmp_path / EVENTS).stat().st_size
        add_snapshot(writer, 10_000)
        qtbot.waitUntil(lambda: window.timeline.entries and window.timeline.entries[-1].step == 10_000,
                        timeout=WAIT_MS)
        grown = (tmp_path / EVENTS).stat().st_size
        monkeypatch.undo()  # the oracle below reads the whole log: not counted
        # Only the new lines were read, once: one follower reading on from where it was, never the log again.
        assert 0 < sum(read_on_gui_thread) <= grown - size < size
        assert window.timeline.entries == timeline(tmp_path)
        np.testing.assert_array_equal(window.timeline.shown_filters("layer 1 (conv2d)"),
                                      writer.model[0].weight.detach().numpy())
    finally:
        writer.close()
