"""The command-line interface: one module per subcommand, each with `register(subparsers)`.

Subcommand modules import torch lazily inside their `run`, so `--help` and `summary` start fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Subcommand modules under engine/cli/, in --help order.
COMMANDS = ("summary", "train", "evaluate", "explain", "visualize", "export", "import", "download", "convolve",
            "experiment", "health", "fully_convolutional", "worker")

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def report_bad_input(message: object) -> int:
    """Print one `error: ...` line (whitespace folded, so it stays one line) and return EXIT_BAD_INPUT.

    Cleaned and capped as a last guard: the loaders already quote strangers' values short and escaped.
    """
    from models.safe_text import shorten

    print(f"error: {shorten(' '.join(str(message).split()), 2000)}", file=sys.stderr)
    return EXIT_BAD_INPUT


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python main.py",
        description="ConvScope: build CNNs visually, see every layer's arithmetic, and watch them learn. "
                    "With no command, opens the window.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"engine.cli.{name}_command").register(sub)
    return parser
