"""The bundled sets' input shapes, known before a set has loaded, and the bundled set that fits an input."""

from __future__ import annotations

from models.architecture import InputShape

BUNDLED_INPUTS = {
    "mnist": InputShape(1, 28, 28),
    "fashion-mnist": InputShape(1, 28, 28),
    "shapes-rgb": InputShape(3, 32, 32),
}


def bundled_for_input(shape: InputShape) -> str | None:
    """The first bundled set whose images have `shape` (an RGB preset gets the colour set), else None."""
    return next((name for name, bundled in BUNDLED_INPUTS.items() if bundled == shape), None)
