"""Projects in the window: .convscope round trips, refused files change nothing, runs, command line, import weights."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.network.builder import build_model
from engine.config import TrainConfig
from engine.metrics import MetricsHistory
from engine.project.project_file import MANIFEST, load_project
from engine.network.weights import save_weights
from gui.app import open_window
from gui.document.document_io import DISCARD
from gui.main_window import MainWindow
from gui.document.project_io import STALE_WEIGHTS_NOTE, ProjectState, collect_project
from models import architecture_file
from models.architecture import InputShape
from models.network import Network
from models.presets import load_preset

LENET = load_preset("lenet5")
CONFIG = TrainConfig(dataset="mnist", optimizer="sgd", learning_rate=0.05, batch_size=32, epochs=3, seed=7)
HISTORY = MetricsHistory(batches=[(1, 1, 2.31, 0.09), (2, 1, 2.05, 0.31), (3, 2, 1.50, 0.62)],
                         epochs=[(1, 2, 2.18, 0.20, 2.01, 0.33), (2, 3, 1.50, 0.62, 1.42, 0.66)])
EXTRAS = {"ui": {"probe_index": 3}}


def weights_for(arch, seed: int = 1) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    return {name: t.detach().clone() for name, t in build_model(arch).state_dict().items()}


def same_weights(a: dict | None, b: dict | None) -> bool:
    return a is not None and b is not None and a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def trained(window, weights=None) -> dict[str, torch.Tensor]:
    """Give the window's project state what a finished run leaves: settings, curves, weights, extras."""
    weights = weights if weights is not None else weights_for(window.network.architecture)
    state = window.document.state
    state.set_config(CONFIG)
    state.restore(HISTORY, weights)
    state.workspace.set_extras(EXTRAS)
    window.document.mark_modified()
    return weights


def errors_of(window) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    window.document.show_error = lambda title, message: errors.append((title, message))
    return errors


@pytest.fixture
def fresh_window(qtbot, settings):
    """A second window on the same settings (as after restarting the app); its dialogs fail unless patched."""
    windows = []

    def make() -> MainWindow:
        win = MainWindow(Network(load_preset("tiny_vgg")), settings=settings)
        for seam in ("ask_unsaved_changes", "ask_open_path", "ask_open_folder", "ask_save_path", "ask_weights_path",
                     "show_error"):
            setattr(win.document, seam, lambda *_: pytest.fail(f"unexpected dialog {seam}"))
        windows.append(win)
        return win

    yield make
    for win in windows:
        win.document.ask_unsaved_changes = lambda: DISCARD
        win.close()
        win.deleteLater()


def saved_project(window, path: Path) -> dict[str, torch.Tensor]:
    weights = trained(window)
    window.document.ask_save_path = lambda: path
    window.window_actions.save.trigger()
    assert path.is_file()
    return weights


# -- save and open ---------------------------------------------------------------------------------------------

def test_project_round_trip_into_a_fresh_window(qtbot, window, fresh_window, tmp_path):
    window.network.select(0)
    window.inspector.editor_for("out_channels").spin.setValue(8)  # an edited network, trained afterwards
    path = tmp_path / "digits.convscope"
    weights = saved_project(window, path)
    assert not window.isWindowModified() and window.windowTitle().startswith("digits.convscope")
    assert window.statusBar().currentMessage() == f"Saved {path}"

    other = fresh_window()
    assert other.network.layers != window.network.layers
    assert other.document.open(path)
    assert other.network.architecture == window.network.architecture
    state = other.document.state
    assert state.config() == CONFIG
    assert state.history() == HISTORY
    assert same_weights(state.trained_state(), weights)
    assert state.workspace.extras() == EXTRAS
    assert not other.isWindowModified() and other.undo_stack.count() == 0
    # The views show the run again: its curves and the saved filters (not a fresh initialisation).
    views = other.live_views
    views.flush()
    steps, losses = views.curves.train_curve()
    assert steps.tolist() == [1, 2, 3] and losses.tolist() == [2.31, 2.05, 1.50]
    assert views.curves.val_curve()[1].tolist() == [2.01, 1.42]
    qtbot.waitUntil(lambda: len(views.filters.layer_names()) == 2, timeout=60_000)  # run off the GUI thread
    first = views.filters.image_for(views.filters.layer_names()[0])
    expected = weights["0.weight"].numpy()
    assert np.nanmax(first) == pytest.approx(expected.max()) and np.nanmin(first) == pytest.approx(expected.min())
    assert views.workspace.probe_index == 3
    assert other.document.path == path and other.document.recent_files()[0] == path.resolve()


def test_untrained_project_saves_without_weights(window, tmp_path):
    path = tmp_path / "plain.convscope"
    window.document.ask_save_path = lambda: path
    assert window.document.save()
    project = load_project(path)
    assert project.weights is None and project.architecture == window.network.architecture
    assert project.history == MetricsHistory()


def test_weights_from_before_an_edit_are_not_saved(window, tmp_path):
    trained(window)
    window.network.select(0)
    window.inspector.editor_for("out_channels").spin.setValue(12)  # the weights no longer fit
    path = tmp_path / "edited.convscope"
    window.document.ask_save_path = lambda: path
    assert window.document.save()
    project = load_project(path)
    assert project.weights is None and project.history == HISTORY and project.config == CONFIG
    assert project.architecture.layers[0].out_channels == 12


def test_collect_project_leaves_out_weights_that_do_not_fit():
    """The guard behind Save: a state that still offers old weights after an edit (the held state does)."""
    state = ProjectState.held(Network(LENET), CONFIG)
    state.restore(HISTORY, weights_for(LENET))
    edited = LENET.with_layers((replace(LENET.layers[0], out_channels=12),) + LENET.layers[1:])
    project, note = collect_project(edited, state)
    assert project.weights is None and note == STALE_WEIGHTS_NOTE and project.history == HISTORY
    project, note = collect_project(LENET, state)
    assert same_weights(project.weights, state.trained_state()) and note == ""


def _rewrite(path: Path, replace: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path) as zf:
        members = {info.filename: zf.read(info) for info in zf.infolist()}
    members.update(replace)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _rewrite_checked(path: Path, name: str, data: bytes) -> None:
    """Replace one member and give the manifest its new size and checksum: damage no checksum catches."""
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read(MANIFEST))
    manifest["members"][name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    _rewrite(path, {name: data, MANIFEST: json.dumps(manifest).encode()})


def _huge_seed(path: Path) -> None:
    with zipfile.ZipFile(path) as zf:
        settings = json.loads(zf.read("settings.json"))
    settings["seed"] = 2 ** 40  # once an OverflowError after the network had already been replaced
    _rewrite_checked(path, "settings.json", json.dumps(settings).encode())


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _newer(path: Path) -> None:
    _rewrite(path, {MANIFEST: b'{"format": "convscope.project", "version": 99, "app_version": "9.0"}'})


@pytest.mark.parametrize("damage, expected", [(_truncate, "damaged"), (_newer, "update ConvScope"),
                                             (_huge_seed, "seed must be 0 to")])
def test_a_refused_project_changes_nothing(window, fresh_window, tmp_path, damage, expected):
    source = fresh_window()
    path = tmp_path / "bad.convscope"
    saved_project(source, path)
    damage(path)

    mine = tmp_path / "mine.convscope"
    weights = saved_project(window, mine)
    window.document.mark_modified()  # e.g. trained again: the prompt is answered, then the file is refused
    before = window.network.architecture
    asked = []
    window.document.ask_unsaved_changes = lambda: asked.append(1) or DISCARD
    errors = errors_of(window)
    assert not window.document.open(path)
    assert asked and len(errors) == 1
    title, message = errors[0]
    assert title == "Cannot open" and str(path) in message and expected in message
    assert "Traceback" not in message
    assert window.network.architecture == before and window.isWindowModified()
    assert window.document.path == mine and window.undo_stack.isClean()
    state = window.document.state
    assert state.config() == CONFIG and state.history() == HISTORY and same_weights(state.trained_state(), weights)
    assert state.workspace.extras() == EXTRAS


def test_open_architecture_json_keeps_settings_and_clears_weights(window, tmp_path):
    path = tmp_path / "vgg.json"
    architecture_file.save(load_preset("tiny_vgg"), path)
    trained(window)
    window.document.ask_unsaved_changes = lambda: DISCARD
    assert window.document.open(path)
    assert window.network.layers == load_preset("tiny_vgg").layers
    assert window.network.architecture.input == InputShape(1, 28, 28)  # the dataset decides the input
    state = window.document.state
    assert state.config() == CONFIG  # an architecture file has no settings: the current ones stay
    assert state.trained_state() is None and state.history() == MetricsHistory()
    assert not window.isWindowModified()


def test_save_as_architecture_json_still_works_and_says_what_is_left_out(window, tmp_path):
    trained(window)
    path = tmp_path / "only-arch.json"
    window.document.ask_save_path = lambda: path
    assert window.document.save_as()
    assert architecture_file.load(path) == window.network.architecture
    assert "architecture only" in window.statusBar().currentMessage()
    # Save on a .json with trained weights asks where to put the whole project instead of dropping them.
    project = tmp_path / "whole.convscope"
    asked = []
    window.document.ask_save_path = lambda: asked.append(1) or project
    window.document.mark_modified()
    assert window.document.save()
    assert asked and load_project(project).weights is not None and window.document.path == project


def test_open_a_run_folder(qtbot, window, tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    arch = load_preset("lenet5")
    architecture_file.save(arch, folder / "architecture.json")
    model = build_model(arch)
    save_weights(model, folder / "weights.safetensors")
    (folder / "metrics.csv").write_text(HISTORY.to_csv())
    window.document.ask_open_folder = lambda: folder
    with qtbot.waitSignal(window.document.opened):  # read off the GUI thread (tests/gui/document/test_open_folder_off_thread.py)
        window.window_actions.open_folder.trigger()
    state = window.document.state
    assert same_weights(state.trained_state(), model.state_dict()) and state.history() == HISTORY
    assert window.document.path is None and window.document.recent_files()[0] == folder.resolve()


def test_training_marks_the_document_modified_until_saved(window, tmp_path):
    assert not window.isWindowModified()
    window.document.mark_modified()  # what a finished run does: new weights, unsaved
    assert window.isWindowModified() and window.document.is_modified
    window.document.ask_save_path = lambda: tmp_path / "after-run.convscope"
    assert window.document.save()
    assert not window.isWindowModified()


def test_a_real_run_marks_modified_and_its_weights_survive_save_and_open(qtbot, window, fresh_window, tmp_path):
    panel = window.training_panel
    with qtbot.waitSignal(panel.dataset_changed, timeout=60_000):
        panel.select_dataset("mnist")
    panel.set_config(panel.config().replace(epochs=1, batch_size=64, snapshot_interval=0.0))
    window.session.batch_ended.connect(lambda _event: window.session.stop())  # one or two batches are enough
    with qtbot.waitSignal(window.session.finished, timeout=60_000) as finished:
        window.train_action.trigger()
    assert finished.args[0].step >= 1
    assert window.isWindowModified() and window.undo_stack.isClean()
    weights = window.document.state.trained_state()
    assert weights is not None

    path = tmp_path / "run.convscope"
    window.document.ask_save_path = lambda: path
    assert window.document.save() and not window.isWindowModified()
    other = fresh_window()
    assert other.document.open(path)
    assert same_weights(other.document.state.trained_state(), weights)
    assert other.document.state.config() == panel.config()
    assert other.document.state.history() == window.workspace.history
    # The statistics the run normalised with are saved with the weights and come back with them.
    assert load_project(path).normalization == panel.dataset.normalization
    assert other.document.state.normalization() == panel.dataset.normalization


def test_a_bad_command_line_project_shows_its_error_and_the_window_keeps_its_network(tmp_path, fresh_window):
    path = tmp_path / "bad.convscope"
    saved_project(fresh_window(), path)
    _huge_seed(path)
    window = fresh_window()
    before = window.network.architecture
    errors = errors_of(window)
    assert open_window(str(path), "mnist", window=window) is window
    assert len(errors) == 1 and str(path) in errors[0][1] and "seed must be 0 to" in errors[0][1]
    assert window.network.architecture.layers == before.layers and window.document.path is None  # (the input follows mnist)


def test_command_line_project_opens_in_the_window(qtbot, settings, tmp_path, fresh_window):
    path = tmp_path / "cli.convscope"
    weights = saved_project(fresh_window(), path)
    window = fresh_window()
    assert open_window(str(path), "mnist", window=window) is window
    assert window.document.path == path and same_weights(window.document.state.trained_state(), weights)
    assert window.network.architecture == load_project(path).architecture


# -- import weights ---------------------------------------------------------------------------------------------

def test_import_weights_restores_them_and_marks_modified(window, tmp_path):
    model = build_model(window.network.architecture)
    path = tmp_path / "w.safetensors"
    save_weights(model, path)
    window.document.ask_weights_path = lambda: path
    trained(window)  # a previous run's curves and weights, which the imported weights replace
    window.window_actions.import_weights.trigger()
    assert same_weights(window.document.state.trained_state(), model.state_dict())
    assert window.isWindowModified()
    assert not window.document.state.has_curves()  # the old run's curves do not describe these weights
    assert window.live_views.caption.text().startswith("Loaded weights (not trained in this window")
    assert window.statusBar().currentMessage() == f"Imported weights from {path}"


def test_import_weights_with_a_wrong_shape_names_the_tensor(window, tmp_path):
    arch = window.network.architecture
    other = build_model(arch.with_layers((replace(arch.layers[0], out_channels=4),) + arch.layers[1:]))
    path = tmp_path / "wrong.pt"
    save_weights(other, path)
    errors = errors_of(window)
    assert not window.document.import_weights(path)
    title, message = errors[0]
    assert title == "Cannot import weights"
    assert "'0.weight'" in message and "(4, 1, 5, 5)" in message and "(6, 1, 5, 5)" in message
    assert window.document.state.trained_state() is None and not window.isWindowModified()


class _RunsShell:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_a_malicious_pt_is_refused_and_nothing_changes(window, tmp_path):
    weights = trained(window)
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"0.weight": torch.zeros(6, 1, 5, 5), "trap": _RunsShell(marker)}, path)
    errors = errors_of(window)
    assert not window.document.import_weights(path)
    assert "refused" in errors[0][1] and str(path) in errors[0][1]
    assert not marker.exists()
    assert same_weights(window.document.state.trained_state(), weights)


def test_choosing_a_recent_project_opens_it(window, fresh_window, tmp_path):
    path = tmp_path / "again.convscope"
    weights = saved_project(window, path)
    other = fresh_window()
    other.window_actions.recent_menu.aboutToShow.emit()
    next(a for a in other.window_actions.recent_menu.actions() if a.text() == path.name).trigger()
    assert other.document.path == path and same_weights(other.document.state.trained_state(), weights)


def test_a_trained_project_without_stored_statistics_opens_with_a_notice(window, tmp_path):
    from engine.normalization import Normalization
    from engine.project.project_file import Project, save_project
    old, new = tmp_path / "old.convscope", tmp_path / "new.convscope"
    weights = weights_for(LENET)
    save_project(Project(LENET, CONFIG, HISTORY, weights), old)
    save_project(Project(LENET, CONFIG, HISTORY, weights, normalization=Normalization((0.13,), (0.31,))), new)
    window.document.ask_unsaved_changes = lambda: DISCARD
    assert window.document.open(old)
    assert "stores no input normalisation" in window.statusBar().currentMessage()
    assert window.document.open(new)
    assert window.statusBar().currentMessage() == f"Opened {new}"
    assert window.document.state.normalization() == Normalization((0.13,), (0.31,))


def test_the_window_keeps_a_projects_settings_at_the_edges_of_their_ranges(window):
    from engine.config import SEED_MAX
    edge = CONFIG.replace(weight_decay=0.9, seed=SEED_MAX)  # the form once clamped weight decay to 0.5
    window.document.state.set_config(edge)
    assert window.document.state.config() == edge
