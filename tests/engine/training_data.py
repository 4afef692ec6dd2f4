"""Small, learnable datasets and networks for the trainer and CLI tests (fast on a CPU)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from engine.datasets import Dataset, Split
from models.architecture import Architecture, InputShape
from models.layers import Conv2dSpec, DropoutSpec, FlattenSpec, LinearSpec, MaxPool2dSpec, ReluSpec, SoftmaxSpec

CLASSES = ("top-left", "top-right", "bottom")


def quadrant_images(n: int, size: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """uint8 (n, size, size) images whose bright patch position is the label (3 classes), plus noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, size=n)
    images = rng.integers(0, 60, size=(n, size, size)).astype(np.uint8)
    h = size // 2
    patches = {0: (slice(0, h), slice(0, h)), 1: (slice(0, h), slice(h, size)), 2: (slice(h, size), slice(0, size))}
    for i, label in enumerate(labels):
        images[(i, *patches[int(label)])] += 150
    return images, labels.astype(np.int64)


def tiny_dataset(n_train: int = 96, n_val: int = 32, size: int = 8, seed: int = 0,
                 num_classes: int = 3, channels: int = 1) -> Dataset:
    images, labels = quadrant_images(n_train + n_val, size, seed)
    x = torch.from_numpy(images).float().div(255).sub(0.3).div(0.3).unsqueeze(1).repeat(1, channels, 1, 1)
    y = torch.from_numpy(labels) % num_classes
    names = tuple(CLASSES[i] if i < 3 else f"class {i}" for i in range(num_classes))
    return Dataset("tiny", names, Split(x[:n_train].contiguous(), y[:n_train]),
                   Split(x[n_train:].contiguous(), y[n_train:]), None, (0.3,) * channels, (0.3,) * channels)


def tiny_arch(size: int = 8, classes: int = 3, dropout: bool = False, softmax: bool = False) -> Architecture:
    layers = [Conv2dSpec(out_channels=4, kernel_size=3, padding=1), ReluSpec(), MaxPool2dSpec(kernel_size=2),
              FlattenSpec()]
    layers += [DropoutSpec(p=0.25)] if dropout else []
    layers += [LinearSpec(out_features=classes)]
    layers += [SoftmaxSpec()] if softmax else []
    return Architecture("tiny", InputShape(1, size, size), tuple(layers))


def huge_arch(size: int = 8, classes: int = 3) -> Architecture:
    """Issue 16's design too big for the machine: conv2d(4096) then linear(65536); on 8x8 images 17 billion
    weights (69 GB; 344 GB to train with Adam)."""
    return Architecture("huge", InputShape(1, size, size),
                        (Conv2dSpec(out_channels=4096, kernel_size=3, padding=1), ReluSpec(), FlattenSpec(),
                         LinearSpec(out_features=65536), ReluSpec(), LinearSpec(out_features=classes)))


def linear_arch(size: int = 8, classes: int = 3) -> Architecture:
    """No activation at all: with a huge learning rate SGD overshoots without bound (dead ReLUs cannot save it)."""
    return Architecture("linear", InputShape(1, size, size),
                        (Conv2dSpec(out_channels=4, kernel_size=3, padding=1), FlattenSpec(),
                         LinearSpec(out_features=classes)))


def random_dataset(shape: tuple[int, int, int], num_classes: int, n: int = 16, seed: int = 0) -> Dataset:
    """Noise images of any shape (for shape checks with the presets)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn((2 * n, *shape), generator=g)
    y = torch.randint(0, num_classes, (2 * n,), generator=g)
    names = tuple(str(i) for i in range(num_classes))
    return Dataset("noise", names, Split(x[:n].contiguous(), y[:n]), Split(x[n:].contiguous(), y[n:]), None,
                   (0.0,) * shape[0], (1.0,) * shape[0])


def write_tiny_npz(path: Path, n: int = 120, size: int = 8) -> Path:
    images, labels = quadrant_images(n, size)
    np.savez_compressed(path, images=images, labels=labels, class_names=np.array(CLASSES))
    return path


def train_tiny_run(folder: Path) -> tuple[Path, Path, Path]:
    """Train the tiny network for 2 epochs on the tiny npz (seed 2, 20% held out) with the real CLI.

    Returns (architecture file, dataset file, run folder), all inside `folder`.
    """
    from main import main
    from models import architecture_file

    arch = folder / "tiny.json"
    architecture_file.save(tiny_arch(), arch)
    data = write_tiny_npz(folder / "tiny.npz")
    out = folder / "run"
    assert main(["train", str(arch), "--dataset", str(data), "--epochs", "2", "--batch-size", "16", "--lr", "0.01",
                 "--seed", "2", "--device", "cpu", "--threads", "1", "--out", str(out)]) == 0
    return arch, data, out


def evaluate_json(capsys, *args) -> dict:
    """`main.py evaluate ARGS --json`, which must succeed, parsed."""
    import json

    from main import main

    capsys.readouterr()
    assert main(["evaluate", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)
