"""The drag-and-drop MIME types of the builder: a new layer from the palette, or a block being moved."""

from __future__ import annotations

from PySide6.QtCore import QMimeData

from models.layers import NODE_TYPES
from models.residual_block import BLOCK_TYPES

LAYER_MIME = "application/x-convscope-layer"  # payload: a NODE_TYPES or BLOCK_TYPES key, UTF-8
MOVE_MIME = "application/x-convscope-move"  # payload: the 0-based index of the dragged layer, ASCII


def layer_mime_data(key: str) -> QMimeData:
    if key not in NODE_TYPES and key not in BLOCK_TYPES:
        raise KeyError(f"unknown layer type {key!r}")
    data = QMimeData()
    data.setData(LAYER_MIME, key.encode("utf-8"))
    data.setText(key)  # so a drop into a text editor shows something sensible
    return data


def move_mime_data(index: int) -> QMimeData:
    data = QMimeData()
    data.setData(MOVE_MIME, str(index).encode("ascii"))
    return data


def layer_key(data: QMimeData) -> str | None:
    """The registry key a palette drag carries, or None if the data carries none we know."""
    if not data.hasFormat(LAYER_MIME):
        return None
    key = bytes(data.data(LAYER_MIME).data()).decode("utf-8", errors="replace")
    return key if key in NODE_TYPES or key in BLOCK_TYPES else None


def moved_index(data: QMimeData) -> int | None:
    """The layer index a canvas move drag carries, or None."""
    if not data.hasFormat(MOVE_MIME):
        return None
    text = bytes(data.data(MOVE_MIME).data()).decode("ascii", errors="replace")
    return int(text) if text.isdigit() else None
