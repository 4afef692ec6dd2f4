"""What the window says about the weights it holds, and asks before training over them."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from engine.metrics import MetricsHistory

CONTINUE, FRESH, CANCEL = "continue", "fresh", "cancel"  # answers of ask_continue_training


def ask_continue_training(parent: QWidget | None) -> str:
    """CONTINUE from the trained weights, start FRESH (replacing them), or CANCEL: a modal question."""
    box = QMessageBox(QMessageBox.Icon.Question, "Train",
                      "This network has trained weights. Continue training from them, or start again from "
                      "fresh random weights (the trained ones are then replaced)?",
                      QMessageBox.StandardButton.Cancel, parent)
    keep = box.addButton("Continue training", QMessageBox.ButtonRole.AcceptRole)
    fresh = box.addButton("Start fresh", QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(keep)
    box.exec()
    return {keep: CONTINUE, fresh: FRESH}.get(box.clickedButton(), CANCEL)


def loaded_text(history: MetricsHistory) -> str:
    """What restored weights are, said from the curves that came with them."""
    if not history.batches:
        return "Loaded weights (not trained in this window; no curves came with them)"
    last = history.batches[-1]
    return f"Trained weights loaded: {last.step:,} steps, {last.epoch} epoch{'s' if last.epoch != 1 else ''}"
