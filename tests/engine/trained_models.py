"""Preset networks with random weights and non-trivial batch-norm statistics, shared by the export tests."""

import torch

from engine.network.builder import build_model
from models.presets import load_preset


def trained_like(key, seed=0):
    """The preset's network with random weights and non-trivial batch-norm statistics, in train mode."""
    arch = load_preset(key)
    torch.manual_seed(seed)
    model = build_model(arch)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if "running_var" in name:
                tensor.copy_(torch.rand_like(tensor) + 0.5)
            elif "running_mean" in name:
                tensor.copy_(torch.randn_like(tensor))
    return arch, model
