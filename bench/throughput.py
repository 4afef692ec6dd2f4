"""Training throughput: the engine (live snapshots) against a bare PyTorch loop, and the thread-count choice.

    .venv/bin/python bench/throughput.py            # full run (a few minutes), saved to bench/results/
    .venv/bin/python bench/throughput.py --quick    # a short run, printed only

Same model (LeNet-5 preset), data (bundled MNIST, 8,000 train / 2,000 validation), batching (seeded
randperm + index_select), optimiser (Adam 1e-3, batch 64) and thread count on both sides. Runs are
alternated A/B/A/B so that drifting machine load hits both equally; samples/s counts the training
samples over the whole run, validation after each epoch included on both sides.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from engine.network.builder import build_model  # noqa: E402
from engine.config import TrainConfig  # noqa: E402
from engine.datasets import load_dataset  # noqa: E402
from engine.training.trainer import Callback, Trainer  # noqa: E402
from models.presets import load_preset  # noqa: E402

TARGETS = (0.97, 0.98)


def bare_loop(arch, data, epochs: int, threads: int, seed: int = 0, stop_at: float | None = None):
    """The reference: nothing but the training step and a per-epoch validation pass.

    Returns (samples/s, [(seconds since start, val accuracy) per epoch]).
    """
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    model = build_model(arch)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y, vx, vy = data.train.images, data.train.labels, data.val.images, data.val.labels
    order = torch.Generator().manual_seed(seed)
    curve, samples = [], 0
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for idx in torch.randperm(len(y), generator=order).split(64):
            loss = F.cross_entropy(model.logits(x.index_select(0, idx)), y.index_select(0, idx))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            samples += len(idx)
        model.eval()
        with torch.no_grad():
            correct = sum(int((model.logits(vx[i:i + 1000]).argmax(1) == vy[i:i + 1000]).sum())
                          for i in range(0, len(vy), 1000))
        curve.append((time.perf_counter() - start, correct / len(vy)))
        if stop_at is not None and curve[-1][1] >= stop_at:
            break
    return samples / (time.perf_counter() - start), curve


class _LiveViews(Callback):
    """Stands in for the GUI bridge: keeps the latest events, as signal emission would hand them on."""

    def __init__(self, stop_at: float | None = None) -> None:
        self.stop_at, self.trainer, self.curve, self.snapshots, self.start = stop_at, None, [], 0, 0.0
        self.latest = None

    def on_batch_end(self, event):
        self.latest = event

    def on_snapshot(self, event):
        self.snapshots += 1
        self.latest = event

    def on_epoch_end(self, event):
        self.curve.append((time.perf_counter() - self.start, event.val_accuracy))
        if self.stop_at is not None and event.val_accuracy >= self.stop_at:
            self.trainer.control.stop()


def engine_loop(arch, data, epochs: int, threads: int, seed: int = 0, stop_at: float | None = None):
    views = _LiveViews(stop_at)
    config = TrainConfig(epochs=epochs, batch_size=64, learning_rate=1e-3, optimizer="adam", seed=seed,
                         device="cpu", threads=threads)  # snapshot_interval: the default 0.5 s
    trainer = Trainer(arch, data, config, [views])
    views.trainer = trainer
    views.start = time.perf_counter()
    trainer.fit()
    return trainer.samples_seen / (time.perf_counter() - views.start), views.curve, views.snapshots


def _time_to(curve, target: float) -> str:
    hit = next(((t, i) for i, (t, acc) in enumerate(curve, start=1) if acc >= target), None)
    if hit:
        return f"{hit[0]:6.1f} s (epoch {hit[1]})"
    return f"not in {len(curve)} epochs (best {max(a for _, a in curve):.2%})"


def _spinner() -> subprocess.Popen:
    """A process that keeps one core busy, as the GUI drawing or another program would."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def thread_study(arch, data, epochs: int) -> list[str]:
    rows = []
    for busy in (False, True):
        spinner = _spinner() if busy else None
        try:
            time.sleep(0.2 if busy else 0)  # let the spinner get scheduled
            for threads in (1, 2):
                rate, _ = bare_loop(arch, data, epochs, threads)
                rows.append(f"  bare loop, {threads} thread(s), {'one core busy' if busy else 'alone        '}: "
                            f"{rate:8,.0f} samples/s")
        finally:
            if spinner is not None:
                spinner.kill()
                spinner.wait()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 epoch, 1 repeat, short accuracy runs; not saved")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for the A/B runs (default 1)")
    args = parser.parse_args()
    epochs, repeats, curve_epochs = (1, 1, 2) if args.quick else (3, 3, 10)
    arch, data = load_preset("lenet5"), load_dataset("mnist")
    lines = [f"ConvScope throughput benchmark, {datetime.datetime.now():%Y-%m-%d %H:%M}"
             f"{' (quick)' if args.quick else ''}",
             f"torch {torch.__version__}, {os.cpu_count()} CPU(s), load average before: "
             f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}",
             f"LeNet-5, bundled MNIST {len(data.train)}/{len(data.val)}, Adam 1e-3, batch 64, "
             f"{args.threads} thread(s), {epochs} epoch(s) x {repeats} repeat(s), alternated A/B", ""]
    print("\n".join(lines), flush=True)
    bare, engine, snaps = [], [], []
    for r in range(repeats):
        bare.append(bare_loop(arch, data, epochs, args.threads)[0])
        rate, _, count = engine_loop(arch, data, epochs, args.threads)
        engine.append(rate)
        snaps.append(count)
        print(f"  repeat {r + 1}: bare {bare[-1]:8,.0f}  engine {engine[-1]:8,.0f} samples/s "
              f"({count} snapshots)", flush=True)
    b, e = statistics.median(bare), statistics.median(engine)
    result = [f"{'':24}{'samples/s (median)':>20}{'runs':>40}",
              f"{'(a) bare PyTorch loop':24}{b:>20,.0f}{'  ' + ' '.join(f'{v:,.0f}' for v in bare):>40}",
              f"{'(b) engine + snapshots':24}{e:>20,.0f}{'  ' + ' '.join(f'{v:,.0f}' for v in engine):>40}",
              f"ratio engine/bare: {e / b:.3f}  (target >= 0.95)", ""]
    print("\n".join(result), flush=True)
    _, bare_curve = bare_loop(arch, data, curve_epochs, args.threads, stop_at=max(TARGETS))
    _, engine_curve, _ = engine_loop(arch, data, curve_epochs, args.threads, stop_at=max(TARGETS))
    accuracy = [f"time to validation accuracy (at most {curve_epochs} epochs, wall clock incl. validation):"]
    for target in TARGETS:
        accuracy.append(f"  {target:.0%}: bare {_time_to(bare_curve, target)}   "
                        f"engine {_time_to(engine_curve, target)}")
    accuracy.append("")
    print("\n".join(accuracy), flush=True)
    threads = ["threads (bare loop, 1 epoch each):", *thread_study(arch, data, 1)]
    print("\n".join(threads), flush=True)
    if not args.quick:
        out = ROOT / "bench" / "results" / "throughput.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(lines + result + accuracy + threads) + "\n", encoding="utf-8")
        print(f"\nsaved to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
