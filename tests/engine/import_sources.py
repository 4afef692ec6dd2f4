"""Source models for the import tests: torch modules, their ONNX files (torch.onnx.export) and onnxruntime runs."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from engine.network.builder import build_model
from models.presets import load_preset


def _randomise_batchnorms(module: nn.Module) -> nn.Module:
    """Statistics and affine values away from 0/1, so that importing them wrongly changes the outputs."""
    for bn in module.modules():
        if isinstance(bn, nn.BatchNorm2d):
            bn.running_mean.uniform_(-1, 1)
            bn.running_var.uniform_(0.5, 2)
            bn.weight.data.uniform_(0.5, 1.5)
            bn.bias.data.uniform_(-1, 1)
    return module.eval()


def chain() -> nn.Module:
    """conv-bn-relu-pool-conv-relu-gap-flatten-linear on 3 x 16 x 16."""
    torch.manual_seed(1)
    return _randomise_batchnorms(nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3),
        nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10)))


def lenet5() -> tuple[nn.Module, object]:
    """LeNet-5 built by ConvScope from resources/presets/lenet5.json (random weights), and its architecture."""
    torch.manual_seed(2)
    arch = load_preset("lenet5")
    return build_model(arch).eval(), arch


class Residual(nn.Module):
    """Two basic blocks with identity shortcuts and a concat, ending in a global average pool and a linear."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(3)
        self.stem = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.a = nn.Conv2d(4, 4, 3, padding=1)
        self.b = nn.Conv2d(4, 4, 3, padding=1)
        self.side = nn.Conv2d(4, 2, 1)
        self.head = nn.Linear(6, 5)
        _randomise_batchnorms(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn(self.stem(x)))
        y = torch.relu(self.a(x))
        x = torch.relu(x + self.b(y))
        x = torch.cat([x, self.side(x)], dim=1)
        x = x.mean((2, 3))
        return self.head(x)


def onnx_file(module: nn.Module, input_shape: tuple[int, ...], path: Path, opset: int = 17) -> Path:
    """`module` exported by torch.onnx.export as it stands: batch norms kept (no folding into the convs)."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (torch.rand(1, *input_shape),), buf, dynamo=False, opset_version=opset,
                          input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, do_constant_folding=False,
                          training=torch.onnx.TrainingMode.PRESERVE)
    path.write_bytes(buf.getvalue())
    return path


def run_onnx(path: Path, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (name,) = [i.name for i in session.get_inputs()]
    return session.run(None, {name: x})[0]


def project_outputs(project, x: np.ndarray) -> np.ndarray:
    """The imported project's network, built by ConvScope with its weights, on `x`."""
    model = build_model(project.architecture)
    model.load_state_dict(project.weights, strict=True)
    with torch.no_grad():
        return model.eval()(torch.from_numpy(x)).numpy()


def random_inputs(shape: tuple[int, ...], batch: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((batch, *shape)).astype(np.float32)
