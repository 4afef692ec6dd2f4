"""A graph network (ResNet-20) in the builder: it opens, every layer is a block, merges show their branches."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt

from gui.builder.mime import layer_mime_data
from models import architecture_file, graph, graph_edits

RESNET20 = Path(__file__).resolve().parents[3] / "resources" / "presets" / "resnet20.json"


@pytest.fixture
def resnet_window(window):
    window.document.open(RESNET20)
    assert window.network.architecture.is_graph
    return window


def test_resnet20_opens_with_one_block_per_layer(resnet_window):
    canvas, network = resnet_window.canvas, resnet_window.network
    for index, spec in enumerate(network.layers):
        view = canvas.block_view(index)
        assert view.kind == ("merge" if spec.TYPE == "add" else "layer") and not view.error
    add = next(i for i, spec in enumerate(network.layers) if spec.TYPE == "add")
    assert canvas.block_view(add).title == "+ Add"
    assert canvas.block_view(add).shape == "16x28x28"  # the window keeps MNIST's input shape
    assert resnet_window.validity_label.text().startswith("\u2714 Valid")


def test_the_inspector_lists_a_merges_inputs_and_their_shapes(resnet_window):
    network, inspector = resnet_window.network, resnet_window.inspector
    add = next(i for i, spec in enumerate(network.layers) if spec.TYPE == "add")
    network.select(add)
    text = inspector.shape_label.text()
    for source in graph.sources(network.architecture)[add]:
        assert graph.source_label(source, network.architecture) in text
    assert text.count("16x28x28") == 3  # both branches and the sum
    assert "Adds its inputs" in inspector.summary_label.text()


def _dict(window) -> dict:
    return architecture_file.to_dict(window.network.architecture)


def test_every_input_of_every_layer_has_a_connector_and_shortcuts_run_in_lanes(resnet_window):
    canvas, arch = resnet_window.canvas, resnet_window.network.architecture
    drawn = [(c.source, c.target + 1) for c in canvas.connectors if c.editable]
    wanted = [(s, n) for n, srcs in enumerate(graph.sources(arch), start=1) for s in srcs]
    assert sorted(drawn) == sorted(wanted)
    identity = [(s, n) for s, n in wanted if arch.layers[n - 1].TYPE == "add" and arch.layers[s - 1].TYPE == "relu"]
    assert identity and all(c.lane for c in canvas.connectors if (c.source, c.target + 1) in identity)
    # a projection shortcut's 1x1 conv sits beside the main path's first conv, not below it
    projection = next(i for i, spec in enumerate(arch.layers) if spec.TYPE == "conv2d" and spec.kernel_size == 1)
    beside = canvas.block_rect(projection)
    first_of_stage = projection - 5
    assert beside.top() == canvas.block_rect(first_of_stage).top()
    assert beside.left() > canvas.block_rect(first_of_stage).right()


def test_dragging_from_a_port_to_a_block_connects_them_and_undo_restores_it(window, qtbot):
    canvas, before = window.canvas, _dict(window)
    relu, conv = 1, 3  # LeNet-5's first relu, to the second conv: the conv gets an add in front of it
    qtbot.mousePress(canvas.viewport(), Qt.MouseButton.LeftButton, pos=canvas.port_point(relu))
    qtbot.mouseMove(canvas.viewport(), canvas.block_rect(conv).center())
    qtbot.mouseRelease(canvas.viewport(), Qt.MouseButton.LeftButton, pos=canvas.block_rect(conv).center())
    arch = window.network.architecture
    assert [s.TYPE for s in arch.layers[:5]] == ["conv2d", "relu", "maxpool2d", "add", "conv2d"]
    assert graph.sources(arch)[3:5] == ((3, 2), (4,))
    assert arch == graph_edits.connected(architecture_file.from_dict(before), 2, 4)
    assert "6x14x14 from layer 3 (maxpool2d) vs 6x28x28 from layer 2 (relu)" in canvas.block_view(3).error
    assert "layer 4 (add): 6x14x14 from layer 3" in window.validity_label.toolTip()  # the status names both too
    assert canvas.connectors  # the chain became a graph: its connectors are drawn
    window.undo_stack.undo()
    assert _dict(window) == before and not canvas.connectors
    window.undo_stack.redo()
    assert window.network.architecture == arch


def test_a_connection_back_up_the_graph_is_refused_with_the_reason(window, qtbot):
    canvas, before = window.canvas, _dict(window)
    with qtbot.waitSignal(canvas.wiring_refused) as refused:
        qtbot.mousePress(canvas.viewport(), Qt.MouseButton.LeftButton, pos=canvas.port_point(3))
        qtbot.mouseRelease(canvas.viewport(), Qt.MouseButton.LeftButton, pos=canvas.block_rect(1).center())
    assert "cycle" in refused.args[0]
    assert "cycle" in window.statusBar().currentMessage()
    assert _dict(window) == before and window.undo_stack.count() == 0


def test_a_selected_connector_is_deleted_with_the_delete_key_and_undo_brings_it_back(resnet_window, qtbot):
    canvas, network = resnet_window.canvas, resnet_window.network
    add = next(i for i, spec in enumerate(network.layers) if spec.TYPE == "add")
    shortcut = graph.sources(network.architecture)[add][1]
    before = _dict(resnet_window)
    qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=canvas.connector_point(shortcut, add))
    assert canvas.selected_connection == (shortcut, add) and network.selected is None
    qtbot.keyClick(canvas, Qt.Key.Key_Delete)
    assert len(network) == len(before["layers"])  # the window's "Delete layer" did not run
    assert shortcut not in graph.sources(network.architecture)[add]
    assert "reads only" in network.analysis.layers[add].error  # an add with one input says so on its block
    assert canvas.block_view(add).error
    resnet_window.undo_stack.undo()
    assert _dict(resnet_window) == before


def test_a_residual_block_from_the_palette_is_one_undo_step(window, drag_and_drop):
    canvas, before = window.canvas, _dict(window)
    gap = canvas.block_rect(0)
    pos = gap.bottomLeft() + QPoint(gap.width() // 2, 10)
    assert canvas.index_at(pos) == 1
    drag_and_drop(canvas.viewport(), layer_mime_data("residual_block_down"), pos)
    arch, analysis = window.network.architecture, window.network.analysis
    assert [s.TYPE for s in arch.layers[1:10]] == ["conv2d", "batchnorm2d", "relu", "conv2d", "batchnorm2d",
                                                   "conv2d", "batchnorm2d", "add", "relu"]
    assert arch.layers[6].kernel_size == 1 and arch.layers[6].stride == 2  # the projection shortcut
    assert analysis.layers[8].output_shape == (12, 14, 14)  # LeNet's 6 channels doubled, 28x28 halved
    assert graph.sources(arch)[10] == (10,)  # the relu after LeNet's conv now reads the block
    window.undo_stack.undo()
    assert _dict(window) == before
    window.undo_stack.redo()
    assert window.network.architecture == arch


def test_a_layer_dropped_below_a_block_of_a_graph_goes_on_its_way_out(resnet_window, drag_and_drop):
    canvas, network = resnet_window.canvas, resnet_window.network
    before = network.architecture
    rect = canvas.block_rect(2)  # the stem's relu, which feeds the first block and its shortcut
    drag_and_drop(canvas.viewport(), layer_mime_data("dropout"), QPoint(rect.center().x(), rect.bottom() + 8))
    arch = network.architecture
    assert arch.layers[3].TYPE == "dropout" and graph.sources(arch)[3] == (3,)
    assert all(3 not in srcs for srcs in graph.sources(arch)[4:])  # all that read the relu read the dropout
    assert network.analysis.is_valid
    resnet_window.undo_stack.undo()
    assert network.architecture == before


def test_a_connection_into_a_concat_adds_a_branch_and_the_connector_says_what_flows(window, qtbot):
    canvas, network = window.canvas, window.network
    window.editor.insert_new(3, "concat")  # after LeNet's pooling: reads only it, and says so
    assert "joins two or more inputs" in network.analysis.layers[3].error
    before = _dict(window)
    qtbot.mousePress(canvas.viewport(), Qt.MouseButton.LeftButton, pos=canvas.port_point(2))  # the pooling...
    qtbot.mouseRelease(canvas.viewport(), Qt.MouseButton.LeftButton, pos=canvas.block_rect(3).center())
    assert _dict(window) == before  # ...is already its input: refused, nothing pushed
    qtbot.mousePress(canvas.viewport(), Qt.MouseButton.LeftButton, pos=canvas.port_point(0))  # the first conv
    qtbot.mouseRelease(canvas.viewport(), Qt.MouseButton.LeftButton, pos=canvas.block_rect(3).center())
    arch = network.architecture
    assert len(arch.layers) == len(before["layers"]) and graph.sources(arch)[3] == (3, 1)  # no add: it merges
    assert "heights and widths must be equal" in network.analysis.layers[3].error
    assert "layer 1 (conv2d) \u2192 layer 4 (concat): 6x28x28" in canvas.connector_tooltip(1, 3)
    window.undo_stack.undo()
    assert _dict(window) == before
