"""Standalone PyTorch source: a readable .py defining the network (torch only) plus its weights beside it."""

from __future__ import annotations

import inspect
import keyword
import os
import re
from pathlib import Path

import torch
from torch import nn

from engine.export.target import ExportError, check_destination, eval_model, state_of
from engine.network.layer_recipes import HELPERS
from engine.network.modules import LocallyConnected2d, PaddedConv2d
from engine.normalization import Normalization
from engine.project.project_file import app_version
from engine.network.weights import state_dict_to_safetensors
from models.architecture import Architecture
from models.atomic_file import write_atomically
from models.layers import SoftmaxSpec
from models.shapes import analyze

PYTHON_SUFFIXES = (".py",)

_LOAD_FUNCTION = '''

def load(weights_path=None):
    """Build {name} with the given weights (.safetensors or a state-dict .pt), in eval mode.

    With no path, the weights file beside this module (same name, .safetensors) is used.
    Input contract: {contract}
    """
    if weights_path is None:
        weights_path = Path(__file__).with_suffix(".safetensors")
    weights_path = str(weights_path)
    if weights_path.endswith(".safetensors"):
        from safetensors.torch import load_file
        state = load_file(weights_path)
    else:
        state = torch.load(weights_path, map_location="cpu", weights_only=True)  # never runs code
    model = {name}()
    model.load_state_dict(state)
    return model.eval()
'''


def class_name(arch_name: str) -> str:
    """A PEP 8 class name from an architecture name: 'Keras MNIST convnet' -> 'KerasMnistConvnet'."""
    words = re.findall(r"[A-Za-z0-9]+", arch_name)
    name = "".join(w[:1].upper() + w[1:].lower() if not w.isdigit() else w for w in words) or "Network"
    if name[0].isdigit():
        name = "Net" + name
    return name + "_" if keyword.iskeyword(name) else name


def _shape(shape: tuple[int, ...] | None) -> str:
    return "x".join(map(str, shape)) if shape else "?"


_PIXELS = ("N x C x H x W float pixels in [0, 1]; the model normalises them with the training\n"
           "    statistics INPUT_MEAN / INPUT_STD itself.")
_NORMALIZED = ("N x C x H x W, already normalised as in training, (pixel - mean) / std per channel\n"
               "    (the statistics were not stored with this network).")


def generate_source(arch: Architecture, name: str | None = None,
                    normalization: Normalization | None = None) -> str:
    """The module text: imports, helper layers actually used, the network class and `load()`.

    With `normalization` the class takes [0, 1] pixels and normalises them in `forward` (mean/std are
    non-persistent buffers, so the state-dict keys stay the app's); without, normalised inputs."""
    from engine.network.builder import build_recipes
    name = name or class_name(arch.name)
    analysis = analyze(arch)
    recipes = build_recipes(arch, analysis)  # the builder's own constructor calls, printed
    used = {recipe.module_class() for recipe in recipes}
    helpers = [cls for cls in HELPERS.values() if cls in used]
    input_shape = arch.input.as_tuple()
    output = _shape(analysis.output_shape)
    ends_softmax = isinstance(arch.layers[-1], SoftmaxSpec)
    returns = "class probabilities (the last layer is a softmax)" if ends_softmax else "the last layer's output"
    lines = [
        f'"""{arch.name}: a standalone PyTorch network exported by ConvScope {app_version()}.',
        "",
        f"Input: {_shape(input_shape)} (channels x height x width), batched as N x {' x '.join(map(str, input_shape))}.",
        f"Output: {output} per sample, {returns}.",
        f"Parameters: {analysis.total_params:,}.",
        "",
        "Preprocessing: " + ("none; give pixels in [0, 1], the model normalises them itself." if normalization
                             else "normalise first, (pixel - mean) / std per channel, as in training."),
        "",
        "Usage:",
        "    model = load()  # or load('weights.safetensors') / load('weights.pt')",
        f"    scores = model(torch.rand(8, {', '.join(map(str, input_shape))}))",
        '"""',
        "",
        "from pathlib import Path",
        "",
        "import torch",
        *(["import torch.nn.functional as F"] if used & {PaddedConv2d, LocallyConnected2d} else []),
        "from torch import nn",
        "",
        f"INPUT_SHAPE = {input_shape}",
    ]
    if normalization is not None:
        lines += ["# Per-channel statistics of the training images, on the [0, 1] pixel scale.",
                  f"INPUT_MEAN = {tuple(normalization.mean)!r}", f"INPUT_STD = {tuple(normalization.std)!r}"]
    for cls in helpers:
        lines += ["", "", inspect.getsource(cls).rstrip()]
    lines += ["", "", f"class {name}(nn.Sequential):",
              f'    """{arch.name}.', "",
              "    Child i is layer i+1 of the ConvScope design, so the state-dict keys are '<i>.weight'",
              "    and '<i>.bias', exactly those of the app's model.", '    """',
              "", "    def __init__(self) -> None:", "        super().__init__("]
    for spec_analysis, recipe in zip(analysis.layers, recipes):
        reads = (f"reads {', '.join(_name(s) for s in spec_analysis.sources)} " if arch.is_graph else "")
        lines.append(f"            # layer {spec_analysis.index} ({spec_analysis.type}): {reads}"
                     f"-> {_shape(spec_analysis.output_shape)}, {spec_analysis.params:,} params")
        lines.append(f"            {recipe.source()},")
    lines.append("        )")
    if normalization is not None:
        lines += ["        # Non-persistent: the statistics are part of the code, not of the state dict.",
                  '        self.register_buffer("input_mean", torch.tensor(INPUT_MEAN).view(1, -1, 1, 1), '
                  'persistent=False)',
                  '        self.register_buffer("input_std", torch.tensor(INPUT_STD).view(1, -1, 1, 1), '
                  'persistent=False)']
    if arch.is_graph:
        lines += _graph_forward(analysis, normalization is not None)
    elif normalization is not None:
        lines += ["", "    def forward(self, x: torch.Tensor) -> torch.Tensor:",
                  '        """x: N x C x H x W pixels in [0, 1]."""',
                  "        return super().forward((x - self.input_mean) / self.input_std)"]
    contract = _PIXELS if normalization is not None else _NORMALIZED
    source = "\n".join(lines) + "\n" + _LOAD_FUNCTION.format(name=name, contract=contract)
    compile(source, f"<{name}>", "exec")  # a generator bug must fail here, not in the user's hands
    return source


def _name(number: int) -> str:
    return "the input" if number == 0 else f"layer {number}"


def _graph_forward(analysis, normalizes: bool) -> list[str]:
    """forward() of a graph: each layer, in the order they run, applied to the outputs of the layers it reads
    (x3 is layer 3's output, x0 the input); child i is still layer i+1."""
    lines = ["", "    def forward(self, x: torch.Tensor) -> torch.Tensor:",
             f'        """x: N x C x H x W{" pixels in [0, 1]" if normalizes else ", normalised"}; layers run in '
             f'an order where each follows what it reads."""',
             "        x0 = (x - self.input_mean) / self.input_std" if normalizes else "        x0 = x"]
    for number in analysis.order:
        args = ", ".join(f"x{s}" for s in analysis.layers[number - 1].sources)
        lines.append(f"        x{number} = self[{number - 1}]({args})")
    lines.append(f"        return x{len(analysis.layers)}")
    return lines


def export_python(arch: Architecture, weights: dict[str, torch.Tensor] | nn.Module | None,
                  out_path: str | os.PathLike, name: str | None = None,
                  normalization: Normalization | None = None) -> tuple[Path, Path]:
    """Write NAME.py and its weights NAME.safetensors beside it; returns both paths."""
    path = check_destination(out_path, PYTHON_SUFFIXES, "Python module")
    eval_model(arch, weights)  # the weights must fit before anything is written
    weights_path = path.with_suffix(".safetensors")
    try:
        metadata = None if normalization is None else normalization.metadata()
        write_atomically(weights_path, state_dict_to_safetensors(state_of(weights), metadata))
        write_atomically(path, generate_source(arch, name, normalization).encode("utf-8"))
    except OSError as exc:
        raise ExportError(f"{path}: cannot write ({exc.strerror or exc})") from None
    return path, weights_path
