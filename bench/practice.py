"""Memory and augmentation cost: uint8 storage against float32, and augmentation against none, on LeNet-5.

    .venv/bin/python bench/practice.py            # about two minutes; saved to bench/results/practice.txt
    .venv/bin/python bench/practice.py --quick    # shorter, printed only

1. Peak resident memory of a CIFAR-10-sized set (50,000 x 3 x 32 x 32, random pixels) loaded and trained
   for a few hundred batches, each case in a fresh process: images held as uint8 pixels and normalised per
   batch (now) against the float32 images normalised up front (before); samples/s of the same training.
2. Training throughput of LeNet-5 on the bundled MNIST with --augment none against crop,flip and against
   crop,flip,affine,cutout; runs alternate A/B so drifting machine load hits both alike.
"""

from __future__ import annotations

import argparse
import datetime
import json
import resource
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def memory_case(kind: str, batches: int) -> dict:
    """Run in a child process: build the set one way, train, report peak RSS (MiB) and samples/s."""
    import numpy as np

    from engine.config import TrainConfig
    from engine.datasets import Dataset, Split
    from engine.datasets.assembly import channel_stats, normalised_split
    from engine.datasets.raw import RawImages
    from engine.training.trainer import Trainer
    from models.architecture import Architecture, InputShape
    from models.layers import Conv2dSpec, FlattenSpec, LinearSpec, MaxPool2dSpec, ReluSpec

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (50_000, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, 50_000)
    mean, std = channel_stats(pixels)
    train_raw, val_raw = RawImages(pixels[:45_000], labels[:45_000]), RawImages(pixels[45_000:], labels[45_000:])
    del pixels
    train, val = normalised_split(train_raw, mean, std), normalised_split(val_raw, mean, std)
    del train_raw, val_raw
    if kind == "float32":  # the previous storage: the whole set as normalised float32
        train, val = Split(train.images.contiguous(), train.labels), Split(val.images.contiguous(), val.labels)
    dataset = Dataset("cifar-sized", tuple(str(i) for i in range(10)), train, val, None, mean, std)
    arch = Architecture("small", InputShape(3, 32, 32), (
        Conv2dSpec(out_channels=8, kernel_size=3, padding=1), ReluSpec(), MaxPool2dSpec(kernel_size=4),
        FlattenSpec(), LinearSpec(out_features=10)))
    bs = 64
    # one epoch over the first `batches` batches' worth of images would need a subset: train on all, stop early
    config = TrainConfig(epochs=1, batch_size=bs, device="cpu", threads=2, snapshot_interval=1e9, augment="none")
    trainer = Trainer(arch, dataset, config, log_interval=1.0)

    class Stop:
        def on_batch_end(self, event):
            if event.step >= batches:
                trainer.control.stop()
        on_epoch_end = on_snapshot = on_train_end = lambda self, event: None
    trainer.callbacks.append(Stop())
    trainer.log_interval = 0.0
    trainer.fit()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    stored = sum(s.data.nbytes for s in (train, val)) / 2**20
    return {"kind": kind, "peak_rss_mib": round(peak), "stored_mib": round(stored),
            "samples_per_second": round(trainer.samples_per_second)}


def augment_rates(rounds: int, epochs: int) -> dict[str, list[float]]:
    import torch

    from engine.config import TrainConfig
    from engine.datasets import load_dataset
    from engine.training.trainer import Trainer
    from models.presets import load_preset

    torch.set_num_threads(2)
    data, arch = load_dataset("mnist"), load_preset("lenet5")
    rates: dict[str, list[float]] = {"none": [], "crop,flip": [], "crop,flip,affine,cutout": []}
    for _ in range(rounds):
        for augment in rates:
            config = TrainConfig(epochs=epochs, batch_size=64, device="cpu", threads=2, snapshot_interval=1e9,
                                 augment=augment)
            trainer = Trainer(arch, data, config)
            trainer.fit()
            rates[augment].append(trainer.samples_per_second)
    return rates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--batches", type=int, default=300, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(memory_case(args.case, args.batches)))
        return 0
    batches = 60 if args.quick else 300
    lines = [f"bench/practice.py, {datetime.date.today()}, torch threads 2, CPU"]
    lines.append("1. CIFAR-10-sized set (50,000 x 3 x 32 x 32), a small conv net, batch 64, "
                 f"{batches} batches, each case in its own process:")
    for kind in ("float32", "uint8"):
        out = subprocess.run([sys.executable, __file__, "--case", kind, "--batches", str(batches)],
                             capture_output=True, text=True, check=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        lines.append(f"   {kind:8s} images held: {r['stored_mib']:5d} MiB, peak RSS {r['peak_rss_mib']:5d} MiB, "
                     f"{r['samples_per_second']:7,d} samples/s")
    rounds, epochs = (1, 1) if args.quick else (3, 1)
    rates = augment_rates(rounds, epochs)
    base = statistics.median(rates["none"])
    lines.append(f"2. LeNet-5 on bundled MNIST (8,000 train), Adam, batch 64, {epochs} epoch(s), median of "
                 f"{rounds} alternated run(s):")
    for augment, values in rates.items():
        median = statistics.median(values)
        lines.append(f"   --augment {augment:24s} {median:8,.0f} samples/s ({median / base - 1:+.1%} vs none)")
    text = "\n".join(lines)
    print(text)
    if not args.quick:
        (ROOT / "bench" / "results" / "practice.txt").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
