"""The main window: composes the palette, canvas, inspector and summary around one Network and undo stack."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QCloseEvent, QUndoStack
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMessageBox, QTabWidget, QWidget

from engine.events import TrainingFinished
from gui.builder.canvas import Canvas
from gui.training.dataset_loader import DatasetLoader
from gui.document.document_io import DocumentController
from gui.document.export_dialog import ExportDialog
from gui.document.export_worker import ExportRunner, file_stem
from gui.builder.inspector import Inspector
from gui.builder.layer_style import shape_text
from gui.training.live_views import LiveViews
from gui.builder.network_editor import NetworkEditor
from gui.builder.palette import Palette
from gui.builder.summary_view import SummaryView
from gui.training.training_controller import TrainingController
from gui.training.training_panel import TrainingPanel
from gui.training.training_session import TrainingSession
from gui.window_actions import WindowActions
from models.architecture import Architecture, InputShape
from models.network import Network
from models.presets import DEFAULT_PRESET, load_preset


class MainWindow(QMainWindow):
    """ConvScope's window. It only composes panels and wires them; each panel takes its model in its constructor.

    Layout: palette dock (left), `tabs` in the centre with the canvas as tab 0 "Network", inspector dock
    (right), summary dock (bottom). Extension points for training and live views:
      - `tabs.addTab(widget, "Training")` for big panels (live plots, filters) beside the canvas;
      - `add_dock(widget, title, area, object_name)` for side panels (a training-settings panel); its
        toggle appears in the View menu and its geometry is remembered;
      - `train_action` (enabled only while the network is valid and fits the dataset) runs `start_training`;
      - `set_dataset_shape(name, shape)`: the dataset selector calls it; the input block follows.
    Training (`_build_training`): `training_panel` (dock "Training", tabbed with the inspector: settings,
    dataset loading, Train/Pause/Step/Stop, progress, outcome), `live_views` (tab "Training"), `session`
    (the one TrainingSession bridge), `training` (a TrainingController: starts runs, locks editing while
    one goes, stops it when the network is replaced, and on close). State API, also behind `document.state`:
      - `training_panel.config() -> TrainConfig`, `training_panel.set_config(config)` (loads its dataset);
      - `training.trained_state() -> dict[str, Tensor] | None`: CPU weights of the last run (or restored),
        None while a run goes or once the network differs from the one trained;
      - `training.history() -> MetricsHistory`: the last run's rows (the current run's so far);
      - `training.restore(history, weights)`: curves again, and for weights that fit the current network its
        filters and the probe's activations (WeightsError if they do not fit);
      - `training.stop_training() -> bool`, `training.is_training`, `training.extras()`/`set_extras()`.
    Public parts: `network`, `undo_stack`, `editor` (undoable edits), `document` (file, modified state),
    `palette`, `canvas`, `inspector`, `summary`, `window_actions`, `view_menu`, `validity_label`, `exports`.
    Projects: `document.state` (a ProjectState) is how saving, opening and importing reach the training
    settings, curves and weights; set it to the training panel's and live views' methods.
    """

    def __init__(self, network: Network | None = None, settings: QSettings | None = None) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setMinimumSize(760, 520)  # explicit, so the layout never resizes the platform window's limits
        self.settings = settings if settings is not None else QSettings()
        self.network = network if network is not None else Network(load_preset(DEFAULT_PRESET))
        self.undo_stack = QUndoStack(self)
        self.editor = NetworkEditor(self.network, self.undo_stack)
        self.document = DocumentController(self.editor, self.settings, self)
        self.dataset_name: str | None = None

        self.palette = Palette()
        self.canvas = Canvas(self.editor)
        self.inspector = Inspector(self.editor)
        self.summary = SummaryView(self.network)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("centralTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.canvas, "Network")
        self.setCentralWidget(self.tabs)
        # Side docks run the full height; the summary sits under the canvas only.
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.window_actions = WindowActions(self)  # builds menus and toolbar; sets self.view_menu
        self.palette_dock = self.add_dock(self.palette, "Layers", Qt.DockWidgetArea.LeftDockWidgetArea,
                                          "paletteDock")
        self.inspector_dock = self.add_dock(self.inspector, "Inspector", Qt.DockWidgetArea.RightDockWidgetArea,
                                            "inspectorDock")
        self.summary_dock = self.add_dock(self.summary, "Summary", Qt.DockWidgetArea.BottomDockWidgetArea,
                                          "summaryDock")
        self.train_action = self.window_actions.train
        self.canvas.addActions([self.window_actions.duplicate, self.window_actions.delete])
        self.validity_label = QLabel()
        self.validity_label.setObjectName("validityLabel")
        self.statusBar().addPermanentWidget(self.validity_label)

        self.palette.layer_activated.connect(self.editor.append_new)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self.document.path_changed.connect(self._on_path_changed)
        self.network.changed.connect(self._on_network_changed)
        self.network.selection_changed.connect(self._on_selection_changed)
        self._on_network_changed(None)
        self._on_selection_changed(None)
        self._build_training()
        self._wire_project_files()
        self._update_title()
        self._restore_layout()

    def add_dock(self, widget: QWidget, title: str, area: Qt.DockWidgetArea, object_name: str) -> QDockWidget:
        """Dock `widget` (a named dock, so saveState remembers it) and list its toggle in the View menu."""
        dock = QDockWidget(title, self)
        dock.setObjectName(object_name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        self.view_menu.addAction(dock.toggleViewAction())
        return dock

    # -- dataset, presets, training -----------------------------------------------------------------------
    def set_dataset_shape(self, name: str, shape: InputShape) -> None:
        """The dataset decides the input: show its name on the input block and set the network's input."""
        self.dataset_name = name
        self.editor.input_follows_dataset = True
        self.canvas.set_input_caption(name)
        self.inspector.set_input_caption(name)
        if self.network.architecture.input != shape:
            self.network.set_input(shape)

    def load_preset(self, key: str) -> None:
        architecture = load_preset(key)
        self.editor.set_architecture(architecture, f"Load preset {architecture.name}")
        message = f"Loaded {architecture.name}; Undo restores the previous network"
        current = self.network.architecture.input
        if architecture.input != current:
            message += (f" (its {shape_text(architecture.input.as_tuple())} input is replaced by the dataset's "
                        f"{shape_text(current.as_tuple())})")
        self.statusBar().showMessage(message, 8000)

    def new_network(self) -> None:
        self.document.new(Architecture("Untitled", self.network.architecture.input, ()))

    def start_training(self) -> None:
        self.training_dock.raise_()
        self.training_panel.request_train()

    def show_about(self) -> None:
        QMessageBox.about(self, "About ConvScope",
                          "<h3>ConvScope</h3><p>Build convolutional networks visually, see every layer's "
                          "arithmetic, and watch them learn.</p>")

    # -- model and document events --------------------------------------------------------------------------
    def _on_network_changed(self, _architecture: object) -> None:
        analysis = self.network.analysis
        if analysis.is_valid:
            reason = ""
            self.validity_label.setText(f"\u2714 Valid \u00b7 {shape_text(analysis.input_shape)} \u2192 "
                                        f"{shape_text(analysis.output_shape)} \u00b7 "
                                        f"{analysis.total_params:,} parameters")
        else:
            reason = analysis.first_error or "The network has no layers: add some from the palette."
            text = f"\u2716 {reason}"  # elided: a long reason must not widen the window
            self.validity_label.setText(self.validity_label.fontMetrics().elidedText(
                text, Qt.TextElideMode.ElideRight, 720))
        self.validity_label.setToolTip(reason)
        self.validity_label.setProperty("valid", analysis.is_valid)
        self.validity_label.style().unpolish(self.validity_label)
        self.validity_label.style().polish(self.validity_label)
        self.train_action.setEnabled(analysis.is_valid)
        self.train_action.setToolTip("Train the network" if analysis.is_valid else f"Cannot train: {reason}")
        self.train_action.setStatusTip(self.train_action.toolTip())
        self._update_title()

    def _on_selection_changed(self, index: int | None) -> None:
        self.window_actions.delete.setEnabled(index is not None)
        self.window_actions.duplicate.setEnabled(index is not None)

    def _on_clean_changed(self, _clean: bool) -> None:
        self._update_title()

    def _on_path_changed(self, _path: object) -> None:
        self._update_title()

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.document.display_name}[*] \u2014 ConvScope")
        self.setWindowModified(self.document.is_modified)

    # -- project files, import and export (gui/document/document_io.py, gui/document/export_dialog.py) ---------------------------
    def _wire_project_files(self) -> None:
        """`document.state` is where settings, curves and weights come from and go to (see ProjectState)."""
        self.exports = ExportRunner(self)
        self.document.modified_changed.connect(self._on_clean_changed)
        self.document.status_reported.connect(self._on_status_reported)
        self.session.finished.connect(self._on_training_finished)

    def _on_training_finished(self, result: TrainingFinished) -> None:
        if result.step > 0:  # new weights and curves, which no file holds yet
            self.document.mark_modified()

    def show_export_dialog(self) -> ExportDialog:
        state, path = self.document.state, self.document.path
        stem = file_stem(path.stem if path else self.network.architecture.name)
        dialog = ExportDialog(self.network.architecture, state.trained_state(), state.history(),
                              self.document.default_dir(), stem, self.exports, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.exported.connect(self._on_exported)
        dialog.open()
        return dialog

    def _on_exported(self, paths: list[Path]) -> None:
        if len(paths) == 1:
            text = f"Exported {paths[0]}"
        else:
            names = ", ".join(p.name for p in paths[:3]) + (", \u2026" if len(paths) > 3 else "")
            text = f"Exported {len(paths)} files to {paths[0].parent}: {names}"
        self.statusBar().showMessage(text, 15000)

    def _on_status_reported(self, text: str) -> None:
        self.statusBar().showMessage(text, 10000)

    # -- training (gui/training/training_panel.py, gui/training/live_views.py, gui/training/training_controller.py) --------------------
    def _build_training(self) -> None:
        """The training dock beside the inspector, the "Training" tab, and the controller that runs them."""
        self.session = TrainingSession(self)
        self.dataset_loader = DatasetLoader(self)
        self.training_panel = TrainingPanel(self.session, self.dataset_loader)
        self.live_views = LiveViews()
        self.tabs.addTab(self.live_views, "Training")
        self.training_dock = self.add_dock(self.training_panel, "Training", Qt.DockWidgetArea.RightDockWidgetArea,
                                           "trainingDock")
        self.tabifyDockWidget(self.inspector_dock, self.training_dock)
        self.inspector_dock.raise_()
        self.training = TrainingController(self, self.session, self.dataset_loader, self.training_panel,
                                           self.live_views)
        self.document.state = self.training.project_state()

    # -- window state ---------------------------------------------------------------------------------------
    def _restore_layout(self) -> None:
        geometry, state = self.settings.value("window/geometry"), self.settings.value("window/state")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1440, 900)
            self.resizeDocks([self.palette_dock, self.inspector_dock], [210, 340], Qt.Orientation.Horizontal)
            self.resizeDocks([self.summary_dock], [230], Qt.Orientation.Vertical)
        if state is not None:
            self.restoreState(state)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if not self.document.maybe_save():
            event.ignore()
            return
        self.training.shutdown()  # stops a run and any dataset loading; no thread outlives the window
        self.exports.wait()  # an export still writing finishes before the window goes
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        event.accept()
