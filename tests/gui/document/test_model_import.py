"""File > Import Model...: the import runs on a job thread, the project is written and opened; Python code runs only
after the user agrees; a refused model shows the engine's message and writes nothing."""

from __future__ import annotations

import textwrap

import pytest
import torch

from engine.normalization import Normalization
from engine.project.project_file import load_project
from gui.document.document_io import DISCARD
from tests.engine.import_sources import lenet5, onnx_file

pytest.importorskip("onnx")

MODULE = textwrap.dedent("""
    from pathlib import Path
    from torch import nn

    Path(__file__).with_suffix(".ran").touch()  # proof that the file's code ran

    def make():
        return nn.Sequential(nn.Conv2d(1, 3, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(3 * 12 * 12, 10))
""")


def _refuse(*_args):
    raise AssertionError("this dialog was not expected")


@pytest.fixture
def importer(window):
    controller = window.model_import
    for seam in ("ask_source_path", "ask_factory", "ask_input_shape", "ask_run_code", "ask_destination",
                 "show_error"):
        setattr(controller, seam, _refuse)
    window.document.ask_unsaved_changes = lambda: DISCARD
    return controller


def test_an_onnx_model_is_imported_off_the_gui_thread_written_and_opened(window, importer, tmp_path, qtbot):
    model, arch = lenet5()
    source = onnx_file(model, (1, 28, 28), tmp_path / "lenet5.onnx")
    out = tmp_path / "imported.convscope"
    importer.ask_source_path = lambda: source
    importer.ask_destination = lambda suggested: out
    with qtbot.waitSignal(importer.imported, timeout=60_000):
        window.window_actions.import_model.trigger()
        assert importer.is_busy  # the action returned while the job thread imports
    assert window.document.path == out
    assert window.network.architecture.layers == arch.layers
    weights = window.document.state.trained_state()
    for name, tensor in model.state_dict().items():
        assert torch.equal(weights[name], tensor), name
    assert load_project(out).normalization == Normalization((0.0,), (1.0,))


def test_a_python_module_runs_only_after_the_user_agrees(window, importer, tmp_path, qtbot):
    path = tmp_path / "net.py"
    path.write_text(MODULE)
    out = tmp_path / "net.convscope"
    importer.ask_source_path = lambda: path
    importer.ask_factory = lambda p: "make"
    importer.ask_input_shape = lambda default: (1, 28, 28)
    importer.ask_run_code = lambda p: False
    assert not importer.start()
    assert not path.with_suffix(".ran").exists() and not out.exists()

    importer.ask_run_code = lambda p: True
    importer.ask_destination = lambda suggested: out
    with qtbot.waitSignal(importer.imported, timeout=60_000):
        assert importer.start()
    assert path.with_suffix(".ran").exists()
    assert [s.TYPE for s in window.network.architecture.layers] == ["conv2d", "relu", "maxpool2d", "flatten",
                                                                     "linear"]
    assert window.document.path == out


def test_a_refused_model_shows_the_node_and_writes_nothing(window, importer, tmp_path, qtbot):
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Sin", ["x"], ["y"], name="wave")], "sin",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 28, 28])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 28, 28])])
    source = tmp_path / "sin.onnx"
    source.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    out = tmp_path / "sin.convscope"
    before = window.network.architecture
    errors: list[tuple[str, str]] = []
    importer.ask_source_path = lambda: source
    importer.ask_destination = lambda suggested: out
    importer.show_error = lambda title, message: errors.append((title, message))
    with qtbot.waitSignal(importer.failed, timeout=60_000):
        window.window_actions.import_model.trigger()
    assert len(errors) == 1 and "node 0 (Sin 'wave'): not supported" in errors[0][1]
    assert not out.exists()
    assert window.network.architecture == before and window.document.path is None
