"""Graphs built with torch: every node's real output shape, parameters and flops against the analysis; snapshots,
training and softmax logits of a graph."""

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from torch.utils.flop_counter import FlopCounterMode

from engine.config import TrainConfig
from engine.events import COMPLETED
from engine.network.builder import ConvNet, GraphNet, build_model
from engine.network.fully_convolutional import NotFullyConvolutional, fully_convolutional
from engine.network.probes import capture_snapshot, probe_layout
from engine.training.trainer import Trainer
from models.architecture import Architecture, InputShape
from models.layers import (AddSpec, ConcatSpec, Conv2dSpec, FlattenSpec, GlobalAvgPool2dSpec, LinearSpec, ReluSpec,
                           SoftmaxSpec)
from models.shapes import analyze
from tests.engine.training_data import tiny_dataset
from tests.models.graph_strategies import graphs

BATCH = 3


def assert_graph_matches_torch(arch: Architecture) -> None:
    analysis = analyze(arch)
    assert analysis.is_valid, analysis.errors
    model = build_model(arch, analysis).eval()
    assert isinstance(model, GraphNet) == arch.is_graph  # a drawn graph may come out a chain
    x = torch.randn(BATCH, *arch.input.as_tuple())
    outputs = {0: x}
    modules = list(model)
    with torch.no_grad():
        for number in analysis.order:  # run here node by node, independently of GraphNet.forward
            la = analysis.layers[number - 1]
            with FlopCounterMode(display=False) as counter:
                out = modules[number - 1](*(outputs[s] for s in la.sources))
            outputs[number] = out
            assert tuple(out.shape[1:]) == la.output_shape, la.label
            assert sum(p.numel() for p in modules[number - 1].parameters()) == la.params, la.label
            assert counter.get_total_flops() == 2 * BATCH * la.macs, la.label
        torch.testing.assert_close(model(x), outputs[len(modules)])
    assert sum(p.numel() for p in model.parameters()) == analysis.total_params


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_random_graphs_match_torch_shapes_parameters_and_flops(arch):
    assert_graph_matches_torch(arch)


def skip_block(softmax: bool = False) -> Architecture:
    layers = [Conv2dSpec(4, 3, padding=1), ReluSpec(), Conv2dSpec(4, 3, padding=1), AddSpec(),
              Conv2dSpec(2, 1), ConcatSpec(), GlobalAvgPool2dSpec(), LinearSpec(3)]
    inputs = [None, None, None, (3, 2), (0,), (4, 5), None, None]
    if softmax:
        layers.append(SoftmaxSpec())
        inputs.append(None)
    return Architecture("skip", InputShape(1, 8, 8), tuple(layers), tuple(inputs))


def test_a_chain_still_builds_a_plain_sequential_convnet():
    arch = Architecture("c", InputShape(1, 8, 8), (Conv2dSpec(2, 3), FlattenSpec(), LinearSpec(3)))
    model = build_model(arch)
    assert type(model) is ConvNet and type(model).forward is torch.nn.Sequential.forward


def test_graph_state_dict_keys_are_the_layer_positions_as_in_a_chain():
    keys = list(build_model(skip_block()).state_dict())
    assert keys == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias", "7.weight", "7.bias"]


def test_logits_of_a_graph_ending_in_softmax_are_its_scores():
    model = build_model(skip_block(softmax=True)).eval()
    x = torch.randn(2, 1, 8, 8)
    logits = model.logits(x)
    assert logits.shape == (2, 3)
    torch.testing.assert_close(model(x), torch.softmax(logits, dim=1))


def test_a_snapshot_of_a_graph_has_every_layers_activation_as_the_graph_computes_it():
    arch = skip_block(softmax=True)
    analysis = analyze(arch)
    model = build_model(arch, analysis)
    probe = torch.randn(1, 8, 8)
    event = capture_snapshot(model, probe_layout(model, analysis), probe, step=0, epoch=0, probe_index=0)
    assert list(event.activations) == [la.label for la in analysis.layers]
    model.eval()
    with torch.no_grad():
        expected = model.layer_outputs(probe.unsqueeze(0))
    for la in analysis.layers:
        assert event.activations[la.label].shape == la.output_shape
        assert torch.allclose(torch.from_numpy(event.activations[la.label]), expected[la.index][0], atol=1e-6)
    assert list(event.weights) == ["layer 1 (conv2d)", "layer 3 (conv2d)", "layer 5 (conv2d)"]
    probabilities = torch.softmax(expected[8][0], dim=0)
    assert torch.allclose(torch.from_numpy(event.probabilities), probabilities, atol=1e-6)


def test_the_trainer_trains_a_graph_and_every_layer_learns():
    arch = skip_block()
    config = TrainConfig(epochs=2, batch_size=32, snapshot_interval=1e9, device="cpu", threads=1, seed=0)
    trainer = Trainer(arch, tiny_dataset(), config, [], log_interval=0.0)
    before = {k: v.clone() for k, v in build_model(arch).state_dict().items()}
    finished = trainer.fit()
    assert finished.reason == COMPLETED and finished.step == 6
    after = trainer.model.state_dict()
    assert isinstance(trainer.model, GraphNet)
    moved = {k.split(".")[0] for k in after if not torch.equal(after[k].cpu(), before[k])}
    assert moved == {"0", "2", "4", "7"}  # the shortcut branch (layer 5) learns too


def test_the_fully_convolutional_rewrite_refuses_a_graph_by_name():
    with pytest.raises(NotFullyConvolutional, match="skip is a graph"):
        fully_convolutional(skip_block())


def test_output_of_reaches_any_layer_of_a_graph_or_a_chain():
    model = build_model(skip_block(softmax=True)).eval()
    x = torch.randn(2, 1, 8, 8)
    with torch.no_grad():
        every = model.layer_outputs(x)
        for number in range(1, 10):
            torch.testing.assert_close(model.output_of(x, number), every[number])
    chain = build_model(Architecture("c", InputShape(1, 8, 8), (Conv2dSpec(2, 3), ReluSpec(), FlattenSpec())))
    with torch.no_grad():
        torch.testing.assert_close(chain.output_of(x, 2), torch.relu(chain[0](x)))


def test_running_a_graphs_children_one_after_another_fails_loudly_at_the_merge():
    model = build_model(skip_block()).eval()
    x = torch.randn(1, 1, 8, 8)
    with pytest.raises(ValueError, match="Add joins two or more inputs but was given 1"):
        for module in model:
            x = module(x)
