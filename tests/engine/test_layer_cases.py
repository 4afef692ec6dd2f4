"""The explainer's step values equal each layer's real output on a probe sample, trained or initial weights."""

import numpy as np
import pytest
import torch

from engine.inspection.layer_cases import explained_model, layer_case, window_layers
from models import architecture_file
from models import convolution_steps as cs
from models.presets import PRESET_KEYS, load_preset


@pytest.mark.parametrize("key", PRESET_KEYS)
def test_every_window_layer_of_every_preset_steps_to_its_real_output(key):
    arch = load_preset(key)
    model = explained_model(arch, None, seed=3)
    sample = torch.randn(arch.input.as_tuple(), generator=torch.Generator().manual_seed(0))
    layers = window_layers(arch)
    assert layers
    for index, label in layers:
        case = layer_case(model, arch, index, sample)
        assert case.label == label
        # float32 in torch, float64 here: agree to float32's precision
        np.testing.assert_allclose(cs.output(case.op, case.input), case.output, rtol=1e-4, atol=1e-5)
        m = case.output.shape[0] - 1
        i, j = case.output.shape[1] // 2, case.output.shape[2] - 1
        assert cs.step(case.op, case.input, m, i, j).value == pytest.approx(case.output[m, i, j], rel=1e-4, abs=1e-5)


def test_trained_weights_are_the_ones_explained():
    arch = architecture_file.loads('{"format": "convscope.architecture", "version": 1, "input": {"channels": 2, '
                                   '"height": 7, "width": 7}, "layers": [{"type": "conv2d", "out_channels": 4, '
                                   '"kernel_size": 3, "stride": 2, "padding": "same", "groups": 2}, '
                                   '{"type": "flatten"}, {"type": "linear", "out_features": 3}]}')
    state = {k: torch.full_like(v, 0.5) for k, v in explained_model(arch, None, 0).state_dict().items()}
    case = layer_case(explained_model(arch, state, 0), arch, 1, torch.ones(2, 7, 7))
    assert np.all(case.op.weights == 0.5) and case.op.groups == 2 and case.op.padding == (1, 1, 1, 1)
    np.testing.assert_allclose(cs.output(case.op, case.input), case.output, rtol=1e-6)


def test_initial_weights_follow_the_seed_and_leave_the_global_rng_alone():
    arch = load_preset("lenet5")
    state = torch.random.get_rng_state()
    a, b = explained_model(arch, None, 1), explained_model(arch, None, 1)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert torch.equal(a[0].weight, b[0].weight) and not torch.equal(a[0].weight, explained_model(arch, None, 2)[0].weight)


def test_a_layer_without_windows_is_refused_by_name():
    arch = load_preset("lenet5")
    with pytest.raises(ValueError, match="layer 2 \\(relu\\) is not a conv or pooling layer"):
        layer_case(explained_model(arch, None, 0), arch, 2, torch.zeros(1, 28, 28))
