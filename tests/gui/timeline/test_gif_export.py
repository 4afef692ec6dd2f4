"""Export GIF… in the Timeline: one frame per snapshot, written on the TaskRunner with progress, asking before
it replaces a file."""

from __future__ import annotations

import threading

from PIL import Image

from engine.run_folder.timeline import timeline
from gui.timeline import gif_export
from tests.gui.timeline.test_timeline_follow import live_run
from tests.gui.timeline.timeline_host import shown_tab

WAIT_MS = 60_000


def opened_tab(qtbot, folder):
    tab = shown_tab(qtbot)
    with qtbot.waitSignal(tab.updated, timeout=WAIT_MS):
        tab.set_run(folder, None)
    return tab


def test_the_filters_gif_has_a_frame_per_snapshot_and_is_written_off_the_gui_thread(qtbot, tmp_path, monkeypatch):
    run = tmp_path / "run"
    run.mkdir()
    live_run(run).close()
    tab = opened_tab(qtbot, run)
    assert tab.gif.button.isEnabled()
    threads, real = [], gif_export.export_filters_gif

    def recording_export(*args, **kwargs):  # the engine's own writer, its thread noted
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(gif_export, "export_filters_gif", recording_export)
    out = tmp_path / "filters.gif"
    tab.gif.ask_path = lambda suggested: out
    progress = []
    tab.gif._runner.progress.connect(progress.append)
    with qtbot.waitSignal(tab.gif.written, timeout=WAIT_MS) as written:
        tab.gif.filters_action.trigger()
        assert tab.gif.progress.isVisible() and not tab.gif.button.isEnabled()  # returned at once, working
    assert written.args == [out, len(timeline(run))]
    with Image.open(out) as image:
        assert image.n_frames == len(timeline(run)) >= 2
    assert threads and threads[0] is not threading.main_thread()
    assert progress and progress[-1] == 1.0 and progress == sorted(progress)
    assert not tab.gif.progress.isVisible() and tab.gif.button.isEnabled()
    assert tab.status.text() == f"Wrote {out} ({len(timeline(run))} frames)"
    tab.shutdown()


def test_an_existing_file_is_replaced_only_when_the_user_says_so(qtbot, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    live_run(run).close()
    tab = opened_tab(qtbot, run)
    out = tmp_path / "filters.gif"
    out.write_bytes(b"keep me")
    tab.gif.ask_path = lambda suggested: out
    asked = []
    tab.gif.ask_overwrite = lambda path: asked.append(path) or False
    assert not tab.export_gif(gif_export.FILTERS)
    assert asked == [out] and out.read_bytes() == b"keep me" and not tab.gif.is_busy
    tab.gif.ask_overwrite = lambda path: True
    with qtbot.waitSignal(tab.gif.written, timeout=WAIT_MS):
        assert tab.export_gif(gif_export.FILTERS)
    with Image.open(out) as image:
        assert image.format == "GIF" and image.n_frames == len(timeline(run))
    tab.shutdown()


def test_a_gif_that_cannot_be_made_says_why_in_the_status(qtbot, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    live_run(run).close()
    tab = opened_tab(qtbot, run)
    tab.gif.ask_path = lambda suggested: tmp_path / "missing" / "x.gif"  # a folder that does not exist
    with qtbot.waitSignal(tab.gif.failed, timeout=WAIT_MS):
        assert tab.export_gif(gif_export.FILTERS)
    assert tab.status.text().startswith("Cannot export the GIF: ") and "does not exist" in tab.status.text()
    assert tab.gif.button.isEnabled()
    tab.shutdown()


def test_the_activations_gif_shows_the_probe_at_the_chosen_layer_in_every_snapshot(qtbot, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    live_run(run, size=28).close()  # its settings name the bundled MNIST: the probe image comes from there
    tab = opened_tab(qtbot, run)
    tab.tensor.setCurrentIndex(tab.tensor.findData("0.weight"))  # layer 1: the conv layer's maps
    out = tmp_path / "maps.gif"
    tab.gif.ask_path = lambda suggested: out
    with qtbot.waitSignal(tab.gif.written, timeout=WAIT_MS) as written:
        tab.gif.activations_action.trigger()
    assert written.args == [out, len(timeline(run))]
    with Image.open(out) as image:
        assert image.n_frames == len(timeline(run))
    tab.shutdown()
