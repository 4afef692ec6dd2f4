"""GUI responsiveness while training: event-loop stalls, view refresh rates, throughput against the bare loop.

    .venv/bin/python bench/gui_responsiveness.py                  # offscreen; saved to bench/results/
    xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python bench/gui_responsiveness.py --platform xcb

The real window (1600x1000, every live view visible in the Training tab) trains LeNet-5 on the bundled
MNIST through the TrainingSession bridge, with the window's own settings (Adam 1e-3, batch 64, automatic
thread count, snapshots every 0.5 s). Meanwhile a 5 ms precise QTimer on the GUI thread records how late
each tick comes: that lateness is how long the event loop was stalled (drawing, handling events). The
bare PyTorch loop runs the same batching (seeded randperm + index_select), optimiser, per-epoch validation
and thread count on the same data, alternated A/B with the GUI runs so that machine load hits both.
Targets: p99 stall < 50 ms, max stall < 200 ms, GUI throughput >= 0.9 of the bare loop.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TICK_MS = 5
TARGETS = {"p99": 0.050, "max": 0.200, "ratio": 0.90}


def bare_loop(arch, data, epochs: int, batch_size: int, threads: int, seed: int = 0) -> float:
    """Samples/s of nothing but the training step and a per-epoch validation pass (as the Trainer batches)."""
    import torch
    import torch.nn.functional as F

    from engine.builder import build_model
    from engine.evaluation import evaluate

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        torch.manual_seed(seed)
        model = build_model(arch)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        x, y, vx, vy = data.train.images, data.train.labels, data.val.images, data.val.labels
        order = torch.Generator().manual_seed(seed)
        start = time.perf_counter()
        for _ in range(epochs):
            model.train()
            for idx in torch.randperm(len(y), generator=order).split(batch_size):
                loss = F.cross_entropy(model.logits(x.index_select(0, idx)), y.index_select(0, idx))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            evaluate(model, vx, vy, data.num_classes)
        return len(y) * epochs / (time.perf_counter() - start)
    finally:
        torch.set_num_threads(previous)


class StallMeter:
    """A 5 ms precise timer on the GUI thread; each tick records how late it came (seconds)."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.lateness: list[float] = []
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._last = 0.0

    def start(self) -> None:
        self.lateness.clear()
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.lateness.append(max(0.0, now - self._last - TICK_MS / 1000))
        self._last = now


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))] if ordered else math.nan


def gui_run(window, epochs: int, meter: StallMeter) -> dict:
    """One training run in the window; returns throughput, stalls and per-view redraw rates."""
    from PySide6.QtCore import QEventLoop

    live, session, panel = window.live_views, window.session, window.training_panel
    views = {"curves": live.curves, "filters": live.filters, "activations": live.activations,
             "probabilities": live.probabilities}
    loop = QEventLoop()
    marks: dict = {"rate": 0.0}

    def on_started() -> None:
        marks["t0"] = time.perf_counter()
        marks["redraws"] = {k: v.redraw_count for k, v in views.items()}
        marks["cpu0"] = time.thread_time()
        meter.start()

    def on_finished(result) -> None:
        marks["t1"] = time.perf_counter()
        marks["cpu1"] = time.thread_time()
        meter.stop()
        marks["result"] = result
        loop.quit()

    session.started.connect(on_started)
    session.finished.connect(on_finished)
    session.batch_ended.connect(lambda e: marks.__setitem__("rate", e.samples_per_second))
    window.train_action.trigger()
    loop.exec()
    session.started.disconnect(on_started)
    session.finished.disconnect(on_finished)
    seconds = marks["t1"] - marks["t0"]
    return {"seconds": seconds, "samples_per_second": len(panel.dataset.train) * epochs / seconds,
            "trainer_rate": marks["rate"], "gui_cpu": (marks["cpu1"] - marks["cpu0"]) / seconds,
            "result": marks["result"], "lateness": list(meter.lateness),
            "refresh": {k: (v.redraw_count - marks["redraws"][k]) / seconds for k, v in views.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--platform", default="offscreen", help="Qt platform plugin (offscreen, or xcb under Xvfb)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per run (default 3)")
    parser.add_argument("--repeats", type=int, default=2, help="A/B pairs (default 2)")
    parser.add_argument("--no-save", action="store_true", help="print only")
    args = parser.parse_args()
    os.environ["QT_QPA_PLATFORM"] = args.platform

    import torch
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from engine.device import choose_threads
    from gui.app import configure_application
    from gui.document.document_io import DISCARD
    from gui.main_window import MainWindow
    from models.presets import load_preset

    app = QApplication(sys.argv[:1])
    configure_application(app)
    settings_file = Path(tempfile.mkdtemp()) / "settings.ini"  # never the user's saved layout
    window = MainWindow(settings=QSettings(str(settings_file), QSettings.Format.IniFormat))
    window.load_preset("lenet5")
    window.document.ask_unsaved_changes = lambda: DISCARD  # closing must not wait on a dialog
    window.resize(1600, 1000)
    window.show()
    panel = window.training_panel
    loop = QEventLoop()
    panel.dataset_changed.connect(loop.quit)
    panel.select_dataset("mnist")
    loop.exec()
    config = panel.config().replace(epochs=args.epochs, batch_size=64, learning_rate=1e-3, optimizer="adam",
                                    device="cpu", threads=0)
    panel.set_config(config)
    QTimer.singleShot(300, loop.quit)  # let the first layout and paint settle
    loop.exec()
    # Showing the Training tab for the first time builds every view (the untrained network's maps): measured
    # on its own, then the runs start with all views on screen, as a user who watches them would have it.
    meter = StallMeter()
    meter.start()
    window.tabs.setCurrentWidget(window.live_views)
    QTimer.singleShot(2000, loop.quit)
    loop.exec()
    meter.stop()
    first_show = max(meter.lateness)
    threads = choose_threads(0, alongside_gui=True)
    arch, data = window.network.architecture, panel.dataset

    lines = [f"ConvScope GUI responsiveness benchmark, {datetime.datetime.now():%Y-%m-%d %H:%M}",
             f"torch {torch.__version__}, {os.cpu_count()} CPU(s), Qt platform {args.platform}, load average "
             f"before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}",
             f"LeNet-5, bundled MNIST {len(data.train)}/{len(data.val)}, Adam 1e-3, batch 64, {threads} torch "
             f"thread(s) on both sides, {args.epochs} epoch(s) per run, {args.repeats} A/B pair(s); window "
             f"1600x1000 on the Training tab, snapshots every {config.snapshot_interval} s", ""]
    print("\n".join(lines), flush=True)
    bare, runs = [], []
    for r in range(args.repeats):
        bare.append(bare_loop(arch, data, args.epochs, 64, threads))
        runs.append(gui_run(window, args.epochs, meter))
        run = runs[-1]
        print(f"  pair {r + 1}: bare {bare[-1]:8,.0f}  GUI {run['samples_per_second']:8,.0f} samples/s  "
              f"(trainer's own rate {run['trainer_rate']:,.0f}; {run['result'].reason}); GUI thread busy "
              f"{run['gui_cpu']:.0%}; "
              f"max stall {1000 * max(run['lateness']):.1f} ms", flush=True)
    window.close()

    lateness = [v for run in runs for v in run["lateness"]]
    p50, p99, worst = percentile(lateness, 0.5), percentile(lateness, 0.99), max(lateness)
    b, g = statistics.median(bare), statistics.median(r["samples_per_second"] for r in runs)
    refresh = {k: statistics.median(r["refresh"][k] for r in runs) for k in runs[0]["refresh"]}

    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    table = [f"{'measure':40}{'value':>14}{'target':>12}{'':>8}",
             f"{'GUI event loop stall, median':40}{1000 * p50:>11.1f} ms{'':>12}",
             f"{'GUI event loop stall, p99':40}{1000 * p99:>11.1f} ms{'< 50 ms':>12}"
             f"{verdict(p99 < TARGETS['p99']):>8}",
             f"{'GUI event loop stall, max':40}{1000 * worst:>11.1f} ms{'< 200 ms':>12}"
             f"{verdict(worst < TARGETS['max']):>8}",
             f"{'  (5 ms ticks measured)':40}{len(lateness):>14,}",
             f"{'stall, first showing of the Training tab':40}{1000 * first_show:>11.1f} ms{'once, idle':>12}",
             *[f"{'view refresh, ' + name:40}{hz:>11.1f} Hz" for name, hz in refresh.items()],
             f"{'bare PyTorch loop (median)':40}{b:>7,.0f} samples/s",
             f"{'training in the GUI (median)':40}{g:>7,.0f} samples/s",
             f"{'ratio GUI / bare':40}{g / b:>14.3f}{'>= 0.90':>12}{verdict(g / b >= TARGETS['ratio']):>8}", ""]
    print("\n".join(table), flush=True)
    if not args.no_save:
        out = ROOT / "bench" / "results" / "gui_responsiveness.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        runs_text = [f"pair {i + 1}: bare {bb:,.0f}, GUI {r['samples_per_second']:,.0f} samples/s, max stall "
                     f"{1000 * max(r['lateness']):.1f} ms" for i, (bb, r) in enumerate(zip(bare, runs))]
        out.write_text("\n".join(lines + table + runs_text) + "\n", encoding="utf-8")
        print(f"saved to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
