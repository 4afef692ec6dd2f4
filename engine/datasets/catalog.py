"""The named datasets: bundled files, downloadable public sets with sizes and SHA-256."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MNIST_CLASSES = tuple(str(i) for i in range(10))
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)

CACHE_ENV = "CONVSCOPE_DATA"


def default_cache_dir() -> Path:
    """Where downloads go: $CONVSCOPE_DATA, else ~/.cache/convscope/datasets."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    return Path.home() / ".cache" / "convscope" / "datasets"


# Shipped with the app (resources/datasets, attribution in its README.md).
RESOURCE_DIR = Path(__file__).resolve().parents[2] / "resources" / "datasets"


@dataclass(frozen=True)
class BundledSpec:
    """A dataset shipped in resources/datasets as an .npz file."""

    filename: str
    class_names: tuple[str, ...]


BUNDLED_SETS = {
    "mnist": BundledSpec("mnist10k.npz", MNIST_CLASSES),
    "fashion-mnist": BundledSpec("fashion10k.npz", FASHION_CLASSES),
}
# Generated at load time (engine/datasets/shapes.py): an RGB set that needs no file and no network.
GENERATED_SETS = ("shapes-rgb",)
BUNDLED = (*BUNDLED_SETS, *GENERATED_SETS)


@dataclass(frozen=True)
class RemoteFile:
    """One file of a public dataset: its name on the server, exact size and SHA-256."""

    filename: str
    size: int
    sha256: str


@dataclass(frozen=True)
class RemoteSpec:
    """A public dataset `download(name)` fetches into cache_dir/local_name."""

    name: str
    local_name: str
    base_url: str
    files: tuple[RemoteFile, ...]
    class_names: tuple[str, ...]
    # A tar.gz to unpack after verification, keeping only members under this folder.
    extract_folder: str | None = None


# Sizes and SHA-256 as listed in TensorFlow Datasets' url_checksums tables (mnist.txt,
# fashion_mnist.txt) and, for the CIFAR-10 python archive, Keras' cifar10 loader.
REMOTE_SETS = {
    "mnist": RemoteSpec(
        name="mnist",
        local_name="mnist-full",
        base_url="https://storage.googleapis.com/cvdf-datasets/mnist/",
        files=(
            RemoteFile(
                "train-images-idx3-ubyte.gz",
                9912422,
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            ),
            RemoteFile(
                "train-labels-idx1-ubyte.gz",
                28881,
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            ),
            RemoteFile(
                "t10k-images-idx3-ubyte.gz",
                1648877,
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            ),
            RemoteFile(
                "t10k-labels-idx1-ubyte.gz",
                4542,
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            ),
        ),
        class_names=MNIST_CLASSES,
    ),
    "fashion-mnist": RemoteSpec(
        name="fashion-mnist",
        local_name="fashion-mnist-full",
        base_url="http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        files=(
            RemoteFile(
                "train-images-idx3-ubyte.gz",
                26421880,
                "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            ),
            RemoteFile(
                "train-labels-idx1-ubyte.gz",
                29515,
                "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            ),
            RemoteFile(
                "t10k-images-idx3-ubyte.gz",
                4422102,
                "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            ),
            RemoteFile(
                "t10k-labels-idx1-ubyte.gz",
                5148,
                "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            ),
        ),
        class_names=FASHION_CLASSES,
    ),
    "cifar10": RemoteSpec(
        name="cifar10",
        local_name="cifar10",
        base_url="https://www.cs.toronto.edu/~kriz/",
        files=(
            RemoteFile(
                "cifar-10-python.tar.gz",
                170498071,
                "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
            ),
        ),
        class_names=CIFAR10_CLASSES,
        extract_folder="cifar-10-batches-py",
    ),
}

# load_dataset name -> the RemoteSpec that provides it ("mnist-full" -> REMOTE_SETS["mnist"]).
DOWNLOADED_SETS = {spec.local_name: spec for spec in REMOTE_SETS.values()}

# What a "not downloaded yet" message tells the user to run; the CLI owns the real command.
DOWNLOAD_HINT = "convscope download {name}"


def remote_spec(name: str) -> RemoteSpec:
    """The RemoteSpec for a download name ("mnist") or its local name ("mnist-full")."""
    if name in REMOTE_SETS:
        return REMOTE_SETS[name]
    if name in DOWNLOADED_SETS:
        return DOWNLOADED_SETS[name]
    known = ", ".join(REMOTE_SETS)
    raise KeyError(f"no downloadable dataset named {name!r}; choose one of: {known}")


def is_downloaded(spec: RemoteSpec, cache_dir: Path) -> bool:
    """True when every file of `spec` is in place (each lands only after verification)."""
    folder = cache_dir / spec.local_name
    if spec.extract_folder is not None:
        return (folder / spec.extract_folder).is_dir()
    return all((folder / f.filename).is_file() for f in spec.files)
