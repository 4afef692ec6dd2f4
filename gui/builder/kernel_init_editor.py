"""The inspector's editor for conv2d `init`: hand-set filters as JSON, with the kernel library a click away."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QBoxLayout, QComboBox, QLineEdit, QWidget

from gui.builder.field_editors import FieldEditor
from models.fields import FieldInfo
from models.kernel_library import KERNEL_NAMES

ADD_PROMPT = "+ kernel"
MIN_LINE_CHARS = 24  # ["sobel_x", "sobel_y", null]


class KernelInitEditor(FieldEditor):
    """A line of JSON, one entry per filter (`["sobel_x", null, [[1, 0, -1], ...]]`; empty: all random; filters
    after the list start random), and under it a combo that appends a library kernel (or null, a random filter)
    as the next entry."""

    full_width = True

    def __init__(self, info: FieldInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.line = QLineEdit()
        self.line.setPlaceholderText("all random")
        self.line.setToolTip(info.help + ' Example: ["sobel_x", "sobel_y"] (the other filters start random)')
        self.add = QComboBox()
        self.add.addItem(ADD_PROMPT, None)
        self.add.addItem("random (null)", "null")
        for name in KERNEL_NAMES:
            self.add.addItem(name, name)
        self.add.setToolTip("Append a filter entry: a library kernel or a random start")
        # The line above the combo, both as wide as the inspector: side by side, the JSON had 75 px.
        self._layout.setDirection(QBoxLayout.Direction.TopToBottom)
        self.line.setMinimumWidth(self.line.fontMetrics().horizontalAdvance("x" * MIN_LINE_CHARS))
        self._layout.addWidget(self.line)
        self._layout.addWidget(self.add, 0, Qt.AlignmentFlag.AlignLeft)
        self.line.editingFinished.connect(self._emit)
        self.add.activated.connect(self._on_add)

    def value(self) -> object:
        text = self.line.text().strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            return text  # coerce refuses it with what it expects, shown under the form

    def _show(self, value: object) -> None:
        self.line.setText("" if value is None else json.dumps(_plain(value)))

    def _on_add(self, index: int) -> None:
        entry = self.add.itemData(index)
        self.add.setCurrentIndex(0)
        if entry is None:
            return
        current = self.value()
        entries = list(current) if isinstance(current, list) else []
        entries.append(None if entry == "null" else entry)
        self.line.setText(json.dumps(entries))
        self._emit()


def _plain(value: object) -> object:
    """Tuples as lists, whole floats as ints, for a short JSON line."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
