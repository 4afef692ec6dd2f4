"""Datasets: bundled and downloaded sets, user files (npz, IDX, CIFAR, image folders)."""

from engine.datasets.catalog import BUNDLED, RemoteFile, default_cache_dir
from engine.datasets.dataset import Dataset, DatasetError, DownloadError, Split
from engine.datasets.download import download
from engine.datasets.registry import available_datasets, load_dataset

__all__ = [
    "BUNDLED",
    "Dataset",
    "DatasetError",
    "DownloadError",
    "RemoteFile",
    "Split",
    "available_datasets",
    "default_cache_dir",
    "download",
    "load_dataset",
]
