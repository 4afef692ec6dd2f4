"""The bundled offline sets (MNIST and Fashion-MNIST samples in resources/, the generated colour shapes)."""

from __future__ import annotations

from engine.datasets.catalog import BUNDLED_SETS, GENERATED_SETS, RESOURCE_DIR
from engine.datasets.dataset import DatasetError
from engine.datasets.npz import read_npz
from engine.datasets.raw import RawImages
from engine.datasets.shapes import SHAPES_CLASSES, coloured_shapes


def read_bundled(name: str) -> tuple[RawImages, tuple[str, ...]]:
    """A bundled set's images and class names (these sets have no test split)."""
    if name in GENERATED_SETS:
        return coloured_shapes(), SHAPES_CLASSES
    spec = BUNDLED_SETS[name]
    path = RESOURCE_DIR / spec.filename
    if not path.is_file():
        raise DatasetError(
            f"{path}: the bundled {name} dataset is missing; reinstall ConvScope or "
            "restore resources/datasets"
        )
    train, _, _ = read_npz(path)
    return train, tuple(spec.class_names)
