"""Which torch thread setting holds up on this machine, alone and beside a busy core (issue 26 item 3).

    .venv/bin/python bench/threads.py            # on a quiet machine; saved to bench/results/threads.txt

Each setting trains LeNet-5 on the bundled MNIST with the bare PyTorch loop of bench/gui_responsiveness.py
(Adam, batch 64) in a fresh interpreter, because OMP_WAIT_POLICY is read when torch loads: once with the
machine otherwise idle, once while another process keeps one core busy (a pure-Python loop, as a GUI drawing
or a second program would). Settings and conditions alternate, each measured `--repeats` times; the table
gives the median samples/s. A default should lose little alone and not collapse beside the busy core.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = {  # name -> (threads, extra environment)
    "1 thread": (1, {}),
    "2 threads": (2, {}),
    "2 threads, OMP_WAIT_POLICY=PASSIVE": (2, {"OMP_WAIT_POLICY": "PASSIVE"}),
    "2 threads, 1 interop thread": (2, {"CONVSCOPE_BENCH_INTEROP": "1"}),
}
BUSY = "while True: pass\n"


def measure(threads: int, epochs: int) -> float:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    import torch

    if os.environ.get("CONVSCOPE_BENCH_INTEROP"):
        torch.set_num_interop_threads(int(os.environ["CONVSCOPE_BENCH_INTEROP"]))
    from engine.datasets import load_dataset
    from gui_responsiveness import bare_loop
    from models.presets import load_preset

    return bare_loop(load_preset("lenet5"), load_dataset("mnist"), epochs, 64, threads)


def run_one(name: str, busy: bool, epochs: int) -> float:
    threads, extra = SETTINGS[name]
    env = {**os.environ, **extra}
    burner = subprocess.Popen([sys.executable, "-c", BUSY]) if busy else None
    try:
        out = subprocess.run([sys.executable, __file__, "--worker", str(threads), "--epochs", str(epochs)],
                             env=env, capture_output=True, text=True, check=True)
    finally:
        if burner is not None:
            burner.kill()
            burner.wait()
    return json.loads(out.stdout.strip().splitlines()[-1])["samples_per_second"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--worker", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps({"samples_per_second": measure(args.worker, args.epochs)}))
        return 0
    load = os.getloadavg()
    results: dict[tuple[str, bool], list[float]] = {}
    for _ in range(args.repeats):
        for name in SETTINGS:
            for busy in (False, True):
                results.setdefault((name, busy), []).append(run_one(name, busy, args.epochs))
    lines = [f"ConvScope thread settings, {datetime.datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} cores, "
             f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
             f"LeNet-5 on the bundled MNIST, bare PyTorch loop, batch 64, {args.epochs} epoch(s), median of "
             f"{args.repeats}", "",
             f"{'setting':<38}{'alone':>12}{'core busy':>12}{'busy/alone':>12}"]
    for name in SETTINGS:
        alone = statistics.median(results[(name, False)])
        busy = statistics.median(results[(name, True)])
        lines.append(f"{name:<38}{alone:>12,.0f}{busy:>12,.0f}{busy / alone:>12.2f}")
    text = "\n".join(lines)
    print(text)
    out = ROOT / "bench" / "results" / "threads.txt"
    out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
