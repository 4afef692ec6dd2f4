"""The training form's number fields: none changes with the mouse wheel unless focused, and none rounds a
project's value (each holds TrainConfig's whole range at full precision)."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QDoubleSpinBox, QSpinBox

from gui.builder.form_widgets import NoWheelUnlessFocused


class IntSpinBox(NoWheelUnlessFocused, QSpinBox):
    """A whole number with group separators (65,536)."""

    def __init__(self, low: int, high: int, tip: str) -> None:
        super().__init__()
        self.setRange(low, high)
        self.setKeyboardTracking(False)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setToolTip(tip)
        self.setGroupSeparatorShown(True)


class RateSpinBox(NoWheelUnlessFocused, QDoubleSpinBox):
    """A positive rate shown as `0.001` or `3e-05`; the arrows step in thirds of a decade (1, 2, 5 ...)."""

    def __init__(self, low: float, high: float, tip: str) -> None:
        super().__init__()
        self.setDecimals(10)  # the text is formatted below; this only keeps the stored value exact
        self.setRange(low, high)
        self.setKeyboardTracking(False)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setToolTip(tip)

    def textFromValue(self, value: float) -> str:  # noqa: N802
        return f"{value:.4g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        stripped = text.strip()
        try:
            value = float(stripped)
        except ValueError:
            partial = stripped == "" or stripped[-1] in "eE.-+"
            return (QValidator.State.Intermediate if partial else QValidator.State.Invalid), text, pos
        ok = self.minimum() <= value <= self.maximum()
        return (QValidator.State.Acceptable if ok else QValidator.State.Intermediate), text, pos

    def stepBy(self, steps: int) -> None:  # noqa: N802
        value = self.value()
        if value <= 0:  # weight decay 0: up to the smallest usual value, never below zero
            if steps > 0:
                self.setValue(min(1e-5, self.maximum()))
            return
        exponent = math.floor(math.log10(value))
        ladder = [m * 10.0 ** e for e in range(exponent - 4, exponent + 5) for m in (1, 2, 5)]
        index = min(range(len(ladder)), key=lambda i: abs(math.log(ladder[i] / value)))
        target = ladder[min(max(index + steps, 0), len(ladder) - 1)]
        self.setValue(min(max(target, self.minimum()), self.maximum()))


UNDER_ONE = 1 - 1e-10  # the largest value ten decimals hold below 1: TrainConfig's [0, 1) ranges, unclamped


class PreciseSpinBox(NoWheelUnlessFocused, QDoubleSpinBox):
    """A value kept to ten decimals (a project's 0.9995 stays 0.9995), shown without trailing zeros; by default
    in [0, 1)."""

    def __init__(self, tip: str, *, high: float = UNDER_ONE, step: float = 0.05) -> None:
        super().__init__()
        self.setDecimals(10)
        self.setRange(0.0, high)
        self.setSingleStep(step)
        self.setKeyboardTracking(False)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setToolTip(tip)

    def textFromValue(self, value: float) -> str:  # noqa: N802
        return f"{value:.6g}"
