"""The main window's actions, menus and toolbar (File, Edit, View, Presets, Help), built in one place."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import QAbstractButton, QMainWindow, QSizePolicy, QToolBar, QWidget

from gui.builder.canvas import Canvas
from gui.builder.network_editor import NetworkEditor
from gui.document.document_io import DocumentController
from gui.document.recent_files import fill_recent_menu
from models.presets import PRESET_KEYS, load_preset

Key = QKeySequence.StandardKey
LOADING_TIP = "Available once the training engine has loaded (a second or two after start)"
# Run controls: none of these is a standard key or another action's; Step pairs with Train (Ctrl+T).
PAUSE_KEYS, STEP_KEYS, STOP_KEYS = "Ctrl+P", "Ctrl+Shift+T", "Ctrl+Shift+X"


class WindowActions(QObject):
    """Owns every QAction of `window`, its menus and its toolbar.

    Document and edit actions call the DocumentController and NetworkEditor they are given; the
    window-level ones (New, Export, Train, About, a preset) only emit a signal, which the window wires.
    """

    new_requested = Signal()
    export_requested = Signal()
    import_model_requested = Signal()
    train_requested = Signal()
    about_requested = Signal()
    guide_requested = Signal()
    preset_requested = Signal(str)  # a key of models.presets.PRESET_KEYS

    def __init__(self, window: QMainWindow, document: DocumentController, editor: NetworkEditor,
                 undo_stack: QUndoStack, canvas: Canvas) -> None:
        super().__init__(window)
        self._window, self._document, self._undo_stack = window, document, undo_stack
        self._mirrored: dict[QAbstractButton, list[QAction]] = {}
        self._tips_while_loading: dict[QAction, str] = {}
        doc = document
        self.new = self._action("&New", self.new_requested.emit, Key.New, "Start an empty network")
        self.open = self._action("&Open...", lambda: doc.open(), Key.Open,
                                 "Open a ConvScope project (.convscope) or an architecture file (.json)")
        self.open_folder = self._action("Open Run &Folder...", doc.open_folder,
                                        tip="Open a run folder written by `train --out`")
        self.attach = self._action("&Attach to Run Folder...", lambda: doc.attach(),
                                   tip="Follow a run folder as it is written: a `train` in a terminal, a torchrun "
                                       "job, a folder another machine writes")
        self.save = self._action("&Save", doc.save, Key.Save,
                                 "Save the project: network, training settings, curves and trained weights")
        self.save_as = self._action("Save &As...", lambda: doc.save_as(), Key.SaveAs,
                                    "Save the project (.convscope) or only the architecture (.json) under a new name")
        self.import_weights = self._action("&Import Weights...", lambda: doc.import_weights(),
                                           tip="Load trained weights (.safetensors or state-dict .pt) into this "
                                               "network")
        self.import_model = self._action("Import &Model...", self.import_model_requested.emit,
                                         tip="Import an ONNX file or a PyTorch module (FILE.py:FACTORY) as a project: "
                                             "its layers and weights, to edit, train and export")
        self.export = self._action("&Export...", self.export_requested.emit, "Ctrl+E",
                                   "Export weights, TorchScript, ONNX, Python source, filter images or tables")
        self.quit = self._action("&Quit", window.close, Key.Quit)
        self.undo = undo_stack.createUndoAction(window, "&Undo")
        self.undo.setShortcut(Key.Undo)
        self.redo = undo_stack.createRedoAction(window, "&Redo")
        self.redo.setShortcut(Key.Redo)
        # The toolbar's Undo/Redo: fixed labels (the menu's grow with the command text).
        self.undo_short = self._short(redo=False)
        self.redo_short = self._short(redo=True)
        self.delete = self._action("&Delete layer", editor.delete_selected, Key.Delete, "Delete the selected layer")
        self.duplicate = self._action("D&uplicate layer", editor.duplicate_selected, "Ctrl+D",
                                      "Insert a copy of the selected layer below it")
        self.about = self._action("&About ConvScope", self.about_requested.emit)
        self.guide = self._action("ConvScope &guide", self.guide_requested.emit, Key.HelpContents,
                                  "The arithmetic, the views and the shortcuts")
        self.train = self._action("\u25b6  Train", self.train_requested.emit, "Ctrl+T", "Train the network")
        # The run controls click the training panel's buttons (connect_run_buttons), so they do exactly what
        # the buttons do and are enabled when they are; until then, off.
        self.pause = self._action("&Pause / Resume training", None, PAUSE_KEYS,
                                  "Pause at the next batch, or resume a paused run")
        self.step = self._action("S&tep one batch", None, STEP_KEYS,
                                 "Run one batch, then pause (starts a paused run when idle)")
        self.stop = self._action("St&op training", None, STOP_KEYS,
                                 "Stop at the next batch; the trained weights are kept")
        # The toolbar's twins: short labels beside Train, in a fixed place (the dock's buttons scroll and move).
        self.pause_short = self._action("Pause", None, tip="Pause at the next batch, or resume a paused run "
                                                              f"({PAUSE_KEYS})")
        self.step_short = self._action("Step", None, tip=f"Run one batch, then pause ({STEP_KEYS})")
        self.stop_short = self._action("Stop", None, tip=f"Stop at the next batch; the trained weights are kept "
                                                         f"({STOP_KEYS})")
        for action in (self.pause, self.step, self.stop, self.pause_short, self.step_short, self.stop_short):
            action.setEnabled(False)
        self.zoom_in = self._action("Zoom &In", canvas.zoom_in, Key.ZoomIn, "Enlarge the network's blocks")
        # Ctrl++ needs Shift on most layouts; Ctrl+= is the same key without it.
        self.zoom_in.setShortcuts([QKeySequence(Key.ZoomIn), QKeySequence("Ctrl+=")])
        self.zoom_out = self._action("Zoom &Out", canvas.zoom_out, Key.ZoomOut, "Shrink the network's blocks")
        self.zoom_fit = self._action("&Fit Network", canvas.zoom_to_fit,
                                     tip="Zoom so that the whole network is in view (at most 100%)")
        self.zoom_reset = self._action("&Actual Size (100%)", lambda: canvas.set_zoom(1.0), "Ctrl+0",
                                       "Show the network's blocks at their normal size")
        canvas.zoom_changed.connect(
            lambda factor: window.statusBar().showMessage(f"Zoom {round(factor * 100)}%", 3000))
        self.presets = [self._preset_action(key) for key in PRESET_KEYS]
        self._build_menus()
        self._build_toolbar()

    def set_rooms_ready(self, ready: bool) -> None:
        """Before the engine's rooms exist (gui.engine_loader still importing torch), the actions that need
        them are off: files (their settings, curves and weights go to the training room), presets (they may
        switch the dataset), export, About (it names torch's version) and Train. Once ready, all but Train
        come back; Train's state belongs to the training controller from then on."""
        needing = [self.new, self.open, self.open_folder, self.attach, self.save, self.save_as, self.import_weights,
                   self.import_model, self.export, self.about, *self.presets]
        if not ready:
            self._tips_while_loading = {action: action.toolTip() for action in needing + [self.train]}
        for action in needing + ([] if ready else [self.train]):
            action.setEnabled(ready)
            if not ready:
                action.setToolTip(LOADING_TIP)
            elif action in self._tips_while_loading:
                action.setToolTip(self._tips_while_loading.pop(action))
        self.recent_menu.setEnabled(ready)

    def connect_run_buttons(self, pause: QAbstractButton, step: QAbstractButton, stop: QAbstractButton) -> None:
        """Pause, Step and Stop (menu and toolbar) click these buttons and follow their enabled state."""
        self._pause_button = pause
        for actions, button in (((self.pause, self.pause_short), pause), ((self.step, self.step_short), step),
                                ((self.stop, self.stop_short), stop)):
            for action in actions:
                action.triggered.connect(button.click)
                action.setEnabled(button.isEnabled())
            self._mirrored[button] = list(actions)
            button.installEventFilter(self)

    @Slot()
    def sync_pause_label(self) -> None:
        """The toolbar's Pause reads Resume while the run is paused, as the training panel's button does."""
        self.pause_short.setText(self._pause_button.text())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.EnabledChange and watched in self._mirrored:
            for action in self._mirrored[watched]:  # type: ignore[index]
                action.setEnabled(watched.isEnabled())  # type: ignore[attr-defined]
            if watched is getattr(self, "_pause_button", None):
                self.sync_pause_label()
        return False

    def _action(self, text: str, slot: Callable[[], object] | None, shortcut: object = None, tip: str = "") -> QAction:
        action = QAction(text, self._window)
        if shortcut is not None:
            action.setShortcut(shortcut)  # type: ignore[arg-type]
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        if slot is not None:
            action.triggered.connect(lambda _checked=False: slot())
        return action

    def _preset_action(self, key: str) -> QAction:
        name = load_preset(key).name
        action = self._action(name, lambda: self.preset_requested.emit(key), tip=f"Replace the network by {name}")
        action.setData(key)
        return action

    def _build_menus(self) -> None:
        bar = self._window.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.new, self.open, self.open_folder, self.attach])
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file_menu.addSeparator()
        file_menu.addActions([self.save, self.save_as])
        file_menu.addSeparator()
        file_menu.addActions([self.import_weights, self.import_model, self.export])
        file_menu.addSeparator()
        file_menu.addAction(self.quit)
        edit_menu = bar.addMenu("&Edit")
        edit_menu.addActions([self.undo, self.redo])
        edit_menu.addSeparator()
        edit_menu.addActions([self.duplicate, self.delete])
        edit_menu.addSeparator()
        edit_menu.addActions([self.train, self.pause, self.step, self.stop])
        self.view_menu = bar.addMenu("&View")  # the window adds each dock's toggle after the zoom
        self.view_menu.addActions([self.zoom_in, self.zoom_out, self.zoom_fit, self.zoom_reset])
        self.view_menu.addSeparator()
        presets_menu = bar.addMenu("&Presets")
        presets_menu.addActions(self.presets)
        help_menu = bar.addMenu("&Help")
        help_menu.addActions([self.guide, self.about])

    def _build_toolbar(self) -> None:
        toolbar = QToolBar("Main toolbar", self._window)
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.addActions([self.new, self.open, self.save])
        toolbar.addSeparator()
        toolbar.addActions([self.undo_short, self.redo_short])
        toolbar.addSeparator()
        toolbar.addActions([self.duplicate, self.delete])
        stretch = QWidget()  # pushes Train to the right edge
        stretch.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        toolbar.addWidget(stretch)
        toolbar.addActions([self.pause_short, self.step_short, self.stop_short])
        pause = toolbar.widgetForAction(self.pause_short)
        # As wide as "Resume": the buttons after it must not move when the label changes under the pointer.
        pause.setMinimumWidth(pause.sizeHint().width() + pause.fontMetrics().horizontalAdvance("Resume")
                              - pause.fontMetrics().horizontalAdvance("Pause"))
        toolbar.addAction(self.train)
        toolbar.widgetForAction(self.train).setObjectName("trainButton")
        self._window.addToolBar(toolbar)
        self.toolbar = toolbar

    def _short(self, redo: bool) -> QAction:
        stack = self._undo_stack
        twin = QAction("Redo" if redo else "Undo", self._window)
        twin.setEnabled(stack.canRedo() if redo else stack.canUndo())
        twin.triggered.connect(stack.redo if redo else stack.undo)
        (stack.canRedoChanged if redo else stack.canUndoChanged).connect(twin.setEnabled)
        (stack.redoTextChanged if redo else stack.undoTextChanged).connect(twin.setToolTip)
        return twin

    def _fill_recent(self) -> None:
        fill_recent_menu(self.recent_menu, self._document.recent, self._document.open_recent)
