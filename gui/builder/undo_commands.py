"""QUndoCommands for every network edit; each calls the same `Network` methods a direct edit would."""

from __future__ import annotations

from dataclasses import replace as dataclass_replace
from typing import Hashable

from PySide6.QtGui import QUndoCommand

from gui.builder.layer_style import display_name
from models.architecture import Architecture
from models.layers import LayerSpec
from models.network import Network

REPLACE_COMMAND_ID = 4101  # QUndoCommand.id() of mergeable property edits


class InsertLayerCommand(QUndoCommand):
    """Insert `spec` at `index` (drop, double-click, duplicate); undo removes it."""

    def __init__(self, network: Network, index: int, spec: LayerSpec, text: str | None = None) -> None:
        super().__init__(text or f"Add {display_name(spec.TYPE)}")
        self._network, self._index, self._spec = network, index, spec

    def redo(self) -> None:
        self._network.insert(self._index, self._spec)

    def undo(self) -> None:
        self._network.remove(self._index)


class RemoveLayerCommand(QUndoCommand):
    """Remove the layer at `index` and select its successor (so Delete can be pressed again);
    undo puts the same spec back and selects it."""

    def __init__(self, network: Network, index: int) -> None:
        super().__init__(f"Delete {display_name(network.layers[index].TYPE)}")
        self._network, self._index = network, index
        self._spec = network.layers[index]

    def redo(self) -> None:
        self._network.remove(self._index)
        if len(self._network):
            self._network.select(min(self._index, len(self._network) - 1))

    def undo(self) -> None:
        self._network.insert(self._index, self._spec)


class MoveLayerCommand(QUndoCommand):
    """Move layer `source` to end up at `destination` (both indices in the list before the move)."""

    def __init__(self, network: Network, source: int, destination: int) -> None:
        super().__init__(f"Move {display_name(network.layers[source].TYPE)}")
        self._network, self._source, self._destination = network, source, destination

    def redo(self) -> None:
        self._network.move(self._source, self._destination)

    def undo(self) -> None:
        self._network.move(self._destination, self._source)


class ReplaceLayerCommand(QUndoCommand):
    """Replace the spec at `index` (a property edit or a type change).

    Commands with the same non-None `merge_key` merge into one undo step, so scrolling a spin box
    through ten values is undone at once; the inspector makes the key from (index, field, edit session).
    """

    def __init__(self, network: Network, index: int, spec: LayerSpec, text: str | None = None,
                 merge_key: Hashable | None = None) -> None:
        super().__init__(text or f"Edit {display_name(spec.TYPE)}")
        self._network, self._index = network, index
        self._old, self._new = network.layers[index], spec
        self.merge_key = merge_key

    def id(self) -> int:  # Qt's name
        return REPLACE_COMMAND_ID if self.merge_key is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 (Qt override)
        if not isinstance(other, ReplaceLayerCommand) or other.merge_key != self.merge_key:
            return False
        self._new = other._new
        return True

    def redo(self) -> None:
        self._network.replace(self._index, self._new)
        self._network.select(self._index)

    def undo(self) -> None:
        self._network.replace(self._index, self._old)
        self._network.select(self._index)


class SetArchitectureCommand(QUndoCommand):
    """Replace the whole architecture (a preset, New).

    With `keep_input`, both directions keep the network's current input shape: the input follows the
    dataset, which may have changed between the edit and its undo.
    """

    def __init__(self, network: Network, architecture: Architecture, text: str, keep_input: bool = False) -> None:
        super().__init__(text)
        self._network, self._keep_input = network, keep_input
        self._old, self._new = network.architecture, architecture

    def _apply(self, architecture: Architecture) -> None:
        if self._keep_input:
            architecture = dataclass_replace(architecture, input=self._network.architecture.input)
        self._network.set_architecture(architecture)

    def redo(self) -> None:
        self._apply(self._new)

    def undo(self) -> None:
        self._apply(self._old)


class _RestoringCommand(QUndoCommand):
    """A wiring edit: redo calls one Network method, undo puts back the architecture and selection from before it
    (a connect may have inserted an add; restoring is exact where an inverse edit might not be)."""

    def __init__(self, network: Network, text: str) -> None:
        super().__init__(text)
        self._network = network
        self._before, self._selected = network.architecture, network.selected

    def undo(self) -> None:
        self._network.restore(self._before, self._selected)


class ConnectCommand(_RestoringCommand):
    """Layer `target` (0-based) also reads layer number `source` (0 = the input)."""

    def __init__(self, network: Network, source: int, target: int) -> None:
        super().__init__(network, "Connect layers")
        self._source, self._target = source, target

    def redo(self) -> None:
        self._network.connect(self._source, self._target)


class DisconnectCommand(_RestoringCommand):
    def __init__(self, network: Network, source: int, target: int) -> None:
        super().__init__(network, "Delete connection")
        self._source, self._target = source, target

    def redo(self) -> None:
        self._network.disconnect(self._source, self._target)


class InsertBlockCommand(_RestoringCommand):
    """Several wired layers at once (a residual block): one undo step."""

    def __init__(self, network: Network, index: int, layers: tuple[LayerSpec, ...],
                 inputs: tuple[tuple[int, ...], ...], text: str) -> None:
        super().__init__(network, text)
        self._index, self._layers, self._inputs = index, layers, inputs

    def redo(self) -> None:
        self._network.insert_block(self._index, self._layers, self._inputs)


class SpliceLayerCommand(QUndoCommand):
    """Insert `spec` into a graph on the way out of the layer before `index`; removing it is the exact inverse."""

    def __init__(self, network: Network, index: int, spec: LayerSpec) -> None:
        super().__init__(f"Add {display_name(spec.TYPE)}")
        self._network, self._index, self._spec = network, index, spec

    def redo(self) -> None:
        self._network.splice(self._index, self._spec)

    def undo(self) -> None:
        self._network.remove(self._index)
