"""Screenshot the real window as a person would see it: `main.py`'s window on a fresh profile, on the screen
it is given (run it under Xvfb with the screen size to check), optionally on a chosen tab after some training.

    xvfb-run -s "-screen 0 1366x768x24" .venv/bin/python tools/screenshot.py --out shot.png --tab Training \
        --train-batches 300

The picture is the whole screen (QScreen.grabWindow(0)), so what falls off a small screen is seen missing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="PNG to write")
    parser.add_argument("--tab", default="Network", help="the tab to show (its title)")
    parser.add_argument("--dock", default="", help="a dock to raise (e.g. Training)")
    parser.add_argument("--train-batches", type=int, default=0, help="train until this step, then stop")
    parser.add_argument("--project", default=None, help="a project, architecture or run folder to open")
    args = parser.parse_args()
    os.environ.setdefault("XDG_CONFIG_HOME", tempfile.mkdtemp(prefix="convscope-shot-"))  # a fresh profile

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from gui.app import configure_application, open_window

    app = QApplication(sys.argv[:1])
    collector = configure_application(app)  # noqa: F841 - kept while the loop runs
    window = open_window(args.project)

    def shoot() -> None:
        QApplication.primaryScreen().grabWindow(0).save(args.out)
        print(f"wrote {args.out} ({window.width()}x{window.height()} window)")
        window.session.stop() if window.session.is_running else None
        QTimer.singleShot(500, app.quit)

    def batch(event) -> None:
        if event.step >= args.train_batches:
            window.session.batch_ended.disconnect(batch)
            window.session.pause()
            QTimer.singleShot(3000, shoot)  # the views draw their last snapshot

    def ready() -> None:
        tabs = window.tabs
        for i in range(tabs.count()):
            if tabs.tabText(i).replace("&", "") == args.tab:
                tabs.setCurrentIndex(i)
        for dock in (window.training_dock, window.inspector_dock):
            if dock.windowTitle() == args.dock:
                dock.raise_()
        if args.train_batches:
            window.session.batch_ended.connect(batch)
            window.training_panel.dataset_changed.connect(lambda *_: window.training_panel.request_train())
            if window.training_panel.dataset is not None:
                window.training_panel.request_train()
        else:
            QTimer.singleShot(2500, shoot)

    window.rooms_ready.connect(lambda: QTimer.singleShot(500, ready))
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
