"""`summary ARCH.json`: the textbook table of a network's shapes, parameters and multiply-adds."""

from __future__ import annotations

import argparse
import json

from engine.cli import report_bad_input

from models import architecture_file, summary_table
from models.shapes import analyze


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("summary", help="print the layer table (shapes, parameters, multiply-adds) of an "
                                       "architecture file",
                       description="Print the textbook table of an architecture: output shape, activation size, "
                                   "parameters and multiply-adds per layer, totals, then warnings and errors.")
    p.add_argument("architecture", metavar="ARCH.json", help="an architecture file (see README)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--formulas", action="store_true", help="also print each layer's arithmetic")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        arch = architecture_file.load(args.architecture)
    except architecture_file.ArchitectureFileError as exc:
        return report_bad_input(exc)
    analysis = analyze(arch)
    if args.json:
        print(json.dumps(summary_table.as_json(analysis), indent=2))
    else:
        print(f"{arch.name}  (input {'x'.join(map(str, arch.input.as_tuple()))})\n")
        print(summary_table.as_text(analysis), end="")
        if args.formulas:
            print()
            for la in analysis.layers:
                for line in la.formula:
                    print(f"{la.label}: {line}")
    return 0 if analysis.is_valid else 1
