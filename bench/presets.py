"""What each preset reaches on the bundled sets, with the window's default settings: the preset table of docs/architecture-files.md.

    .venv/bin/python bench/presets.py                 # every preset on its bundled set(s); saved to bench/results/
    .venv/bin/python bench/presets.py --epochs 2      # shorter, printed only

Each run is the engine's own Trainer (as `main.py train` runs it): Adam 1e-3, batch 64, seed 0, the
dataset's recommended augmentation (`--augment default`, the window's default when the table was measured;
it now starts with none), the bundled 8,000 / 2,000 split, one thread (so the accuracy is
reproducible; seconds depend on the machine and its load).
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from engine.config import TrainConfig  # noqa: E402
from engine.datasets import load_dataset  # noqa: E402
from engine.training.trainer import Trainer  # noqa: E402
from models.presets import load_preset  # noqa: E402
from models.shapes import analyze  # noqa: E402

RUNS = (("lenet5", "mnist"), ("lenet5", "fashion-mnist"), ("keras_mnist", "mnist"), ("all_conv", "mnist"),
        ("fully_conv", "mnist"), ("fashion_vgg", "fashion-mnist"), ("tiny_vgg", "shapes-rgb"))


def run(key: str, dataset: str, epochs: int) -> dict:
    arch = load_preset(key)
    data = load_dataset(dataset)
    # augment="default" as the table was measured (it was the default then); the default is now none
    config = TrainConfig(dataset=dataset, epochs=epochs, threads=1, device="cpu", snapshot_interval=0.0,
                         augment="default")
    start = time.perf_counter()
    trainer = Trainer(arch, data, config)
    result = trainer.fit()
    seconds = time.perf_counter() - start
    last = trainer.history.epochs[-1]
    params = analyze(arch).total_params
    return {"preset": f"{arch.name} (`{key}`)", "dataset": dataset, "params": params, "epochs": result.epochs_completed,
            "val_accuracy": last.val_accuracy, "seconds": seconds}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(1)
    lines = ["| preset | bundled set | parameters | epochs | validation accuracy | seconds (1 thread) |",
             "|---|---|---:|---:|---:|---:|"]
    for key, dataset in RUNS:
        r = run(key, dataset, args.epochs)
        lines.append(f"| {r['preset']} | `{r['dataset']}` | {r['params']:,} | {r['epochs']} | "
                     f"{100 * r['val_accuracy']:.2f}% | {r['seconds']:.0f} |")
        print(lines[-1], flush=True)
    report = "\n".join([f"ConvScope presets on the bundled sets, {datetime.datetime.now():%Y-%m-%d %H:%M}, "
                        f"torch {torch.__version__}", "", *lines, ""])
    print(report)
    if args.epochs == parser.get_default("epochs"):
        out = ROOT / "bench" / "results" / "presets.md"
        out.write_text(report, encoding="utf-8")
        print(f"saved to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
