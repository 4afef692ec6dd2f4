"""A RunWriter folder of a model ConvScope cannot rebuild (a residual nn.Module) opens in every view its data allows."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from engine.inspection.mosaic import tile_kernels
from engine.run_folder import RunWriter, read_run_log, recorded_snapshot
from engine.run_folder.recording import CANNOT_REBUILD
from gui.document.document_io import DISCARD

WAIT_MS = 15_000


class Residual(nn.Module):
    """conv -> relu -> (conv + skip) -> relu -> pool -> linear: no nn.Sequential can say this."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(1, 4, 3, padding=1)
        self.act = nn.ReLU()
        self.block = nn.Conv2d(4, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.head = nn.Linear(4 * 14 * 14, 10)

    def forward(self, x):
        a = self.act(self.stem(x))
        return self.head(self.pool(self.act(self.block(a) + a)).flatten(1))


def write_residual_run(folder: Path, steps: int = 6) -> Residual:
    """A plain loop on random 28x28 images, written with RunWriter (a snapshot at step 0 and at each epoch)."""
    torch.manual_seed(0)
    model, x, y = Residual(), torch.randn(32, 1, 28, 28), torch.randint(0, 10, (32,))
    opt = torch.optim.SGD(model.parameters(), 0.05)
    with RunWriter(model, folder, probe=x[:4], settings={"dataset": "mnist"}, control=False) as run:
        for step in range(1, steps + 1):
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            run.log_batch(step, loss, epoch=1 + (step - 1) // 3)
            if step % 3 == 0:
                run.log_epoch(step // 3, loss, loss, 0.1)
    assert not run.rebuilt
    return model


@pytest.fixture(scope="module")
def residual_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("recorded") / "run"
    write_residual_run(folder)
    return folder


def newest_recorded(folder: Path, probe_index: int = 0):
    log = read_run_log(folder)
    return recorded_snapshot(folder, log.snapshots[-1], probe_index)


def test_attach_shows_the_recorded_filters_activations_and_curves_and_keeps_the_users_network(
        qtbot, window, residual_run):
    network_before = window.network.architecture
    window.document.ask_unsaved_changes = lambda: DISCARD
    window.document.ask_open_folder = lambda: residual_run
    with qtbot.waitSignal(window.session.finished, timeout=WAIT_MS):
        window.window_actions.attach.trigger()
    expected = newest_recorded(residual_run)  # the oracle: the snapshot as the engine reads it back
    live = window.live_views
    qtbot.waitUntil(lambda: live.filters.layer_names() == ["stem", "block"], timeout=WAIT_MS)
    live.flush()
    for path in ("stem", "block"):
        assert np.array_equal(live.filters.image_for(path), tile_kernels(expected.weights[path]), equal_nan=True)
    assert live.activations.layer_names() == list(expected.activations) == ["stem", "act", "block", "act#2",
                                                                            "pool", "head"]
    assert "recorded by your own script's Residual" in live.caption.text()
    assert list(live.curves.train_curve()[0]) == list(range(1, 7))  # the curves are shown ...
    assert not window.workspace.history.batches  # ... but not kept as the canvas network's (Save leaves them out)
    assert window.network.architecture is network_before  # the user's network stays on the canvas
    assert window.workspace.trained is None  # its weights fit no network the window can build
    assert "Continue training is not offered: " + CANNOT_REBUILD in window.training_panel.outcome()[1]


def test_open_then_the_timeline_scrubs_its_snapshots_by_module_path(qtbot, window, residual_run):
    window.document.ask_unsaved_changes = lambda: DISCARD
    timeline = window.timeline
    window.tabs.setCurrentWidget(timeline)
    with qtbot.waitSignal(window.session.finished, timeout=WAIT_MS):
        assert window.document.open(residual_run)
    qtbot.waitUntil(lambda: len(timeline.entries) == len(read_run_log(residual_run).snapshots), timeout=WAIT_MS)
    assert [e.step for e in timeline.entries] == [0, 3, 6]
    timeline.show_index(0)
    first = recorded_snapshot(residual_run, read_run_log(residual_run).snapshots[0])
    assert np.array_equal(timeline.shown_filters("stem"), first.weights["stem"])
    assert timeline.filters.layer_names() == ["stem", "block"]
    assert "stem.weight" in [timeline.tensor.itemData(i) for i in range(timeline.tensor.count())]
    assert not any("/" in timeline.tensor.itemData(i) for i in range(timeline.tensor.count()))


def test_timeline_open_alone_shows_its_snapshots(qtbot, window, residual_run):
    timeline = window.timeline
    window.tabs.setCurrentWidget(timeline)
    with qtbot.waitSignal(timeline.updated, timeout=WAIT_MS):
        timeline.set_run(residual_run, None)
    qtbot.waitUntil(lambda: len(timeline.entries) == 3, timeout=WAIT_MS)
    assert timeline.filters.layer_names() == ["stem", "block"]
    assert timeline.status.text().startswith("step 6")
    # The health at the shown step comes from the recorded activations, by module path (no network rebuilt).
    qtbot.waitUntil(lambda: timeline.health.shown is not None, timeout=WAIT_MS)
    assert [la.label for la in timeline.health.shown.layers][:2] == ["stem (conv2d)", "act (relu)"]
    assert timeline.health.table.item(3, 0).text() == "act#2 (relu)"


def test_views_that_rebuild_the_network_say_why_they_cannot(qtbot, window, residual_run):
    window.document.ask_unsaved_changes = lambda: DISCARD
    with qtbot.waitSignal(window.session.finished, timeout=WAIT_MS):
        window.document.attach(residual_run)
    window.tabs.setCurrentWidget(window.explainer)
    qtbot.waitUntil(lambda: CANNOT_REBUILD in window.explainer.notes_label.text(), timeout=WAIT_MS)
    assert window.explainer.case is None and not window.explainer.next_button.isEnabled()
    window.tabs.setCurrentWidget(window.evaluation)
    qtbot.waitUntil(lambda: CANNOT_REBUILD in window.evaluation.summary.text(), timeout=WAIT_MS)
    assert window.evaluation.run is None
    # An edit of the canvas network makes it the user's own again: the Explainer goes back to it (here it asks
    # for a dataset, as it does for any network without one).
    window.tabs.setCurrentWidget(window.explainer)
    window.network.set_architecture(replace(window.network.architecture, name="edited"))
    qtbot.waitUntil(lambda: CANNOT_REBUILD not in window.explainer.notes_label.text(), timeout=WAIT_MS)
    assert "no dataset is loaded" in window.explainer.notes_label.text()


def test_a_damaged_line_shows_a_dialog_not_a_traceback(qtbot, window, tmp_path):
    folder = tmp_path / "run"
    write_residual_run(folder, steps=3)
    with open(folder / "events.jsonl", "a", encoding="utf-8") as log:
        log.write('{"kind": "batch", "step": \n')
    errors = []
    window.document.ask_unsaved_changes = lambda: DISCARD
    window.document.show_error = lambda title, message: errors.append((title, message))
    network_before = window.network.architecture
    window.document.attach(folder)  # the folder may be read on a job thread: its refusal comes as a dialog
    qtbot.waitUntil(lambda: bool(errors), timeout=WAIT_MS)
    assert errors and errors[0][0] == "Cannot open" and str(folder) in errors[0][1]
    assert "events.jsonl" in errors[0][1]
    assert not window.session.is_running and window.network.architecture is network_before


def docs_example() -> str:
    """The residual-block example of docs/run-folder.md, as printed (tests/test_docs.py also runs it)."""
    page = (Path(__file__).resolve().parents[3] / "docs" / "run-folder.md").read_text(encoding="utf-8")
    section = page[page.index("A model of your own design"):]
    start = section.index("```python\n") + len("```python\n")
    return section[start:section.index("```\n", start)]


@pytest.mark.slow
def test_the_docs_residual_example_opens_in_the_window(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # its folder, runs/residual, lands here
    exec(compile(docs_example(), "docs/run-folder.md residual example", "exec"), {})
    folder = tmp_path / "runs" / "residual"
    assert read_run_log(folder).finished["reason"] == "completed"
    window.document.ask_unsaved_changes = lambda: DISCARD
    with qtbot.waitSignal(window.session.finished, timeout=WAIT_MS):
        window.document.attach(folder)
    live = window.live_views
    qtbot.waitUntil(lambda: live.filters.layer_names() == ["stem", "block"], timeout=WAIT_MS)
    live.flush()
    expected = newest_recorded(folder, window.workspace.probe_index if window.workspace.probe_index < 8 else 0)
    assert live.activations.layer_names() == ["stem", "act", "block", "act#2", "pool", "head"]
    assert np.array_equal(live.filters.image_for("block"), tile_kernels(expected.weights["block"]), equal_nan=True)
    assert live.curves.train_curve()[0][-1] == 32 and list(live.curves.val_curve()[0]) == [32]
    timeline = window.timeline
    window.tabs.setCurrentWidget(timeline)
    qtbot.waitUntil(lambda: bool(timeline.entries) and timeline.entries[-1].step == 32, timeout=WAIT_MS)
    assert timeline.filters.layer_names() == ["stem", "block"]
    window.tabs.setCurrentWidget(window.explainer)
    qtbot.waitUntil(lambda: CANNOT_REBUILD in window.explainer.notes_label.text(), timeout=WAIT_MS)


def test_attach_follows_a_recorded_run_while_the_script_still_writes_it(qtbot, window, tmp_path):
    torch.manual_seed(1)
    model, x = Residual(), torch.randn(4, 1, 28, 28)
    run = RunWriter(model, tmp_path / "live", probe=x, control=False)  # step 0's snapshot is written at once
    try:
        window.document.ask_unsaved_changes = lambda: DISCARD
        with qtbot.waitSignal(window.session.snapshot_taken, timeout=WAIT_MS) as shown:
            window.document.attach(tmp_path / "live")
        assert window.session.is_attached and shown.args[0].step == 0
        assert list(shown.args[0].activations) == ["stem", "act", "block", "act#2", "pool", "head"]
        with torch.no_grad():
            model.stem.weight.mul_(-1)  # the next snapshot's filters differ from step 0's
        with qtbot.waitSignal(window.session.snapshot_taken, timeout=WAIT_MS) as shown:
            run.log_batch(1, 2.0, 0.5)
            run.snapshot(1)
        assert shown.args[0].step == 1
        assert np.array_equal(shown.args[0].weights["stem"], model.stem.weight.detach().numpy())
        window.live_views.flush()
        assert np.array_equal(window.live_views.filters.image_for("stem"),
                              tile_kernels(model.stem.weight.detach().numpy()), equal_nan=True)
        assert "Snapshot at step 1" in window.live_views.caption.text()
    finally:
        with qtbot.waitSignal(window.session.finished, timeout=WAIT_MS):
            run.close()
    assert window.workspace.trained is None


def test_a_recorded_snapshot_that_does_not_read_is_named_in_the_caption(qtbot, window, tmp_path):
    folder = tmp_path / "run"
    write_residual_run(folder, steps=3)
    newest = read_run_log(folder).snapshots[-1]
    (folder / newest.file).write_bytes(b"not a safetensors file")
    window.document.ask_unsaved_changes = lambda: DISCARD
    with qtbot.waitSignal(window.session.finished, timeout=WAIT_MS):
        window.document.attach(folder)
    caption = window.live_views.caption
    qtbot.waitUntil(lambda: "recorded snapshot could not be read" in caption.text(), timeout=WAIT_MS)
    assert newest.file.split("/")[-1] in caption.text()
