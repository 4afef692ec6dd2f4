"""One editor widget per hyperparameter kind (models.fields), each with `value()`, `set_value()` and `edited`."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QSpinBox, QWidget)

from models.fields import BOOL, FLOAT, INT, KERNEL_INIT, OPTIONAL_SIZE, PADDING, POOL_PADDING, SIZE, FieldInfo
from gui.builder.form_widgets import NoWheelUnlessFocused
from models.layers import pair


_NoWheelUnlessFocused = NoWheelUnlessFocused  # scrolling the inspector must not change a value by accident


class SpinBox(_NoWheelUnlessFocused, QSpinBox):
    def __init__(self, info: FieldInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRange(int(info.minimum), int(info.maximum))
        self.setKeyboardTracking(False)  # typing "12" is one edit, not "1" then "12"
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setToolTip(info.help)
        self.setMinimumWidth(76)


class DoubleSpinBox(_NoWheelUnlessFocused, QDoubleSpinBox):
    def __init__(self, info: FieldInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(3)
        self.setRange(info.minimum, info.maximum)
        self.setSingleStep(0.01 if info.maximum <= 1 else 0.1)
        self.setMinimumWidth(86)
        self.setKeyboardTracking(False)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setToolTip(info.help)


class FieldEditor(QWidget):
    """Base: `edited(value)` fires on user changes only, never from `set_value`."""

    edited = Signal(object)
    full_width = False  # True: the inspector gives it a row of its own, under its label

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)
        self._updating = False

    def value(self) -> object:
        raise NotImplementedError

    def set_value(self, value: object) -> None:
        self._updating = True
        try:
            self._show(value)
        finally:
            self._updating = False

    def _show(self, value: object) -> None:
        raise NotImplementedError

    def _emit(self, *_args: object) -> None:
        if not self._updating:
            self.edited.emit(self.value())


class IntEditor(FieldEditor):
    def __init__(self, info: FieldInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spin = SpinBox(info)
        self._layout.addWidget(self.spin)
        self._layout.addStretch(1)
        self.spin.valueChanged.connect(self._emit)

    def value(self) -> int:
        return self.spin.value()

    def _show(self, value: object) -> None:
        self.spin.setValue(int(value))  # type: ignore[arg-type]


class FloatEditor(FieldEditor):
    def __init__(self, info: FieldInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spin = DoubleSpinBox(info)
        self._layout.addWidget(self.spin)
        self._layout.addStretch(1)
        self.spin.valueChanged.connect(self._emit)

    def value(self) -> float:
        return self.spin.value()

    def _show(self, value: object) -> None:
        self.spin.setValue(float(value))  # type: ignore[arg-type]


class BoolEditor(FieldEditor):
    def __init__(self, info: FieldInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.check = QCheckBox()
        self.check.setToolTip(info.help)
        self._layout.addWidget(self.check)
        self.check.toggled.connect(self._emit)

    def value(self) -> bool:
        return self.check.isChecked()

    def _show(self, value: object) -> None:
        self.check.setChecked(bool(value))


class SizeEditor(FieldEditor):
    """One spin box for a square size; the 'non-square' toggle reveals separate height and width boxes."""

    def __init__(self, info: FieldInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.square, self.height, self.width = SpinBox(info), SpinBox(info), SpinBox(info)
        self.height.setToolTip(f"Height. {info.help}")
        self.width.setToolTip(f"Width. {info.help}")
        self._times = QLabel("\u00d7")
        self.non_square = QCheckBox("h \u2260 w")
        self.non_square.setToolTip("Use a different height and width")
        for widget in (self.square, self.height, self._times, self.width, self.non_square):
            self._layout.addWidget(widget)
        self._layout.addStretch(1)
        self._show_boxes(False)
        self.square.valueChanged.connect(self._emit)
        self.height.valueChanged.connect(self._emit)
        self.width.valueChanged.connect(self._emit)
        self.non_square.toggled.connect(self._on_non_square_toggled)

    def _show_boxes(self, non_square: bool) -> None:
        self.square.setVisible(not non_square)
        for widget in (self.height, self._times, self.width):
            widget.setVisible(non_square)

    def value(self) -> int | tuple[int, int]:
        if self.non_square.isChecked():
            return (self.height.value(), self.width.value())
        return self.square.value()

    def _show(self, value: object) -> None:
        h, w = pair(value)  # type: ignore[arg-type]
        non_square = isinstance(value, (tuple, list))
        self.non_square.setChecked(non_square)
        self._show_boxes(non_square)
        self.square.setValue(h)
        self.height.setValue(h)
        self.width.setValue(w)

    def _on_non_square_toggled(self, checked: bool) -> None:
        if self._updating:
            return
        # Same numbers in the other form: only an actual difference is an edit.
        self._updating, changed = True, False
        if checked:
            self.height.setValue(self.square.value())
            self.width.setValue(self.square.value())
        else:
            changed = self.height.value() != self.width.value()
            self.square.setValue(self.height.value())
        self._updating = False
        self._show_boxes(checked)
        if not checked and changed:
            self._emit()


class PaddingEditor(FieldEditor):
    """A number of zeros (square or not), or 'valid' / 'same'."""

    MODES = ("number", "valid", "same")

    def __init__(self, info: FieldInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mode = QComboBox()
        self.mode.addItems(["zeros", "valid", "same"])
        self.mode.setToolTip(info.help)
        self.size = SizeEditor(info)
        self._layout.addWidget(self.mode)
        self._layout.addWidget(self.size, 1)
        self.mode.currentIndexChanged.connect(self._on_mode_changed)
        self.size.edited.connect(self._emit)

    def value(self) -> object:
        mode = self.MODES[self.mode.currentIndex()]
        return self.size.value() if mode == "number" else mode

    def _show(self, value: object) -> None:
        is_text = isinstance(value, str)
        self.mode.setCurrentIndex(self.MODES.index(value) if is_text else 0)
        if not is_text:
            self.size.set_value(value)
        self.size.setVisible(not is_text)

    def _on_mode_changed(self, index: int) -> None:
        self.size.setVisible(index == 0)
        self._emit()


class OptionalSizeEditor(FieldEditor):
    """'= kernel' (None) or an explicit size; unticking starts from `fallback` (the current kernel size)."""

    def __init__(self, info: FieldInfo, parent: QWidget | None = None, fallback: object = 1) -> None:
        super().__init__(parent)
        self.fallback = fallback
        self.same_as_kernel = QCheckBox("= kernel")
        self.same_as_kernel.setToolTip(info.help)
        self.size = SizeEditor(info)
        self._layout.addWidget(self.same_as_kernel)
        self._layout.addWidget(self.size, 1)
        self.same_as_kernel.toggled.connect(self._on_toggled)
        self.size.edited.connect(self._emit)

    def value(self) -> object:
        return None if self.same_as_kernel.isChecked() else self.size.value()

    def _show(self, value: object) -> None:
        self.same_as_kernel.setChecked(value is None)
        self.size.set_value(self.fallback if value is None else value)
        self.size.setEnabled(value is not None)

    def _on_toggled(self, checked: bool) -> None:
        self.size.setEnabled(not checked)
        self._emit()


def make_editor(info: FieldInfo, fallback: object = 1) -> FieldEditor:
    """The widget for a field kind (`fallback`: what an OPTIONAL_SIZE shows while it follows the kernel)."""
    if info.kind == INT:
        return IntEditor(info)
    if info.kind == FLOAT:
        return FloatEditor(info)
    if info.kind == BOOL:
        return BoolEditor(info)
    if info.kind in (SIZE, POOL_PADDING):
        return SizeEditor(info)
    if info.kind == PADDING:
        return PaddingEditor(info)
    if info.kind == OPTIONAL_SIZE:
        return OptionalSizeEditor(info, fallback=fallback)
    if info.kind == KERNEL_INIT:
        from gui.builder.kernel_init_editor import KernelInitEditor  # it subclasses FieldEditor, defined here
        return KernelInitEditor(info)
    raise AssertionError(f"no editor for field kind {info.kind}")
