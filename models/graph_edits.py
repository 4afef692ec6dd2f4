"""Wiring edits of a network drawn by hand: connect and disconnect two layers, insert a layer after another in a
graph, insert a block of wired layers. Each returns the new Architecture or raises WiringRefused saying why."""

from __future__ import annotations

from collections.abc import Sequence

from models import graph
from models.architecture import Architecture
from models.layers import AddSpec, LayerSpec, is_merge


class WiringRefused(ValueError):
    """The edit would make no sense (a cycle, a connection that is already there, a layer left with no input);
    the message says why in the user's terms."""


def _downstream(arch: Architecture, number: int) -> set[int]:
    """The layers that read `number`, directly or not."""
    readers, seen, todo = graph.consumers(arch), set(), [number]
    while todo:
        for reader in readers.get(todo.pop(), ()):
            if reader not in seen:
                seen.add(reader)
                todo.append(reader)
    return seen


def connected(arch: Architecture, source: int, target: int) -> Architecture:
    """Layer `target` (a number, 1-based) also reads `source` (0 = the network's input). A merge gains an input; a
    layer that takes one input gets an add in front of it that joins its old input and `source`."""
    count = len(arch.layers)
    if not 1 <= target <= count or not 0 <= source <= count:
        raise WiringRefused(f"there is no layer {target if not 1 <= target <= count else source}")
    label, to = graph.source_label(source, arch), graph.source_label(target, arch)
    if source == target:
        raise WiringRefused(f"{to} cannot read itself")
    srcs = list(graph.sources(arch))
    if source in srcs[target - 1]:
        raise WiringRefused(f"{to} already reads {label}")
    if source in _downstream(arch, target):
        raise WiringRefused(f"{label} runs after {to} (it reads its output): a connection back would make a "
                            f"cycle")
    if is_merge(arch.layers[target - 1]):
        srcs[target - 1] = (*srcs[target - 1], source)
        return arch.with_layers(arch.layers, graph.compact(srcs))
    # An add joins the two; it goes in the list just before the target, so the numbers from the target on shift.
    layers = list(arch.layers)
    layers.insert(target - 1, AddSpec())
    shift = [tuple(x + 1 if x >= target else x for x in s) for s in srcs]
    shift.insert(target - 1, (*shift[target - 1], source + 1 if source >= target else source))
    shift[target] = (target,)
    return arch.with_layers(layers, graph.compact(shift))


def disconnected(arch: Architecture, source: int, target: int) -> Architecture:
    """Layer `target` no longer reads `source`; refused when that is its only input (delete the layer instead)."""
    srcs = list(graph.sources(arch))
    if not 1 <= target <= len(arch.layers) or source not in srcs[target - 1]:
        raise WiringRefused(f"{graph.source_label(target, arch)} does not read {graph.source_label(source, arch)}")
    left = tuple(s for s in srcs[target - 1] if s != source)
    if not left:
        raise WiringRefused(f"{graph.source_label(target, arch)} would have no input left; connect another "
                            f"layer to it first, or delete it")
    srcs[target - 1] = left
    return arch.with_layers(arch.layers, graph.compact(srcs))


def spliced(arch: Architecture, position: int, spec: LayerSpec) -> Architecture:
    """`spec` inserted at 0-based `position` in a graph, reading the layer before it (number `position`, 0 = the
    input); everything that read that layer reads the new one instead, so the new layer sits on its way out.
    Removing the new layer again (models.graph.removed) gives the same network back."""
    srcs = list(graph.sources(arch))
    before, new = position, position + 1
    rewired = [tuple(new if x == before else (x + 1 if x >= new else x) for x in s) for s in srcs]
    rewired.insert(position, (before,))
    layers = list(arch.layers)
    layers.insert(position, spec)
    return arch.with_layers(layers, graph.compact(rewired))


def with_block(arch: Architecture, position: int, block: Sequence[LayerSpec],
               block_inputs: Sequence[tuple[int, ...]]) -> Architecture:
    """A block of layers inserted at 0-based `position`, wired inside by `block_inputs`: per block layer, the block
    layers it reads, numbered from 1 in the block, 0 = what the block reads (the layer before `position`, or the
    input). Whatever read that layer reads the block's last layer instead (as `spliced` does for one layer)."""
    if len(block) != len(block_inputs) or not block:
        raise ValueError("give one inputs entry per block layer")
    srcs = list(graph.sources(arch))
    size, before = len(block), position
    last = position + size
    rewired = [tuple(last if x == before else (x + size if x > before else x) for x in s) for s in srcs]
    rewired[position:position] = [tuple(before + x for x in ins) for ins in block_inputs]
    layers = list(arch.layers)
    layers[position:position] = list(block)
    return arch.with_layers(layers, graph.compact(rewired))
