"""Importing PyTorch modules traced with torch.fx: nodes without a ConvScope layer are named, traced shapes decide
reshapes, and a factory file that fails says so."""

import numpy as np
import pytest
import torch
from torch import nn

from engine.project.importers import ModelImportError, import_model, is_torch_source
from engine.project.importers.torch_source import import_module
from tests.engine.import_sources import project_outputs, random_inputs
from tests.engine.test_import_onnx import _WithUnsupported


def test_unsupported_modules_and_functions_are_named_by_position_type_and_name():
    with pytest.raises(ModelImportError) as caught:
        import_module(_WithUnsupported().eval(), (1, 8, 8))
    message = str(caught.value)
    assert "node 2 (Upsample 'up1'): not supported" in message
    assert "node 3 (sin 'sin'): not supported" in message


def test_view_by_the_batch_size_is_a_flatten_and_eps_is_folded_into_the_variance():
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            torch.manual_seed(4)
            self.conv = nn.Conv2d(2, 3, 3, padding="same")
            self.bn = nn.BatchNorm2d(3, eps=1e-3)
            self.bn.running_var.uniform_(0.5, 2)
            self.pool = nn.AvgPool2d(3, stride=2, padding=1)
            self.fc = nn.Linear(3 * 5 * 5, 4)

        def forward(self, x):
            x = self.pool(self.bn(self.conv(x)))
            return self.fc(x.view(x.size(0), -1))

    module = Net().eval()
    project = import_module(module, (2, 10, 10))
    assert [s.TYPE for s in project.architecture.layers] == ["conv2d", "batchnorm2d", "avgpool2d", "flatten",
                                                             "linear"]
    x = random_inputs((2, 10, 10))
    with torch.no_grad():
        expected = module(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(project_outputs(project, x), expected, atol=1e-5, rtol=0)


def test_a_factory_that_raises_is_reported_with_its_error(tmp_path):
    (tmp_path / "broken.py").write_text("def make():\n    raise RuntimeError('no GPU here')\n")
    source = f"{tmp_path / 'broken.py'}:make"
    assert is_torch_source(source)
    with pytest.raises(ModelImportError, match="make failed: RuntimeError: no GPU here"):
        import_model(source, input_shape=(1, 8, 8))
