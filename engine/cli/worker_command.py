"""`train-worker`: a training process started ahead of time, so Train in the window starts in a moment.

Importing torch takes seconds; a worker pays that while the user is still editing. It then reads one
line from standard input, a JSON object {"argv": [...]} holding `train`'s arguments, and runs that
training with --stop-with-parent (the rest of stdin stays open as the parent's lifeline). End of input
before the line means the parent went away without training: the worker exits 0 quietly.
"""

from __future__ import annotations

import argparse
import json
import sys

from engine.cli import EXIT_OK, report_bad_input


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train-worker", help="(for the window) wait for one `train` job on standard input",
                       description='Import the training engine, then read one line {"argv": [...]} of `train` '
                                   "arguments from standard input and run it; stops fast when standard input "
                                   "closes.")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import engine.training.trainer  # noqa: F401 - the slow imports (torch) happen now, before the job arrives
    from engine.cli.training_progress import TrainingProgress  # noqa: F401 - and the rest of `train`'s
    from engine.datasets import load_dataset  # noqa: F401
    from engine.project.run_input import read_run_input  # noqa: F401
    from engine.run_folder import RunFolderWriter  # noqa: F401

    _warm_the_optimiser()

    line = sys.stdin.buffer.readline()
    if not line.strip():
        return EXIT_OK
    try:
        job = json.loads(line)
        argv = job["argv"]
        if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
            raise TypeError("argv must be a list of strings")
    except (ValueError, KeyError, TypeError) as exc:
        return report_bad_input(f'train-worker: expected one line {{"argv": [...]}} on standard input ({exc})')
    from engine.cli import build_parser

    train_args = build_parser().parse_args(["train", *argv, "--stop-with-parent"])
    return train_args.func(train_args)


def _warm_the_optimiser() -> None:
    """torch's first optimiser imports torch._dynamo (about 1.4 s of a 2-core machine's time, profiled with
    cProfile on `train`): build a throwaway one while the worker waits, not after the user clicks Train."""
    import torch

    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)

