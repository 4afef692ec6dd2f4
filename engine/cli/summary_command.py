"""`summary ARCH.json`: the textbook table of a network's shapes, parameters, multiply-adds and receptive fields."""

from __future__ import annotations

import argparse
import json

from engine.cli import report_bad_input
from engine.config import EVALUATION_BATCH, TrainConfig

from models import architecture_file, summary_table
from models.memory_estimate import estimate_memory
from models.receptive_field import receptive_fields
from models.shapes import analyze


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("summary", help="print the layer table (shapes, parameters, multiply-adds, receptive "
                                       "fields) of an architecture file",
                       description="Print the textbook table of an architecture: output shape, activation size, "
                                   "parameters, multiply-adds and receptive field per layer, totals, the memory "
                                   "training takes (with Adam, float32), then warnings and errors.")
    p.add_argument("architecture", metavar="ARCH.json", help="an architecture file (docs/architecture-files.md)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--formulas", action="store_true", help="also print each layer's arithmetic (shape, parameters "
                                                           "and receptive field)")
    p.add_argument("--batch-size", type=_batch_size, default=TrainConfig.batch_size, metavar="N",
                   help=f"the batch the memory estimate is for (default {TrainConfig.batch_size}, as train's)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        arch = architecture_file.load(args.architecture)
    except architecture_file.ArchitectureFileError as exc:
        return report_bad_input(exc)
    analysis = analyze(arch)
    fields = receptive_fields(arch, analysis)
    defaults = TrainConfig()  # what `train` uses when not told otherwise
    memory = estimate_memory(analysis, args.batch_size, defaults.optimizer, defaults.momentum,
                             EVALUATION_BATCH) if analysis.is_valid else None
    too_big = _memory_warning(analysis, memory, defaults.replace(batch_size=args.batch_size))
    if args.json:
        print(json.dumps({**summary_table.as_json(analysis, fields), "memory": memory and memory.to_json(),
                          "memory_warning": too_big}, indent=2))
    else:
        print(f"{arch.name}  (input {'x'.join(map(str, arch.input.as_tuple()))})\n")
        print(summary_table.as_text(analysis, fields), end="")
        if memory is not None:
            print(f"memory: {memory.describe()}")
        if too_big:
            print(f"warning: {too_big}; `train` refuses it before allocating anything")
        if args.formulas:
            print()
            for n, la in enumerate(analysis.layers):
                for line in la.formula + fields[n].formula:
                    print(f"{la.label}: {line}")
    return 0 if analysis.is_valid else 1


# Training that takes less fits any machine ConvScope runs on; only a larger estimate is checked against the device
# `train` would use (which needs torch: seconds to import, so the common summary stays quick).
CHECKED_ABOVE = 1 << 30


def _memory_warning(analysis, memory, config: TrainConfig) -> str | None:
    """Why `train` would refuse this network on this machine (the device it picks: a CUDA GPU, else the CPU), or
    None when it fits or its estimate is small."""
    if memory is None or memory.total < CHECKED_ABOVE:
        return None
    import torch

    from engine.training.memory_check import memory_problem

    device = torch.device("cuda", 0) if torch.cuda.is_available() else torch.device("cpu")
    return memory_problem(analysis, config, device)


def _batch_size(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 65536:  # TrainConfig's range
        raise argparse.ArgumentTypeError(f"must be 1 to 65536, not {value}")
    return value
