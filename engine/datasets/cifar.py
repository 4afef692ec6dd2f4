"""Read CIFAR-10 python batch folders through an unpickler that only rebuilds plain data."""

from __future__ import annotations

import importlib.util
import pickle
from pathlib import Path

import numpy as np

from engine.datasets.catalog import CIFAR10_CLASSES
from engine.datasets.dataset import DatasetError
from engine.datasets.limits import max_bytes, too_large
from engine.datasets.raw import RawImages, check_same_image_shape, checked_raw
from models.safe_text import shorten

EXTRACTED_FOLDER = "cifar-10-batches-py"
IMAGE_SIDE = 32

# The only globals a batch file may name: numpy array/scalar reconstruction, and the codec
# call Python uses for bytes in protocol-2 pickles. Anything else (os.system, eval,
# subprocess, ...) is refused, so a crafted file cannot run code.
_SAFE_GLOBALS = frozenset(
    {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
        ("builtins", "dict"),
        ("builtins", "list"),
        ("builtins", "tuple"),
        ("builtins", "bytes"),
        ("builtins", "bytearray"),
        ("builtins", "str"),
        ("builtins", "int"),
    }
)


# numpy 2 renamed numpy.core to numpy._core; old pickles (all real CIFAR files) name the old one.
_NUMPY_CORE = "numpy._core" if importlib.util.find_spec("numpy._core") else "numpy.core"


class _RefusedGlobal(pickle.UnpicklingError):
    """The pickle names a global outside _SAFE_GLOBALS."""


# Calls that allocate by a number argument (bytearray(2**32) is 29 bytes of pickle): only bounded sizes pass.
_SIZED = {("builtins", "bytes"): bytes, ("builtins", "bytearray"): bytearray}
_MAX_SIZED_ARGUMENT = 1 << 20


def _bounded(factory: type) -> object:
    def build(*args: object) -> object:
        if args and isinstance(args[0], int) and not 0 <= args[0] <= _MAX_SIZED_ARGUMENT:
            raise _RefusedGlobal(f"refused {factory.__name__}({args[0]}): a CIFAR batch never asks for that")
        return factory(*args)
    return build


def _checked_build(unpickler: "_RestrictedUnpickler") -> None:
    """BUILD, refusing a dtype state that differs from the dtype numpy itself made.

    numpy's dtype.__setstate__ trusts its flags: a flipped bit can claim that uint8 bytes hold object
    pointers, which numpy would later dereference (seen as "get_clear_loop not set" and "deallocated
    bytearray"). A CIFAR batch's dtypes are plain numbers with no fields, subarrays or flags of their own.
    """
    state, inst = unpickler.stack[-1], unpickler.stack[-2]
    if isinstance(inst, np.dtype):
        plain = (isinstance(state, tuple) and len(state) in (8, 9) and state[2] is None and state[3] is None
                 and state[4] is None and state[7] == inst.flags and inst.kind in "biuf")
        if not plain:
            raise _RefusedGlobal(f"refused a {shorten(str(inst), 20)} dtype with an altered state")
    elif isinstance(inst, np.ndarray):
        dtype = state[2] if isinstance(state, tuple) and len(state) == 5 else None
        if not isinstance(dtype, np.dtype) or dtype.kind not in "biufSU" or dtype.hasobject:
            raise _RefusedGlobal("refused an array whose state is not plain numbers or text")
    _BASE_BUILD(unpickler)


# The pure-Python unpickler, because its BUILD step can be checked (the C one cannot be hooked).
_BASE_BUILD = pickle._Unpickler.dispatch[pickle.BUILD[0]]  # type: ignore[attr-defined]


class _RestrictedUnpickler(pickle._Unpickler):  # type: ignore[name-defined]
    dispatch = {**pickle._Unpickler.dispatch, pickle.BUILD[0]: _checked_build}  # type: ignore[attr-defined]

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in _SAFE_GLOBALS:
            raise _RefusedGlobal(f"refused to load {shorten(module, 60)}.{shorten(name, 60)}")
        if (module, name) in _SIZED:
            return _bounded(_SIZED[module, name])
        if module.startswith(("numpy.core.", "numpy._core.")):
            module = _NUMPY_CORE + module[module.index(".", len("numpy.")) :]
        return super().find_class(module, name)


def _key(entry: dict, name: str) -> object:
    """CIFAR pickles come from Python 2: keys are bytes when read with encoding='bytes'."""
    if name in entry:
        return entry[name]
    return entry.get(name.encode("ascii"))


def load_batch(path: Path) -> dict:
    """Unpickle one batch file safely; every failure becomes a DatasetError naming it."""
    try:
        size = path.stat().st_size
        f = open(path, "rb")
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read it ({exc})") from None
    if size > max_bytes():  # unpickled straight from the file: no compression, so its size bounds the arrays
        f.close()
        raise too_large(path, size)
    try:
        with f:
            entry = _RestrictedUnpickler(f, encoding="bytes").load()
    except _RefusedGlobal as exc:
        raise DatasetError(
            f"{path}: {exc}: a CIFAR batch holds only arrays, lists and strings, so this "
            "file is not one (and was not trusted)"
        ) from None
    except pickle.UnpicklingError as exc:
        raise DatasetError(f"{path}: not a valid CIFAR batch pickle ({shorten(str(exc), 120)})") from None
    except EOFError:
        raise DatasetError(f"{path}: truncated (the pickle ends early); fetch it again") from None
    except Exception as exc:  # noqa: BLE001 - malformed pickles raise many types
        raise DatasetError(
            f"{path}: not a valid CIFAR batch pickle ({type(exc).__name__}: {shorten(str(exc), 120)})"
        ) from None
    if not isinstance(entry, dict):
        raise DatasetError(f"{path}: expected a dict of arrays, found {type(entry).__name__}")
    return entry


def read_batch(path: Path) -> RawImages:
    """One data batch: `data` uint8 (N, 3072) rows of R, G, B planes, `labels` (N,)."""
    entry = load_batch(path)
    data, labels = _key(entry, "data"), _key(entry, "labels")
    if data is None or labels is None:
        raise DatasetError(f"{path}: missing `data` or `labels`; not a CIFAR-10 batch file")
    if not isinstance(data, np.ndarray) or data.ndim != 2 or data.shape[1] != 3 * IMAGE_SIDE**2:
        shape = getattr(data, "shape", type(data).__name__)
        raise DatasetError(
            f"{path}: `data` must be an array (N, {3 * IMAGE_SIDE**2}), got {shape}"
        )
    try:
        label_array = np.asarray(labels)
    except (TypeError, ValueError) as exc:
        raise DatasetError(f"{path}: `labels` is not a list of integers ({exc})") from None
    images = data.reshape(-1, 3, IMAGE_SIDE, IMAGE_SIDE).transpose(0, 2, 3, 1)
    return checked_raw(images, label_array, path)


def _class_names(folder: Path) -> tuple[str, ...]:
    meta_path = folder / "batches.meta"
    if not meta_path.is_file():
        return CIFAR10_CLASSES
    names = _key(load_batch(meta_path), "label_names")
    if not isinstance(names, list) or not names:
        raise DatasetError(f"{meta_path}: `label_names` must be a non-empty list of names")
    return tuple(n.decode("utf-8", "replace") if isinstance(n, bytes) else str(n) for n in names)


def batch_folder(folder: Path) -> Path | None:
    """The folder holding data_batch_1: `folder` itself or its cifar-10-batches-py child."""
    for candidate in (folder, folder / EXTRACTED_FOLDER):
        if (candidate / "data_batch_1").is_file():
            return candidate
    return None


def read_cifar_dir(folder: Path) -> tuple[RawImages, RawImages | None, tuple[str, ...]]:
    """(train from data_batch_1..n, test_batch or None, class names) of a CIFAR-10 folder."""
    root = batch_folder(folder)
    if root is None:
        raise DatasetError(
            f"{folder}: no data_batch_1; a CIFAR-10 folder holds data_batch_1..5, test_batch "
            f"and batches.meta (or the extracted {EXTRACTED_FOLDER} folder)"
        )
    batches = []
    index = 1
    while (root / f"data_batch_{index}").is_file():
        batches.append(read_batch(root / f"data_batch_{index}"))
        index += 1
    train = RawImages(
        np.concatenate([b.images for b in batches]),
        np.concatenate([b.labels for b in batches]),
        root / "data_batch_*",
    )
    test = None
    if (root / "test_batch").is_file():
        test = read_batch(root / "test_batch")
        check_same_image_shape(train, test, root / "test_batch")
    return train, test, _class_names(root)
