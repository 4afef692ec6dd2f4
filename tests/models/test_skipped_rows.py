"""A strided layer's 'windows never reach' warning: lost rows in a chain, forgiven where another reader of the
same layer reads them (ResNet's 1x1 stride-2 shortcut beside the main branch's 3x3 stride-2 conv)."""

from __future__ import annotations

from models.architecture import Architecture, InputShape
from models.architecture_file import from_dict
from models.layers import Conv2dSpec
from models.presets import load_preset
from models.shapes import NEVER_REACH, analyze


def _skips(analysis) -> list[int]:
    return [la.index for la in analysis.layers if any(w.startswith(NEVER_REACH) for w in la.warnings)]


def test_a_chain_that_skips_rows_is_warned():
    arch = Architecture("skip", InputShape(1, 32, 32), (Conv2dSpec(4, 1, stride=2),))
    assert _skips(analyze(arch)) == [1]


def test_resnet20s_projection_shortcuts_are_not_warned_about():
    analysis = analyze(load_preset("resnet20"))
    assert analysis.layers and _skips(analysis) == []
    assert not [w for w in analysis.warnings if NEVER_REACH in w]


def test_a_branch_is_warned_when_no_other_reader_reads_the_rows():
    # Two 1x1 stride-2 branches of the input, concatenated: both skip the odd rows, and nothing else reads them.
    graph = {"format": "convscope.architecture", "version": 3, "name": "two shortcuts",
             "input": {"channels": 1, "height": 32, "width": 32},
             "layers": [{"type": "conv2d", "out_channels": 4, "kernel_size": 1, "stride": 2, "padding": 0, "inputs": [0]},
                        {"type": "conv2d", "out_channels": 4, "kernel_size": 1, "stride": 2, "padding": 0, "inputs": [0]},
                        {"type": "concat", "inputs": [1, 2]}]}
    assert _skips(analyze(from_dict(graph))) == [1, 2]
