"""The training form's number fields, made from a Setting's range: none changes with the mouse wheel unless
focused, and none rounds or clamps a value the setting allows (each holds the setting's whole range, open ends
as the nearest value inside, and keeps every double it is given)."""

from __future__ import annotations

import math
import sys

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QDoubleSpinBox, QSpinBox

from engine.config import Setting
from gui.builder.form_widgets import NoWheelUnlessFocused
from models.plural import unit_for

INT_MAX = 2**31 - 1  # QSpinBox is 32-bit
# QDoubleSpinBox rounds every value to its decimals; at Qt's most (323) every normal double comes back unchanged,
# so a project's 0.9995 or 1.5e-7 survives the form.
DECIMALS = 323


def number_box(setting: Setting) -> "IntSpinBox | FloatSpinBox":
    """The spin box for a number setting: its range, unit, the word for 0, its tooltip."""
    if setting.kind is int:
        low = -INT_MAX - 1 if setting.low is None else int(setting.low) + setting.low_open
        high = INT_MAX if setting.high is None else int(setting.high) - setting.high_open
        if not -INT_MAX - 1 <= low <= high <= INT_MAX:
            raise ValueError(f"setting {setting.name}: a spin box holds -2**31 to 2**31-1, not {low} to {high}; "
                             f"narrow its range in engine/config.py or keep it out of the form (in_form=False)")
        box: IntSpinBox | FloatSpinBox = IntSpinBox(low, high)
    else:
        low = -sys.float_info.max if setting.low is None else float(setting.low)
        high = sys.float_info.max if setting.high is None else float(setting.high)
        box = FloatSpinBox(inside(low, high) if setting.low_open else low,
                           inside(high, low) if setting.high_open else high,
                           log_scale=setting.log_scale, step=setting.step)
    if setting.unit:
        box.set_unit(setting.unit)
    if setting.zero and box.minimum() == 0:
        box.setSpecialValueText(setting.zero)
    box.setToolTip(setting.help)
    return box


def inside(end: float, toward: float) -> float:
    """The double next to an open range end, on the side of `toward`: the first value the range holds. Next to 0,
    the smallest normal double: the box's decimal rounding would turn a subnormal one into 0."""
    value = math.nextafter(end, toward)
    return math.copysign(sys.float_info.min, toward - end) if abs(value) < sys.float_info.min else value


class UnitSuffix:
    """A unit suffix in agreement with the value: "1 epoch", "3 epochs" (a fixed suffix said "1 epochs")."""

    def set_unit(self, unit: str) -> None:
        self._unit = unit
        self._agree(self.value())
        self.valueChanged.connect(self._agree)

    @Slot(int)
    @Slot(float)
    def _agree(self, value: float) -> None:
        self.setSuffix(f" {unit_for(value, self._unit)}")


class IntSpinBox(UnitSuffix, NoWheelUnlessFocused, QSpinBox):
    """A whole number with group separators (65,536)."""

    def __init__(self, low: int, high: int) -> None:
        super().__init__()
        self.setRange(low, high)
        self.setKeyboardTracking(False)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setGroupSeparatorShown(True)


class FloatSpinBox(UnitSuffix, NoWheelUnlessFocused, QDoubleSpinBox):
    """A number kept exactly, typed and shown as Python writes it (0.001, 3e-05, 0.9995). With `log_scale` the
    arrows step in thirds of a decade (1, 2, 5, 10 ...), for rates that span decades."""

    def __init__(self, low: float, high: float, *, log_scale: bool = False, step: float = 1.0) -> None:
        super().__init__()
        self.log_scale = log_scale  # first: setRange below already formats text
        self.setDecimals(DECIMALS)  # the text is formatted below; this keeps the stored value exact
        self.setRange(low, high)
        self.setSingleStep(step)
        self.setKeyboardTracking(False)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def textFromValue(self, value: float) -> str:  # noqa: N802
        return f"{value:.4g}" if self.log_scale else f"{value:.6g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802
        stripped = self._number_text(text)
        if self.specialValueText() and stripped == self.specialValueText():
            return self.minimum()
        try:
            return float(stripped)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        stripped = self._number_text(text)
        if self.specialValueText() and stripped == self.specialValueText():
            return QValidator.State.Acceptable, text, pos
        try:
            value = float(stripped)
        except ValueError:
            partial = stripped == "" or stripped[-1] in "eE.-+"
            return (QValidator.State.Intermediate if partial else QValidator.State.Invalid), text, pos
        ok = math.isfinite(value) and self.minimum() <= value <= self.maximum()
        return (QValidator.State.Acceptable if ok else QValidator.State.Intermediate), text, pos

    def _number_text(self, text: str) -> str:
        return text.removeprefix(self.prefix()).removesuffix(self.suffix()).strip()

    def stepBy(self, steps: int) -> None:  # noqa: N802
        if not self.log_scale:
            super().stepBy(steps)
            return
        value = self.value()
        if value <= 0:  # weight decay 0: up to the smallest usual value, never below zero
            if steps > 0:
                self.setValue(min(1e-5, self.maximum()))
            return
        exponent = math.floor(math.log10(value))
        ladder = [m * 10.0 ** e for e in range(exponent - 4, exponent + 5) for m in (1, 2, 5)]
        ladder = [rung for rung in ladder if rung > 0]  # 10**-330 is 0 in floats
        index = min(range(len(ladder)), key=lambda i: abs(math.log(ladder[i] / value)))
        target = ladder[min(max(index + steps, 0), len(ladder) - 1)]
        self.setValue(min(max(target, self.minimum()), self.maximum()))
