"""The architecture: an input shape and an ordered, immutable tuple of layer specs."""

from __future__ import annotations

from dataclasses import dataclass, field

from models.layers import LayerSpec


@dataclass(frozen=True)
class InputShape:
    """Shape of one input image: channels x height x width."""

    channels: int = 1
    height: int = 28
    width: int = 28

    def as_tuple(self) -> tuple[int, int, int]:
        return (self.channels, self.height, self.width)


@dataclass(frozen=True)
class Architecture:
    """A whole network design. Frozen, so it can be handed to another thread without locking."""

    name: str = "Untitled"
    input: InputShape = field(default_factory=InputShape)
    layers: tuple[LayerSpec, ...] = ()

    def with_layers(self, layers: "list[LayerSpec] | tuple[LayerSpec, ...]") -> "Architecture":
        return Architecture(self.name, self.input, tuple(layers))
