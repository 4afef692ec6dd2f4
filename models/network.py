"""The editable network document: an Architecture plus a selection, emitting events when either changes."""

from __future__ import annotations

from models import graph, graph_edits
from models.architecture import Architecture, InputShape
from models.events import Event
from models.layers import LayerSpec
from models.shapes import Analysis, analyze


class Network:
    """Every edit replaces the frozen Architecture, so `architecture` can be handed to a worker thread as is.

    In a graph, inserting, removing and moving a layer keep the wiring (models.graph.inserted / removed / moved).
    Wiring edits (connect, disconnect, splice, insert_block) raise models.graph_edits.WiringRefused, changing
    nothing, when the edit makes no sense.

    `changed` carries the new Architecture; `selection_changed` the selected layer index (0-based) or None.
    """

    def __init__(self, architecture: Architecture | None = None) -> None:
        self.changed: Event[Architecture] = Event()
        self.selection_changed: Event[int | None] = Event()
        self._arch = architecture or Architecture()
        self._analysis: Analysis | None = None
        self._selected: int | None = None

    @property
    def architecture(self) -> Architecture:
        return self._arch

    @property
    def layers(self) -> tuple[LayerSpec, ...]:
        return self._arch.layers

    @property
    def analysis(self) -> Analysis:
        if self._analysis is None:  # cached: views ask for it many times per edit
            self._analysis = analyze(self._arch)
        return self._analysis

    @property
    def selected(self) -> int | None:
        return self._selected

    def __len__(self) -> int:
        return len(self._arch.layers)

    def _set(self, arch: Architecture, selected: int | None = None) -> None:
        self._arch, self._analysis = arch, None
        self.changed.emit(arch)
        if selected is not None or (self._selected is not None and self._selected >= len(arch.layers)):
            self.select(selected)

    def _check_index(self, index: int, allow_end: bool = False) -> None:
        if not 0 <= index < len(self) + (1 if allow_end else 0):
            raise IndexError(f"layer index {index} is out of range 0..{len(self) - (0 if allow_end else 1)}")

    def set_architecture(self, arch: Architecture) -> None:
        self._selected = None
        self._set(arch)
        self.selection_changed.emit(None)

    def set_input(self, shape: InputShape) -> None:
        self._set(Architecture(self._arch.name, shape, self._arch.layers, self._arch.inputs))

    def insert(self, index: int, spec: LayerSpec) -> None:
        self._check_index(index, allow_end=True)
        layers = list(self.layers)
        layers.insert(index, spec)
        self._set(self._arch.with_layers(layers, graph.inserted(self._arch, index)), selected=index)

    def remove(self, index: int) -> LayerSpec:
        self._check_index(index)
        layers = list(self.layers)
        spec = layers.pop(index)
        inputs = graph.removed(self._arch, index)
        if self._selected == index:
            self._selected = None
            self.selection_changed.emit(None)
        elif self._selected is not None and self._selected > index:
            self._selected -= 1
        self._set(self._arch.with_layers(layers, inputs))
        return spec

    def move(self, source: int, destination: int) -> None:
        """Move layer `source` so that it ends up at index `destination` (both in the current list)."""
        self._check_index(source)
        self._check_index(destination)
        layers = list(self.layers)
        layers.insert(destination, layers.pop(source))
        self._set(self._arch.with_layers(layers, graph.moved(self._arch, source, destination)), selected=destination)

    def replace(self, index: int, spec: LayerSpec) -> None:
        self._check_index(index)
        layers = list(self.layers)
        layers[index] = spec
        self._set(self._arch.with_layers(layers))

    def connect(self, source: int, target: int) -> None:
        """Layer index `target` also reads layer number `source` (0 = the input); a layer that takes one input
        gets an add in front of it (models.graph_edits.connected). Selects what gained the input (that add)."""
        self._check_index(target)
        arch = graph_edits.connected(self._arch, source, target + 1)
        self._set(arch, selected=target)

    def disconnect(self, source: int, target: int) -> None:
        """Layer index `target` no longer reads layer number `source`."""
        self._check_index(target)
        self._set(graph_edits.disconnected(self._arch, source, target + 1))

    def splice(self, index: int, spec: LayerSpec) -> None:
        """Insert `spec` at `index` on the way out of the layer before it: what read that layer reads the new one
        (in a chain, the same as `insert`); `remove(index)` undoes it exactly."""
        self._check_index(index, allow_end=True)
        self._set(graph_edits.spliced(self._arch, index, spec), selected=index)

    def insert_block(self, index: int, layers: "list[LayerSpec] | tuple[LayerSpec, ...]",
                     inputs: "list[tuple[int, ...]] | tuple[tuple[int, ...], ...]") -> None:
        """Insert wired layers at `index` (models.graph_edits.with_block) and select the first."""
        self._check_index(index, allow_end=True)
        self._set(graph_edits.with_block(self._arch, index, layers, inputs), selected=index)

    def restore(self, arch: Architecture, selected: int | None) -> None:
        """Go back to an earlier architecture and selection (an undo of a wiring edit)."""
        self._arch, self._analysis = arch, None
        self.changed.emit(arch)
        if selected != self._selected:
            self._selected = selected
            self.selection_changed.emit(selected)

    def select(self, index: int | None) -> None:
        if index is not None:
            self._check_index(index)
        if index != self._selected:
            self._selected = index
            self.selection_changed.emit(index)
