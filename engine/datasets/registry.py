"""Resolve a dataset source (bundled name, downloaded name or path) and load it."""

from __future__ import annotations

from pathlib import Path

from engine.datasets.assembly import assemble
from engine.datasets.bundled import read_bundled
from engine.datasets.catalog import (
    BUNDLED,
    DOWNLOAD_HINT,
    DOWNLOADED_SETS,
    RemoteSpec,
    default_cache_dir,
    is_downloaded,
)
from engine.datasets.cifar import batch_folder, read_cifar_dir
from engine.datasets.dataset import Dataset, DatasetError
from engine.datasets.idx import is_idx_dir, read_idx_dir
from engine.datasets.image_folder import (is_split_image_folder, looks_like_image_folder, nothing_found,
                                          read_image_folder, read_split_image_folder)
from engine.datasets.npz import read_npz
from engine.datasets.raw import RawImages, resolve_class_names
from engine.normalization import Normalization

def available_datasets(cache_dir: Path | None = None) -> list[str]:
    """Bundled names, then the downloaded sets present in `cache_dir`."""
    cache = default_cache_dir() if cache_dir is None else Path(cache_dir)
    downloaded = [name for name, spec in DOWNLOADED_SETS.items() if is_downloaded(spec, cache)]
    return [*BUNDLED, *downloaded]


def _read_folder(
    folder: Path,
) -> tuple[RawImages, RawImages | None, tuple[str, ...] | None]:
    """Detect the folder's format: IDX files, CIFAR batches, or class subfolders of images."""
    if is_idx_dir(folder):
        train, test = read_idx_dir(folder)
        return train, test, None
    if batch_folder(folder) is not None:
        return read_cifar_dir(folder)
    if is_split_image_folder(folder):
        return read_split_image_folder(folder)
    if looks_like_image_folder(folder):
        train, names = read_image_folder(folder)
        return train, None, names
    raise DatasetError(
        f"{folder}: not a dataset folder I can read; expected MNIST-style IDX files "
        "(train-images-idx3-ubyte[.gz], ...), CIFAR-10 python batches (data_batch_1, ...), "
        f"or an image folder ({nothing_found(folder)}), or one whose only subfolders are train/ and test/, "
        "each holding such class folders"
    )


def _read_path(path: Path) -> tuple[RawImages, RawImages | None, tuple[str, ...] | None]:
    if path.is_dir():
        return _read_folder(path)
    if path.suffix.lower() == ".npz":
        return read_npz(path)
    raise DatasetError(
        f"{path}: unsupported file type {path.suffix or '(no suffix)'}; give an .npz file, "
        "an IDX folder, a CIFAR-10 batch folder or an image folder"
    )


def _read_downloaded(spec: RemoteSpec, cache: Path):
    folder = cache / spec.local_name
    if not is_downloaded(spec, cache):
        hint = DOWNLOAD_HINT.format(name=spec.name)
        raise DatasetError(
            f"{folder}: {spec.local_name} is not downloaded yet; download it first ({hint})"
        )
    train, test, _ = _read_folder(folder)
    return train, test, spec.class_names


def read_source(
    source: str, cache_dir: Path | None = None
) -> tuple[RawImages, RawImages | None, tuple[str, ...]]:
    """The raw uint8 images of `source` (train part, test part or None) and its class names."""
    if source in BUNDLED:
        train, names = read_bundled(source)
        return train, None, resolve_class_names(names, [train])
    cache = default_cache_dir() if cache_dir is None else Path(cache_dir)
    if source in DOWNLOADED_SETS:
        train, test, names = _read_downloaded(DOWNLOADED_SETS[source], cache)
    else:
        path = Path(source).expanduser()
        if not path.exists():
            known = ", ".join([*BUNDLED, *DOWNLOADED_SETS])
            raise DatasetError(
                f"{source}: no such file or folder, and not a dataset name ({known})"
            )
        train, test, names = _read_path(path)
    return train, test, resolve_class_names(names, [train, test])


def load_dataset(
    source: str,
    *,
    val_fraction: float = 0.2,
    seed: int = 0,
    cache_dir: Path | None = None,
    normalization: Normalization | None = None,
) -> Dataset:
    """Load `source`: a bundled name, a downloaded name, or a path to a file or folder.

    The train part is split into train/val by a permutation seeded with `seed`; a test
    split is kept only when the source has its own (IDX t10k, CIFAR test_batch, npz test_*).
    Every split is normalised with the per-channel mean/std of the train split, or with
    `normalization` when given (the statistics a network was trained with).
    """
    train, test, class_names = read_source(source, cache_dir)
    return assemble(
        source, class_names, train, test=test, val_fraction=val_fraction, seed=seed,
        normalization=normalization,
    )
