"""File > Open Recent: the list in QSettings (newest first, at most MAX_RECENT), its menu, Clear, missing files."""

from __future__ import annotations

import pytest

from gui.document.document_io import DISCARD
from gui.main_window import MainWindow
from gui.document.recent_files import CLEAR_TEXT, EMPTY_TEXT, MAX_RECENT
from models import architecture_file
from models.presets import load_preset


@pytest.fixture
def second_window(qtbot, settings):
    """Another window on the same settings file, as after restarting the app."""
    win = MainWindow(settings=settings)
    win.document.ask_unsaved_changes = lambda: DISCARD
    win.document.show_error = lambda *args: pytest.fail(f"unexpected error dialog {args}")
    yield win
    win.close()
    win.deleteLater()


def menu_texts(window) -> list[str]:
    menu = window.window_actions.recent_menu
    menu.aboutToShow.emit()  # what opening the menu does
    return [a.text() for a in menu.actions() if not a.isSeparator()]


def menu_entry(window, text: str):
    menu_texts(window)
    return next(a for a in window.window_actions.recent_menu.actions() if a.text() == text)


def test_recent_files_survive_a_new_window_and_can_be_cleared(window, second_window, tmp_path):
    paths = [tmp_path / f"p{i}.convscope" for i in range(MAX_RECENT + 2)]
    for path in paths:
        assert window.document.save_as(path)
    expected = [p.resolve() for p in reversed(paths)][:MAX_RECENT]
    assert window.document.recent_files() == expected
    assert second_window.document.recent_files() == expected
    assert menu_texts(second_window) == [p.name for p in expected] + [CLEAR_TEXT]
    assert menu_entry(second_window, paths[-1].name).toolTip() == str(expected[0])
    menu_entry(second_window, CLEAR_TEXT).trigger()
    assert second_window.document.recent_files() == [] and menu_texts(second_window) == [EMPTY_TEXT]


def test_opening_moves_a_file_to_the_top(window, tmp_path):
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    for path in (first, second):
        architecture_file.save(load_preset("tiny_vgg"), path)
        window.document.ask_unsaved_changes = lambda: DISCARD
        assert window.document.open(path)
    assert window.document.recent_files() == [second.resolve(), first.resolve()]
    menu_entry(window, first.name).trigger()
    assert window.document.path == first
    assert window.document.recent_files() == [first.resolve(), second.resolve()]


def test_choosing_a_missing_recent_file_removes_it(window, tmp_path):
    kept, gone = tmp_path / "kept.convscope", tmp_path / "gone.convscope"
    window.document.save_as(gone)
    window.document.save_as(kept)
    gone.unlink()
    menu_entry(window, gone.name).trigger()
    assert window.document.recent_files() == [kept.resolve()]
    assert window.statusBar().currentMessage() == f"{gone.resolve()} no longer exists; removed it from the recent files"
    assert window.document.path == kept  # nothing else changed


def test_a_damaged_recent_file_stays_listed_and_shows_its_error(window, tmp_path):
    path = tmp_path / "broken.convscope"
    window.document.save_as(path)
    path.write_bytes(b"not a zip")
    errors = []
    window.document.show_error = lambda title, message: errors.append(message)
    menu_entry(window, path.name).trigger()
    assert errors and "damaged" in errors[0]
    assert window.document.recent_files() == [path.resolve()]  # it may be restored from a backup
