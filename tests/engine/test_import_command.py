"""`main.py import`: ONNX files and FILE.py:FACTORY modules become projects whose exports reproduce the source."""

import textwrap

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from engine.project.project_file import load_project
from main import main
from tests.engine.import_sources import chain, onnx_file, project_outputs, random_inputs, run_onnx

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

MODULE_FILE = textwrap.dedent("""
    import torch
    from torch import nn

    class Small(nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(7)
            self.conv = nn.Conv2d(1, 4, 5, stride=2)
            self.fc = nn.Linear(4 * 12 * 12, 3)

        def forward(self, x):
            x = torch.tanh(self.conv(x))
            return torch.softmax(self.fc(x.view(x.size(0), -1)), dim=1)

    def make():
        return Small()
""")


def test_import_then_export_onnx_reproduces_the_original(tmp_path, capsys):
    source = onnx_file(chain(), (3, 16, 16), tmp_path / "chain.onnx")
    project_path, exported = tmp_path / "chain.convscope", tmp_path / "again.onnx"
    assert main(["import", str(source), "--out", str(project_path)]) == 0
    assert "wrote" in capsys.readouterr().out
    assert main(["export", str(project_path), "--format", "onnx", "--out", str(exported)]) == 0
    x = random_inputs((3, 16, 16), batch=5, seed=3)
    np.testing.assert_allclose(run_onnx(exported, x), run_onnx(source, x), atol=1e-5, rtol=0)


def test_an_unsupported_model_writes_nothing_and_names_the_node(tmp_path, capsys):
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Sin", ["x"], ["y"], name="wave")], "sin",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 4, 4])])
    source = tmp_path / "sin.onnx"
    source.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    out = tmp_path / "sin.convscope"
    assert main(["import", str(source), "--out", str(out)]) == 2
    assert "node 0 (Sin 'wave'): not supported" in capsys.readouterr().err
    assert not out.exists()


def test_a_module_factory_imports_with_its_outputs(tmp_path):
    (tmp_path / "small.py").write_text(MODULE_FILE)
    out = tmp_path / "small.convscope"
    assert main(["import", f"{tmp_path / 'small.py'}:make", "--input", "1x28x28", "--out", str(out)]) == 0
    project = load_project(out)
    assert [spec.TYPE for spec in project.architecture.layers] == ["conv2d", "tanh", "flatten", "linear", "softmax"]
    namespace: dict = {}
    exec(MODULE_FILE, namespace)  # the oracle: the source module itself
    module = namespace["make"]().eval()
    x = random_inputs((1, 28, 28))
    with torch.no_grad():
        expected = module(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(project_outputs(project, x), expected, atol=1e-6, rtol=0)


def test_weights_given_with_the_module_replace_its_own(tmp_path):
    (tmp_path / "small.py").write_text(MODULE_FILE)
    namespace: dict = {}
    exec(MODULE_FILE, namespace)
    trained = namespace["make"]()
    torch.manual_seed(99)
    for p in trained.parameters():
        p.data.normal_()
    save_file({k: v.contiguous() for k, v in trained.state_dict().items()}, str(tmp_path / "trained.safetensors"))
    out = tmp_path / "trained.convscope"
    assert main(["import", f"{tmp_path / 'small.py'}:make", "--input", "1x28x28", "--weights",
                 str(tmp_path / "trained.safetensors"), "--out", str(out)]) == 0
    project = load_project(out)
    assert torch.equal(project.weights["0.weight"], trained.conv.weight.detach())
    assert torch.equal(project.weights["3.bias"], trained.fc.bias.detach())


def test_a_module_without_input_size_is_asked_for_it(tmp_path, capsys):
    (tmp_path / "small.py").write_text(MODULE_FILE)
    out = tmp_path / "small.convscope"
    assert main(["import", f"{tmp_path / 'small.py'}:make", "--out", str(out)]) == 2
    assert "--input CxHxW" in capsys.readouterr().err
    assert not out.exists()


def test_an_imported_model_trains_further_from_its_weights_and_keeps_its_input_contract(tmp_path, capsys):
    from torch import nn

    from engine.project.sources import open_project_or_run
    from tests.engine.training_data import write_tiny_npz

    torch.manual_seed(8)
    module = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                           nn.Linear(4 * 4 * 4, 3)).eval()
    project_path, run = tmp_path / "tiny.convscope", tmp_path / "run"
    assert main(["import", str(onnx_file(module, (1, 8, 8), tmp_path / "tiny.onnx")), "--out",
                 str(project_path)]) == 0
    imported = load_project(project_path)
    code = main(["train", str(project_path), "--dataset", str(write_tiny_npz(tmp_path / "tiny.npz")), "--epochs", "1",
                 "--batch-size", "16", "--seed", "5", "--device", "cpu", "--threads", "1", "--out", str(run)])
    assert code == 0, capsys.readouterr().err
    assert "starting from the trained weights" in capsys.readouterr().err
    trained = open_project_or_run(run)
    assert trained.architecture.layers == imported.architecture.layers
    assert not torch.equal(trained.weights["0.weight"], imported.weights["0.weight"])  # it learned
    assert trained.normalization == imported.normalization  # the identity: exports still take the source's inputs
