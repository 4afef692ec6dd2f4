"""Read an image folder: one subfolder per class holding PNG/JPEG/BMP/GIF/WebP files of one size."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.datasets.dataset import DatasetError
from engine.datasets.limits import max_bytes, too_large
from engine.datasets.raw import RawImages, checked_raw
from models.safe_text import shorten

def _readable_suffixes() -> tuple[str, ...]:
    """The extensions read: PNG, JPEG, BMP and GIF (the first frame), WebP where this Pillow has it."""
    suffixes = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
    try:
        from PIL import features
    except ImportError:  # no Pillow: _decode says so on the first file
        return suffixes
    return (*suffixes, ".webp") if features.check("webp") else suffixes


IMAGE_SUFFIXES = _readable_suffixes()
SUFFIX_TEXT = "/".join(IMAGE_SUFFIXES)
# What the messages say about the layout, so a user knows why a file was not seen.
FOLDER_RULES = (
    f"one subfolder per class directly inside the folder, holding {SUFFIX_TEXT} images of one size; "
    "names starting with '.' are skipped and subfolders of a class folder are not searched"
)


def _image_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES
    )


def class_folders(folder: Path) -> list[Path]:
    """The visible subfolders of `folder`, sorted by name (sorted order = class index)."""
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def looks_like_image_folder(folder: Path) -> bool:
    return any(_image_files(sub) for sub in class_folders(folder))


def nothing_found(folder: Path) -> str:
    """Why `folder` has no images where they are looked for, naming a deeper folder that holds them."""
    for sub in class_folders(folder):
        for nested in class_folders(sub):
            if looks_like_image_folder(nested) or _image_files(nested):
                target = nested if looks_like_image_folder(nested) else sub
                return (f"no images directly in {folder}'s class folders, but {nested} holds some; "
                        f"open {target} instead, or move the images up: an image folder needs {FOLDER_RULES}")
    return f"no images found; an image folder needs {FOLDER_RULES}"


def _decode(path: Path) -> np.ndarray:
    """One image as uint8 RGB (H, W, 3); any decoding failure names the file."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise DatasetError(
            f"{path}: reading image folders needs Pillow, which is not installed; "
            "install it with `pip install pillow`"
        ) from None
    try:
        with Image.open(path) as image:
            image.load()
            return np.asarray(image.convert("RGB"), dtype=np.uint8)
    except UnidentifiedImageError:
        raise DatasetError(f"{path}: not a readable PNG or JPEG image, nor another kind read here ({SUFFIX_TEXT})") from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise DatasetError(
            f"{path}: cannot decode the image, it may be truncated or corrupt ({shorten(str(exc), 120)})"
        ) from None


def read_image_folder(folder: Path) -> tuple[RawImages, tuple[str, ...]]:
    """All images (grayscale when every image is, else RGB) and the class folder names."""
    if not folder.is_dir():
        raise DatasetError(f"{folder}: no such folder")
    classes = class_folders(folder)
    if not classes:
        raise DatasetError(f"{folder}: no class subfolders (e.g. cats/, dogs/); an image folder needs {FOLDER_RULES}")
    images: list[np.ndarray] = []
    labels: list[int] = []
    first: Path | None = None
    total = 0
    for index, sub in enumerate(classes):
        files = _image_files(sub)
        if not files:
            raise DatasetError(
                f"{sub}: class folder holds no {SUFFIX_TEXT} images (names starting with '.' are skipped, "
                "subfolders are not searched); add some or remove it"
            )
        for path in files:
            pixels = _decode(path)
            if first is None:
                first = path
            elif pixels.shape != images[0].shape:
                raise DatasetError(
                    f"{path}: image is {pixels.shape[1]}x{pixels.shape[0]} (WxH) but "
                    f"{first} is {images[0].shape[1]}x{images[0].shape[0]}; all images must "
                    "have one size: resize them first"
                )
            total += pixels.nbytes
            if total > max_bytes():
                raise too_large(folder, total)
            images.append(pixels)
            labels.append(index)
    stacked = np.stack(images)
    # Grayscale by content: a set whose every pixel has R == G == B needs one channel.
    if np.array_equal(stacked[..., 0], stacked[..., 1]) and np.array_equal(
        stacked[..., 0], stacked[..., 2]
    ):
        stacked = stacked[..., :1]
    raw = checked_raw(stacked, np.asarray(labels, dtype=np.int64), folder)
    return raw, tuple(p.name for p in classes)


SPLIT_FOLDERS = ("test", "train")  # sorted, as class_folders lists them


def is_split_image_folder(folder: Path) -> bool:
    """A folder whose only subfolders are train/ and test/, each an image folder (one subfolder per class)."""
    subs = class_folders(folder)
    return tuple(p.name for p in subs) == SPLIT_FOLDERS and all(looks_like_image_folder(p) for p in subs)


def read_split_image_folder(folder: Path) -> tuple[RawImages, RawImages, tuple[str, ...]]:
    """train/ and test/ image folders with the same classes: (train, test, class names), one channel count."""
    train, names = read_image_folder(folder / "train")
    test, test_names = read_image_folder(folder / "test")
    if test_names != names:
        missing = sorted(set(names) ^ set(test_names))
        raise DatasetError(
            f"{folder}: train/ and test/ must hold the same class folders; they differ in "
            f"{shorten(', '.join(missing) or 'their order', 120)}"
        )
    if train.images.shape[1:3] != test.images.shape[1:3]:
        raise DatasetError(
            f"{folder / 'test'}: images are {test.images.shape[2]}x{test.images.shape[1]} (WxH) but train/'s are "
            f"{train.images.shape[2]}x{train.images.shape[1]}; all images must have one size: resize them first"
        )
    channels = max(train.images.shape[3], test.images.shape[3])  # grayscale only when both splits are

    def widened(raw: RawImages) -> RawImages:
        if raw.images.shape[3] == channels:
            return raw
        return RawImages(np.repeat(raw.images, channels, axis=3), raw.labels)
    return widened(train), widened(test), names
