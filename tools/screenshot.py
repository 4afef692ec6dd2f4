"""Screenshot the real window as a person would see it: `main.py`'s window on a fresh profile, on the screen
it is given (run it under Xvfb with the screen size to check), optionally after some training, on a chosen tab.

    xvfb-run -s "-screen 0 1366x768x24" .venv/bin/python tools/screenshot.py --out shot.png --tab Training \
        --train-batches 300

Training pauses at the step asked for, or runs to its end (`--set epochs=2`; a diverged run ends early too);
`--continue-batches M` then continues the ended run (the window's "Continue training") and pauses M steps on. `--run CODE` runs Python with `window`
in scope just before the picture (select a page, draw on a canvas). The picture is the whole screen
(QScreen.grabWindow(0)), so what falls off a small screen is seen missing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SETTLE_MS = 4000  # the views draw their last snapshot; the health line is checked every 3 s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="PNG to write")
    parser.add_argument("--tab", default="Network", help="the tab to show (its title)")
    parser.add_argument("--dock", default="", help="a dock to raise (e.g. Training)")
    parser.add_argument("--project", default=None, help="a project, architecture or run folder to open")
    parser.add_argument("--dataset", default=None, help="the dataset to select (default: the bundled MNIST)")
    parser.add_argument("--set", action="append", default=[], metavar="SETTING=VALUE",
                        help="a training setting before Train, e.g. --set optimizer=sgd --set learning_rate=5")
    parser.add_argument("--train-batches", type=int, default=0, help="train until this step, then pause")
    parser.add_argument("--continue-batches", type=int, default=0, help="then continue the ended run this many steps")
    parser.add_argument("--after-tab", default="", help="the tab to show once training has paused")
    parser.add_argument("--run", default="", help="Python run with `window` in scope before the picture")
    parser.add_argument("--settle-ms", type=int, default=SETTLE_MS, help="wait this long before the picture")
    args = parser.parse_args()
    os.environ.setdefault("XDG_CONFIG_HOME", tempfile.mkdtemp(prefix="convscope-shot-"))  # a fresh profile

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from gui.app import configure_application, dispose, open_window

    app = QApplication(sys.argv[:1])
    collector = configure_application(app)  # noqa: F841 - kept while the loop runs
    window = open_window(args.project, args.dataset)
    session, panel = None, None
    target = {"step": args.train_batches or 1 << 60, "continued": False, "last": 0}

    def show_tab(title: str) -> None:
        for i in range(window.tabs.count()):
            if window.tabs.tabText(i).replace("&", "") == title:
                window.tabs.setCurrentIndex(i)

    def shoot() -> None:
        QApplication.primaryScreen().grabWindow(0).save(args.out)
        print(f"wrote {args.out} ({window.width()}x{window.height()} window)")
        window.ask_stop_run_to_quit = lambda: True  # the picture is taken: no question at the close
        window.document.ask_unsaved_changes = lambda: "discard"
        QTimer.singleShot(0, window.close)
        QTimer.singleShot(0, app.quit)

    def settle_and_shoot() -> None:
        if args.after_tab:
            show_tab(args.after_tab)
        if args.run:
            exec(args.run, {"window": window})  # the developer's own snippet
        QTimer.singleShot(args.settle_ms, shoot)

    def batch(event) -> None:
        target["last"] = event.step
        if event.step < target["step"]:
            return
        session.batch_ended.disconnect(batch)
        session.finished.disconnect(ended)
        session.pause()
        settle_and_shoot()

    def ended(*_) -> None:
        if args.continue_batches and not target["continued"]:
            target["continued"], target["step"] = True, target["last"] + args.continue_batches
            window.training.ask_continue_training = lambda: "continue"
            QTimer.singleShot(0, panel.request_train)
            return
        session.batch_ended.disconnect(batch)
        session.finished.disconnect(ended)
        settle_and_shoot()

    def ready() -> None:
        nonlocal session, panel
        session, panel = window.session, window.training_panel
        show_tab(args.tab)
        for dock in (window.training_dock, window.inspector_dock):
            if dock.windowTitle() == args.dock:
                dock.raise_()
        if args.set:
            config = panel.config()
            changes = dict(item.split("=", 1) for item in args.set)
            panel.set_config(config.replace(**{k: type(getattr(config, k))(v) for k, v in changes.items()}))
        if not (args.train_batches or args.continue_batches or any(s.startswith("epochs=") for s in args.set)):
            QTimer.singleShot(SETTLE_MS // 2, settle_and_shoot)
            return
        session.batch_ended.connect(batch)
        session.finished.connect(ended)
        if panel.dataset is not None:
            panel.request_train()
        else:
            panel.dataset_changed.connect(lambda *_: panel.request_train())

    window.rooms_ready.connect(lambda: QTimer.singleShot(500, ready))
    code = app.exec()
    dispose(window)
    return code


if __name__ == "__main__":
    sys.exit(main())
