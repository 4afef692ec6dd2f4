"""Snapshots: shapes as analyze() infers them, values equal to torch's own forward pass, copies not views."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.network.builder import build_model
from engine.config import TrainConfig
from engine.network.probes import capture_snapshot, probe_layout
from engine.training.trainer import Callback, Trainer
from models.layers import pair
from models.presets import load_preset
from models.shapes import analyze
from tests.engine.training_data import random_dataset, tiny_arch, tiny_dataset


class Snapshots(Callback):
    def __init__(self) -> None:
        self.events = []
        self.weights_at_the_time = []

    def on_snapshot(self, event):
        self.events.append(event)
        self.weights_at_the_time.append({k: v.copy() for k, v in event.weights.items()})


@pytest.mark.parametrize("preset", ["lenet5", "all_conv", "tiny_vgg"])
def test_snapshot_shapes_equal_the_inferred_shapes(preset):
    arch = load_preset(preset)
    analysis = analyze(arch)
    dataset = random_dataset(arch.input.as_tuple(), num_classes=analysis.output_shape[0], n=8)
    rec = Snapshots()
    Trainer(arch, dataset, TrainConfig(epochs=1, batch_size=4, device="cpu", threads=1), [rec]).fit()
    first, last = rec.events[0], rec.events[-1]
    assert (first.step, last.step) == (0, 2)
    assert list(last.activations) == [la.label for la in analysis.layers]
    for la in analysis.layers:
        assert last.activations[la.label].shape == la.output_shape, la.label
        if la.type == "conv2d":
            kernel = pair(arch.layers[la.index - 1].kernel_size)
            assert last.weights[la.label].shape == (la.output_shape[0], la.input_shape[0], *kernel)
    assert set(last.weights) == {la.label for la in analysis.layers if la.type == "conv2d"}
    assert set(last.gradient_norms) == {la.label for la in analysis.layers if la.params}
    assert all(v > 0 for v in last.gradient_norms.values())
    assert all(v == 0 for v in first.gradient_norms.values())  # no backward pass before step 0
    assert last.probabilities.shape == (analysis.output_shape[0],)
    assert last.probabilities.sum() == pytest.approx(1.0, abs=1e-5)


def test_activations_and_probabilities_match_torch_forward_of_the_probe():
    arch = tiny_arch(softmax=True)
    dataset = tiny_dataset()
    model = build_model(arch)
    analysis = analyze(arch)
    event = capture_snapshot(model, probe_layout(model, analysis), dataset.val.images[7], step=0, epoch=0,
                             probe_index=7)
    model.eval()
    with torch.no_grad():
        x = dataset.val.images[7:8]
        expected_conv = model[0](x)[0].numpy()
        expected_probs = model(x)[0].numpy()
        expected_logits = model.logits(x)[0]
    np.testing.assert_allclose(event.activations["layer 1 (conv2d)"], expected_conv, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(event.activations["layer 6 (softmax)"], expected_probs, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(event.probabilities, torch.softmax(expected_logits, 0).numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(event.weights["layer 1 (conv2d)"], model[0].weight.detach().numpy())


def test_snapshot_arrays_are_copies_that_training_does_not_change():
    rec = Snapshots()
    trainer = Trainer(tiny_arch(), tiny_dataset(), TrainConfig(epochs=2, batch_size=16, snapshot_interval=0.0,
                                                               device="cpu", threads=1), [rec])
    trainer.fit()
    assert len(rec.events) == 13  # step 0, then every batch (snapshot_interval 0)
    for event, then in zip(rec.events, rec.weights_at_the_time):
        for label, array in event.weights.items():
            np.testing.assert_array_equal(array, then[label])
    first, last = rec.events[0].weights["layer 1 (conv2d)"], rec.events[-1].weights["layer 1 (conv2d)"]
    assert not np.array_equal(first, last)
    np.testing.assert_array_equal(last, trainer.model[0].weight.detach().numpy())
    assert not np.shares_memory(last, trainer.model[0].weight.detach().numpy())


def test_snapshots_are_throttled_by_wall_clock():
    rec = Snapshots()
    Trainer(tiny_arch(), tiny_dataset(), TrainConfig(epochs=3, batch_size=16, snapshot_interval=3600.0,
                                                     device="cpu", threads=1), [rec]).fit()
    assert [e.step for e in rec.events] == [0, 18]  # the start and the end only


class _Spy(Callback):
    """Sees what the trainer hands its snapshot hooks, as a callback that reads no layer tensors."""

    reads_layer_tensors = False

    def __init__(self) -> None:
        self.events = []

    def on_snapshot(self, event):
        self.events.append(event)


def test_a_run_whose_callbacks_read_no_layer_tensors_copies_none_off_the_device(tmp_path):
    # The run folder's writer saves the state dict: activations and filters copied for it were thrown away.
    from engine.run_folder.writer import RunFolderWriter

    config = TrainConfig(epochs=1, batch_size=32, device="cpu", threads=1)
    trainer = Trainer(tiny_arch(), tiny_dataset(), config)
    writer, spy = RunFolderWriter(tmp_path, trainer.model, tiny_arch(), config), _Spy()
    writer.start()
    trainer.callbacks += [writer, spy]
    writer.finish(trainer.fit())
    assert spy.events and all(e.activations == {} and e.weights == {} for e in spy.events)
    last = spy.events[-1]
    assert last.gradient_norms and all(v > 0 for v in last.gradient_norms.values())
    assert last.probabilities.sum() == pytest.approx(1.0, abs=1e-5)  # still recorded in the log

    reader = Snapshots()  # one callback that reads them is enough for every snapshot to carry them
    trainer = Trainer(tiny_arch(), tiny_dataset(), config, [_Spy(), reader])
    trainer.fit()
    assert all(e.activations and e.weights for e in reader.events)


def test_probabilities_without_layer_tensors_equal_those_with_them():
    arch = tiny_arch(softmax=True)
    model, analysis = build_model(arch), analyze(arch)
    probe = tiny_dataset().val.images[3]
    layout = probe_layout(model, analysis)
    full = capture_snapshot(model, layout, probe, step=0, epoch=0, probe_index=3)
    light = capture_snapshot(model, layout, probe, step=0, epoch=0, probe_index=3, layer_tensors=False)
    np.testing.assert_array_equal(light.probabilities, full.probabilities)
    assert light.gradient_norms == full.gradient_norms and (light.activations, light.weights) == ({}, {})
