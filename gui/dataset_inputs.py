"""What the window knows of datasets before any has loaded (and before torch has): the names it shows, the
bundled sets' input shapes, and the bundled set that fits an input."""

from __future__ import annotations

from pathlib import Path

from models.architecture import InputShape

DATASET_TITLES = {  # the one table of dataset names as the window shows them
    "mnist": "MNIST (bundled)",
    "fashion-mnist": "Fashion-MNIST (bundled)",
    "shapes-rgb": "Colour shapes (generated, RGB)",
    "mnist-full": "MNIST (full, downloaded)",
    "fashion-mnist-full": "Fashion-MNIST (full, downloaded)",
    "cifar10": "CIFAR-10 (downloaded)",
}

BUNDLED_INPUTS = {
    "mnist": InputShape(1, 28, 28),
    "fashion-mnist": InputShape(1, 28, 28),
    "shapes-rgb": InputShape(3, 32, 32),
}


def bundled_for_input(shape: InputShape) -> str | None:
    """The first bundled set whose images have `shape` (an RGB preset gets the colour set), else None."""
    return next((name for name, bundled in BUNDLED_INPUTS.items() if bundled == shape), None)


def dataset_title(source: str) -> str:
    """What the panel and the input block call a dataset: its title, or a path's last part."""
    return DATASET_TITLES.get(source) or Path(source).name or source
