"""Every user edit of the network as one undoable command: the one place panels and menus go through."""

from __future__ import annotations

from typing import Hashable

from PySide6.QtGui import QUndoStack

from gui.builder.undo_commands import (ConnectCommand, DisconnectCommand, InsertBlockCommand, InsertLayerCommand,
                                       MoveLayerCommand, RemoveLayerCommand, ReplaceLayerCommand,
                                       SetArchitectureCommand, SpliceLayerCommand)
from models import graph_edits
from models.architecture import Architecture
from models.layers import NODE_TYPES, LayerSpec
from models.network import Network
from models.residual_block import BLOCK_TYPES

DEFAULT_CHANNELS = 16  # a block's width when what it reads has no known maps


class NetworkEditor:
    """Pairs the `Network` document with its `QUndoStack`; each method pushes one command (or nothing)."""

    def __init__(self, network: Network, undo_stack: QUndoStack) -> None:
        self.network = network
        self.undo_stack = undo_stack
        # The input follows the dataset once one is chosen, so whole-architecture edits keep it.
        self.input_follows_dataset = False

    def insert(self, index: int, spec: LayerSpec) -> None:
        """In a graph the new layer goes on the way out of the layer before it (Network.splice), so it joins that
        path wherever the readers of that layer sit in the list."""
        if self.network.architecture.is_graph:
            self.undo_stack.push(SpliceLayerCommand(self.network, index, spec))
        else:
            self.undo_stack.push(InsertLayerCommand(self.network, index, spec))

    def insert_new(self, index: int, key: str) -> None:
        """A layer of registry type `key` (NODE_TYPES) with its default hyperparameters, or a block of layers
        (models.residual_block.BLOCK_TYPES) sized to what it reads."""
        block = BLOCK_TYPES.get(key)
        if block is None:
            self.insert(index, NODE_TYPES[key]())
            return
        shape = (self.network.analysis.layers[index - 1].output_shape if index else
                 self.network.analysis.input_shape)
        channels = shape[0] if shape is not None and len(shape) == 3 else DEFAULT_CHANNELS
        layers, inputs = block.make(channels)
        self.undo_stack.push(InsertBlockCommand(self.network, index, layers, inputs, f"Add {block.DISPLAY_NAME}"))

    def connect(self, source: int, target: int) -> str | None:
        """Layer index `target` also reads layer number `source` (0 = the input), as one undo step; or the reason
        it would make no sense (nothing is pushed then)."""
        try:
            graph_edits.connected(self.network.architecture, source, target + 1)
        except graph_edits.WiringRefused as refusal:
            return str(refusal)
        self.undo_stack.push(ConnectCommand(self.network, source, target))
        return None

    def disconnect(self, source: int, target: int) -> str | None:
        """Layer index `target` no longer reads layer number `source`; or the reason it cannot."""
        try:
            graph_edits.disconnected(self.network.architecture, source, target + 1)
        except graph_edits.WiringRefused as refusal:
            return str(refusal)
        self.undo_stack.push(DisconnectCommand(self.network, source, target))
        return None

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
            if self.network.architecture.is_graph:  # on the way out of the original, as a drop below it
                self.undo_stack.push(SpliceLayerCommand(self.network, index + 1, spec))
            else:
                self.undo_stack.push(InsertLayerCommand(self.network, index + 1, spec, "Duplicate layer"))
