"""ONNX export: valid (onnx.checker), opset 17, dynamic batch, same outputs as torch under onnxruntime."""

import numpy as np
import pytest
import torch

from engine.export.onnx_format import OPSET, export_onnx
from engine.export.target import ExportError, example_input
from models.presets import PRESET_KEYS
from tests.engine.trained_models import trained_like

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


@pytest.mark.parametrize("key", PRESET_KEYS)
def test_onnx_runs_in_onnxruntime_with_torch_outputs_for_any_batch_size(tmp_path, key):
    arch, model = trained_like(key)
    path = export_onnx(arch, model, tmp_path / "net.onnx")
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    assert max(op.version for op in proto.opset_import if op.domain in ("", "ai.onnx")) >= 17
    batch_dim = proto.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch_dim.dim_param == "batch"
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    model.eval()
    for batch in (1, 5):
        x = example_input(arch, batch, seed=batch)
        (out,) = session.run(None, {"input": x.numpy()})
        with torch.no_grad():
            expected = model(x).numpy()
        assert out.shape == expected.shape
        np.testing.assert_allclose(out, expected, atol=1e-4, rtol=0)


def test_onnx_export_raises_no_warnings(tmp_path, recwarn):
    arch, model = trained_like("all_conv")  # asymmetric "same" padding: the F.pad path
    export_onnx(arch, model, tmp_path / "net.onnx")
    assert not [str(w.message) for w in recwarn]


def test_onnx_refuses_an_old_opset_and_a_wrong_suffix(tmp_path):
    arch, model = trained_like("lenet5")
    with pytest.raises(ExportError, match="opset 11 is too old"):
        export_onnx(arch, model, tmp_path / "net.onnx", opset=11)
    with pytest.raises(ExportError, match="must end in .onnx"):
        export_onnx(arch, model, tmp_path / "net.pb")
    assert OPSET >= 17
