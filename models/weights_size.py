"""The most bytes a safetensors weights file for an architecture can need: the README's weights limit.

A project's weights member and a run folder's snapshots are both checked against it, so a stranger's file cannot
make a reader hold more than the network it claims could ever have (docs/reliability.md).
"""

from __future__ import annotations

from models.architecture import Architecture

WEIGHTS_CEILING = 4096 << 20  # bytes: the cap for any weights file, whatever its architecture
WEIGHTS_HEADER = 1 << 20      # bytes: safetensors' JSON header and alignment, beyond the tensors' own bytes


def weights_cap(arch: Architecture) -> int:
    """8 bytes per number (float64 at most) plus the header, at most WEIGHTS_CEILING.

    Parameters come from the shape arithmetic; buffers (batch norm's running statistics and counter) are at most
    as many again plus one per layer. An architecture with errors has no weights, so only a header fits.
    """
    from models.shapes import analyze

    analysis = analyze(arch)
    if not analysis.is_valid:
        return WEIGHTS_HEADER
    numbers = 2 * analysis.total_params + len(arch.layers)
    return min(WEIGHTS_CEILING, 8 * numbers + WEIGHTS_HEADER)
