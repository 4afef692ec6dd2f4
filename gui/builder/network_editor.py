"""Every user edit of the network as one undoable command: the one place panels and menus go through."""

from __future__ import annotations

from typing import Hashable

from PySide6.QtGui import QUndoStack

from gui.builder.undo_commands import (InsertLayerCommand, MoveLayerCommand, RemoveLayerCommand, ReplaceLayerCommand,
                               SetArchitectureCommand)
from models.architecture import Architecture
from models.layers import LAYER_TYPES, LayerSpec
from models.network import Network


class NetworkEditor:
    """Pairs the `Network` document with its `QUndoStack`; each method pushes one command (or nothing)."""

    def __init__(self, network: Network, undo_stack: QUndoStack) -> None:
        self.network = network
        self.undo_stack = undo_stack
        # The input follows the dataset once one is chosen, so whole-architecture edits keep it.
        self.input_follows_dataset = False

    def insert(self, index: int, spec: LayerSpec) -> None:
        self.undo_stack.push(InsertLayerCommand(self.network, index, spec))

    def insert_new(self, index: int, key: str) -> None:
        """A layer of registry type `key` with its default hyperparameters."""
        self.insert(index, LAYER_TYPES[key]())

    def append_new(self, key: str) -> None:
        self.insert_new(len(self.network), key)

    def remove(self, index: int) -> None:
        self.undo_stack.push(RemoveLayerCommand(self.network, index))

    def move_to_gap(self, source: int, gap: int) -> bool:
        """Move layer `source` into the gap before layer `gap` (0..len); False if that changes nothing."""
        destination = gap - 1 if gap > source else gap
        if destination == source or not 0 <= destination < len(self.network):
            return False
        self.undo_stack.push(MoveLayerCommand(self.network, source, destination))
        return True

    def replace(self, index: int, spec: LayerSpec, text: str | None = None,
                merge_key: Hashable | None = None) -> None:
        if spec != self.network.layers[index]:
            self.undo_stack.push(ReplaceLayerCommand(self.network, index, spec, text, merge_key))

    def set_architecture(self, architecture: Architecture, text: str) -> None:
        self.undo_stack.push(SetArchitectureCommand(self.network, architecture, text,
                                                    keep_input=self.input_follows_dataset))

    def delete_selected(self) -> None:
        if self.network.selected is not None:
            self.remove(self.network.selected)

    def duplicate_selected(self) -> None:
        index = self.network.selected
        if index is not None:
            spec = self.network.layers[index]
            self.undo_stack.push(InsertLayerCommand(self.network, index + 1, spec, "Duplicate layer"))
