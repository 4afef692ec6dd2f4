"""A strip of training images as the chosen augmentation changes them, under the form's augmentation choice."""

from __future__ import annotations

import numpy as np
import torch
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QPainter, QPaintEvent, QPixmap, QResizeEvent
from PySide6.QtWidgets import QLabel

from engine.training.augmentation import Augmenter, describe, resolve_operations
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
    """Shows `preview_strip` for a dataset and settings; hidden while there is no dataset. The strip is
    HEIGHT pixels tall, or smaller to fit the width: at its full 340 pixels it widened the whole training
    dock's form past the dock, cutting every field's right edge."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("augmentPreview")
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.hide()
        self.strip: np.ndarray | None = None
        self._full: QPixmap | None = None

    def sizeHint(self) -> QSize:  # noqa: N802
        return self._full.size() if self._full is not None else super().sizeHint()

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(HEIGHT, HEIGHT) if self._full is not None else super().minimumSizeHint()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        # In full colour even while the form is disabled (during a run): a disabled QLabel greys its pixmap,
        # and the preview of a colour set then looked like a grey one.
        pixmap = self.pixmap()
        if pixmap is None or pixmap.isNull():
            super().paintEvent(event)
            return
        painter = QPainter(self)
        painter.drawPixmap(0, (self.height() - pixmap.height()) // 2, pixmap)

    def _fit(self) -> None:
        if self._full is not None:
            fitted = (self._full if self._full.width() <= self.width() else
                      self._full.scaledToWidth(max(1, self.width()), Qt.TransformationMode.SmoothTransformation))
            self.setPixmap(fitted)

    def show_preview(self, dataset, config: TrainConfig) -> None:
        if dataset is None or not len(dataset.train):
            self.strip = None
            self.hide()
            return
        self.strip, operations = preview_strip(dataset, config)
        h, w, c = self.strip.shape
        fmt = QImage.Format.Format_Grayscale8 if c == 1 else QImage.Format.Format_RGB888
        image = QImage(np.ascontiguousarray(self.strip).data, w, h, w * c, fmt).copy()  # own the bytes
        self._full = QPixmap.fromImage(image).scaledToHeight(HEIGHT, Qt.TransformationMode.FastTransformation)
        self.updateGeometry()
        self._fit()
        self.setToolTip(f"The first {SAMPLES} training images with augmentation {describe(operations)} "
                        f"(a new draw every batch; validation and test are never augmented)")
        self.show()
