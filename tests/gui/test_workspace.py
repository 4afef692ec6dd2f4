"""The workspace: a Qt-free evented object; fields change by replacement, by identity, and say so once."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

from engine.metrics import MetricsHistory
from gui.workspace import TrainedWeights, Workspace
from models.presets import load_preset

ROOT = Path(__file__).resolve().parents[2]
LENET = load_preset("lenet5")


def test_replacing_a_field_emits_its_new_value_once_and_the_same_object_emits_nothing():
    workspace, seen = Workspace(), []
    for name in ("dataset", "trained", "history", "probe_index", "followed_run"):
        getattr(workspace.events, name).connect(lambda value, *, name=name: seen.append((name, value)))
    history = MetricsHistory()
    workspace.history = history
    workspace.history = history          # the same object: nothing happened
    workspace.probe_index = 4
    workspace.probe_index = 4
    workspace.followed_run = Path("run")
    assert seen == [("history", history), ("probe_index", 4), ("followed_run", Path("run"))]
    workspace.history = MetricsHistory()  # equal rows, another object: a new run's curves, announced
    assert len(seen) == 4


def test_trained_weights_belong_to_the_network_they_were_trained_as():
    workspace = Workspace(trained=TrainedWeights({}, LENET))
    assert workspace.trained_for(replace(LENET, name="renamed")) is workspace.trained  # a name is not an edit
    edited = LENET.with_layers(LENET.layers[:-2])
    assert workspace.trained_for(edited) is None
    assert Workspace().trained_for(LENET) is None


def test_the_probe_falls_back_to_the_first_sample_of_a_smaller_split():
    workspace = Workspace(probe_index=7)
    assert workspace.probe_in(SimpleNamespace(val=range(10))) == 7
    assert workspace.probe_in(SimpleNamespace(val=range(5))) == 0
    assert workspace.probe_in(None) == 0


def test_extras_round_trip_the_probe_and_ignore_what_is_not_a_probe():
    workspace = Workspace(probe_index=3)
    other = Workspace()
    other.set_extras(workspace.extras())
    assert other.probe_index == 3
    for bad in ({}, None, {"ui": {"probe_index": True}}, {"ui": {"probe_index": -1}}, {"ui": "x"}):
        other.set_extras(bad)
        assert other.probe_index == 3


def test_the_workspace_loads_neither_qt_nor_torch():
    """It is the model the window observes, built and tested without a window, imported before torch is."""
    code = "import sys, gui.workspace; print(sorted({m.split('.')[0] for m in sys.modules} & {'PySide6', 'torch'}))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
