"""Which images `evaluate` scores, normalised as the network was trained: its own held-out split, or another set.

For the dataset the run was trained on (same name or the same file), the default is the validation split
that training held out (cut again with the run's seed and fraction). For any other dataset the default is
its test arrays when it has them, else every image in it: a seeded fifth of a held-out file would silently
score only part of it. `split` overrides either default.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.config import TrainConfig
from engine.datasets import DatasetError, load_dataset
from engine.datasets.assembly import channel_stats, check_channels, normalised_split
from engine.datasets.dataset import Split
from engine.datasets.raw import RawImages
from engine.datasets.registry import read_source
from engine.normalization import Normalization

SPLITS = ("val", "test", "all")  # also in engine/cli/evaluate_command.py


@dataclass(frozen=True, eq=False)
class ScoredImages:
    split: Split
    split_name: str                 # "val" | "test" | "all"
    class_names: tuple[str, ...]    # one per network output
    description: str                # e.g. "the validation split training held out (2,000 images)"
    input_shape: tuple[int, int, int]
    notice: str = ""                # e.g. the run predates stored statistics


def same_source(a: str, b: str) -> bool:
    """True when two dataset sources name the same set: the same name, or paths to the same file."""
    if a == b:
        return True
    pa, pb = Path(a).expanduser(), Path(b).expanduser()
    try:
        return pa.exists() and pb.exists() and pa.resolve() == pb.resolve()
    except OSError:
        return False


def images_to_score(config: TrainConfig, dataset: str | None, split: str | None,
                    normalization: Normalization | None, num_classes: int) -> ScoredImages:
    """The images and labels to score. `config` is the run's settings; `dataset` None means the run's own.

    DatasetError when the split does not exist, the channels differ from the training images, or a label
    is beyond the network's `num_classes` outputs (a set holding a subset of the classes is fine).
    """
    source = dataset or config.dataset
    own = same_source(source, config.dataset)
    notice = ""
    if normalization is None and not own:
        notice = (f"the run stores no input normalisation (it predates ConvScope storing it), so {source} is "
                  f"normalised with its own statistics; retrain to score it exactly as training saw images")
    if split is None:
        split = "val" if own else None
    if split in ("val", "test"):
        loaded = load_dataset(source, val_fraction=config.val_fraction, seed=config.seed,
                              normalization=normalization)
        chosen = loaded.val if split == "val" else loaded.test
        if chosen is None:
            raise DatasetError(f"{source}: has no test split; use --split val or --split all")
        what = (f"the validation split training held out ({len(chosen):,} images)" if split == "val" and own
                else f"its {'validation' if split == 'val' else 'test'} split ({len(chosen):,} images)")
        names, shape = loaded.class_names, loaded.input_shape
    else:
        train, test, names = read_source(source)
        if split is None:
            split = "test" if test is not None else "all"
        if split == "test":
            chosen, what = _normalised(test, normalization, source), f"its test split ({len(test):,} images)"
        else:
            every = train if test is None else RawImages(np.concatenate([train.images, test.images]),
                                                         np.concatenate([train.labels, test.labels]),
                                                         train.labels_source)
            chosen, what = _normalised(every, normalization, source), f"all {len(every):,} images"
        _, c, h, w = chosen.images.shape
        shape = (int(c), int(h), int(w))
    _check_labels(chosen, num_classes, source)
    return ScoredImages(chosen, split, _names_for(names, num_classes), what, shape, notice)


def _normalised(raw: RawImages, normalization: Normalization | None, source: str) -> Split:
    if normalization is None:
        mean, std = channel_stats(raw.images)
    else:
        check_channels(normalization, raw, source)
        mean, std = normalization.mean, normalization.std
    return normalised_split(raw, mean, std)


def _check_labels(split: Split, num_classes: int, source: str) -> None:
    top = int(split.labels.max()) if len(split) else -1
    if top >= num_classes:
        raise DatasetError(f"{source}: has label {top}, but the network has only {num_classes} outputs "
                           f"(classes 0..{num_classes - 1}); score it with a network trained on its classes")


def _names_for(names: tuple[str, ...], num_classes: int) -> tuple[str, ...]:
    """The set's class names, padded with indices when it holds only the first few classes."""
    if len(names) >= num_classes:
        return tuple(names[:num_classes])
    return tuple(names) + tuple(str(i) for i in range(len(names), num_classes))
