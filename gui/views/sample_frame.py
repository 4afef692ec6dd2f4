"""SamplePanel: one input image (grey or RGB) with a frame of pixels on it, e.g. a unit's receptive field."""
from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QWidget

from gui.views.mosaic_panel import MosaicPanel

Rect = tuple[float, float, float, float]  # (top, left, height, width) in pixels; pixel i spans [i, i + 1)


def clipped(rect: Rect | None, shape: tuple[int, ...]) -> Rect | None:
    """`rect` clipped to an image of `shape` (rows, cols, ...); None when nothing of it is inside."""
    if rect is None:
        return None
    top, left, height, width = (float(v) for v in rect)
    rows, cols = shape[:2]
    y0, x0 = max(top, 0.0), max(left, 0.0)
    y1, x1 = min(top + height, float(rows)), min(left + width, float(cols))
    return (y0, x0, y1 - y0, x1 - x0) if y1 > y0 and x1 > x0 else None


class SamplePanel(MosaicPanel):
    """``show_image(image)``: uint8 (H, W) grey (shown grey, not coloured), (H, W, 1) or (H, W, 3); None hides
    the panel. ``show_frame(rect)`` outlines those pixels, clipped to the image; the frame is kept (and clipped
    again) when the image changes. ``frame()`` is what is drawn."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self._sample: np.ndarray | None = None
        self._frame: Rect | None = None  # unclipped
        self.hide()  # until there is an image to show

    def show_image(self, image: np.ndarray | None) -> None:
        """Raises ValueError, naming what it got, for other types and shapes."""
        if image is None:
            self._sample = None
            self.hide()
            return
        array = np.asarray(image)
        if array.ndim == 3 and array.shape[2] == 1:
            array = array[..., 0]
        if array.dtype != np.uint8 or not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] == 3)) \
                or array.size == 0:
            raise ValueError(f"the input must be uint8 (H, W) or (H, W, 3), got {array.dtype} {array.shape}")
        self._sample = array
        self.set_image(array if array.ndim == 3 else np.repeat(array[..., np.newaxis], 3, axis=2), (0.0, 255.0))
        self.show()
        self.set_highlight(self.frame())  # type: ignore[arg-type]

    def show_frame(self, rect: Rect | None) -> None:
        self._frame = None if rect is None else tuple(float(v) for v in rect)  # type: ignore[assignment]
        self.set_highlight(self.frame())  # type: ignore[arg-type]

    def frame(self) -> Rect | None:
        return None if self._sample is None else clipped(self._frame, self._sample.shape)
