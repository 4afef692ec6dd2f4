"""`download mnist|fashion-mnist|cifar10`: fetch a full public dataset into the cache, with a progress bar."""

from __future__ import annotations

import argparse
import sys

from engine.cli import EXIT_OK, report_bad_input

NAMES = ("mnist", "fashion-mnist", "cifar10")  # engine.datasets.catalog.REMOTE_SETS, listed here for fast --help


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("download", help="download a full public dataset (MNIST, Fashion-MNIST, CIFAR-10)",
                       description="Download a full public dataset into the cache, checking each file's size and "
                                   "SHA-256. An interrupted download resumes when run again. Afterwards train "
                                   "with --dataset mnist-full, fashion-mnist-full or cifar10.")
    p.add_argument("name", choices=NAMES)
    p.add_argument("--cache-dir", metavar="DIR",
                   help="where datasets are kept (default: $CONVSCOPE_DATA or ~/.cache/convscope/datasets)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from engine.cli.progress_bar import ProgressBar
    from engine.datasets import DatasetError, download
    from engine.datasets.catalog import remote_spec

    bar = ProgressBar(sys.stderr)
    current = {"file": None}

    def _on_progress(done: int, total: int, filename: str) -> None:
        if current["file"] not in (None, filename):
            bar.finish(total, total, current["file"])
        current["file"] = filename
        bar.update(done, total, f"{filename}  {done / 1e6:.1f} / {total / 1e6:.1f} MB", force=done >= total)

    cache_dir = Path(args.cache_dir).expanduser() if args.cache_dir else None
    try:
        folder = download(args.name, cache_dir, progress=_on_progress)
    except (DatasetError, OSError) as exc:  # DownloadError is a DatasetError
        bar.clear()
        return report_bad_input(exc)
    bar.clear()
    print(f"{args.name} is in {folder}; train with --dataset {remote_spec(args.name).local_name}")
    return EXIT_OK
