"""Field descriptions shared by the file format, validation and the GUI inspector."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

# Value kinds a field can hold; the file format, the validator and the inspector's widgets read these.
INT = "int"
FLOAT = "float"
BOOL = "bool"
SIZE = "size"          # int or [h, w]
PADDING = "padding"    # int, [h, w], "valid" or "same"
POOL_PADDING = "pool_padding"  # int or [h, w]
OPTIONAL_SIZE = "optional_size"  # None (= kernel_size) or int or [h, w]
KERNEL_INIT = "kernel_init"  # None or one entry per filter: a kernel name, nested numbers, or None


@dataclass(frozen=True)
class FieldInfo:
    """How one hyperparameter is typed, bounded and explained."""

    kind: str
    label: str
    help: str
    minimum: float = 0
    maximum: float = 4096
    required: bool = False  # PyTorch has no default for it, so a file must name it
    since_version: int = 1  # the architecture format version that added it; left out of files at its default


def spec_field(default: Any, info: FieldInfo) -> Any:
    return dataclasses.field(default=default, metadata={"info": info})


def field_info(f: dataclasses.Field) -> FieldInfo:
    return f.metadata["info"]
