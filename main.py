"""ConvScope's composition root: run a CLI command, or with no command open the main window."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from engine.cli import build_parser

    parser = build_parser()
    parser.add_argument("--project", metavar="FILE", help="(window) open this project or architecture file")
    parser.add_argument("--dataset", metavar="NAME_OR_PATH", help="(window) dataset to select at start")
    args = parser.parse_args(argv)
    if getattr(args, "func", None):
        try:
            return args.func(args)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:  # e.g. `summary ... | head -1`: the reader left; say nothing, as cat does
            _silence_stdout()
            return 141  # 128 + SIGPIPE, what a shell reports for a program the pipe stopped
    from gui.app import run_app  # Qt only when a window is wanted

    return run_app(project=args.project, dataset=args.dataset)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot raise BrokenPipeError again."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":
    sys.exit(main())
