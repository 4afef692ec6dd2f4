"""The main window: composes the palette, canvas, inspector, summary and training room around one Network."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QCloseEvent, QUndoStack
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMessageBox, QTabWidget, QWidget

from gui.builder.canvas import Canvas
from gui.builder.edit_lock import EditLock
from gui.builder.inspector import Inspector
from gui.builder.layer_style import shape_text
from gui.builder.network_editor import NetworkEditor
from gui.builder.palette import Palette
from gui.builder.summary_view import SummaryView
from gui.builder.validity_label import ValidityLabel
from gui.dataset_inputs import BUNDLED_INPUTS, bundled_for_input
from gui.help_dialog import GuideDialog, about_html
from gui.document.document_io import DocumentController
from gui.document.export_dialog import ExportDialog, exported_message
from gui.document.export_worker import ExportRunner, file_stem
from gui.explainer.explainer_tab import ExplainerTab
from gui.timeline.timeline_tab import TimelineTab
from gui.explainer.network_cases import NetworkCases
from gui.evaluation.evaluation_job import EvaluationSources
from gui.evaluation.evaluation_tab import EvaluationTab
from gui.experiments.experiments_tab import ExperimentsTab
from gui.training.dataset_loader import DatasetLoader
from gui.training.live_views import LiveViews
from gui.training.training_controller import TrainingController
from gui.training.training_form import dataset_title
from gui.training.training_panel import TrainingPanel
from gui.training.training_session import TrainingSession
from gui.window_actions import WindowActions
from models.architecture import Architecture, InputShape
from models.network import Network
from models.presets import DEFAULT_PRESET, load_preset


class MainWindow(QMainWindow):
    """ConvScope's window. It only composes panels and wires them; each panel takes its model in its constructor.

    Layout: palette dock (left), `tabs` in the centre (tab "Network": the canvas; tab "Training": `live_views`),
    inspector dock (right, tabbed with the "Training" dock holding `training_panel`), summary dock (bottom).
    `add_dock(widget, title, area, object_name)` adds a side panel with its View-menu toggle and remembered
    geometry. Public parts: `network`, `undo_stack`, `editor` (undoable edits), `document` (file, modified
    state; `document.state` is how projects reach the training settings, curves and weights), `palette`,
    `canvas`, `inspector`, `summary`, `window_actions` (every QAction), `validity_label`, `exports`,
    `session` (the TrainingSession bridge), `dataset_loader`, and `training` (a TrainingController: starts
    runs, owns the Train action's state, locks editing while a run goes, keeps the trained weights).
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
        self.exports = ExportRunner(self)
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
        self.window_actions = actions = WindowActions(self, self.document, self.editor, self.undo_stack)
        self.view_menu, self.train_action = actions.view_menu, actions.train
        self.palette_dock = self.add_dock(self.palette, "Layers", Qt.DockWidgetArea.LeftDockWidgetArea,
                                          "paletteDock")
        self.inspector_dock = self.add_dock(self.inspector, "Inspector", Qt.DockWidgetArea.RightDockWidgetArea,
                                            "inspectorDock")
        self.summary_dock = self.add_dock(self.summary, "Summary", Qt.DockWidgetArea.BottomDockWidgetArea,
                                          "summaryDock")
        self.canvas.addActions([actions.duplicate, actions.delete])
        self.validity_label = ValidityLabel(self.network)
        self.statusBar().addPermanentWidget(self.validity_label)
        self._build_training()

        self.palette.layer_activated.connect(self.editor.append_new)
        actions.new_requested.connect(self.new_network)
        actions.export_requested.connect(self.show_export_dialog)
        actions.train_requested.connect(self.start_training)
        actions.about_requested.connect(self.show_about)
        actions.guide_requested.connect(self.show_guide)
        actions.preset_requested.connect(self.load_preset)
        self.undo_stack.cleanChanged.connect(self._update_title)
        self.document.path_changed.connect(self._update_title)
        self.document.modified_changed.connect(self._update_title)
        self.document.status_reported.connect(lambda text: self.statusBar().showMessage(text, 10000))
        self.network.changed.connect(self._update_title)
        self.session.finished.connect(self._on_training_finished)
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
        actions = self.window_actions
        lock = EditLock(self.canvas, (self.palette, self.canvas, self.inspector), self.network, self.undo_stack,
                        undo_actions=(actions.undo, actions.undo_short), redo_actions=(actions.redo, actions.redo_short),
                        selection_actions=(actions.delete, actions.duplicate))
        self.training = TrainingController(self.network, self.session, self.dataset_loader, self.training_panel,
                                           self.live_views, lock=lock, train_action=self.train_action,
                                           tabs=self.tabs, summary_dock=self.summary_dock, parent=self)
        self.training.dataset_shape_changed.connect(self.set_dataset_shape)
        self.training.status_reported.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.training.run_shown.connect(self.training_dock.raise_)
        self.document.state = self.training.project_state()
        self.document.run_attached.connect(self.training.attach)
        self._build_explainer()
        self._build_evaluation()
        self._build_timeline()

    def _build_explainer(self) -> None:
        """The "Explainer" tab: a conv or pooling layer stepped through on the probe sample, or a lesson."""
        cases = NetworkCases(self.network, weights=self.training.current_trained_state,
                             dataset=lambda: self.training_panel.dataset,
                             probe_index=lambda: self.live_views.probe_index,
                             seed=lambda: self.training_panel.config().seed, parent=self)
        for signal in (self.session.finished, self.live_views.probe_selected, self.training_panel.dataset_changed,
                       self.document.path_changed):  # a project opened: its weights are restored after its network
            signal.connect(cases.invalidate)
        self.explainer = ExplainerTab(cases)
        self.tabs.addTab(self.explainer, "Explainer")
        self.experiments = ExperimentsTab(self.network, self.training_panel.config)
        self.tabs.addTab(self.experiments, "Experiments")

    def _build_evaluation(self) -> None:
        """The "Evaluation" tab: the trained weights scored, the confusion matrix, galleries, explanations."""
        self.evaluation = EvaluationTab(EvaluationSources(
            self.training.trained_state, self.training.trained_architecture, self.training.normalization,
            lambda: self.training_panel.dataset, self.live_views.set_probe_index))
        self.tabs.addTab(self.evaluation, "Evaluation")
        self.session.finished.connect(self.evaluation.on_training_finished)

    def _build_timeline(self) -> None:
        """The "Timeline" tab: scrub the run folder of the window's training run (once the session keeps one)."""
        self.timeline = TimelineTab()
        self.tabs.addTab(self.timeline, "Timeline")
        self.session.started.connect(lambda: self.timeline.set_run(getattr(self.session, "run_folder", None),
                                                                   self.network.architecture))
        self.session.finished.connect(lambda _finished: self.timeline.refresh())

    # -- what the actions and the training room ask of the window ---------------------------------------------
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
        fitting = self._bundled_set_for(architecture.input)
        if fitting is not None:  # an RGB preset on the bundled grey digits: the colour set instead
            self.training_panel.select_dataset(fitting)
            message += (f"; the dataset is now {dataset_title(fitting)} for its {shape_text(architecture.input.as_tuple())}"
                        " input")
        elif architecture.input != current:
            message += (f" (its {shape_text(architecture.input.as_tuple())} input is replaced by the dataset's "
                        f"{shape_text(current.as_tuple())})")
        self.statusBar().showMessage(message, 8000)

    def _bundled_set_for(self, shape: InputShape) -> str | None:
        """Another bundled set for a preset whose channels differ from the current bundled set's (a user's own
        dataset is never switched)."""
        current = BUNDLED_INPUTS.get(self.training_panel.config().dataset)
        if current is None or current.channels == shape.channels:
            return None
        return bundled_for_input(shape)

    def new_network(self) -> None:
        self.document.new(Architecture("Untitled", self.network.architecture.input, ()))

    def start_training(self) -> None:
        self.training_dock.raise_()
        self.training_panel.request_train()

    def show_export_dialog(self) -> ExportDialog:
        state, path = self.document.state, self.document.path
        stem = file_stem(path.stem if path else self.network.architecture.name)
        dialog = ExportDialog(self.network.architecture, state.trained_state(), state.history(),
                              self.document.default_dir(), stem, self.exports, self,
                              normalization=state.normalization())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.exported.connect(lambda paths: self.statusBar().showMessage(exported_message(paths), 15000))
        dialog.open()
        return dialog

    def show_about(self) -> QMessageBox:
        box = QMessageBox(QMessageBox.Icon.NoIcon, "About ConvScope", about_html(), QMessageBox.StandardButton.Ok,
                          self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return box

    def show_guide(self) -> GuideDialog:
        guide = GuideDialog(self)
        guide.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        guide.show()
        return guide

    def _on_training_finished(self, result) -> None:
        if result.step > 0:  # new weights and curves, which no file holds yet
            self.document.mark_modified()

    def _update_title(self, *_args: object) -> None:
        self.setWindowTitle(f"{self.document.display_name}[*] \u2014 ConvScope")
        self.setWindowModified(self.document.is_modified)

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
        self.evaluation.shutdown()
        self.experiments.shutdown()
        self.exports.wait()  # an export still writing finishes before the window goes
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        event.accept()
