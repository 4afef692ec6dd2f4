"""Multiply-adds against an independent oracle: torch's FlopCounterMode, flops / 2, layer by layer.

Definitions, chosen to agree with what FlopCounterMode counts (one multiply-add = 2 flops):
- conv2d: out_channels * out_h * out_w * (in_channels / groups) * kh * kw; linear: in * out.
- Bias additions are not multiply-adds: FlopCounterMode counts only the matrix product of addmm and
  the convolution itself, and the textbook MAC count leaves them out too.
- Pooling, batch-norm, activations, dropout, softmax, flatten: 0 (FlopCounterMode counts no flops for
  them; they are cheap element-wise or window operations, not multiply-adds).
MACs are per sample: the oracle runs a batch of 3 and divides by 3.
"""

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from torch.utils.flop_counter import FlopCounterMode

from engine.network.builder import build_model
from models.presets import PRESET_KEYS, load_preset
from models.shapes import analyze
from tests.models.strategies import architectures, valid_prefix

BATCH = 3


def assert_macs_match_the_flop_counter(arch):
    analysis = analyze(arch)
    model = build_model(arch, analysis).eval()
    x = torch.randn(BATCH, *arch.input.as_tuple())
    with torch.no_grad():
        for layer, la in zip(model, analysis.layers):
            with FlopCounterMode(display=False) as counter:
                x = layer(x)
            flops = counter.get_total_flops()
            assert flops % (2 * BATCH) == 0, la.label
            assert flops // (2 * BATCH) == la.macs, la.label


@pytest.mark.parametrize("key", PRESET_KEYS)
def test_every_presets_macs_equal_torchs_flop_count_over_two(key):
    from tests.engine.test_graph_builder import assert_graph_matches_torch  # counts a graph's flops node by node

    arch = load_preset(key)
    (assert_graph_matches_torch if arch.is_graph else assert_macs_match_the_flop_counter)(arch)
    assert analyze(arch).total_macs > 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(architectures())
def test_generated_architectures_macs_equal_torchs_flop_count_over_two(arch):
    prefix = valid_prefix(arch)
    if prefix is not None:
        assert_macs_match_the_flop_counter(prefix)
