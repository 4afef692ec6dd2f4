"""torchrun throughput: `main.py train` in 2 gloo ranks against 1 process, and the decision broadcast's cost.

    .venv/bin/python bench/ddp_throughput.py            # 3 repeats of 2 epochs, saved to bench/results/
    .venv/bin/python bench/ddp_throughput.py --quick    # 1 repeat of 1 epoch, printed only

Same command on every side (LeNet-5 preset, bundled MNIST 8,000 / 2,000, Adam 1e-3, global batch 64, seed 0,
--device cpu): one process with 1 and with 2 threads, and `torchrun --standalone --nproc_per_node=2` with the
automatic thread choice (cores // 2 per rank: 1 on 2 cores). Runs alternate so drifting load hits every side; samples/s is
summary.json's (training samples of all ranks over batch-loop time). Then this script runs itself under
torchrun to time the one-integer broadcast rank 0 makes at every batch boundary (a tight loop, ranks lined up
by a barrier first), and sets it against a 2-rank batch.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
ROUNDS = 2000  # decision broadcasts timed


def train(folder: Path, epochs: int, launcher: list[str], threads: int) -> dict:
    out = folder / f"run-{time.monotonic_ns()}"
    command = [*launcher, "main.py", "train", str(ROOT / "resources" / "presets" / "lenet5.json"), "--dataset",
               "mnist", "--epochs", str(epochs), "--batch-size", "64", "--seed", "0", "--device", "cpu", "--threads",
               str(threads), "--out", str(out)]
    done = subprocess.run(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return json.loads((out / "summary.json").read_text())


def probe_broadcast() -> None:
    """Under torchrun: time ROUNDS boundary decisions (rank 0 sends GO, the other follows), as the trainer does."""
    sys.path.insert(0, str(ROOT))
    import torch.distributed as dist

    from engine.training.distributed import join_ranks
    from engine.training.control import TrainingControl

    ranks, control = join_ranks("cpu"), TrainingControl()
    for rounds in (100, ROUNDS):  # the first loop warms the connections up
        dist.barrier()
        start = time.perf_counter()
        for _ in range(rounds):
            ranks.wait_at_boundary(control) if ranks.leads else ranks.follow({})
        seconds = time.perf_counter() - start
    if ranks.leads:
        print(f"DECISION_US {seconds / ROUNDS * 1e6:.1f}", flush=True)
    ranks.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 epoch, 1 repeat; not saved")
    parser.add_argument("--probe-broadcast", action="store_true", help=argparse.SUPPRESS)  # the torchrun half
    args = parser.parse_args()
    if args.probe_broadcast:
        probe_broadcast()
        return 0
    epochs, repeats = (1, 1) if args.quick else (2, 3)
    quick = " (quick)" if args.quick else ""
    lines = [f"ConvScope torchrun benchmark, {datetime.datetime.now():%Y-%m-%d %H:%M}{quick}",
             f"{os.cpu_count()} CPU(s), load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}",
             f"LeNet-5, bundled MNIST 8000/2000, Adam 1e-3, global batch 64, {epochs} epoch(s) x {repeats} "
             f"repeat(s), alternated", ""]
    print("\n".join(lines), flush=True)
    sides = {"1 process, 1 thread": ([sys.executable], 1), "1 process, 2 threads": ([sys.executable], 2),
             "2 ranks (gloo), automatic threads": (TORCHRUN, 0)}
    rates: dict[str, list[float]] = {name: [] for name in sides}
    steps = 0
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(repeats):
            for name, (launcher, threads) in sides.items():
                summary = train(Path(tmp), epochs, launcher, threads)
                rates[name].append(summary["samples_per_second"])
                steps = summary["steps"]
            print(f"  repeat {r + 1}: " + "  ".join(f"{name} {rates[name][-1]:,.0f}" for name in sides), flush=True)
    median = {name: statistics.median(values) for name, values in rates.items()}
    ddp = median["2 ranks (gloo), automatic threads"]
    result = [f"{'':32}{'samples/s (median)':>20}   runs"]
    result += [f"{name:32}{median[name]:>20,.0f}   {' '.join(f'{v:,.0f}' for v in rates[name])}" for name in sides]
    result += [f"ratio 2 ranks / 1 process, 1 thread   {ddp / median['1 process, 1 thread']:.2f}",
               f"ratio 2 ranks / 1 process, 2 threads  {ddp / median['1 process, 2 threads']:.2f}", ""]
    print("\n".join(result), flush=True)
    probe = subprocess.run([*TORCHRUN, str(Path(__file__).resolve()), "--probe-broadcast"], cwd=ROOT,
                           env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    found = [line.split()[1] for line in probe.stdout.splitlines() if line.startswith("DECISION_US ")]
    if not found:
        raise SystemExit(f"the broadcast probe failed ({probe.returncode}):\n{probe.stderr[-2000:]}")
    decision_us = float(found[0])
    batch_us = 64 / ddp * 1e6
    cost = [f"decision broadcast (1 int64, gloo, 2 ranks): {decision_us:,.0f} us per batch boundary, "
            f"{decision_us / batch_us:.1%} of a 2-rank batch ({batch_us:,.0f} us; {steps} steps a run)"]
    print("\n".join(cost), flush=True)
    if not args.quick:
        out = ROOT / "bench" / "results" / "ddp_throughput.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(lines + result + cost) + "\n", encoding="utf-8")
        print(f"\nsaved to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
