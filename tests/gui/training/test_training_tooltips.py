"""Every field and button of the training dock says what it does on hover, and each form row's label does too."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QFormLayout, QWidget

from gui.training.dataset_loader import DatasetLoader
from gui.training.training_panel import TrainingPanel
from gui.training.training_session import TrainingSession


@pytest.fixture
def panel(qtbot):
    session, loader = TrainingSession(), DatasetLoader()
    widget = TrainingPanel(session, loader)
    qtbot.addWidget(widget)
    try:
        yield widget
    finally:
        assert loader.shutdown() and session.shutdown()


def name(widget: QWidget) -> str:
    text = getattr(widget, "text", lambda: "")()
    return f"{type(widget).__name__} {widget.objectName()!r} {text!r}"


def test_every_training_field_and_button_has_a_tooltip(panel):
    fields = [w for cls in (QAbstractButton, QComboBox, QAbstractSpinBox) for w in panel.findChildren(cls)]
    assert len(fields) > 25  # the form, the download box and the run controls
    assert [name(w) for w in fields if not w.toolTip().strip()] == []


def test_each_form_label_explains_like_its_field(panel):
    form = panel.form.form
    labelled = 0
    for row in range(form.rowCount()):
        label, field = (form.itemAt(row, role) for role in (QFormLayout.ItemRole.LabelRole,
                                                             QFormLayout.ItemRole.FieldRole))
        if label is None or label.widget() is None:
            continue
        labelled += 1
        assert label.widget().toolTip() == field.widget().toolTip() != "", label.widget().text()
    assert labelled >= 15
