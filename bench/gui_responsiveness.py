"""GUI responsiveness while training: event-loop stalls, view refresh rates, throughput against the bare loop.

    .venv/bin/python bench/gui_responsiveness.py                  # offscreen; saved to bench/results/
    xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python bench/gui_responsiveness.py --platform xcb

The real window (1600x1000, every live view visible in the Training tab) trains LeNet-5 on the bundled
MNIST through its training child process, with the window's own settings (Adam 1e-3, batch 64, snapshots
every 0.5 s), once per torch thread count the child may use (1 .. cores). Meanwhile a 5 ms precise
QTimer on the GUI thread records how late each tick comes: that lateness is how long the event loop was
stalled (drawing, following the run folder). Throughput on both sides counts training samples over the
time spent in training steps (validation excluded): the child's own figure from its summary.json, and a
bare PyTorch loop with the same batching (seeded randperm + index_select), optimiser and thread count on
the same data, alternated A/B with the window's runs so that machine load hits both.
Also measured: Train-click to first batch (with the warm worker the app keeps, and with a cold child), and
the time from launching `main.py` to the window being on screen, and to its training room (which
imports torch behind the window) being built.
Targets: GUI >= 0.95 of the bare loop at the same threads, p99 stall < 50 ms, max stall < 200 ms, first
batch < 3 s, window on screen < 1.5 s.
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
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
TARGETS = {"p99": 0.050, "max": 0.200, "ratio": 0.95, "first_batch": 3.0, "startup": 1.5}


def bare_loop(arch, data, epochs: int, batch_size: int, threads: int, seed: int = 0) -> float:
    """Samples/s over the training steps alone (validation runs but is not timed, as the Trainer counts)."""
    import torch
    import torch.nn.functional as F

    from engine.network.builder import build_model
    from engine.scoring.evaluation import evaluate

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        torch.manual_seed(seed)
        model = build_model(arch)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        x, y, vx, vy = data.train.images, data.train.labels, data.val.images, data.val.labels
        order = torch.Generator().manual_seed(seed)
        seconds = 0.0
        for _ in range(epochs):
            model.train()
            start = time.perf_counter()
            for idx in torch.randperm(len(y), generator=order).split(batch_size):
                loss = F.cross_entropy(model.logits(x.index_select(0, idx)), y.index_select(0, idx))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            seconds += time.perf_counter() - start
            evaluate(model, vx, vy, data.num_classes)
        return len(y) * epochs / seconds
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
        self.dump_to = None  # a file: when a tick is dump_after_s late, faulthandler writes every thread's stack there
        self.dump_after_s = 0.15

    def start(self) -> None:
        self.lateness.clear()
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        if self.dump_to is not None:
            import faulthandler

            faulthandler.cancel_dump_traceback_later()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.lateness.append(max(0.0, now - self._last - TICK_MS / 1000))
        self._last = now
        if self.dump_to is not None:  # re-armed every tick: it fires only when the GUI thread misses ticks that long
            import faulthandler  # its watchdog is a C thread: it dumps without the GIL the stalled thread holds

            faulthandler.dump_traceback_later(self.dump_after_s, file=self.dump_to)


class StallStacks:
    """Diagnostics (--stall-stacks MS): a watcher thread that, while the GUI thread is `threshold_s` late on the
    meter's ticks, samples the GUI thread's stack (sys._current_frames) every few ms, so a report can say
    where the time of a long stall went (the innermost frames of ConvScope's own code, counted by sample)."""

    def __init__(self, meter: StallMeter, threshold_s: float) -> None:
        import threading

        self._meter, self._threshold = meter, threshold_s
        self._done = threading.Event()
        self._gui = threading.main_thread().ident
        self.stalls: list[list[str]] = []  # per stall: one 'file:line function' string per sample (own code only)
        self._thread = threading.Thread(target=self._watch, name="bench stall stacks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        import traceback

        stalled_since = None
        while not self._done.wait(0.005):
            late = time.perf_counter() - self._meter._last - TICK_MS / 1000
            if late < self._threshold:
                stalled_since = None
                continue
            if stalled_since is None:
                stalled_since = self._meter._last
                self.stalls.append([])
            frame = sys._current_frames().get(self._gui)
            stack = traceback.extract_stack(frame) if frame is not None else []
            own = [f for f in stack if str(ROOT) in f.filename and "/.venv/" not in f.filename
                   and "bench/" not in f.filename]
            where = " <- ".join(f"{Path(f.filename).relative_to(ROOT)}:{f.lineno} {f.name}" for f in reversed(own[-3:]))
            inner = stack[-1] if stack and (not own or stack[-1] is not own[-1]) else None
            library = f"[{Path(inner.filename).name}:{inner.lineno} {inner.name}] " if inner is not None else ""
            self.stalls[-1].append(f"{library}{where or '(no own frame: Qt drawing or the event loop)'}")

    def report(self) -> list[str]:
        from collections import Counter

        lines = []
        for i, samples in enumerate(self.stalls):
            lines.append(f"stall {i + 1}: {len(samples)} samples (~{5 * len(samples)} ms)")
            lines += [f"  {n:4d} x {where}" for where, n in Counter(samples).most_common(4)]
        return lines


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))] if ordered else math.nan


def gui_run(window, epochs: int, meter: StallMeter, panel, config) -> dict:
    """One training run in the window with `config`; returns throughput, stalls and per-view redraw rates."""
    panel.set_config(config)
    from PySide6.QtCore import QEventLoop

    live, session, panel = window.live_views, window.session, window.training_panel
    views = {"curves": live.curves, "filters": live.filters, "activations": live.activations,
             "probabilities": live.probabilities}
    loop = QEventLoop()
    marks: dict = {"rate": 0.0}

    def on_first_batch(_event) -> None:
        marks.setdefault("first_batch", time.perf_counter() - marks["click"])

    def on_started() -> None:
        marks["folder"] = session.run_folder
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
    session.batch_ended.connect(on_first_batch)
    marks["click"] = time.perf_counter()
    window.train_action.trigger()
    loop.exec()
    session.started.disconnect(on_started)
    session.finished.disconnect(on_finished)
    session.batch_ended.disconnect(on_first_batch)
    seconds = marks["t1"] - marks["t0"]
    summary = json.loads((marks["folder"] / "summary.json").read_text())
    return {"seconds": seconds, "samples_per_second": summary["samples_per_second"],
            "threads": summary.get("threads"), "first_batch": marks["first_batch"],
            "trainer_rate": marks["rate"], "gui_cpu": (marks["cpu1"] - marks["cpu0"]) / seconds,
            "result": marks["result"], "lateness": list(meter.lateness),
            "refresh": {k: (v.redraw_count - marks["redraws"][k]) / seconds for k, v in views.items()}}


STARTUP_SCRIPT = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from gui.app import configure_application, open_window
app = QApplication(sys.argv[:1])
collector = configure_application(app)  # kept: garbage collection on the GUI thread
window = open_window()
QTimer.singleShot(0, lambda: print("shown", flush=True))  # after the first paint is queued
window.rooms_ready.connect(lambda: QTimer.singleShot(0, lambda: (print("rooms", flush=True), app.quit())))
app.exec()
"""


def startup_seconds(platform: str, repeats: int = 3) -> tuple[float, float]:
    """Median seconds from launching a fresh interpreter (as run_app starts) to the window on screen, and to
    its training room built (torch imported behind the window)."""
    env = {**os.environ, "QT_QPA_PLATFORM": platform, "PYTHONPATH": str(ROOT)}
    shown, rooms = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", STARTUP_SCRIPT], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, cwd=ROOT)
        proc.stdout.readline()
        shown.append(time.perf_counter() - start)
        proc.stdout.readline()
        rooms.append(time.perf_counter() - start)
        proc.wait()
    return statistics.median(shown), statistics.median(rooms)


def write_synthetic_log(folder: Path, hours: float, cadence_s: float, snapshot_s: float) -> int:
    """A finished run's log of `hours` at one batch line per `cadence_s` and a LeNet-5 snapshot per
    `snapshot_s`, written by the engine's own RunLogFile (the lines and sidecars RunWriter writes, thinned by
    its TimelineStore). Returns the number of lines."""
    import dataclasses

    import torch

    from engine.events import BatchEnded, EpochEnded
    from engine.network.builder import build_model
    from engine.run_folder.log_file import RunLogFile, started_record
    from models import architecture_file
    from models.presets import load_preset

    arch = load_preset("lenet5")
    state = {k: v.detach().clone() for k, v in build_model(arch).state_dict().items()}
    log = RunLogFile(folder)
    log.begin(started_record(architecture=architecture_file.to_dict(arch), settings={}))
    steps, per_snapshot, per_epoch = int(hours * 3600 / cadence_s), max(1, round(snapshot_s / cadence_s)), 750
    generator = torch.Generator().manual_seed(0)
    lines = 1
    for step in range(1, steps + 1):
        epoch, batch = (step - 1) // per_epoch + 1, (step - 1) % per_epoch + 1
        log.write({"kind": "batch", **dataclasses.asdict(BatchEnded(epoch, step, batch, per_epoch, 1 / step ** 0.3,
                                                                    0.9, 15_000.0, 1e-3))})
        lines += 1
        if step % per_snapshot == 0:
            for tensor in state.values():
                tensor.add_(torch.randn(tensor.shape, generator=generator) * 1e-3)
            norms = {f"layer {i} (conv2d)": 0.1 / step ** 0.5 for i in (1, 4)}
            log.write_snapshot(step, epoch, state, probe_index=0, gradient_norms=norms)
            lines += 1
        if batch == per_epoch:
            log.write({"kind": "epoch", **dataclasses.asdict(EpochEnded(epoch, step, 0.3, 0.9, 0.3, 0.9))})
            lines += 1
    log.write({"kind": "finished", "reason": "completed", "message": "synthetic", "epochs_completed":
               (steps - 1) // per_epoch + 1, "step": steps, "summary": None})
    log.close()
    return lines


def replay_case(window, meter: StallMeter, hours: float, replay_s: float, stacks_ms: float = 0) -> list[str]:
    """A synthetic run of `hours` (50 ms batch lines, a snapshot every 10 s) replayed into a folder the window
    attaches to, `replay_s` seconds from first line to last, with the Timeline tab on screen: the stalls of the
    GUI thread in the first and the last tenth of the replay (a stall growing with the log would show there)."""
    import shutil
    import threading

    from PySide6.QtCore import QEventLoop

    from engine.run_folder import EVENTS, SNAPSHOTS

    source, target = Path(tempfile.mkdtemp()), Path(tempfile.mkdtemp())
    written = time.perf_counter()
    count = write_synthetic_log(source, hours, 0.05, 10.0)
    written = time.perf_counter() - written
    shutil.copytree(source / SNAPSHOTS, target / SNAPSHOTS)
    data = (source / EVENTS).read_bytes().splitlines(keepends=True)
    (target / EVENTS).write_bytes(data[0])  # the started line: the window attaches to a run that has begun
    window.tabs.setCurrentWidget(window.timeline)
    session, loop = window.session, QEventLoop()
    session.finished.connect(lambda _result: loop.quit())
    window.session.attach(target, window.network.architecture)

    def replay() -> None:
        start, rest = time.perf_counter(), data[1:]
        with open(target / EVENTS, "ab") as log:
            for i, line in enumerate(rest):
                log.write(line)
                if i % 200 == 0:
                    log.flush()
                    time.sleep(max(0.0, start + replay_s * i / len(rest) - time.perf_counter()))

    dump = tempfile.TemporaryFile("w+") if stacks_ms else None
    meter.dump_to, meter.dump_after_s = dump, max(stacks_ms, 100) / 1000
    meter.start()
    stacks = StallStacks(meter, stacks_ms / 1000) if stacks_ms else None
    if stacks:
        stacks.start()
    thread = threading.Thread(target=replay, name="bench replay")
    thread.start()
    loop.exec()
    meter.stop()
    if stacks:
        stacks.stop()
    thread.join()
    every = meter.lateness or [0.0]  # 5 ms ticks come evenly: a tenth of them is a tenth of the time
    first, last = every[:max(1, len(every) // 10)], every[-max(1, len(every) // 10):]
    entries = len(window.timeline.entries)
    shutil.rmtree(source, ignore_errors=True)
    shutil.rmtree(target, ignore_errors=True)
    return [f"replay: {hours:g} h synthetic run ({count:,} lines, {sum(map(len, data)) / 1e6:.1f} MB, "
            f"written in {written:.0f} s) replayed in {replay_s:g} s to the window's follower and Timeline "
            f"(on screen; {entries} snapshots on its slider at the end)",
            f"{'replay stall, p99 / max (all)':44}{1000 * percentile(every, 0.99):>8.1f} / {1000 * max(every):.1f} ms",
            f"{'replay stall, p99 / max (first tenth)':44}{1000 * percentile(first, 0.99):>8.1f} / "
            f"{1000 * max(first):.1f} ms",
            f"{'replay stall, p99 / max (last tenth)':44}{1000 * percentile(last, 0.99):>8.1f} / "
            f"{1000 * max(last):.1f} ms", *(stacks.report() if stacks else []), *gui_thread_dumps(dump), ""]


def gui_thread_dumps(dump) -> list[str]:
    """The GUI thread's stacks faulthandler wrote at each long stall (--stall-stacks), innermost frames first."""
    if dump is None:
        return []
    dump.seek(0)
    lines = []
    for section in dump.read().split("\n\n"):
        if "replay_case" in section:  # the GUI thread: it runs the event loop inside replay_case
            lines.append("GUI thread at a long stall (innermost first):")
            lines += [line for line in section.splitlines()[1:] if "/.venv/" not in line or "pyqtgraph" in line][:14]
    dump.close()
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--platform", default="offscreen", help="Qt platform plugin (offscreen, or xcb under Xvfb)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per run (default 2)")
    parser.add_argument("--repeats", type=int, default=2, help="A/B pairs per thread count (default 2)")
    parser.add_argument("--no-save", action="store_true", help="print only")
    parser.add_argument("--replay", type=float, metavar="HOURS",
                        help="only the replay case: a synthetic run of HOURS (1 for an hour) followed by the window")
    parser.add_argument("--stall-stacks", type=float, default=0, metavar="MS",
                        help="replay case: sample the GUI thread's stack during each stall longer than MS")
    parser.add_argument("--replay-seconds", type=float, default=120.0, help="how long the replay takes (default 120)")
    args = parser.parse_args()
    os.environ["QT_QPA_PLATFORM"] = args.platform
    if args.replay:
        return replay_main(args)
    startup, rooms = startup_seconds(args.platform)

    import torch
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from engine.training.device import choose_threads, usable_cores
    from gui.app import configure_application
    from gui.document.document_io import DISCARD
    from gui.main_window import MainWindow

    app = QApplication(sys.argv[:1])
    collector = configure_application(app)  # kept: garbage collection on the GUI thread
    scratch = Path(tempfile.mkdtemp())
    os.environ.setdefault("CONVSCOPE_RUNS_DIR", str(scratch / "runs"))  # never the user's cache
    window = MainWindow(settings=QSettings(str(scratch / "settings.ini"), QSettings.Format.IniFormat))
    collector.set_aside_what_lives_now()  # as run_app does once the rooms are built: measure the app as it runs
    window.load_preset("lenet5")
    window.document.ask_unsaved_changes = lambda: DISCARD  # closing must not wait on a dialog
    window.training.ask_continue_training = lambda: "fresh"
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
    arch, data = window.network.architecture, panel.dataset
    cores = usable_cores()
    automatic = choose_threads(0)  # what the window's child picks when the settings say 0

    lines = [f"ConvScope GUI responsiveness benchmark, {datetime.datetime.now():%Y-%m-%d %H:%M}",
             f"torch {torch.__version__}, {cores} usable core(s), Qt platform {args.platform}, load average "
             f"before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}",
             f"LeNet-5, bundled MNIST {len(data.train)}/{len(data.val)}, Adam 1e-3, batch 64, {args.epochs} "
             f"epoch(s) per run, {args.repeats} A/B pair(s) per thread count; window 1600x1000 on the Training "
             f"tab, snapshots every {config.snapshot_interval} s; the child's automatic choice: {automatic} "
             f"thread(s)", ""]
    print("\n".join(lines), flush=True)
    cold = gui_run(window, 1, meter, panel, config.replace(epochs=1))["first_batch"]  # no worker waiting yet
    window.session.prestart()
    bare: dict[int, list[float]] = {}
    runs: dict[int, list[dict]] = {}
    for threads in range(1, cores + 1):
        for r in range(args.repeats):
            bare.setdefault(threads, []).append(bare_loop(arch, data, args.epochs, 64, threads))
            run = gui_run(window, args.epochs, meter, panel, config.replace(threads=threads))
            runs.setdefault(threads, []).append(run)
            print(f"  {threads} thread(s), pair {r + 1}: bare {bare[threads][-1]:8,.0f}  GUI "
                  f"{run['samples_per_second']:8,.0f} samples/s ({run['result'].reason}); GUI thread busy "
                  f"{run['gui_cpu']:.0%}; first batch {run['first_batch']:.2f} s; max stall "
                  f"{1000 * max(run['lateness']):.1f} ms", flush=True)
    window.close()

    lateness = [v for rs in runs.values() for r in rs for v in r["lateness"]]
    p50, p99, worst = percentile(lateness, 0.5), percentile(lateness, 0.99), max(lateness)
    bare_median = {t: statistics.median(v) for t, v in bare.items()}
    gui_median = {t: statistics.median(r["samples_per_second"] for r in rs) for t, rs in runs.items()}
    best_bare_threads = max(bare_median, key=bare_median.get)
    best_gui_threads = max(gui_median, key=gui_median.get)
    same = gui_median[automatic] / bare_median[automatic]
    best = gui_median[best_gui_threads] / bare_median[best_bare_threads]
    warm = statistics.median(r["first_batch"] for rs in runs.values() for r in rs)
    refresh = {k: statistics.median(r["refresh"][k] for rs in runs.values() for r in rs)
               for k in runs[1][0]["refresh"]}

    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    table = [f"{'measure':44}{'value':>14}{'target':>12}{'':>8}",
             f"{'GUI event loop stall, median':44}{1000 * p50:>11.1f} ms{'':>12}",
             f"{'GUI event loop stall, p99':44}{1000 * p99:>11.1f} ms{'< 50 ms':>12}"
             f"{verdict(p99 < TARGETS['p99']):>8}",
             f"{'GUI event loop stall, max':44}{1000 * worst:>11.1f} ms{'< 200 ms':>12}"
             f"{verdict(worst < TARGETS['max']):>8}",
             f"{'  (5 ms ticks measured)':44}{len(lateness):>14,}",
             f"{'stall, first showing of the Training tab':44}{1000 * first_show:>11.1f} ms{'once, idle':>12}",
             *[f"{'view refresh, ' + name:44}{hz:>11.1f} Hz" for name, hz in refresh.items()],
             *[f"{f'bare loop, {t} thread(s) (median)':44}{v:>7,.0f} samples/s" for t, v in bare_median.items()],
             *[f"{f'window child, {t} thread(s) (median)':44}{v:>7,.0f} samples/s" for t, v in gui_median.items()],
             f"{'ratio GUI / bare, same threads':44}{same:>14.3f}{'>= 0.95':>12}{verdict(same >= TARGETS['ratio']):>8}",
             f"{'ratio GUI / best bare':44}{best:>14.3f}",
             f"{'Train click to first batch, warm worker':44}{warm:>12.2f} s{'< 3 s':>12}"
             f"{verdict(warm < TARGETS['first_batch']):>8}",
             f"{'Train click to first batch, cold child':44}{cold:>12.2f} s",
             f"{'launch to window shown (median of 3)':44}{startup:>12.2f} s{'< 1.5 s':>12}"
             f"{verdict(startup < TARGETS['startup']):>8}",
             f"{'launch to training room built (median of 3)':44}{rooms:>12.2f} s", ""]
    print("\n".join(table), flush=True)
    if not args.no_save:
        out = ROOT / "bench" / "results" / "gui_responsiveness.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(lines + table) + "\n", encoding="utf-8")
        print(f"saved to {out.relative_to(ROOT)}")
    return 0


def replay_main(args: argparse.Namespace) -> int:
    """The replay case on its own (the training runs above take many minutes)."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from gui.app import configure_application
    from gui.document.document_io import DISCARD
    from gui.main_window import MainWindow

    app = QApplication(sys.argv[:1])
    collector = configure_application(app)  # kept: garbage collection on the GUI thread
    scratch = Path(tempfile.mkdtemp())
    window = MainWindow(settings=QSettings(str(scratch / "settings.ini"), QSettings.Format.IniFormat))
    collector.set_aside_what_lives_now()  # as run_app does once the rooms are built: measure the app as it runs
    window.load_preset("lenet5")
    window.document.ask_unsaved_changes = lambda: DISCARD
    window.resize(1600, 1000)
    window.show()
    lines = [f"ConvScope GUI responsiveness, replay case, {datetime.datetime.now():%Y-%m-%d %H:%M}, load average "
             f"before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}",
             *replay_case(window, StallMeter(), args.replay, args.replay_seconds, args.stall_stacks)]
    window.close()
    print("\n".join(lines), flush=True)
    if not args.no_save:
        out = ROOT / "bench" / "results" / "gui_responsiveness_replay.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
