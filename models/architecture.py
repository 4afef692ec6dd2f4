"""The architecture: an input shape, an ordered, immutable tuple of layer specs, and which layer feeds which."""

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
    """A whole network design. Frozen, so it can be handed to another thread without locking.

    `inputs` is empty for a chain; for a graph it holds one entry per layer: the numbers of the layers it
    reads (0 = the network's input), or None for "the previous layer". models.graph resolves and checks it.
    """

    name: str = "Untitled"
    input: InputShape = field(default_factory=InputShape)
    layers: tuple[LayerSpec, ...] = ()
    inputs: tuple = ()

    def __post_init__(self) -> None:
        # Naming just the previous layer is the default, None: one form for one network, so equality holds
        # and a wiring that only says "the previous layer" everywhere is a chain.
        inputs = tuple(None if s is None or tuple(s) == (i,) else tuple(s) for i, s in enumerate(self.inputs))
        if inputs and len(inputs) != len(self.layers):
            raise ValueError(f"inputs has {len(inputs)} entries for {len(self.layers)} layers; give one per "
                             f"layer (None for the previous layer) or none for a chain")
        object.__setattr__(self, "inputs", () if all(s is None for s in inputs) else inputs)

    @property
    def is_graph(self) -> bool:
        """Whether some layer reads other than just the layer before it."""
        return bool(self.inputs)

    def sources_of(self, position: int) -> tuple[int, ...] | None:
        """The explicit sources of the layer at 0-based `position`, or None (the previous layer)."""
        return self.inputs[position] if self.inputs else None

    def with_layers(self, layers: "list[LayerSpec] | tuple[LayerSpec, ...]", inputs: tuple | None = None
                    ) -> "Architecture":
        """The same network with other layers; a graph keeps its wiring only for as many layers (else give
        `inputs`, as models.network does when it inserts, removes or moves a layer)."""
        layers = tuple(layers)
        if inputs is None:
            if self.inputs and len(layers) != len(self.layers):
                raise ValueError("a graph's layers changed in number: give the new inputs too "
                                 "(models.graph.inserted / removed / moved)")
            inputs = self.inputs
        return Architecture(self.name, self.input, layers, inputs)
