"""Turn raw uint8 arrays into a Dataset: seeded train/val split, per-channel normalisation."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import torch

from engine.datasets.dataset import Dataset, DatasetError, Split
from engine.datasets.raw import RawImages
from engine.normalization import Normalization

# Images converted to float per step: bounds the temporary memory for large sets (CIFAR).
_CHUNK = 4096


def split_indices(n: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded permutation of range(n) -> (train, val) index arrays, each in ascending order."""
    if not 0.0 <= val_fraction < 1.0:
        raise DatasetError(
            f"val_fraction must be in [0, 1), got {val_fraction}; 0.2 keeps a fifth for validation"
        )
    n_val = int(round(n * val_fraction))
    if n - n_val < 1:
        raise DatasetError(
            f"val_fraction {val_fraction} leaves no training images out of {n}; lower it"
        )
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def channel_stats(images: np.ndarray) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Exact per-channel mean and std in [0, 1] units of uint8 images (N, H, W, C).

    Counts a 256-bin histogram per channel in chunks, so no float copy of the set is made.
    A channel with zero spread gets std 1.0 so normalising never divides by zero.
    """
    channels = images.shape[3]
    counts = np.zeros((channels, 256), dtype=np.int64)
    for start in range(0, images.shape[0], _CHUNK):
        block = images[start : start + _CHUNK]
        for c in range(channels):
            counts[c] += np.bincount(block[..., c].ravel(), minlength=256)
    levels = np.arange(256, dtype=np.float64) / 255.0
    means, stds = [], []
    for c in range(channels):
        total = counts[c].sum()
        mean = float((counts[c] * levels).sum() / total)
        var = float((counts[c] * (levels - mean) ** 2).sum() / total)
        std = var**0.5
        means.append(mean)
        stds.append(std if std > 1e-12 else 1.0)
    return tuple(means), tuple(stds)


def check_channels(normalization: Normalization, raw: RawImages, name: str) -> None:
    """DatasetError unless the images have as many channels as the statistics describe."""
    channels = raw.images.shape[3]
    if channels != normalization.channels:
        raise DatasetError(
            f"{name}: has {channels}-channel images but the network was trained on "
            f"{normalization.channels}-channel images; choose a dataset of the same kind"
        )


def normalised_split(
    raw: RawImages, mean: Sequence[float], std: Sequence[float], index: np.ndarray | None = None
) -> Split:
    """uint8 NHWC (optionally a subset by index) -> a Split of uint8 NCHW pixels normalised on use,
    (x / 255 - mean) / std (a quarter of the memory of float32 images)."""
    images = raw.images if index is None else raw.images[index]
    labels = raw.labels if index is None else raw.labels[index]
    pixels = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).contiguous()
    return Split(pixels, torch.from_numpy(np.ascontiguousarray(labels, dtype=np.int64)),
                 Normalization(tuple(float(m) for m in mean), tuple(float(s) for s in std)))


def assemble(
    name: str,
    class_names: Sequence[str],
    train: RawImages,
    *,
    test: RawImages | None = None,
    val_fraction: float = 0.2,
    seed: int = 0,
    normalization: Normalization | None = None,
) -> Dataset:
    """Split `train` into train/val with a seeded permutation and normalise every split.

    The statistics are the train part's own, or `normalization` (a trained network's) when given.
    """
    train_idx, val_idx = split_indices(len(train), val_fraction, seed)
    train_images = train.images[train_idx]
    train_part = RawImages(train_images, train.labels[train_idx])
    if normalization is None:
        mean, std = channel_stats(train_images)
    else:
        check_channels(normalization, train, name)
        mean, std = normalization.mean, normalization.std
    return Dataset(
        name=name,
        class_names=tuple(class_names),
        train=normalised_split(train_part, mean, std),
        val=normalised_split(train, mean, std, val_idx),
        test=None if test is None else normalised_split(test, mean, std),
        mean=mean,
        std=std,
    )


def renormalized(dataset: Dataset, normalization: Normalization) -> Dataset:
    """`dataset` with every split normalised with other statistics (e.g. those trained weights expect).

    Affine on the float splits, (x * std + mean - new_mean) / new_std per channel: new tensors, the
    original dataset is untouched.
    """
    channels = dataset.input_shape[0]
    if channels != normalization.channels:
        raise DatasetError(
            f"{dataset.name}: has {channels}-channel images but the network was trained on "
            f"{normalization.channels}-channel images; choose a dataset of the same kind"
        )
    old, new = dataset.normalization, normalization

    def convert(split: Split | None) -> Split | None:
        if split is None:
            return None
        if split.pixels is not None:  # the same pixels, read with the other statistics
            return Split(split.pixels, split.labels, new)
        return Split(new.apply(old.undo(split.images)).contiguous(), split.labels)

    return dataclasses.replace(dataset, train=convert(dataset.train), val=convert(dataset.val),
                               test=convert(dataset.test), mean=tuple(new.mean), std=tuple(new.std))
