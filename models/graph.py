"""Which layer feeds which: a network's wiring resolved, checked (dangling inputs, cycles, dead ends) and ordered.

Layers are numbered from 1 as everywhere else ('layer 3'); source 0 is the network's input. A layer whose
entry in `Architecture.inputs` is None reads the previous layer (layer 1: the input), so a chain is the
special case with no wiring at all.
"""

from __future__ import annotations

import heapq

from models.architecture import Architecture

INPUT = 0


def source_label(number: int, arch: Architecture) -> str:
    """'the input' or 'layer 3 (relu)', as messages name a source."""
    if number == INPUT:
        return "the input"
    if 1 <= number <= len(arch.layers):
        return f"layer {number} ({arch.layers[number - 1].TYPE})"
    return f"layer {number}"


def sources(arch: Architecture) -> tuple[tuple[int, ...], ...]:
    """Per layer (in list order) the numbers of the layers it reads; None resolved to the previous layer."""
    return tuple(arch.sources_of(i) if arch.sources_of(i) is not None else (i,) for i in range(len(arch.layers)))


def compact(explicit: "list[tuple[int, ...]] | tuple[tuple[int, ...], ...]") -> tuple:
    """Resolved sources back to the stored form: "the previous layer" becomes None, a chain becomes ()."""
    out = tuple(None if tuple(s) == (n,) else tuple(s) for n, s in enumerate(explicit))
    return () if all(s is None for s in out) else out


def consumers(arch: Architecture) -> dict[int, list[int]]:
    """Source number -> the layers that read it (in list order); only sources that exist are listed."""
    out: dict[int, list[int]] = {n: [] for n in range(len(arch.layers) + 1)}
    for n, srcs in enumerate(sources(arch), start=1):
        for s in srcs:
            if s in out and s != n:
                out[s].append(n)
    return out


def order(arch: Architecture) -> tuple[int, ...]:
    """The layers in an order where each comes after all it reads: list order where the list allows
    (smallest number first), so a chain's order is 1, 2, ... Layers on or after a cycle, or reading a layer
    that does not exist, are left out (`problems` names them)."""
    count = len(arch.layers)
    srcs = sources(arch)
    waiting = [0] * (count + 1)
    for n, s in enumerate(srcs, start=1):
        if any(not 0 <= x <= count or x == n for x in s):
            waiting[n] = -1  # never ready: it reads something that is not there
        else:
            waiting[n] = len(set(s) - {INPUT})
    readers = consumers(arch)
    ready = [n for n in range(1, count + 1) if waiting[n] == 0]
    heapq.heapify(ready)
    out: list[int] = []
    while ready:
        n = heapq.heappop(ready)
        out.append(n)
        for reader in dict.fromkeys(readers[n]):  # a reader naming n twice waits for it once
            if waiting[reader] > 0:
                waiting[reader] -= 1
                if waiting[reader] == 0:
                    heapq.heappush(ready, reader)
    return tuple(out)


def _cycle_through(start: int, srcs: tuple[tuple[int, ...], ...], count: int) -> list[int] | None:
    """A cycle of layer numbers reachable backwards from `start`, in the order data flows, from its lowest, or None.

    A depth-first search with its own stack: a file may hold a thousand layers, deeper than Python's recursion."""
    on_path: dict[int, int] = {start: 0}  # layer -> its place in `path`
    path = [start]
    pending = [iter(srcs[start - 1])]
    done: set[int] = set()
    while pending:
        step = next((s for s in pending[-1] if 1 <= s <= count and s not in done), None)
        if step is None:
            node = path.pop()
            done.add(node)
            del on_path[node]
            pending.pop()
            continue
        if step in on_path:
            flow = list(reversed(path[on_path[step]:]))  # the path runs from reader to source
            low = flow.index(min(flow))
            return flow[low:] + flow[:low]
        on_path[step] = len(path)
        path.append(step)
        pending.append(iter(srcs[step - 1]))
    return None


def problems(arch: Architecture) -> dict[int, str]:
    """Layer number -> what stops it from running and what to change: a source that is not a layer (or is the
    layer itself), or a cycle it is on. Empty when every layer can run (see also `dead_ends`)."""
    count = len(arch.layers)
    srcs = sources(arch)
    found: dict[int, str] = {}
    for n, s in enumerate(srcs, start=1):
        if not s:
            found[n] = "its inputs list is empty; name at least one layer (0 for the network's input)"
        bad = [x for x in s if not 0 <= x <= count or x == n]
        if bad:
            what = "itself" if bad[0] == n else f"layer {bad[0]}, which does not exist"
            found[n] = f"its inputs name {what}; name other layers, 1 to {count} (0 for the network's input)"
    ordered = set(order(arch))
    for n in range(1, count + 1):
        if n in ordered or n in found:
            continue
        cycle = _cycle_through(n, srcs, count)
        if cycle:
            shown = cycle + cycle[:1] if len(cycle) <= 8 else cycle[:6] + ["...", cycle[-1], cycle[0]]
            loop = " -> ".join(x if x == "..." else f"layer {x}" for x in shown)
            for x in cycle:
                found.setdefault(x, f"it is on a cycle ({loop}); a network's layers must not feed back into "
                                    f"themselves: remove one of these inputs")
    return found


def dead_ends(arch: Architecture) -> dict[int, str]:
    """Layer number -> why it is wrong that its output feeds no other layer: the network has one output, the
    last layer. Such a layer still has a shape (the branch is being drawn), but the network is not valid."""
    readers = consumers(arch)
    count = len(arch.layers)
    return {n: (f"its output feeds no other layer, but only the last layer (layer {count}) is the network's "
                f"output; name layer {n} in a later layer's inputs or delete it")
            for n in range(1, count) if not readers[n]}


def inserted(arch: Architecture, position: int) -> tuple:
    """The wiring after a layer is inserted at 0-based `position`: it reads the layer before it, layers that
    read "the previous layer" keep doing so (so the new layer slots into that path), named numbers shift."""
    if not arch.inputs:
        return ()
    new = position + 1
    shifted = [None if s is None else tuple(x + 1 if x >= new else x for x in s) for s in arch.inputs]
    shifted.insert(position, None)
    return tuple(shifted)


def removed(arch: Architecture, position: int) -> tuple:
    """The wiring after the layer at 0-based `position` is removed: whatever read it reads its sources."""
    if not arch.inputs:
        return ()
    gone = position + 1
    srcs = sources(arch)
    out = []
    for n, s in enumerate(srcs, start=1):
        if n == gone:
            continue
        joined: list[int] = []
        for x in s:
            for y in (srcs[gone - 1] if x == gone else (x,)):
                joined.append(y - 1 if y > gone else y)
        out.append(tuple(dict.fromkeys(joined)))
    return compact(out)


def moved(arch: Architecture, source: int, destination: int) -> tuple:
    """The wiring after the layer at 0-based `source` moves to `destination`: every layer keeps reading the
    same layers (renumbered); a layer that read "the previous layer" reads the one it read before the move."""
    if not arch.inputs:
        return ()
    numbers = list(range(1, len(arch.layers) + 1))
    numbers.insert(destination, numbers.pop(source))
    renumber = {old: new for new, old in enumerate(numbers, start=1)}
    renumber[INPUT] = INPUT
    srcs = sources(arch)
    return compact([tuple(renumber.get(x, x) for x in srcs[old - 1]) for old in numbers])
