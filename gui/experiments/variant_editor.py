"""Edit one experiment variant's architecture as JSON (the architecture file format), checked before it is kept."""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from models import architecture_file
from models.architecture import Architecture
from models.architecture_file import ArchitectureFileError
from models.shapes import analyze


def checked_architecture(text: str) -> tuple[Architecture | None, str]:
    """The architecture `text` describes and '' , or None and why not (the file format's error, or the first
    layer whose shapes do not work out)."""
    try:
        architecture = architecture_file.loads(text)
    except ArchitectureFileError as exc:
        return None, str(exc)
    analysis = analyze(architecture)
    if not analysis.is_valid:
        return None, analysis.first_error or "the network has no layers"
    return architecture, ""


class VariantEditor(QDialog):
    """The variant's architecture as JSON; OK keeps it only if it reads and its shapes work out (`edited`)."""

    def __init__(self, label: str, architecture: Architecture, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Edit variant \u201c{label}\u201d")
        self.resize(560, 620)
        self.setMinimumSize(360, 300)
        self.edited: Architecture | None = None
        self.text = QPlainTextEdit(architecture_file.dumps(architecture))
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.error_label = QLabel("The architecture file format (docs/architecture-files.md); the input stays the "
                                  "dataset's.")
        self.error_label.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)

    def accept(self) -> None:
        architecture, error = checked_architecture(self.text.toPlainText())
        if architecture is None:
            self.error_label.setText(f"Not kept: {error}")
            self.error_label.setStyleSheet("color: #b91c1c;")
            return
        self.edited = architecture
        super().accept()
