"""The Timeline's jobs for its TaskRunners: a run folder's log read into a TimelineIndex, snapshots read and binned.

Both run off the GUI thread and get only values (a folder, entries, an earlier cache to reuse), never a widget.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch

from engine.inspection.timeline_histograms import LayerDistribution, distributions
from engine.run_folder import EVENTS, EventTail, RunFolderError
from engine.run_folder.timeline import TimelineEntry, load_timeline_weights
from engine.run_folder.timeline_index import TimelineIndex


@dataclass(frozen=True)
class OpenedFolder:
    """A run folder's log read to its end: the tail (to follow it further from there) and the index built."""

    folder: Path
    tail: EventTail
    index: TimelineIndex


def read_folder(folder: Path) -> OpenedFolder:
    """The whole log as it is now, chunk by chunk (EventTail: one chunk's lines held at a time); RunFolderError
    when it cannot be read or is not a run log."""
    tail, index = EventTail(folder / EVENTS), TimelineIndex()
    for records in tail.chunks():
        index.add(records)
    return OpenedFolder(folder, tail, index)


@dataclass(frozen=True)
class LoadedSnapshots:
    """The entries whose files could be read (a live run may thin one away meanwhile), their weights by file,
    and each tensor's step x bin distribution over them (rows in the entries' order)."""

    folder: Path
    entries: list[TimelineEntry]
    states: dict[str, dict[str, torch.Tensor]]
    distributions: dict[str, LayerDistribution]
    seconds: float = 0.0  # what the job took (the tab waits as long before the next, so binning never hogs a core)


def load_snapshots(folder: Path, entries: list[TimelineEntry], cached: dict[str, dict[str, torch.Tensor]]
                   ) -> LoadedSnapshots:
    """Read the snapshots not in `cached` (each file is read once per run), then bin every tensor."""
    start = time.perf_counter()
    states: dict[str, dict[str, torch.Tensor]] = {}
    for entry in entries:
        state = cached.get(entry.file)
        if state is None:
            try:
                state = load_timeline_weights(folder, entry)
            except RunFolderError:
                continue  # thinned away since the listing: the next lines drop it from the index too
            # A recorded snapshot's extras ("activation/...", "filters/...", "probe/..."; torch names hold no "/")
            # are not the model's weights: not binned, and not held for every snapshot.
            state = {name: t for name, t in state.items() if "/" not in name}
        states[entry.file] = state
    kept = [e for e in entries if e.file in states]
    binned = distributions([e.step for e in kept], [states[e.file] for e in kept])
    return LoadedSnapshots(folder, kept, states, binned, time.perf_counter() - start)
