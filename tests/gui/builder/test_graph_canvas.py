"""A graph network (ResNet-20) in the builder: it opens, every layer is a block, merges show their branches."""

from __future__ import annotations

from pathlib import Path

import pytest

from models import graph

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
        assert view.kind == "layer" and not view.error
    add = next(i for i, spec in enumerate(network.layers) if spec.TYPE == "add")
    assert canvas.block_view(add).title == "Add"
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
