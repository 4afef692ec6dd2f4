"""File > Export...: choose a format and where to write it; the export runs off the GUI thread with a busy bar."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent, QStandardItemModel
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QMessageBox, QProgressBar, QPushButton, QSpinBox,
                               QVBoxLayout, QWidget)

from engine.export.formats import FORMATS, NEEDS_HISTORY, NEEDS_WEIGHTS, ExportFormat, ExportOption
from engine.metrics import MetricsHistory
from engine.normalization import Normalization
from gui.document.export_worker import ExportRunner, Weights
from gui.document.project_io import copy_history, copy_weights, weights_fit
from models.architecture import Architecture

NO_WEIGHTS = "needs trained weights: train the network or use File > Import Weights first"
STALE_WEIGHTS = "needs trained weights that fit the network: it was edited after training, so train it again"
NO_HISTORY = "needs a training history: train the network first"
BUSY = "Exporting\u2026"


def exported_message(paths: list[Path]) -> str:
    """The status-bar line after an export: the file, or how many files went where."""
    if len(paths) == 1:
        return f"Exported {paths[0]}"
    names = ", ".join(p.name for p in paths[:3]) + (", \u2026" if len(paths) > 3 else "")
    return f"Exported {len(paths)} files to {paths[0].parent}: {names}"


class ExportDialog(QDialog):
    """Format list (formats that cannot be written now are disabled, with the reason), output path with the
    format's suffix, and Export. Success closes the dialog and emits `exported`; an error stays in the dialog.

    `ask_output_path` (the file chooser) and `confirm_overwrite` (replace existing files?) are the seams tests
    replace.
    """

    exported = Signal(object)  # list[Path]

    def __init__(self, architecture: Architecture, weights: Weights | None, history: MetricsHistory,
                 directory: Path, stem: str, runner: ExportRunner, parent: QWidget | None = None, *,
                 formats: Sequence[ExportFormat] = FORMATS, normalization: Normalization | None = None) -> None:
        super().__init__(parent)
        self._normalization = normalization  # the training statistics: models then take [0, 1] pixels
        self._formats = tuple(formats)
        self.setObjectName("exportDialog")
        self.setWindowTitle("Export")
        # Copies taken now: the export must write what the user saw when choosing, even if training goes on.
        self._architecture, self._weights, self._history = architecture, copy_weights(weights), copy_history(history)
        self._stem, self._runner = stem, runner
        self._busy = False
        self._confirmed: Path | None = None  # a file the save dialog already asked to replace
        self._reasons = self._unavailable_reasons(weights)

        self.format_combo = QComboBox()
        self.format_combo.setObjectName("exportFormat")
        model: QStandardItemModel = self.format_combo.model()  # type: ignore[assignment]
        for row, fmt in enumerate(self._formats):
            self.format_combo.addItem(fmt.label, fmt.key)
            if fmt.key in self._reasons:
                model.item(row).setEnabled(False)
                model.item(row).setToolTip(f"{fmt.label} {self._reasons[fmt.key]}")
        self.reason_label = QLabel(self._reason_text())
        self.reason_label.setObjectName("exportReason")
        self.reason_label.setWordWrap(True)
        self.reason_label.setVisible(bool(self._reasons))
        self.path_edit = QLineEdit(str(directory / stem))  # the name follows the format
        self.path_edit.setObjectName("exportPath")
        self.browse_button = QPushButton("Browse\u2026")
        self.browse_button.clicked.connect(self._on_browse_clicked)
        self.options_box = QWidget()  # the chosen format's options (a spin box, a line, a choice each)
        options_layout = QVBoxLayout(self.options_box)
        options_layout.setContentsMargins(0, 0, 0, 0)
        self._option_editors: dict[str, dict[str, QWidget]] = {}
        self._option_forms: dict[str, QWidget] = {}
        for fmt in self._formats:
            if fmt.options:
                self._option_forms[fmt.key] = self._option_form(fmt)
                options_layout.addWidget(self._option_forms[fmt.key])
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy: an export is one step with no measurable progress
        self.progress.setTextVisible(False)
        policy = self.progress.sizePolicy()
        policy.setRetainSizeWhenHidden(True)  # the dialog keeps its size when the bar appears
        self.progress.setSizePolicy(policy)
        self.progress.setVisible(False)
        self.message_label = QLabel()
        self.message_label.setObjectName("exportMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_label.setMinimumHeight(3 * self.message_label.fontMetrics().lineSpacing())
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setDefault(True)
        self.buttons.accepted.connect(self.export)
        self.buttons.rejected.connect(self.reject)

        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)
        form = QFormLayout()
        form.addRow("Format:", self.format_combo)
        form.addRow("", self.reason_label)
        form.addRow("Write to:", path_row)
        form.addRow("Options:", self.options_box)
        self._form = form
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.message_label)
        layout.addWidget(self.buttons)
        # An explicit minimum size, so the layout never sets one on the shown platform window (which the
        # offscreen platform warns about); the busy bar's and the message's room is reserved above.
        self.setMinimumSize(layout.minimumSize().expandedTo(QSize(560, 0)))

        self.format_combo.currentIndexChanged.connect(self._on_format_changed)
        runner.exported.connect(self._on_exported)
        runner.failed.connect(self._on_failed)
        first = next(i for i, fmt in enumerate(self._formats) if fmt.key not in self._reasons)
        self.format_combo.setCurrentIndex(first)
        self._on_format_changed(first)

    # -- state ------------------------------------------------------------------------------------------------
    @property
    def fmt(self) -> ExportFormat:
        return self._formats[self.format_combo.currentIndex()]

    @property
    def is_busy(self) -> bool:
        return self._busy

    def reason(self, key: str) -> str:
        """Why format `key` is disabled ('' when it is available)."""
        return self._reasons.get(key, "")

    def is_available(self, key: str) -> bool:
        return key not in self._reasons

    def select_format(self, key: str) -> None:
        self.format_combo.setCurrentIndex(next(i for i, fmt in enumerate(self._formats) if fmt.key == key))

    def option_editor(self, name: str) -> QWidget:
        """The current format's editor for option `name` (a QSpinBox, QDoubleSpinBox, QComboBox or QLineEdit)."""
        return self._option_editors[self.fmt.key][name]

    def option_values(self) -> dict[str, object]:
        """The current format's options as the user set them."""
        values: dict[str, object] = {}
        for name, editor in self._option_editors.get(self.fmt.key, {}).items():
            if isinstance(editor, (QSpinBox, QDoubleSpinBox)):
                values[name] = editor.value()
            elif isinstance(editor, QComboBox):
                values[name] = editor.currentText()
            else:
                values[name] = editor.text()  # type: ignore[attr-defined]
        return values

    def output_path(self) -> Path:
        """The path to write: the typed one, with the format's suffix appended when it has none."""
        path = Path(self.path_edit.text().strip()).expanduser()
        if not self.fmt.is_folder and not path.suffix:
            path = path.with_name(path.name + self.fmt.suffixes[0])
        return path

    def existing_targets(self) -> list[Path]:
        """What exporting now would replace: existing files, or a folder that already holds files."""
        if self.fmt.is_folder:
            folder = self.output_path()
            return [folder] if folder.is_dir() and any(folder.iterdir()) else []
        return [path for path in self.fmt.targets(self.output_path()) if path.exists()]

    # -- seams --------------------------------------------------------------------------------------------------
    def confirm_overwrite(self, paths: list[Path]) -> bool:
        what = "The folder already holds files" if self.fmt.is_folder else \
            "This file already exists" if len(paths) == 1 else "These files already exist"
        answer = QMessageBox.question(
            self, "Replace?", f"{what}:\n" + "\n".join(str(p) for p in paths) + "\n\nReplace "
            + ("the files of the same names?" if self.fmt.is_folder else "it?" if len(paths) == 1 else "them?"),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def ask_output_path(self, fmt: ExportFormat, current: Path) -> Path | None:
        if fmt.is_folder:
            name = QFileDialog.getExistingDirectory(self, "Export filters into the folder", str(current.parent))
            return Path(name) / current.name if name else None
        name, _ = QFileDialog.getSaveFileName(self, f"Export {fmt.label}", str(current), fmt.file_filter())
        return Path(name) if name else None

    # -- actions ----------------------------------------------------------------------------------------------
    def export(self) -> bool:
        """Start the export on the runner's thread; False (with the reason shown) if it cannot start."""
        if self.is_busy or not self.is_available(self.fmt.key):
            return False
        if not self.path_edit.text().strip():
            self._show_message("Choose where to write the export.", error=True)
            return False
        out = self.output_path()
        self.path_edit.setText(str(out))
        unconfirmed = [path for path in self.existing_targets() if path != self._confirmed]
        if unconfirmed and not self.confirm_overwrite(unconfirmed):
            self._show_message("Nothing exported: choose another name, or Export again to replace.", error=False)
            return False
        self._set_busy(True)
        self._show_message(f"{BUSY} {self.fmt.label} to {out}", error=False)
        self._runner.start(self.fmt, self._architecture, self._weights, self._history, out, self.option_values(),
                           self._normalization)
        return True

    def reject(self) -> None:
        if not self.is_busy:  # an export cannot be interrupted halfway; it finishes in a moment
            super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if self.is_busy:
            event.ignore()
        else:
            super().closeEvent(event)

    # -- handlers ---------------------------------------------------------------------------------------------
    def _on_format_changed(self, index: int) -> None:
        fmt = self._formats[index]
        for key, widget in self._option_forms.items():
            widget.setVisible(key == fmt.key)
        self._form.setRowVisible(self.options_box, fmt.key in self._option_forms)
        current = Path(self.path_edit.text().strip() or "export")
        self.path_edit.setText(str(current.parent / fmt.name.format(stem=self._stem)))
        self._show_message("", error=False)

    def _on_browse_clicked(self) -> None:
        chosen = self.ask_output_path(self.fmt, self.output_path())
        if chosen is not None:
            self.path_edit.setText(str(chosen))
            # The platform's save dialog asks before choosing an existing file; the folder chooser does not.
            self._confirmed = None if self.fmt.is_folder else self.output_path()

    @Slot(object)
    def _on_exported(self, paths: list[Path]) -> None:
        if not self.is_busy:
            return
        self._set_busy(False)
        self.exported.emit(paths)
        self.accept()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        if not self.is_busy:
            return
        self._set_busy(False)
        self._show_message(f"Export failed: {message}", error=True)

    # -- helpers --------------------------------------------------------------------------------------------
    def _unavailable_reasons(self, weights: Weights | None) -> dict[str, str]:
        reasons = {}
        weights_reason = NO_WEIGHTS if weights is None else "" if weights_fit(self._architecture, weights) \
            else STALE_WEIGHTS
        for fmt in self._formats:
            if fmt.needs == NEEDS_WEIGHTS and weights_reason:
                reasons[fmt.key] = weights_reason
            elif fmt.needs == NEEDS_HISTORY and not (self._history.batches or self._history.epochs):
                reasons[fmt.key] = NO_HISTORY
        return reasons

    def _reason_text(self) -> str:
        by_reason: dict[str, list[str]] = {}
        for fmt in self._formats:
            if fmt.key in self._reasons:
                by_reason.setdefault(self._reasons[fmt.key], []).append(fmt.label.split(" (")[0])
        return "\n".join(f"{', '.join(labels)}: {reason}." for reason, labels in by_reason.items())

    def _option_form(self, fmt: ExportFormat) -> QWidget:
        box = QWidget()
        layout = QFormLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        editors = self._option_editors.setdefault(fmt.key, {})
        for option in fmt.options:
            editors[option.name] = editor = _option_editor(option)
            editor.setToolTip(option.help)
            layout.addRow(f"{option.label}:", editor)
        return box

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.progress.setVisible(busy)
        for widget in (self.format_combo, self.path_edit, self.browse_button, self.export_button, self.options_box):
            widget.setEnabled(not busy)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setEnabled(not busy)

    def _show_message(self, text: str, error: bool) -> None:
        self.message_label.setText(text)
        self.message_label.setProperty("error", error)
        self.message_label.setStyleSheet("color: #b91c1c;" if error else "")


def _option_editor(option: ExportOption) -> QWidget:
    """A field for one format option, bounded as the option declares, showing its default."""
    if option.choices:
        combo = QComboBox()
        combo.addItems(list(option.choices))
        combo.setCurrentText(str(option.default))
        return combo
    if option.kind in (int, float):
        spin = QSpinBox() if option.kind is int else QDoubleSpinBox()
        low = option.minimum if option.minimum is not None else -1_000_000
        high = option.maximum if option.maximum is not None else 1_000_000
        spin.setRange(option.kind(low), option.kind(high))  # type: ignore[arg-type]
        spin.setValue(option.default)  # type: ignore[arg-type]
        return spin
    return QLineEdit(str(option.default))
