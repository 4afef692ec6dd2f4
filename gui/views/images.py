"""uint8 numpy images as Qt pixmaps (a copy: Qt must not keep pointing at numpy's buffer)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap


def to_pixmap(image: np.ndarray, size: int) -> QPixmap:
    """uint8 (H, W, 1 or 3) scaled to fit `size` pixels, nearest neighbour (pixels stay visible as pixels)."""
    image = np.ascontiguousarray(image)
    height, width, channels = image.shape
    fmt = QImage.Format.Format_Grayscale8 if channels == 1 else QImage.Format.Format_RGB888
    qimage = QImage(image.data, width, height, width * channels, fmt).copy()
    return QPixmap.fromImage(qimage).scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                                            Qt.TransformationMode.FastTransformation)
