"""Drives the real app's window (tests/gui/test_fuzz_window.py runs it offscreen in a subprocess).

    python tests/gui/fuzz_window_driver.py FOLDER...

Starts as gui.app.run_app does (configure_application, open_window on MNIST with its rooms loaded behind the shown
shell), answers the dialog seams (an error is recorded, unsaved changes are discarded), then, from the event loop,
opens and attaches each FOLDER, follows it until its log is read or its run has ended, stops following, and at the
end closes the window. Prints one JSON line ({"cases", "opened", "attached", "errors", "closed"}) and exits with
the event loop's status.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from gui.app import configure_application, dispose, open_window
from gui.document.document_io import DISCARD

POLL_BYTES = 256 * 1024
CHECK_MS = 20


def main(folders: list[Path]) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    collector = configure_application(app)  # type: ignore[arg-type]
    window = open_window(None, "mnist")
    report: dict = {"cases": 0, "opened": 0, "attached": 0, "errors": [], "closed": False}
    window.document.show_error = lambda title, message: report["errors"].append(f"{title}: {message}")
    window.document.ask_unsaved_changes = lambda: DISCARD
    window.ask_stop_run_to_quit = lambda: True
    window.document.run_attached.connect(lambda _folder: report.__setitem__("attached", report["attached"] + 1))
    window.document.opened.connect(lambda _folder: report.__setitem__("opened", report["opened"] + 1))
    pending = list(folders)
    checker = QTimer(window)
    checker.setInterval(CHECK_MS)
    ticks = [0, 0]  # the session's polls since the attach; how many it needs to reach the end of the log

    def next_case() -> None:
        if not pending:
            report["closed"] = window.close()
            app.quit()
            return
        folder = pending.pop(0)
        report["cases"] += 1
        window.document.open(folder)  # read on a job thread; the attach below supersedes it
        window.document.ask_open_folder = lambda: folder
        window.window_actions.attach.trigger()
        log = folder / "events.jsonl"
        ticks[0], ticks[1] = 0, (os.lstat(log).st_size // POLL_BYTES if log.is_file() else 0) + 3
        checker.start()

    def check() -> None:
        session = window.session
        if window.document.is_reading:  # the folder is still being read: the attach (or its dialog) comes after
            return
        if session.is_running and (ticks[0] < ticks[1] or session._inspector.is_busy):
            return
        checker.stop()
        window.training.stop_training()
        QTimer.singleShot(0, next_case)

    def begin() -> None:
        window.session._timer.timeout.connect(lambda: ticks.__setitem__(0, ticks[0] + 1))
        checker.timeout.connect(check)
        QTimer.singleShot(0, next_case)

    if window.rooms_built:
        begin()
    else:
        window.rooms_ready.connect(begin)
    code = app.exec()
    collector.stop()
    dispose(window)  # as run_app: the window's Qt objects die before the QApplication
    print(json.dumps(report))
    return code


if __name__ == "__main__":
    sys.exit(main([Path(arg) for arg in sys.argv[1:]]))
