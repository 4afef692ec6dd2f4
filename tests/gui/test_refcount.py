"""Regression guard: PySide6 6.12.0 on Python 3.11 leaked references to None/True/False (DESIGN.md).

With the bug, every void method call loses one reference to None and each signal emission to a
Python slot one to True/False, and the process aborts with "none_dealloc" within seconds of a live
plot. An upgrade that brings it back must fail here, not on users' machines.
"""

import sys

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QWidget

CALLS = 100_000


class _Emitter(QObject):
    toggled = Signal(bool)

    def __init__(self):
        super().__init__()
        self.received = 0

    @Slot(bool)
    def on_toggled(self, value):
        self.received += 1


def test_void_calls_and_signal_emissions_keep_refcounts(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    emitter = _Emitter()
    emitter.toggled.connect(emitter.on_toggled)
    none_before, true_before, false_before = (sys.getrefcount(v) for v in (None, True, False))
    for i in range(CALLS):
        widget.setEnabled(True)   # void method: returns None
        widget.update()
        emitter.toggled.emit(i % 2 == 0)
    assert emitter.received == CALLS
    # Allow small drift from unrelated allocations; the bug loses 100,000+.
    assert sys.getrefcount(None) >= none_before - 100
    assert sys.getrefcount(True) >= true_before - 100
    assert sys.getrefcount(False) >= false_before - 100
