"""The main window: start-up state, menus, presets, files, the unsaved-changes prompt and remembered layout."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from gui.document.document_io import CANCEL, DISCARD, SAVE
from gui.main_window import MainWindow
from models import architecture_file
from models.architecture import InputShape
from models.layers import Conv2dSpec
from models.presets import PRESET_KEYS, load_preset

LENET = load_preset("lenet5").layers


def menu(window, title: str):
    return next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == title)


def texts(m) -> list[str]:
    return [a.text().replace("&", "") for a in m.actions() if not a.isSeparator()]


def test_opens_with_lenet5_and_the_bundled_mnist(window):
    assert window.network.layers == LENET
    assert window.canvas.block_view(-1).detail == "MNIST (bundled)"
    assert window.network.architecture.input == InputShape(1, 28, 28)
    assert window.windowTitle().startswith("LeNet-5") and not window.isWindowModified()
    assert window.train_action.isEnabled()
    assert window.tabs.tabText(0) == "Network" and window.tabs.widget(0) is window.canvas


def test_menus_and_standard_shortcuts(window):
    assert texts(menu(window, "File")) == ["New", "Open...", "Open Run Folder...", "Attach to Run Folder...", "Open Recent", "Save",
                                           "Save As...", "Import Weights...", "Import Model...", "Export...", "Quit"]
    edit = texts(menu(window, "Edit"))
    assert edit[2:] == ["Duplicate layer", "Delete layer", "\u25b6  Train", "Pause / Resume training",
                        "Step one batch", "Stop training"]
    actions = window.window_actions
    assert actions.save.shortcut() == QKeySequence(QKeySequence.StandardKey.Save)
    assert actions.undo.shortcut() == QKeySequence(QKeySequence.StandardKey.Undo)
    assert actions.delete.shortcut() == QKeySequence(QKeySequence.StandardKey.Delete)
    assert texts(menu(window, "View")) == ["Zoom In", "Zoom Out", "Fit Network", "Actual Size (100%)",
                                           "Layers", "Inspector", "Summary", "Training"]
    assert [a.data() for a in menu(window, "Presets").actions()] == list(PRESET_KEYS)


def test_view_menu_toggles_docks(window):
    toggle = next(a for a in menu(window, "View").actions() if a.text() == "Inspector")
    toggle.trigger()
    assert not window.inspector_dock.isVisible()
    toggle.trigger()
    assert window.inspector_dock.isVisible()


def test_delete_and_duplicate_with_undo(window):
    network, actions = window.network, window.window_actions
    assert not actions.delete.isEnabled()  # nothing selected
    network.select(7)
    actions.duplicate.trigger()
    assert network.layers[:8] == LENET[:8] and network.layers[8] == LENET[7] and network.selected == 8
    actions.delete.trigger()  # the copy; its successor becomes selected
    assert network.layers == LENET and network.selected == 8
    actions.delete.trigger()
    assert network.layers == LENET[:8] + LENET[9:]
    assert window.isWindowModified()
    for _ in range(3):
        window.undo_stack.undo()
    assert network.layers == LENET and not window.isWindowModified()
    window.undo_stack.redo()
    assert len(network) == len(LENET) + 1


def test_palette_double_click_appends(window, qtbot):
    palette = window.palette
    item = palette.item_for("softmax")
    palette.scrollToItem(item)
    qtbot.mouseClick(palette.viewport(), Qt.MouseButton.LeftButton, pos=palette.visualItemRect(item).center())
    assert len(window.network) == len(LENET)  # a single click only selects
    qtbot.mouseDClick(palette.viewport(), Qt.MouseButton.LeftButton, pos=palette.visualItemRect(item).center())
    assert window.network.layers[-1].TYPE == "softmax" and len(window.network) == len(LENET) + 1


def test_preset_replaces_the_network_undoably_and_keeps_the_dataset_input(window):
    action = next(a for a in menu(window, "Presets").actions() if a.data() == "tiny_vgg")
    action.trigger()
    assert window.network.layers == load_preset("tiny_vgg").layers
    assert window.network.architecture.input == InputShape(1, 28, 28)  # follows the dataset, not the file
    assert window.isWindowModified()
    window.undo_stack.undo()
    assert window.network.layers == LENET and window.network.architecture.name == "LeNet-5"


def test_set_dataset_shape_changes_the_input(window):
    window.set_dataset_shape("CIFAR-10", InputShape(3, 32, 32))
    assert window.canvas.block_view(-1).shape == "3x32x32"
    assert window.canvas.block_view(-1).detail == "CIFAR-10"
    assert window.network.analysis.layers[0].output_shape == (6, 32, 32)


def test_save_and_open_round_trip(window, tmp_path):
    path = tmp_path / "net.json"
    window.document.ask_save_path = lambda: path
    window.network.select(0)
    window.inspector.editor_for("out_channels").spin.setValue(12)
    assert window.isWindowModified()
    assert window.window_actions.save.trigger() is None and path.is_file()
    assert json.loads(path.read_text())["layers"][0]["out_channels"] == 12
    assert window.windowTitle().startswith("net.json") and not window.isWindowModified()
    saved = window.network.architecture

    window.window_actions.delete.trigger()
    assert window.isWindowModified()
    window.document.ask_unsaved_changes = lambda: DISCARD
    assert window.document.open(path)
    assert window.network.architecture == saved
    assert window.undo_stack.count() == 0 and not window.isWindowModified()
    assert window.document.recent_files()[0] == path.resolve()


def test_open_a_bad_file_shows_the_error(window, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"format": "convscope.architecture", "version": 1, "input": {"channels": 1, "height": 28, '
                    '"width": 28}, "layers": [{"type": "conv2d", "out_channels": 0, "kernel_size": 3}]}')
    errors = []
    window.document.show_error = lambda title, message: errors.append(message)
    assert not window.document.open(path)
    assert errors and "broken.json" in errors[0] and "out_channels" in errors[0]
    assert window.network.layers == LENET


def test_close_with_unsaved_changes_can_be_cancelled(window):
    window.network.select(0)
    window.window_actions.delete.trigger()
    asked = []
    window.document.ask_unsaved_changes = lambda: asked.append(1) or CANCEL
    assert not window.close()
    assert asked and window.isVisible()


def test_close_with_save_writes_the_file(window, tmp_path):
    path = tmp_path / "closing.json"
    window.document.ask_save_path = lambda: path
    window.network.select(0)
    window.window_actions.delete.trigger()
    window.document.ask_unsaved_changes = lambda: SAVE
    assert window.close()
    assert architecture_file.load(path).layers == LENET[1:]


def test_new_asks_first_then_starts_empty_and_clean(window):
    window.network.select(0)
    window.window_actions.delete.trigger()
    window.document.ask_unsaved_changes = lambda: CANCEL
    window.window_actions.new.trigger()
    assert len(window.network) == len(LENET) - 1
    window.document.ask_unsaved_changes = lambda: DISCARD
    window.window_actions.new.trigger()
    assert window.network.layers == () and not window.isWindowModified()
    assert not window.train_action.isEnabled() and "no layers" in window.train_action.toolTip()
    window.undo_stack.undo()
    assert window.network.layers == LENET[1:]


def test_unmodified_window_closes_without_asking(window):
    window.editor.insert(0, Conv2dSpec())
    window.undo_stack.undo()  # back at the clean state
    assert window.close()  # the fixture's seam would raise if it asked


def test_geometry_and_dock_state_are_remembered(qtbot, settings):
    first = MainWindow(settings=settings)
    first.show()
    qtbot.waitExposed(first)
    first.resize(790, 610)  # the offscreen screen is 800x800; restoring clamps to it
    first.summary_dock.hide()
    assert first.close()
    second = MainWindow(settings=settings)
    try:
        second.show()
        qtbot.waitExposed(second)
        assert (second.width(), second.height()) == (790, 610)
        assert not second.summary_dock.isVisible() and second.inspector_dock.isVisible()
    finally:
        second.close()


def test_an_rgb_preset_on_the_bundled_digits_switches_to_the_colour_set(window, qtbot):
    panel = window.training_panel
    with qtbot.waitSignal(panel.dataset_changed, timeout=60_000):
        panel.select_dataset("mnist")
    action = next(a for a in menu(window, "Presets").actions() if a.data() == "tiny_vgg")
    with qtbot.waitSignal(panel.dataset_changed, timeout=60_000):
        action.trigger()
        message = window.statusBar().currentMessage()  # now: it times out after 8 s, a slow load may take longer
    assert "Colour shapes" in message
    assert panel.config().dataset == "shapes-rgb"
    assert panel.form.dataset_combo.currentText() == "Colour shapes (generated, RGB)"
    assert window.network.architecture.input == InputShape(3, 32, 32)
    assert window.canvas.block_view(-1).detail == "Colour shapes (generated, RGB)"
    # Back to a grey preset: the bundled digits again; a user's own dataset would be kept.
    lenet = next(a for a in menu(window, "Presets").actions() if a.data() == "lenet5")
    with qtbot.waitSignal(panel.dataset_changed, timeout=60_000):
        lenet.trigger()
    assert panel.config().dataset == "mnist" and window.network.architecture.input == InputShape(1, 28, 28)


def test_the_fashion_preset_switches_the_bundled_digits_to_fashion_mnist(window, qtbot):
    panel = window.training_panel
    with qtbot.waitSignal(panel.dataset_changed, timeout=60_000):
        panel.select_dataset("mnist")
    action = next(a for a in menu(window, "Presets").actions() if a.data() == "fashion_vgg")
    with qtbot.waitSignal(panel.dataset_changed, timeout=60_000):
        action.trigger()
        message = window.statusBar().currentMessage()
    assert panel.config().dataset == "fashion-mnist" and "Fashion" in message
    assert window.network.layers == load_preset("fashion_vgg").layers
    assert window.network.architecture.input == InputShape(1, 28, 28)
    # Loaded again while Fashion-MNIST is selected: nothing to switch.
    action.trigger()
    assert panel.config().dataset == "fashion-mnist" and "dataset is now" not in window.statusBar().currentMessage()


def test_a_wide_room_scrolls_in_its_tab_instead_of_squeezing_the_docks(window):
    # A QTabWidget asks for its widest page's minimum (the Evaluation room's 1,100 px): the palette and the
    # training dock were pushed to their minimum widths. The tabs now ask for little; wide rooms scroll.
    assert window.tabs.minimumSizeHint().width() < 500
    for room in (window.live_views, window.explainer, window.experiments, window.evaluation, window.timeline):
        index = window.tabs.indexOf(room)
        assert index >= 0 and window.tabs.widget(index) is room
        window.tabs.setCurrentWidget(room)
        assert window.tabs.currentWidget() is room and window.tabs.currentIndex() == index
    assert window.tabs.widget(0) is window.canvas


def test_every_room_fits_beside_the_docks_at_the_default_size(window):
    from gui.window_layout import DEFAULT_DOCK_WIDTHS, DEFAULT_SIZE
    room_width = DEFAULT_SIZE[0] - sum(DEFAULT_DOCK_WIDTHS) - 20  # dock separators and frames
    for room in (window.live_views, window.explainer, window.experiments, window.evaluation, window.timeline):
        assert room.minimumSizeHint().width() <= room_width, type(room).__name__


def test_a_first_start_gives_the_docks_their_default_widths(qtbot, settings):
    from gui.window_layout import DEFAULT_DOCK_WIDTHS, DEFAULT_SIZE
    window = MainWindow(settings=settings, rooms=False)  # nothing saved yet: a first start, as the app opens it
    try:
        window.show()
        qtbot.waitExposed(window)
        with qtbot.waitSignal(window.rooms_ready, timeout=60_000):
            window.load_rooms()
        assert (window.width(), window.height()) == DEFAULT_SIZE
        # (Under Xvfb, sizing before the window was laid out left the palette at its minimum width, "Lay...";
        # the offscreen platform lays out at once, so here this guards the default widths themselves.)
        qtbot.waitUntil(lambda: (window.palette_dock.width(), window.inspector_dock.width()) == DEFAULT_DOCK_WIDTHS)
    finally:
        window.close()
