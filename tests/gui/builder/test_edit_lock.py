"""EditLock on its own: the widgets and actions it is given (whatever their labels) follow the lock and the stack."""

from __future__ import annotations

from PySide6.QtGui import QAction, QUndoCommand, QUndoStack
from PySide6.QtWidgets import QWidget

from gui.builder.edit_lock import LOCKED_TEXT, EditLock
from models.network import Network
from models.presets import load_preset


def test_lock_disables_what_it_was_given_and_unlock_follows_the_stack_and_selection(qtbot):
    canvas, other = QWidget(), QWidget()
    qtbot.addWidget(canvas)
    qtbot.addWidget(other)
    network, stack = Network(load_preset("lenet5")), QUndoStack()
    stack.push(QUndoCommand("edit"))  # something to undo, nothing to redo
    back, forth = QAction("Zur\u00fcck"), QAction("Vor")  # labels are nobody's business but the user's
    delete = QAction("Weg")
    lock = EditLock(canvas, (canvas, other), network, stack, undo_actions=[back], redo_actions=[forth],
                    selection_actions=[delete])
    assert not delete.isEnabled()  # nothing selected
    network.select(2)
    assert delete.isEnabled()

    lock.set_locked(True)
    assert not any(w.isEnabled() for w in (canvas, other)) and canvas.toolTip() == LOCKED_TEXT
    assert not any(a.isEnabled() for a in (back, forth, delete)) and lock.banner.isVisibleTo(canvas)
    network.select(3)  # a selection while locked does not turn Delete back on
    assert not delete.isEnabled()

    lock.set_locked(False)
    assert all(w.isEnabled() for w in (canvas, other)) and not lock.banner.isVisibleTo(canvas)
    assert back.isEnabled() and not forth.isEnabled() and delete.isEnabled()
