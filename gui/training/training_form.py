"""The training settings form: dataset, optimiser, schedule, regularisation, batch size, epochs, seed, device."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
                               QProgressBar, QPushButton, QVBoxLayout, QWidget)

from engine.config import SEED_MAX, TrainConfig
from engine.datasets import available_datasets
from engine.training.device import available_devices
from gui.builder.form_widgets import section_heading
from gui.training.augment_preview import AugmentPreview
from gui.dataset_inputs import dataset_title
from gui.training.download_box import DownloadBox
from gui.training.spin_boxes import UNDER_ONE, PreciseSpinBox, IntSpinBox, RateSpinBox

DEVICE_TITLES = {"auto": "Automatic", "cpu": "CPU", "cuda": "CUDA GPU", "mps": "Apple GPU (MPS)"}
OPTIMIZER_TITLES = {"adam": "Adam", "adamw": "AdamW (decoupled weight decay)", "sgd": "SGD",
                    "rmsprop": "RMSprop"}
AUGMENT_TITLES = {"default": "Default for the dataset", "none": "None", "crop,flip": "Crop + flip",
                  "crop,flip,cutout": "Crop + flip + cutout", "crop,flip,affine,cutout": "Crop, flip, affine, cutout"}
KEEP_TITLES = {"auto": "Best when stopping early, else last", "best": "Best epoch's", "last": "Last epoch's"}
METRIC_TITLES = {"val_loss": "Validation loss", "val_accuracy": "Validation accuracy"}
SCHEDULE_TITLES = {"constant": "Constant", "step": "Step decay", "cosine": "Cosine", "onecycle": "One-cycle"}
DATASET_FILE_FILTER = "NumPy archive (*.npz);;All files (*)"


class TrainingForm(QWidget):
    """The settings of the next run. `config()` reads them as a TrainConfig; `set_config()` shows one.

    The dataset is chosen by name (bundled and downloaded sets) or with Open file / Open folder; the
    dialogs are methods (`ask_dataset_file`, `ask_dataset_folder`) so tests replace them. Settings the
    form does not show (validation fraction, snapshot interval, threads) keep their values from
    `set_config`.
    """

    source_changed = Signal(str)   # the user chose another dataset
    seed_changed = Signal(int)     # the seed also decides the train/validation split

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._hidden = TrainConfig()  # carries the settings not shown here
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
        self.dataset_label = QLabel()
        self.dataset_label.setObjectName("datasetInfo")
        self.dataset_label.setWordWrap(True)
        self.dataset_error = QLabel()
        self.dataset_error.setObjectName("problemLabel")
        self.dataset_error.setWordWrap(True)
        self.dataset_error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.optimizer_combo = QComboBox()
        self.optimizer_combo.setToolTip("How each step turns the gradients into weight changes (Adam adapts the step "
                                        "size per weight; SGD takes the plain gradient, with optional momentum)")
        for key, title in OPTIMIZER_TITLES.items():
            self.optimizer_combo.addItem(title, key)
        self.learning_rate = RateSpinBox(1e-6, 10.0, "Step size of the optimiser (Adam: about 0.001; SGD: 0.01-0.1)")
        self.momentum = PreciseSpinBox("SGD and RMSprop momentum: how much of the previous step carries over "
                                        "(0 = none)")
        self.nesterov = QCheckBox("Nesterov momentum")
        self.nesterov.setToolTip("SGD: look ahead along the momentum before taking the gradient (needs momentum > 0)")
        self.weight_decay = RateSpinBox(0.0, 0.5, "L2 penalty on the weights (0 = none)")
        self.weight_decay.setRange(0.0, UNDER_ONE)  # TrainConfig's range: a project's value is never clamped
        self.batch_size = IntSpinBox(1, 65536, "Samples per optimiser step")
        self.epochs = IntSpinBox(1, 10000, "Passes over the training split")
        self.seed = IntSpinBox(0, SEED_MAX, "Seeds the weight initialisation, the shuffling and the train/validation "
                                           "split")
        self._make_practice_widgets()
        self.device_combo = QComboBox()
        self.device_combo.setToolTip("Where the training process computes: Automatic takes a GPU when there is one")
        for key in ("auto", *[d for d in available_devices() if d != "cpu"], "cpu"):
            title = DEVICE_TITLES[key]
            if key == "auto":
                title += f" ({DEVICE_TITLES[available_devices()[0]]})"
            self.device_combo.addItem(title, key)

        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.form.setHorizontalSpacing(10)
        self.form.setVerticalSpacing(6)
        self.form.addRow(self._heading("Dataset"))
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
        self.form.addRow(self._heading("Optimiser"))
        self.form.addRow("Optimiser", self.optimizer_combo)
        self.form.addRow("Learning rate", self.learning_rate)
        self.form.addRow("Momentum", self.momentum)
        self.form.addRow(self.nesterov)
        self.form.addRow("Weight decay", self.weight_decay)
        self.form.addRow(self._heading("Schedule"))
        self.form.addRow("Schedule", self.schedule_combo)
        self.form.addRow("Decay every", self.step_size)
        self.form.addRow("Decay factor", self.gamma)
        self.form.addRow("Warm-up epochs", self.warmup_epochs)
        self.form.addRow(self._heading("Regularisation"))
        self.form.addRow("Label smoothing", self.label_smoothing)
        self.form.addRow("Clip gradients", self.clip_grad)
        self.form.addRow("Augmentation", self.augment_combo)
        self.form.addRow(self.augment_preview)
        self.form.addRow(self._heading("Early stopping"))
        self.form.addRow("Patience", self.early_stop)
        self.form.addRow("Watch", self.early_stop_metric)
        self.form.addRow("Weights kept", self.keep_combo)
        self.form.addRow(self._heading("Run"))
        self.form.addRow("Batch size", self.batch_size)
        self.form.addRow("Epochs", self.epochs)
        self.form.addRow("Seed", self.seed)
        self.form.addRow("Device", self.device_combo)
        self.form.addRow(self.mixed_precision)
        self.form.addRow(self.channels_last)
        self._label_tooltips()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.form)
        for combo in self.findChildren(QComboBox):  # long titles elide, so the form fits a narrow dock
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)

        self.set_config(TrainConfig())
        self.set_dataset_status("idle")
        self.optimizer_combo.currentIndexChanged.connect(self._on_optimizer_changed)
        self.schedule_combo.currentIndexChanged.connect(self._on_optimizer_changed)
        self.augment_combo.currentIndexChanged.connect(self._update_preview)
        self.seed.valueChanged.connect(self._update_preview)
        self.dataset_combo.currentIndexChanged.connect(self._on_dataset_combo_changed)
        self.open_file_button.clicked.connect(self._on_open_file_clicked)
        self.open_folder_button.clicked.connect(self._on_open_folder_clicked)
        self.seed.valueChanged.connect(self.seed_changed)

    _heading = staticmethod(section_heading)

    def _label_tooltips(self) -> None:
        """Each row's label explains like its field: the label is where the eye (and the pointer) goes first."""
        for row in range(self.form.rowCount()):
            label = self.form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            field = self.form.itemAt(row, QFormLayout.ItemRole.FieldRole)
            if label is not None and label.widget() is not None and field is not None and field.widget() is not None:
                label.widget().setToolTip(field.widget().toolTip())

    def _make_practice_widgets(self) -> None:
        """Schedule and regularisation (engine/training/schedules.py has the formulas)."""
        self.schedule_combo = QComboBox()
        self.schedule_combo.setToolTip("How the learning rate changes over the run, step by step")
        for key, title in SCHEDULE_TITLES.items():
            self.schedule_combo.addItem(title, key)
        self.step_size = IntSpinBox(1, 10000, "Step decay: epochs between multiplications by the decay factor")
        self.step_size.setSuffix(" epochs")
        self.gamma = RateSpinBox(1e-6, 1.0, "Step decay: the factor the learning rate is multiplied by")
        self.warmup_epochs = IntSpinBox(0, 10000, "Raise the learning rate linearly over these first epochs "
                                                "(one-cycle: the length of its rise; 0 = none)")
        self.label_smoothing = PreciseSpinBox("Train towards 1 - e on the true class and e spread over all "
                                              "classes (0 = none; 0.1 is usual)")
        self.clip_grad = PreciseSpinBox("Scale the gradients down when their total L2 norm exceeds this (0 = off)",
                                        high=1e6, step=0.5)
        self.clip_grad.setSpecialValueText("off")
        self.augment_combo = QComboBox()
        self.augment_combo.setToolTip("Random changes to the training images, drawn anew each batch (never to "
                                      "validation or test). Default: none for digits, crop + flip otherwise")
        for key, title in AUGMENT_TITLES.items():
            self.augment_combo.addItem(title, key)
        self.augment_preview = AugmentPreview()
        self._preview_dataset = None
        self.early_stop = IntSpinBox(0, 10000, "Stop after this many epochs without a better validation score "
                                             "(0 = never)")
        self.early_stop.setSpecialValueText("off")
        self.early_stop_metric = QComboBox()
        self.early_stop_metric.setToolTip("What 'better' means for early stopping and for the best epoch")
        for key, title in METRIC_TITLES.items():
            self.early_stop_metric.addItem(title, key)
        self.keep_combo = QComboBox()
        self.keep_combo.setToolTip("Which weights the run ends with (and saves)")
        for key, title in KEEP_TITLES.items():
            self.keep_combo.addItem(title, key)
        self.mixed_precision = QCheckBox("Mixed precision (CUDA)")
        self.mixed_precision.setToolTip("On a CUDA GPU: compute in bfloat16 (float16 with loss scaling where the GPU "
                                        "lacks it); the weights stay float32. No effect elsewhere")
        self.channels_last = QCheckBox("Channels-last layout (CUDA)")
        self.channels_last.setToolTip("On a CUDA GPU: lay conv nets' tensors out as NHWC, which tensor cores read "
                                      "fastest. No effect elsewhere")

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
        return self._hidden.replace(
            dataset=self.dataset_source(), optimizer=self.optimizer_combo.currentData(),
            learning_rate=self.learning_rate.value(), momentum=self.momentum.value(),
            weight_decay=self.weight_decay.value(), batch_size=self.batch_size.value(),
            epochs=self.epochs.value(), seed=self.seed.value(), device=self.device_combo.currentData(),
            nesterov=self.nesterov.isChecked() and self.momentum.value() > 0,
            schedule=self.schedule_combo.currentData(), step_size=self.step_size.value(),
            gamma=self.gamma.value(), warmup_epochs=self.warmup_epochs.value(),
            label_smoothing=self.label_smoothing.value(), clip_grad=self.clip_grad.value(),
            augment=self.augment_combo.currentData(), early_stop=self.early_stop.value(),
            early_stop_metric=self.early_stop_metric.currentData(), keep=self.keep_combo.currentData(),
            mixed_precision=self.mixed_precision.isChecked(), channels_last=self.channels_last.isChecked())

    def set_config(self, config: TrainConfig) -> None:
        """Show `config`; a device not available here falls back to Automatic. Emits source_changed if the
        dataset changed and seed_changed if the seed did."""
        self._hidden = config
        self.optimizer_combo.setCurrentIndex(max(0, self.optimizer_combo.findData(config.optimizer)))
        self.learning_rate.setValue(config.learning_rate)
        self.momentum.setValue(config.momentum)
        self.weight_decay.setValue(config.weight_decay)
        self.batch_size.setValue(config.batch_size)
        self.epochs.setValue(config.epochs)
        self.seed.setValue(config.seed)
        self.device_combo.setCurrentIndex(max(0, self.device_combo.findData(config.device)))
        self.nesterov.setChecked(config.nesterov)
        self.schedule_combo.setCurrentIndex(max(0, self.schedule_combo.findData(config.schedule)))
        self.step_size.setValue(config.step_size)
        self.gamma.setValue(config.gamma)
        self.warmup_epochs.setValue(config.warmup_epochs)
        self.label_smoothing.setValue(config.label_smoothing)
        self.clip_grad.setValue(config.clip_grad)
        if self.augment_combo.findData(config.augment) < 0:  # a list typed elsewhere (CLI, settings.json)
            self.augment_combo.addItem(config.augment.replace(",", " + ").capitalize(), config.augment)
        self.augment_combo.setCurrentIndex(self.augment_combo.findData(config.augment))
        self.early_stop.setValue(config.early_stop)
        self.early_stop_metric.setCurrentIndex(max(0, self.early_stop_metric.findData(config.early_stop_metric)))
        self.keep_combo.setCurrentIndex(max(0, self.keep_combo.findData(config.keep)))
        self.mixed_precision.setChecked(config.mixed_precision)
        self.channels_last.setChecked(config.channels_last)
        self.set_dataset_source(config.dataset)
        self._on_optimizer_changed()

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
    def _on_optimizer_changed(self, *_args: object) -> None:
        optimizer = self.optimizer_combo.currentData()
        self.form.setRowVisible(self.momentum, optimizer in ("sgd", "rmsprop"))
        self.form.setRowVisible(self.nesterov, optimizer == "sgd")
        step = self.schedule_combo.currentData() == "step"
        self.form.setRowVisible(self.step_size, step)
        self.form.setRowVisible(self.gamma, step)

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
