"""The bundled offline sets (10,000-image MNIST and Fashion-MNIST samples in resources/)."""

from __future__ import annotations

from engine.datasets.assembly import assemble
from engine.datasets.catalog import BUNDLED_SETS, RESOURCE_DIR
from engine.datasets.dataset import Dataset, DatasetError
from engine.datasets.npz import read_npz
from engine.datasets.raw import resolve_class_names


def load_bundled(name: str, *, val_fraction: float, seed: int) -> Dataset:
    """A bundled set, split train/val with `seed` (these sets have no test split)."""
    spec = BUNDLED_SETS[name]
    path = RESOURCE_DIR / spec.filename
    if not path.is_file():
        raise DatasetError(
            f"{path}: the bundled {name} dataset is missing; reinstall ConvScope or "
            "restore resources/datasets"
        )
    train, _, _ = read_npz(path)
    class_names = resolve_class_names(spec.class_names, [train])
    return assemble(name, class_names, train, val_fraction=val_fraction, seed=seed)
