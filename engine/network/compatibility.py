"""Whether an architecture can be trained on a dataset: input shape, output width, shape errors."""

from __future__ import annotations

from typing import Protocol

from models.architecture import Architecture
from models.shapes import Analysis, analyze


class DatasetShape(Protocol):
    """What the check needs of a dataset (engine.datasets.Dataset has it)."""

    name: str
    input_shape: tuple[int, int, int]
    num_classes: int


def _dims(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))


def check_compatibility(arch: Architecture, dataset: DatasetShape, analysis: Analysis | None = None) -> list[str]:
    """Problems that stop `arch` from training on `dataset`, each one sentence saying what to change.

    Empty when training can start. Checked: the architecture's own shape errors, the input shape
    against the dataset's images, and the output vector's width against the number of classes.
    """
    analysis = analysis or analyze(arch)
    problems: list[str] = []
    name = getattr(dataset, "name", "the dataset")
    expected_input = tuple(dataset.input_shape)
    if tuple(arch.input.as_tuple()) != expected_input:
        problems.append(f"the network's input is {_dims(arch.input.as_tuple())} (channels x height x width) but "
                        f"{name} has {_dims(expected_input)} images; set the input to {_dims(expected_input)}")
    if not arch.layers:
        problems.append("the network has no layers; add at least one, ending in a linear layer with "
                        f"{dataset.num_classes} outputs")
        return problems
    if analysis.errors:
        problems.append(analysis.errors[0])
        return problems
    out = analysis.output_shape or ()
    if len(out) != 1:
        problems.append(f"the network ends with a {_dims(out)} output, not a vector of class scores; end it "
                        f"with flatten + linear({dataset.num_classes}) or global_avgpool2d")
    elif out[0] != dataset.num_classes:
        last = next((la for la in reversed(analysis.layers) if la.type == "linear"), None)
        where = f"set {last.label}'s out_features to {dataset.num_classes}" if last else \
            f"make the last layer output {dataset.num_classes} values"
        problems.append(f"the network outputs {out[0]} scores but {name} has {dataset.num_classes} classes; "
                        f"{where}")
    return problems
