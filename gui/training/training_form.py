"""The training settings form, made from engine/config.py's SETTINGS: a row per setting under its group's
heading, plus the dataset picker (bundled, downloaded, file, folder) and the augmentation preview."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QProgressBar, QPushButton, QVBoxLayout, QWidget)

from engine.config import SETTINGS, Setting, TrainConfig
from engine.datasets import available_datasets
from engine.training.device import available_devices
from gui.builder.form_widgets import section_heading
from gui.training.augment_preview import AugmentPreview
from gui.dataset_inputs import dataset_title
from gui.training.download_box import DownloadBox
from gui.training.spin_boxes import number_box
from gui.views.message_label import MessageLabel

DATASET_FILE_FILTER = "NumPy archive (*.npz);;All files (*)"


class ChoiceBox(QComboBox):
    """A setting's choices by title, the value as item data. `takes_others`: the choices are presets (augment's),
    and a value from elsewhere (a list typed on the command line) joins them when shown."""

    def __init__(self, choices: tuple[tuple[str, str], ...], takes_others: bool) -> None:
        super().__init__()
        self.takes_others = takes_others
        for key, title in choices:
            self.addItem(title, key)


class TrainingForm(QWidget):
    """The settings of the next run, one field per setting of engine/config.py's SETTINGS shown in the window
    (its title, range, help and section; rows shown only where they apply). `config()` reads them as a
    TrainConfig; `set_config()` shows one; `field(name)` is a setting's widget.

    The dataset is chosen by name (bundled and downloaded sets) or with Open file / Open folder; the
    dialogs are methods (`ask_dataset_file`, `ask_dataset_folder`) so tests replace them. Settings the
    form does not show (validation fraction, snapshot interval, threads, snapshot budget) keep their values from
    `set_config`.
    """

    source_changed = Signal(str)   # the user chose another dataset
    seed_changed = Signal(int)     # the seed also decides the train/validation split

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._hidden = TrainConfig()  # carries the settings not shown here
        self._make_dataset_widgets()
        self.augment_preview = AugmentPreview()
        self._preview_dataset = None
        self._fields: dict[str, QWidget] = {}

        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.form.setHorizontalSpacing(10)
        self.form.setVerticalSpacing(6)
        group = None
        for setting in SETTINGS.values():
            if not setting.in_form:
                continue
            if setting.group != group:
                group = setting.group
                self.form.addRow(self._heading(group))
            self._add_row(setting)
        self._label_tooltips()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.form)
        for combo in self.findChildren(QComboBox):  # long titles elide, so the form fits a narrow dock
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)

        self.set_config(TrainConfig())
        self.set_dataset_status("idle")
        for name in {s.shown_when[0] for s in SETTINGS.values() if s.in_form and s.shown_when}:
            _changed_signal(self._fields[name]).connect(self._update_rows)
        self.field("augment").currentIndexChanged.connect(self._update_preview)
        self.field("seed").valueChanged.connect(self._update_preview)
        self.field("seed").valueChanged.connect(self.seed_changed)
        self.dataset_combo.currentIndexChanged.connect(self._on_dataset_combo_changed)
        self.open_file_button.clicked.connect(self._on_open_file_clicked)
        self.open_folder_button.clicked.connect(self._on_open_folder_clicked)

    _heading = staticmethod(section_heading)

    def field(self, name: str) -> QWidget:
        """The widget showing setting `name` (the dataset's is the dataset list); KeyError for one not shown."""
        return self.dataset_combo if name == "dataset" else self._fields[name]

    def _add_row(self, setting: Setting) -> None:
        if setting.name == "dataset":
            self._add_dataset_rows()
            return
        widget = self._make_field(setting)
        self._fields[setting.name] = widget
        if isinstance(widget, QCheckBox):
            self.form.addRow(widget)
        else:
            self.form.addRow(setting.title, widget)
        if setting.name == "augment":
            self.form.addRow(self.augment_preview)

    def _make_field(self, setting: Setting) -> QWidget:
        if setting.kind is bool:
            widget: QWidget = QCheckBox(setting.title)
            widget.setToolTip(setting.help)
            return widget
        if setting.kind in (int, float):
            return number_box(setting)
        choices = setting.choices or setting.presets
        if setting.name == "device":  # only this machine's devices; Automatic names the one it picks
            here = available_devices()
            titles = dict(choices)
            choices = tuple((key, titles[key] + (f" ({titles[here[0]]})" if key == "auto" else ""))
                            for key in ("auto", *[d for d in here if d != "cpu"], "cpu"))
        combo = ChoiceBox(choices, takes_others=bool(setting.presets))
        combo.setToolTip(setting.help)
        return combo

    def _make_dataset_widgets(self) -> None:
        self.dataset_combo = QComboBox()
        self.dataset_combo.setObjectName("datasetCombo")
        self.dataset_combo.setToolTip("The images to train on: the bundled sets work offline; Download, Open file "
                                      "and Open folder add others. Its image shape becomes the network's input")
        for source in available_datasets():
            self.dataset_combo.addItem(dataset_title(source), source)
        self.open_file_button = self._flat_button("Open file\u2026", "Use an .npz file of images and labels")
        self.open_folder_button = self._flat_button(
            "Open folder\u2026", "Use a folder: MNIST-style IDX files, CIFAR-10 batches, or one subfolder of "
                                 "images per class")
        self.download_box = DownloadBox(self)
        self.download_box.downloaded.connect(self.set_dataset_source)  # a new set is the one wanted
        self.busy_bar = QProgressBar()
        self.busy_bar.setObjectName("busyBar")
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.setFixedHeight(6)
        self.dataset_label = MessageLabel()
        self.dataset_label.setObjectName("datasetInfo")
        self.dataset_error = MessageLabel()
        self.dataset_error.setObjectName("problemLabel")
        self.dataset_error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def _add_dataset_rows(self) -> None:
        self.form.addRow(self.dataset_combo)
        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        buttons.addWidget(self.open_file_button)
        buttons.addWidget(self.open_folder_button)
        buttons.addStretch(1)
        self.form.addRow(buttons)
        self.form.addRow(self.download_box)
        self.form.addRow(self.busy_bar)
        self.form.addRow(self.dataset_label)
        self.form.addRow(self.dataset_error)

    def _label_tooltips(self) -> None:
        """Each row's label explains like its field: the label is where the eye (and the pointer) goes first."""
        for row in range(self.form.rowCount()):
            label = self.form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            field = self.form.itemAt(row, QFormLayout.ItemRole.FieldRole)
            if label is not None and label.widget() is not None and field is not None and field.widget() is not None:
                label.widget().setToolTip(field.widget().toolTip())

    @staticmethod
    def _flat_button(text: str, tip: str) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName("flatButton")
        button.setToolTip(tip)
        return button

    # -- settings ----------------------------------------------------------------------------------------
    def dataset_source(self) -> str:
        return str(self.dataset_combo.currentData())

    def set_dataset_source(self, source: str) -> None:
        """Select `source` (a name or a path), adding it to the list if new; emits source_changed if it changed."""
        index = self.dataset_combo.findData(source)
        if index < 0:
            self.dataset_combo.addItem(dataset_title(source), source)
            index = self.dataset_combo.count() - 1
            self.dataset_combo.setItemData(index, source, Qt.ItemDataRole.ToolTipRole)
        self.dataset_combo.setCurrentIndex(index)

    def config(self) -> TrainConfig:
        """The settings shown, as a TrainConfig (ConfigError cannot happen: the widgets hold valid ranges)."""
        values = {name: _value(widget) for name, widget in self._fields.items()}
        values["nesterov"] = values["nesterov"] and values["momentum"] > 0  # TrainConfig refuses it without
        return self._hidden.replace(dataset=self.dataset_source(), **values)

    def set_config(self, config: TrainConfig) -> None:
        """Show `config`; a device not available here falls back to Automatic. Emits source_changed if the
        dataset changed and seed_changed if the seed did."""
        self._hidden = config
        for name, widget in self._fields.items():
            _show(widget, getattr(config, name))
        self.set_dataset_source(config.dataset)
        self._update_rows()

    def set_preview_dataset(self, dataset) -> None:
        """The loaded dataset, whose first training images the augmentation preview shows (None: hidden)."""
        self._preview_dataset = dataset
        self._update_preview()

    def _update_preview(self, *_args: object) -> None:
        self.augment_preview.show_preview(self._preview_dataset, self.config())

    def set_dataset_status(self, state: str, text: str = "") -> None:
        """state: 'idle' (nothing shown), 'loading', 'ready' (text: what was loaded) or 'error' (text: why)."""
        self.busy_bar.setVisible(state == "loading")
        self.dataset_label.setVisible(state in ("loading", "ready"))
        self.dataset_label.setText(text)
        self.dataset_error.setVisible(state == "error")
        self.dataset_error.setText(text if state == "error" else "")

    # -- seams: the file dialogs ---------------------------------------------------------------------------
    def ask_dataset_file(self) -> str | None:
        name, _ = QFileDialog.getOpenFileName(self, "Open dataset file", str(Path.home()), DATASET_FILE_FILTER)
        return name or None

    def ask_dataset_folder(self) -> str | None:
        name = QFileDialog.getExistingDirectory(self, "Open dataset folder", str(Path.home()))
        return name or None

    # -- events -------------------------------------------------------------------------------------------
    def _update_rows(self, *_args: object) -> None:
        """Show the rows of settings that apply now (momentum for SGD and RMSprop, the decay for a step schedule)."""
        for name, widget in self._fields.items():
            when = SETTINGS[name].shown_when
            if when is not None:
                self.form.setRowVisible(widget, _value(self._fields[when[0]]) in when[1])

    def _on_dataset_combo_changed(self, _index: int) -> None:
        self.source_changed.emit(self.dataset_source())

    def _on_open_file_clicked(self) -> None:
        path = self.ask_dataset_file()
        if path:
            self.set_dataset_source(path)

    def _on_open_folder_clicked(self) -> None:
        path = self.ask_dataset_folder()
        if path:
            self.set_dataset_source(path)


def _value(widget: QWidget) -> object:
    if isinstance(widget, QComboBox):
        return widget.currentData()
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    return widget.value()


def _show(widget: QWidget, value: object) -> None:
    if isinstance(widget, ChoiceBox):
        index = widget.findData(value)
        if index < 0 and widget.takes_others:  # a list typed elsewhere (CLI, settings.json)
            widget.addItem(str(value).replace(",", " + ").capitalize(), value)
            index = widget.count() - 1
        widget.setCurrentIndex(max(0, index))  # a device this machine lacks: Automatic
    elif isinstance(widget, QCheckBox):
        widget.setChecked(bool(value))
    else:
        widget.setValue(value)


def _changed_signal(widget: QWidget):
    if isinstance(widget, QComboBox):
        return widget.currentIndexChanged
    if isinstance(widget, QCheckBox):
        return widget.toggled
    return widget.valueChanged
