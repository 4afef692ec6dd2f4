"""`python main.py export`: every format from a project or a run folder; errors exit 2 with one line."""

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from engine.network.builder import build_model
from engine.export.target import example_input
from engine.export.torch_formats import load_torchscript
from engine.metrics import MetricsHistory
from engine.project.project_file import Project, save_project
from engine.network.weights import save_weights
from main import main
from models import architecture_file
from models.presets import load_preset

ROOT = Path(__file__).resolve().parents[2]
HISTORY = MetricsHistory(batches=[(1, 1, 2.0, 0.2), (2, 1, 1.5, 0.4)], epochs=[(1, 2, 1.75, 0.3, 1.6, 0.35)])


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model(load_preset("all_conv")).eval()


@pytest.fixture
def project_file(tmp_path, model):
    path = tmp_path / "net.convscope"
    save_project(Project(load_preset("all_conv"), history=HISTORY, weights=model.state_dict()), path)
    return path


def export(capsys, source, fmt, out):
    code = main(["export", str(source), "--format", fmt, "--out", str(out)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("fmt, name", [("state-dict", "w.pt"), ("safetensors", "w.safetensors")])
def test_weights_formats(capsys, tmp_path, project_file, model, fmt, name):
    code, out, err = export(capsys, project_file, fmt, tmp_path / name)
    assert (code, err) == (0, "") and out == f"wrote {tmp_path / name}\n"
    state = torch.load(tmp_path / name, weights_only=True) if fmt == "state-dict" else load_file(tmp_path / name)
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())


def test_torchscript_from_a_project(capsys, tmp_path, project_file, model):
    assert export(capsys, project_file, "torchscript", tmp_path / "net.pt")[0] == 0
    x = example_input(load_preset("all_conv"), 2)
    with torch.no_grad():
        assert torch.equal(load_torchscript(tmp_path / "net.pt")(x), model(x))


def test_onnx_and_python_from_a_run_folder(capsys, tmp_path, model):
    run = tmp_path / "run"
    run.mkdir()
    architecture_file.save(load_preset("all_conv"), run / "architecture.json")
    save_weights(model, run / "weights.safetensors")
    assert export(capsys, run, "onnx", tmp_path / "net.onnx")[0] == 0
    assert (tmp_path / "net.onnx").stat().st_size > 1000
    code, out, _ = export(capsys, run, "python", tmp_path / "net.py")
    assert code == 0 and out.splitlines() == [f"wrote {tmp_path / 'net.py'}", f"wrote {tmp_path / 'net.safetensors'}"]


def test_tables_and_images(capsys, tmp_path, project_file):
    assert export(capsys, project_file, "metrics-csv", tmp_path / "m.csv")[0] == 0
    assert MetricsHistory.from_csv((tmp_path / "m.csv").read_text()) == HISTORY
    assert export(capsys, project_file, "summary-csv", tmp_path / "s.csv")[0] == 0
    rows = list(csv.reader(io.StringIO((tmp_path / "s.csv").read_text())))
    assert rows[0][:3] == ["#", "Layer", "Output shape"] and rows[-1][6] == "32058"
    assert export(capsys, project_file, "summary-md", tmp_path / "s.md")[0] == 0
    text = (tmp_path / "s.md").read_text()
    assert text.startswith("# All-convolutional net") and "| 3 | conv2d | 16x14x14 |" in text
    code, out, _ = export(capsys, project_file, "filters-png", tmp_path / "filters")
    assert code == 0 and len(out.splitlines()) == 4 and len(list((tmp_path / "filters").glob("*.png"))) == 4


def test_summary_of_an_untrained_architecture_file_works(capsys, tmp_path):
    code, _, err = export(capsys, ROOT / "resources/presets/lenet5.json", "summary-md", tmp_path / "s.md")
    assert (code, err) == (0, "") and "61706" in (tmp_path / "s.md").read_text().replace(",", "")


@pytest.mark.parametrize("case, expected", [
    ("untrained", "has no trained weights"),
    ("missing", "no such file or folder"),
    ("damaged", "not a zip archive, or truncated"),
    ("no folder", "does not exist"),
])
def test_errors_exit_2_with_one_line(capsys, tmp_path, project_file, case, expected):
    source, out = project_file, tmp_path / "w.safetensors"
    if case == "untrained":
        source = tmp_path / "untrained.convscope"
        save_project(Project(load_preset("lenet5")), source)
    elif case == "missing":
        source = tmp_path / "nothing.convscope"
    elif case == "damaged":
        project_file.write_bytes(project_file.read_bytes()[:100])
    else:
        out = tmp_path / "no" / "w.safetensors"
    code, stdout, err = export(capsys, source, "safetensors", out)
    assert code == 2 and stdout == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and expected in err
    assert not out.exists()


def test_real_command_line_exit_status_and_stderr(tmp_path, project_file):
    result = subprocess.run([sys.executable, "main.py", "export", str(project_file), "--format", "onnx",
                             "--out", str(tmp_path / "net.txt")], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"error: {tmp_path / 'net.txt'}: ONNX files must end in "
                                                  f".onnx; e.g. net.onnx"]
