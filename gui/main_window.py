"""The main window: composes the palette, canvas, inspector, summary and the engine's rooms around one Network.

This module and the shell it builds import no torch: `MainWindow(rooms=False)` is on screen in well under a
second, and `build_rooms()` adds training, explainer, experiments, evaluation and timeline once
gui.engine_loader has imported them (gui.app does that; tests build everything at once).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QCloseEvent, QUndoStack
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMessageBox, QWidget

from gui.builder.canvas import Canvas
from gui.builder.edit_lock import EditLock
from gui.builder.inspector import Inspector
from gui.builder.layer_style import shape_text
from gui.builder.network_editor import NetworkEditor
from gui.builder.palette import Palette
from gui.builder.summary_view import SummaryView
from gui.builder.validity_label import ValidityLabel
from gui.dataset_inputs import BUNDLED_INPUTS, bundled_for_input, dataset_title
from gui.document.document_io import DocumentController
from gui.document.model_import import ModelImportController
from gui.engine_loader import EngineLoader
from gui.help_dialog import GuideDialog, about_html
from gui.room_tabs import RoomTabs
from gui.window_actions import WindowActions
from gui.window_layout import restore_layout, save_layout, size_docks_when_shown
from gui.workspace import Workspace
from models.architecture import Architecture, InputShape
from models.network import Network
from models.presets import DEFAULT_PRESET, load_preset, made_for

if TYPE_CHECKING:
    from gui.document.export_dialog import ExportDialog

ROOMS_MODULE = "gui.rooms"  # every room class, torch with them: what gui.engine_loader imports off the GUI thread



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
    The parts from `exports` on exist once `build_rooms()` has run (`rooms_built`); until then the actions that
    need them are disabled.
    """

    rooms_ready = Signal()  # build_rooms() has run: training, the tabs and every action are there

    def __init__(self, network: Network | None = None, settings: QSettings | None = None, *,
                 rooms: bool = True) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setMinimumSize(760, 520)  # explicit, so the layout never resizes the platform window's limits
        self.settings = settings if settings is not None else QSettings()
        self.network = network if network is not None else Network(load_preset(DEFAULT_PRESET))
        self.workspace = Workspace()  # what the rooms work on and observe (gui/workspace.py)
        self.undo_stack = QUndoStack(self)
        self.editor = NetworkEditor(self.network, self.undo_stack)
        self.document = DocumentController(self.editor, self.settings, self)
        self.model_import = ModelImportController(self.document, self.network, self)
        self.rooms_built = False
        self._engine_loader: EngineLoader | None = None
        self._closed = False
        self.dataset_name: str | None = None

        self.palette = Palette()
        self.canvas = Canvas(self.editor)
        self.inspector = Inspector(self.editor)
        self.summary = SummaryView(self.network)
        self.tabs = RoomTabs()
        self.tabs.setObjectName("centralTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.add_room(self.canvas, "Network", scrolls=False)
        self.setCentralWidget(self.tabs)
        # Side docks run the full height; the summary sits under the canvas only.
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.window_actions = actions = WindowActions(self, self.document, self.editor, self.undo_stack,
                                                      self.canvas)
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

        self.palette.layer_activated.connect(self.editor.append_new)
        actions.new_requested.connect(self.new_network)
        actions.export_requested.connect(self.show_export_dialog)
        actions.import_model_requested.connect(self.model_import.start)
        actions.train_requested.connect(self.start_training)
        actions.about_requested.connect(self.show_about)
        actions.guide_requested.connect(self.show_guide)
        actions.preset_requested.connect(self.load_preset)
        self.undo_stack.cleanChanged.connect(self._update_title)
        self.document.path_changed.connect(self._update_title)
        self.document.modified_changed.connect(self._update_title)
        self.document.status_reported.connect(lambda text: self.statusBar().showMessage(text, 10000))
        self.network.changed.connect(self._update_title)
        self.network.selection_changed.connect(self._show_inspector)
        self.summary.copied.connect(lambda text: self.statusBar().showMessage(text, 5000))
        self.canvas.wiring_refused.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self._update_title()
        if rooms:
            self.build_rooms()
        else:
            actions.set_rooms_ready(False)
            self.statusBar().showMessage("Loading the training engine\u2026")
        restore_layout(self, self.settings, self.palette_dock, self.inspector_dock, self.summary_dock)

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

    def load_rooms(self) -> None:
        """Import the rooms (torch with them) off the GUI thread, then build them here; `rooms_ready` follows."""
        if self.rooms_built or self._engine_loader is not None:
            return
        self._engine_loader = EngineLoader((ROOMS_MODULE,), self)
        self._engine_loader.loaded.connect(self.build_rooms)
        self._engine_loader.failed.connect(self._on_engine_failed)
        self._engine_loader.start()

    def _on_engine_failed(self, error: str) -> None:
        self.statusBar().showMessage("The training engine could not be loaded; the network editor still works")
        QMessageBox.critical(self, "Cannot load the training engine",
                             f"PyTorch or another package of the training engine failed to import:\n{error}\n\n"
                             "Reinstall the environment (`make run` builds it afresh); the network editor keeps "
                             "working, and Save needs the engine.")

    def build_rooms(self) -> None:
        """Add the rooms that stand on the engine (torch): once, on the GUI thread, after their import."""
        from gui import rooms

        if self.rooms_built or self._closed:  # closed while the import ran: nothing left to build for
            return
        self.exports = rooms.ExportRunner(self)
        self._build_training()
        self._build_explainer()
        self._build_evaluation()
        self._build_timeline()
        self.session.finished.connect(self._on_training_finished)
        self.rooms_built = True
        self.window_actions.set_rooms_ready(True)  # Train's state is the training controller's
        self.statusBar().clearMessage()
        if self.settings.value("window/state") is not None:  # the docks just added take their saved places
            self.restoreState(self.settings.value("window/state"))
        else:
            self._default_dock_sizes()  # the training dock just joined the inspector's
        self.rooms_ready.emit()

    def _build_training(self) -> None:
        """The training dock beside the inspector, the "Training" tab, and the controller that runs them."""
        from gui import rooms

        self.session = rooms.TrainingSession(self)
        self.dataset_loader = rooms.DatasetLoader(self)
        self.training_panel = rooms.TrainingPanel(self.session, self.dataset_loader)
        self.live_views = rooms.LiveViews(self.workspace)
        self.live_views.follow_network(self.network)
        self.tabs.add_room(self.live_views, "Training")
        self.training_dock = self.add_dock(self.training_panel, "Training", Qt.DockWidgetArea.RightDockWidgetArea,
                                           "trainingDock")
        self.tabifyDockWidget(self.inspector_dock, self.training_dock)
        self.inspector_dock.raise_()
        actions = self.window_actions
        actions.connect_run_buttons(self.training_panel.pause_button, self.training_panel.step_button,
                                    self.training_panel.stop_button)
        self.session.paused_changed.connect(actions.sync_pause_label)  # after the panel's own slot: its text
        lock = EditLock(self.canvas, (self.palette, self.canvas, self.inspector), self.network, self.undo_stack,
                        undo_actions=(actions.undo, actions.undo_short), redo_actions=(actions.redo, actions.redo_short),
                        selection_actions=(actions.delete, actions.duplicate))
        self.training = rooms.TrainingController(self.network, self.session, self.dataset_loader, self.training_panel,
                                           self.live_views, lock=lock, train_action=self.train_action,
                                           tabs=self.tabs, summary_dock=self.summary_dock, parent=self)
        self.training.dataset_shape_changed.connect(self.set_dataset_shape)
        self.training.status_reported.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.training_panel.blocked_changed.connect(self.canvas.set_output_problem)
        # Health of the followed run: its snapshots (the folder's own steps) in, badges on the canvas out.
        self.session.snapshot_taken.connect(self.live_views.health.show_snapshot)
        self.live_views.health.health_changed.connect(self.canvas.show_health)
        # the status bar also says when the dataset did not load: "Valid" in green beside a disabled Train misled
        self.training_panel.train_problem_changed.connect(self.validity_label.set_training_problem)
        self.training.run_shown.connect(self.training_dock.raise_)
        self.document.state = self.training.project_state()
        self.document.run_attached.connect(self.training.attach)

    def _build_explainer(self) -> None:
        """The "Explainer" tab: a conv or pooling layer stepped through on the probe sample, or a lesson."""
        from gui import rooms

        seed = lambda: self.training_panel.config().seed  # noqa: E731 - the initial weights a run would start from
        cases = rooms.NetworkCases(self.network, self.workspace, seed=seed, parent=self)
        self.explainer = rooms.ExplainerTab(cases)
        self.maximisation = rooms.MaximisationPanel(self.network, self.workspace, seed=seed)
        self.explainer.pages.addTab(self.maximisation, "What it wants")
        self.tabs.add_room(self.explainer, "Explainer")
        self.experiments = rooms.ExperimentsTab(self.network, self.training_panel.config)
        self.tabs.add_room(self.experiments, "Experiments")

    def _build_evaluation(self) -> None:
        """The "Evaluation" tab: the trained weights scored, the confusion matrix, galleries, explanations."""
        from gui import rooms

        self.evaluation = rooms.EvaluationTab(self.workspace)
        self.tabs.add_room(self.evaluation, "Evaluation")
        self.session.finished.connect(self.evaluation.on_training_finished)

    def _build_timeline(self) -> None:
        """The "Timeline" tab: scrub the run folder of the window's training run (once the session keeps one)."""
        from gui import rooms

        self.timeline = rooms.TimelineTab(self.workspace)
        self.tabs.add_room(self.timeline, "Timeline")
        self.session.started.connect(lambda: self.timeline.follow(self.session.run_folder, self.network.architecture))
        self.session.records_read.connect(self.timeline.add_records)  # the session's one follower feeds it
        self.document.opened.connect(self.timeline.show_opened)
        self.session.finished.connect(lambda _finished: self.timeline.refresh())
        self.timeline.scrubbed_to.connect(  # the scrubbed step on the curves; none at the live end
            lambda step: self.live_views.curves.set_marker(step if step >= 0 else None))

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
        fitting = self._bundled_set_for(key, architecture.input)
        if fitting is not None:  # e.g. an RGB preset on the bundled grey digits: the colour set instead
            self.training_panel.select_dataset(fitting)
            message += (f"; the dataset is now {dataset_title(fitting)} for its {shape_text(architecture.input.as_tuple())}"
                        " input")
        elif architecture.input != current:
            message += (f" (its {shape_text(architecture.input.as_tuple())} input is replaced by the dataset's "
                        f"{shape_text(current.as_tuple())})")
        self.statusBar().showMessage(message, 8000)

    def _bundled_set_for(self, key: str, shape: InputShape) -> str | None:
        """Another bundled set while a bundled set is selected (a user's own dataset is never switched): the one
        the preset was made for, else one of its channels where the current set's differ."""
        name = self.training_panel.config().dataset
        current = BUNDLED_INPUTS.get(name)
        if current is None:
            return None
        intended = made_for(key)
        if intended is not None:
            return intended if intended != name else None
        return bundled_for_input(shape) if current.channels != shape.channels else None

    def new_network(self) -> None:
        self.document.new(Architecture("Untitled", self.network.architecture.input, ()))

    def start_training(self) -> None:
        self.training_dock.raise_()
        self.training_panel.request_train()

    def show_export_dialog(self) -> ExportDialog:
        from gui import rooms

        state, path = self.document.state, self.document.path
        stem = rooms.file_stem(path.stem if path else self.network.architecture.name)
        dialog = rooms.ExportDialog(self.network.architecture, state.trained_state(), state.history(),
                              self.document.default_dir(), stem, self.exports, self,
                              normalization=state.normalization())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.exported.connect(lambda paths: self.statusBar().showMessage(rooms.exported_message(paths), 15000))
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
        # New weights and curves, which no file holds yet; a run followed in its folder is held there.
        if result.step > 0 and not self.session.followed_a_folder:
            self.document.mark_modified()

    def _stop_own_run_before_closing(self) -> bool:
        """Quitting during a run of this window's own: ask first, then stop it, so that its weights (now the
        document's unsaved change) reach the save question instead of vanishing. False: the user cancelled."""
        if not self.rooms_built or not self.session.is_running or self.session.is_attached:
            return True
        if not self.ask_stop_run_to_quit():
            return False
        self.training.stop_training()  # emits `finished` before returning: the weights are the document's now
        return True

    def ask_stop_run_to_quit(self) -> bool:
        """Whether to stop the training run and quit (a seam: tests answer it themselves)."""
        answer = QMessageBox.question(
            self, "Training is running", "A training run is going on. Stop it and quit?\n\nThe weights it has "
            "reached so far are kept, and you are asked whether to save them.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def _show_inspector(self, index: int | None) -> None:
        """A selected layer is for editing: its Inspector comes forward (it shares a tab with the Training dock)."""
        if index is not None:
            self.inspector_dock.raise_()

    def _update_title(self, *_args: object) -> None:
        self.setWindowTitle(f"{self.document.display_name}[*] \u2014 ConvScope")
        self.setWindowModified(self.document.is_modified)

    # -- window state ---------------------------------------------------------------------------------------
    def _default_dock_sizes(self) -> None:
        size_docks_when_shown(self, self.palette_dock, self.inspector_dock, self.summary_dock)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if not self._stop_own_run_before_closing() or not self.document.maybe_save():
            event.ignore()
            return
        self._closed = True
        if self._engine_loader is not None:
            self._engine_loader.wait()  # no interpreter exit in the middle of torch's import
        if self.rooms_built:
            self.training.shutdown()  # stops a run and any dataset loading; no thread outlives the window
            self.live_views.health.shutdown()
            self.evaluation.shutdown()
            self.experiments.shutdown()
            self.maximisation.shutdown()
            self.timeline.shutdown()
            self.exports.wait()  # an export still writing finishes before the window goes
            self.model_import.shutdown()
        self.document.shutdown()  # a run folder still being read: its thread ends with the window
        save_layout(self, self.settings)
        event.accept()
