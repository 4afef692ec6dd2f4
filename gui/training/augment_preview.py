"""A strip of training images as the chosen augmentation changes them, under the form's augmentation choice."""

from __future__ import annotations

import numpy as np
import torch
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel

from engine.augmentation import Augmenter, describe, resolve_operations
from engine.config import TrainConfig

SAMPLES = 8
HEIGHT = 40   # pixels on screen per image
GAP = 2


def preview_strip(dataset, config: TrainConfig, samples: int = SAMPLES) -> tuple[np.ndarray, tuple[str, ...]]:
    """uint8 (H, samples * (W + GAP) - GAP, C): the first training images through one augmentation draw
    (the run's seed, so the strip is what the first batch would see of them), and the operations used."""
    operations = resolve_operations(config, dataset.name, dataset.input_shape[0])
    images = dataset.train.images_at(slice(0, samples))
    with torch.no_grad():
        shown = Augmenter(operations, dataset.mean, dataset.std, "cpu", config.seed)(images)
    pixels = dataset.to_uint8(shown)                      # (n, H, W, C)
    n, h, w, c = pixels.shape
    strip = np.full((h, max(0, n * (w + GAP) - GAP), c), 255, dtype=np.uint8)
    for i in range(n):
        strip[:, i * (w + GAP):i * (w + GAP) + w] = pixels[i]
    return strip, operations


class AugmentPreview(QLabel):
    """Shows `preview_strip` for a dataset and settings; hidden while there is no dataset."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("augmentPreview")
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.hide()
        self.strip: np.ndarray | None = None

    def show_preview(self, dataset, config: TrainConfig) -> None:
        if dataset is None or not len(dataset.train):
            self.strip = None
            self.hide()
            return
        self.strip, operations = preview_strip(dataset, config)
        h, w, c = self.strip.shape
        fmt = QImage.Format.Format_Grayscale8 if c == 1 else QImage.Format.Format_RGB888
        image = QImage(np.ascontiguousarray(self.strip).data, w, h, w * c, fmt).copy()  # own the bytes
        self.setPixmap(QPixmap.fromImage(image).scaledToHeight(HEIGHT, Qt.TransformationMode.FastTransformation))
        self.setToolTip(f"The first {SAMPLES} training images with augmentation {describe(operations)} "
                        f"(a new draw every batch; validation and test are never augmented)")
        self.show()
