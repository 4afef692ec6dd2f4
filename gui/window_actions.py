"""The main window's actions, menus and toolbar (File, Edit, View, Presets, Help), built in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QSizePolicy, QToolBar, QWidget

from gui.document.recent_files import fill_recent_menu
from models.presets import PRESET_KEYS, load_preset

if TYPE_CHECKING:
    from gui.main_window import MainWindow

Key = QKeySequence.StandardKey


def _action(window: MainWindow, text: str, slot: object, shortcut: object = None, tip: str = "") -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(shortcut)  # type: ignore[arg-type]
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(tip)
    action.triggered.connect(slot)
    return action


class WindowActions:
    """Owns every QAction of the window; `window.<name>_action` aliases the ones other code needs."""

    def __init__(self, window: MainWindow) -> None:
        doc, editor = window.document, window.editor
        self.new = _action(window, "&New", window.new_network, Key.New, "Start an empty network")
        self.open = _action(window, "&Open...", lambda: doc.open(), Key.Open,
                            "Open a ConvScope project (.convscope) or an architecture file (.json)")
        self.open_folder = _action(window, "Open Run &Folder...", doc.open_folder,
                                   tip="Open a run folder written by `train --out`")
        self.save = _action(window, "&Save", doc.save, Key.Save,
                            "Save the project: network, training settings, curves and trained weights")
        self.save_as = _action(window, "Save &As...", lambda: doc.save_as(), Key.SaveAs,
                               "Save the project (.convscope) or only the architecture (.json) under a new name")
        self.import_weights = _action(window, "&Import Weights...", lambda: doc.import_weights(),
                                      tip="Load trained weights (.safetensors or state-dict .pt) into this network")
        self.export = _action(window, "&Export...", window.show_export_dialog, "Ctrl+E",
                              "Export weights, TorchScript, ONNX, Python source, filter images or tables")
        self.quit = _action(window, "&Quit", window.close, Key.Quit)
        self.undo = window.undo_stack.createUndoAction(window, "&Undo")
        self.undo.setShortcut(Key.Undo)
        self.redo = window.undo_stack.createRedoAction(window, "&Redo")
        self.redo.setShortcut(Key.Redo)
        self.delete = _action(window, "&Delete layer", editor.delete_selected, Key.Delete,
                              "Delete the selected layer")
        self.duplicate = _action(window, "D&uplicate layer", editor.duplicate_selected, "Ctrl+D",
                                 "Insert a copy of the selected layer below it")
        self.about = _action(window, "&About ConvScope", window.show_about)
        self.train = _action(window, "\u25b6  Train", window.start_training, "Ctrl+T", "Train the network")
        self.presets = [self._preset_action(window, key) for key in PRESET_KEYS]
        self._build_menus(window)
        self._build_toolbar(window)

    @staticmethod
    def _preset_action(window: MainWindow, key: str) -> QAction:
        name = load_preset(key).name
        action = _action(window, name, lambda: window.load_preset(key), tip=f"Replace the network by {name}")
        action.setData(key)
        return action

    def _build_menus(self, window: MainWindow) -> None:
        bar = window.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.new, self.open, self.open_folder])
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(lambda: self._fill_recent(window))
        file_menu.addSeparator()
        file_menu.addActions([self.save, self.save_as])
        file_menu.addSeparator()
        file_menu.addActions([self.import_weights, self.export])
        file_menu.addSeparator()
        file_menu.addAction(self.quit)
        edit_menu = bar.addMenu("&Edit")
        edit_menu.addActions([self.undo, self.redo])
        edit_menu.addSeparator()
        edit_menu.addActions([self.duplicate, self.delete])
        edit_menu.addSeparator()
        edit_menu.addAction(self.train)
        window.view_menu = bar.addMenu("&View")
        presets_menu = bar.addMenu("&Presets")
        presets_menu.addActions(self.presets)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.about)

    def _build_toolbar(self, window: MainWindow) -> None:
        toolbar = QToolBar("Main toolbar", window)
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.addActions([self.new, self.open, self.save])
        toolbar.addSeparator()
        toolbar.addActions([self._short(window, redo=False), self._short(window, redo=True)])
        toolbar.addSeparator()
        toolbar.addActions([self.duplicate, self.delete])
        stretch = QWidget()  # pushes Train to the right edge
        stretch.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        toolbar.addWidget(stretch)
        toolbar.addAction(self.train)
        toolbar.widgetForAction(self.train).setObjectName("trainButton")
        window.addToolBar(toolbar)
        self.toolbar = toolbar

    @staticmethod
    def _short(window: MainWindow, redo: bool) -> QAction:
        """A toolbar Undo/Redo with a fixed label (the menu's grows with the command text)."""
        stack = window.undo_stack
        twin = QAction("Redo" if redo else "Undo", window)
        twin.setEnabled(stack.canRedo() if redo else stack.canUndo())
        twin.triggered.connect(stack.redo if redo else stack.undo)
        (stack.canRedoChanged if redo else stack.canUndoChanged).connect(twin.setEnabled)
        (stack.redoTextChanged if redo else stack.undoTextChanged).connect(twin.setToolTip)
        return twin

    def _fill_recent(self, window: MainWindow) -> None:
        fill_recent_menu(self.recent_menu, window.document.recent, window.document.open_recent)
