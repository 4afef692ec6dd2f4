"""The ResNet-20 preset (He et al. 2016, section 4.2): 272,474 parameters, built and run as the analysis says."""

import json
import subprocess
import sys
from pathlib import Path

from models import architecture_file
from models.shapes import analyze
from tests.engine.test_graph_builder import assert_graph_matches_torch

ROOT = Path(__file__).resolve().parents[2]
PRESET = ROOT / "resources" / "presets" / "resnet20.json"


def test_summary_reports_the_papers_272474_parameters():
    result = subprocess.run([sys.executable, "main.py", "summary", str(PRESET), "--json"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["total_params"] == 272_474 and not data["errors"]


def test_the_preset_is_three_stages_of_three_basic_blocks_with_two_projection_shortcuts():
    arch = architecture_file.load(PRESET)
    analysis = analyze(arch)
    adds = [la for la in analysis.layers if la.type == "add"]
    assert len(adds) == 9
    assert [la.output_shape for la in adds] == [(16, 32, 32)] * 3 + [(32, 16, 16)] * 3 + [(64, 8, 8)] * 3
    shortcuts = [arch.layers[s - 1] for la in adds for s in la.sources if arch.layers[s - 1].TYPE == "batchnorm2d"
                 and analysis.layers[s - 2].type == "conv2d" and arch.layers[s - 2].kernel_size == 1]
    assert len(shortcuts) == 2
    convs = [spec for spec in arch.layers if spec.TYPE == "conv2d"]
    assert len(convs) == 21 and not any(spec.bias for spec in convs)  # 19 3x3 + 2 1x1 shortcuts; 20 = 19 + linear
    assert analysis.output_shape == (10,) and arch.layers[-2].TYPE == "global_avgpool2d"


def test_the_built_resnet20_matches_the_analysis_node_by_node():
    assert_graph_matches_torch(architecture_file.load(PRESET))
