"""The bundled example architectures (resources/presets/*.json), in menu order."""

from __future__ import annotations

from pathlib import Path

from models import architecture_file
from models.architecture import Architecture

PRESET_DIR = Path(__file__).resolve().parent.parent / "resources" / "presets"
# Menu order: from the classic textbook net to the modern variants.
# Then graphs: an Inception-style net (parallel branches concatenated) and ResNet-20 after the plain 20-layer chain
# it is compared with (the built-in experiment plain-vs-residual).
PRESET_KEYS = ("lenet5", "keras_mnist", "all_conv", "fully_conv", "fashion_vgg", "tiny_vgg", "mini_inception",
               "plain20", "resnet20")
DEFAULT_PRESET = "lenet5"
# The bundled set a preset was made for, where that is not the digits: the window switches to it when the preset
# is loaded while another bundled set is selected (a user's own dataset is never switched).
MADE_FOR = {"fashion_vgg": "fashion-mnist", "tiny_vgg": "shapes-rgb", "mini_inception": "shapes-rgb",
            "plain20": "shapes-rgb", "resnet20": "shapes-rgb"}


def preset_path(key: str) -> Path:
    if key not in PRESET_KEYS:
        raise KeyError(f"unknown preset {key!r}; presets: {', '.join(PRESET_KEYS)}")
    return PRESET_DIR / f"{key}.json"


def load_preset(key: str) -> Architecture:
    return architecture_file.load(preset_path(key))



def made_for(key: str) -> str | None:
    """The bundled dataset name the preset `key` was made for, or None (any set of its input shape)."""
    return MADE_FOR.get(key)
