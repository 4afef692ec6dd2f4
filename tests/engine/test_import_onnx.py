"""Importing ONNX files: the project's network gives onnxruntime's outputs on the source file; what ConvScope cannot
represent is refused by node, op type and position."""

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from engine.normalization import Normalization
from engine.project.importers import ModelImportError, import_model
from engine.project.importers.torch_source import import_module
from models.presets import PRESET_KEYS, load_preset
from tests.engine.import_sources import (Residual, chain, lenet5, onnx_file, project_outputs, random_inputs,
                                         run_onnx)

onnx = pytest.importorskip("onnx")
PRESETS = Path(__file__).resolve().parents[2] / "resources" / "presets"
pytest.importorskip("onnxruntime")


@pytest.mark.parametrize("opset", [13, 17, 20])
def test_a_chain_imports_with_onnxruntimes_outputs(tmp_path, opset):
    path = onnx_file(chain(), (3, 16, 16), tmp_path / "chain.onnx", opset)
    project = import_model(path)
    assert [spec.TYPE for spec in project.architecture.layers] == [
        "conv2d", "batchnorm2d", "relu", "maxpool2d", "conv2d", "relu", "global_avgpool2d", "linear"]
    assert project.architecture.input.as_tuple() == (3, 16, 16)
    x = random_inputs((3, 16, 16))
    np.testing.assert_allclose(project_outputs(project, x), run_onnx(path, x), atol=1e-5, rtol=0)
    # No ConvScope training statistics: the identity, so exports take what the source took.
    assert project.normalization == Normalization((0.0,) * 3, (1.0,) * 3)
    assert not project.history.batches


def test_lenet5_from_the_preset_imports_as_the_preset(tmp_path):
    model, arch = lenet5()
    path = onnx_file(model, arch.input.as_tuple(), tmp_path / "lenet5.onnx")
    project = import_model(path)
    assert project.architecture.layers == arch.layers
    x = random_inputs(arch.input.as_tuple(), batch=3, seed=1)
    np.testing.assert_allclose(project_outputs(project, x), run_onnx(path, x), atol=1e-5, rtol=0)
    for name, tensor in model.state_dict().items():
        assert torch.equal(project.weights[name], tensor), name


def test_a_torch_fx_import_of_the_same_module_gives_the_same_project(tmp_path):
    module = chain()
    from_onnx = import_model(onnx_file(module, (3, 16, 16), tmp_path / "chain.onnx"))
    from_fx = import_module(module, (3, 16, 16))
    assert from_fx.architecture.layers == from_onnx.architecture.layers
    assert set(from_fx.weights) == set(from_onnx.weights)
    for name in from_onnx.weights:
        torch.testing.assert_close(from_fx.weights[name], from_onnx.weights[name], rtol=0, atol=1e-7)


def test_a_residual_net_with_a_concat_imports_as_a_graph(tmp_path):
    module = Residual()
    path = onnx_file(module, (1, 12, 12), tmp_path / "residual.onnx")
    project = import_model(path)
    assert project.architecture.is_graph
    assert {"add", "concat"} <= {spec.TYPE for spec in project.architecture.layers}
    x = random_inputs((1, 12, 12))
    np.testing.assert_allclose(project_outputs(project, x), run_onnx(path, x), atol=1e-5, rtol=0)
    from_fx = import_module(module, (1, 12, 12))
    assert (from_fx.architecture.layers, from_fx.architecture.inputs) == (project.architecture.layers,
                                                                          project.architecture.inputs)
    with torch.no_grad():
        expected = module(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(project_outputs(from_fx, x), expected, atol=1e-5, rtol=0)


def test_matmul_plus_add_a_constant_reshape_and_softmax_import(tmp_path):
    """A graph written by hand (no torch): Reshape to [-1, 48], MatMul + Add as one linear, Softmax on axis 1."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(5)
    w, b = rng.standard_normal((48, 7)).astype(np.float32), rng.standard_normal(7).astype(np.float32)
    conv_w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "cw"], ["c"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
         helper.make_node("LeakyRelu", ["c"], ["r"], name="act", alpha=0.2),
         helper.make_node("AveragePool", ["r"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
         helper.make_node("Reshape", ["p", "shape"], ["flat"], name="flat"),
         helper.make_node("MatMul", ["flat", "w"], ["m"], name="fc"),
         helper.make_node("Add", ["m", "b"], ["logits"], name="fc_bias"),
         helper.make_node("Softmax", ["logits"], ["y"], name="probs", axis=1)],
        "hand", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 2, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 7])],
        [numpy_helper.from_array(conv_w, "cw"), numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b"),
         numpy_helper.from_array(np.array([-1, 48], dtype=np.int64), "shape")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    path = tmp_path / "hand.onnx"
    path.write_bytes(model.SerializeToString())
    project = import_model(path)
    assert [spec.TYPE for spec in project.architecture.layers] == [
        "conv2d", "leaky_relu", "avgpool2d", "flatten", "linear", "softmax"]
    assert project.architecture.layers[1].negative_slope == 0.2
    x = random_inputs((2, 8, 8))
    np.testing.assert_allclose(project_outputs(project, x), run_onnx(path, x), atol=1e-5, rtol=0)


class _WithUnsupported(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, padding=1)
        self.up1 = nn.Upsample(scale_factor=2)
        self.fc = nn.Linear(2 * 16 * 16, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(torch.sin(self.up1(self.conv(x))), 1))


def test_unsupported_nodes_are_all_named_with_op_type_and_position(tmp_path):
    path = onnx_file(_WithUnsupported().eval(), (1, 8, 8), tmp_path / "up.onnx")
    nodes = onnx.load(str(path)).graph.node
    resize = next(i for i, n in enumerate(nodes) if n.op_type == "Resize")
    sin = next(i for i, n in enumerate(nodes) if n.op_type == "Sin")
    with pytest.raises(ModelImportError) as caught:
        import_model(path)
    message = str(caught.value)
    assert f"node {resize} (Resize '{nodes[resize].name}'): not supported" in message
    assert f"node {sin} (Sin '{nodes[sin].name}'): not supported" in message
    assert "ConvScope imports Conv" in message


def test_an_opset_outside_13_to_20_is_refused(tmp_path):
    path = onnx_file(chain(), (3, 16, 16), tmp_path / "old.onnx", opset=11)
    with pytest.raises(ModelImportError, match="opset 11"):
        import_model(path)


def test_uneven_padding_is_refused_naming_the_node(tmp_path):
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "cw"], ["y"], name="odd", kernel_shape=[3, 3], pads=[0, 0, 2, 2])],
        "odd", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.ones((1, 1, 3, 3), np.float32), "cw")])
    path = tmp_path / "odd.onnx"
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    with pytest.raises(ModelImportError, match=r"node 0 \(Conv 'odd'\): padding top 0, bottom 2"):
        import_model(path)


@pytest.mark.parametrize("key", [*PRESET_KEYS, "resnet20"])
def test_convscopes_own_onnx_exports_import_back_with_their_outputs(tmp_path, key):
    """torch folds batch norms into the convs and drops dropouts on export; F.pad's uneven 'same' arrives as Pad
    fed by constant arithmetic (evaluated by onnx's reference operators), ResNet-20 as a graph of Adds."""
    from engine.export.onnx_format import export_onnx
    from engine.network.builder import build_model
    from models import architecture_file

    arch = load_preset(key) if key in PRESET_KEYS else architecture_file.load(PRESETS / f"{key}.json")
    torch.manual_seed(0)
    path = export_onnx(arch, build_model(arch).eval(), tmp_path / f"{key}.onnx")
    project = import_model(path)
    assert project.architecture.is_graph == arch.is_graph
    x = random_inputs(arch.input.as_tuple(), batch=2)
    np.testing.assert_allclose(project_outputs(project, x), run_onnx(path, x), atol=1e-5, rtol=0)


def test_an_exports_input_normalisation_becomes_the_projects(tmp_path):
    """A trained ConvScope export takes pixels and normalises first (Sub, Div): that is the imported project's
    normalisation, not layers, so its own exports take pixels again."""
    from engine.export.onnx_format import export_onnx

    model, arch = lenet5()
    stats = Normalization((0.1307,), (0.3081,))
    path = export_onnx(arch, model, tmp_path / "pixels.onnx", normalization=stats)
    project = import_model(path)
    assert project.architecture.layers == arch.layers
    assert project.normalization == stats
    x = np.random.default_rng(2).random((3, 1, 28, 28), dtype=np.float32)
    np.testing.assert_allclose(project_outputs(project, (x - 0.1307) / 0.3081), run_onnx(path, x), atol=1e-5, rtol=0)


def test_a_file_that_is_not_onnx_and_a_huge_constant_are_refused(tmp_path):
    from onnx import TensorProto, helper, numpy_helper

    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\xff" * 64)
    with pytest.raises(ModelImportError, match="not an ONNX model"):
        import_model(junk)
    graph = helper.make_graph(
        [helper.make_node("ConstantOfShape", ["big"], ["zeros"], name="bomb"),
         helper.make_node("Reshape", ["x", "zeros"], ["y"], name="flat")],
        "bomb", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.array([10 ** 6, 10 ** 6], dtype=np.int64), "big")])
    path = tmp_path / "bomb.onnx"
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    with pytest.raises(ModelImportError, match=r"node 0 \(ConstantOfShape 'bomb'\): asks for more than"):
        import_model(path)
