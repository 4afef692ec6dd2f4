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
    from gui.app import run_app  # Qt only when a window is wanted

    return run_app(project=args.project, dataset=args.dataset)


if __name__ == "__main__":
    sys.exit(main())
