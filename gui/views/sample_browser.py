"""SampleBrowser: validation-sample thumbnails, filterable by class; a pick emits its index."""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QListView, QVBoxLayout, QWidget

THUMBNAIL_SIZE = 56  # pixels; 28x28 MNIST at 2x, 32x32 CIFAR scaled up nearest-neighbour
_PIXMAP_CACHE = 4096  # thumbnails kept; only those scrolled into view are ever made

_Index = QModelIndex | QPersistentModelIndex


class SampleModel(QAbstractListModel):
    """Rows = the samples passing the class filter; pixmaps are made when a row is shown."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._images = np.zeros((0, 1, 1, 1), dtype=np.uint8)
        self._labels = np.zeros(0, dtype=np.int64)
        self._names: list[str] = []
        self._rows = np.zeros(0, dtype=np.int64)  # row -> sample index
        self._pixmaps: OrderedDict[int, QPixmap] = OrderedDict()

    def set_samples(self, images: np.ndarray, labels: np.ndarray, names: list[str]) -> None:
        self.beginResetModel()
        self._images, self._labels, self._names = images, labels, names
        self._rows = np.arange(len(images))
        self._pixmaps.clear()
        self.endResetModel()

    def set_filter(self, class_index: int | None) -> None:
        self.beginResetModel()
        everything = np.arange(len(self._images))
        self._rows = everything if class_index is None else everything[self._labels == class_index]
        self.endResetModel()

    def sample_at(self, row: int) -> int:
        return int(self._rows[row])

    def row_of(self, sample: int) -> int | None:
        found = np.flatnonzero(self._rows == sample)
        return int(found[0]) if found.size else None

    def rows(self) -> np.ndarray:
        return self._rows.copy()

    def cached_thumbnails(self) -> int:
        """How many thumbnails have been made (and kept) so far."""
        return len(self._pixmaps)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802 (Qt override)
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        sample = int(self._rows[index.row()])
        if role == Qt.ItemDataRole.DecorationRole:
            return self._pixmap(sample)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"#{sample} — {self._names[self._labels[sample]]}"
        if role == Qt.ItemDataRole.UserRole:
            return sample
        return None

    def _pixmap(self, sample: int) -> QPixmap:
        pixmap = self._pixmaps.get(sample)
        if pixmap is not None:
            self._pixmaps.move_to_end(sample)
            return pixmap
        image = np.ascontiguousarray(self._images[sample])
        height, width, channels = image.shape
        fmt = QImage.Format.Format_Grayscale8 if channels == 1 else QImage.Format.Format_RGB888
        qimage = QImage(image.data, width, height, width * channels, fmt).copy()  # own the bytes
        pixmap = QPixmap.fromImage(qimage.scaled(
            THUMBNAIL_SIZE, THUMBNAIL_SIZE, Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.FastTransformation))
        self._pixmaps[sample] = pixmap
        if len(self._pixmaps) > _PIXMAP_CACHE:
            self._pixmaps.popitem(last=False)
        return pixmap


class SampleBrowser(QWidget):
    """Thumbnail grid of the samples; ``sample_selected(index)`` gives the index into the
    array passed to ``set_samples`` (the validation set), whatever the filter."""

    sample_selected = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = SampleModel(self)
        self._view = QListView()
        self._view.setViewMode(QListView.ViewMode.IconMode)
        self._view.setIconSize(QSize(THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        self._view.setGridSize(QSize(THUMBNAIL_SIZE + 8, THUMBNAIL_SIZE + 8))
        self._view.setUniformItemSizes(True)  # thousands of rows: no per-row size query
        self._view.setLayoutMode(QListView.LayoutMode.Batched)
        self._view.setResizeMode(QListView.ResizeMode.Adjust)
        self._view.setMovement(QListView.Movement.Static)
        self._view.setSelectionMode(QListView.SelectionMode.SingleSelection)
        self._view.setModel(self._model)
        self._view.selectionModel().currentChanged.connect(self._on_current_changed)
        self._filter = QComboBox()
        # Never narrower than its widest entry: squeezed beside the count it read "All classes (200".
        self._filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self._filter.currentIndexChanged.connect(self._on_filter_changed)
        self._count = QLabel("No samples.")
        top = QHBoxLayout()
        top.addWidget(QLabel("Class:"))
        top.addWidget(self._filter)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self._view)
        layout.addWidget(self._count)  # under the grid: the filter keeps the row's width
        self._total = 0
        self._last_emitted: int | None = None  # a filter change re-selecting it is no news

    # -- data in ------------------------------------------------------------------------
    def set_samples(self, images_uint8: np.ndarray, labels: np.ndarray,
                    class_names: Sequence[str]) -> None:
        """Images (N, H, W, C) or (N, H, W) uint8, C in {1, 3}; labels (N,) class indices."""
        images = np.asarray(images_uint8)
        labels = np.asarray(labels)
        if images.ndim == 3:
            images = images[..., np.newaxis]
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[3] not in (1, 3):
            raise ValueError(f"SampleBrowser: expected uint8 images shaped (N, H, W, 1 or 3), "
                             f"got {images.dtype} {images.shape}")
        if labels.shape != (len(images),):
            raise ValueError(
                f"SampleBrowser: {len(images)} images but labels shaped {labels.shape}")
        if labels.size and (labels.min() < 0 or labels.max() >= len(class_names)):
            raise ValueError("SampleBrowser: labels must be class indices "
                             f"0..{len(class_names) - 1}, "
                             f"found {labels.min()}..{labels.max()}")
        labels = labels.astype(np.int64)
        self._total = len(images)
        self._last_emitted = None
        self._model.set_samples(images, labels, [str(n) for n in class_names])
        counts = np.bincount(labels, minlength=len(class_names))
        self._filter.blockSignals(True)
        self._filter.clear()
        self._filter.addItem(f"All classes ({self._total})", None)
        for class_index, name in enumerate(class_names):
            self._filter.addItem(f"{name} ({counts[class_index]})", class_index)
        self._filter.blockSignals(False)
        self._filter.setMinimumWidth(self._filter.sizeHint().width())
        self._update_count()

    def clear(self) -> None:
        self.set_samples(np.zeros((0, 1, 1, 1), dtype=np.uint8), np.zeros(0, dtype=np.int64), [])

    def set_class_filter(self, class_index: int | None) -> None:
        """Show only samples of ``class_index`` (None: all)."""
        self._filter.setCurrentIndex(0 if class_index is None else class_index + 1)

    def select(self, index: int) -> None:
        """Make sample ``index`` current, clearing a filter that hides it; emits sample_selected."""
        if not 0 <= index < self._total:
            raise IndexError(f"SampleBrowser: sample {index} out of range 0..{self._total - 1}")
        row = self._model.row_of(index)
        if row is None:
            self.set_class_filter(None)
            row = self._model.row_of(index)
        model_index = self._model.index(row)
        self._view.setCurrentIndex(model_index)
        self._view.scrollTo(model_index)

    # -- accessors ----------------------------------------------------------------------
    def current_index(self) -> int | None:
        current = self._view.currentIndex()
        return self._model.sample_at(current.row()) if current.isValid() else None

    def visible_indices(self) -> np.ndarray:
        """Sample indices passing the filter, in display order."""
        return self._model.rows()

    def model(self) -> SampleModel:
        return self._model

    def list_view(self) -> QListView:
        return self._view

    # -- events -------------------------------------------------------------------------
    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            sample = self._model.sample_at(current.row())
            if sample != self._last_emitted:
                self._last_emitted = sample
                self.sample_selected.emit(sample)

    def _on_filter_changed(self, _position: int) -> None:
        selected = self.current_index()
        self._model.set_filter(self._filter.currentData())
        self._update_count()
        if selected is not None and (row := self._model.row_of(selected)) is not None:
            self._view.setCurrentIndex(self._model.index(row))

    def _update_count(self) -> None:
        shown = len(self._model.rows())
        self._count.setText(f"{shown} of {self._total} samples" if self._total else "No samples.")
