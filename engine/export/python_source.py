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
from engine.modules import GlobalAvgPool2d, PaddedConv2d
from engine.project import app_version
from engine.weights import state_dict_to_safetensors
from models.architecture import Architecture
from models.atomic_file import write_atomically
from models.shapes import analyze

PYTHON_SUFFIXES = (".py",)

_LOAD_FUNCTION = '''

def load(weights_path=None):
    """Build {name} with the given weights (.safetensors or a state-dict .pt), in eval mode.

    With no path, the weights file beside this module (same name, .safetensors) is used.
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


def _pair(value: object) -> object:
    return tuple(value) if isinstance(value, (tuple, list)) else value


def module_source(module: nn.Module) -> str:
    """The constructor call that rebuilds `module` (a child of a built ConvNet) exactly."""
    if isinstance(module, PaddedConv2d):
        top, bottom = module.pad[2], module.pad[3]
        left, right = module.pad[0], module.pad[1]
        return (f"PaddedConv2d({module.in_channels}, {module.out_channels}, {module.kernel_size}, "
                f"{module.stride}, pad=({top}, {bottom}, {left}, {right}), bias={module.bias is not None})")
    if isinstance(module, nn.Conv2d):
        extra = "" if module.dilation == (1, 1) and module.groups == 1 else \
            f", dilation={module.dilation}, groups={module.groups}"
        return (f"nn.Conv2d({module.in_channels}, {module.out_channels}, kernel_size={module.kernel_size}, "
                f"stride={module.stride}, padding={module.padding}{extra}, bias={module.bias is not None})")
    if isinstance(module, nn.MaxPool2d):
        return (f"nn.MaxPool2d(kernel_size={_pair(module.kernel_size)}, stride={_pair(module.stride)}, "
                f"padding={_pair(module.padding)}, dilation={_pair(module.dilation)}, "
                f"ceil_mode={module.ceil_mode})")
    if isinstance(module, nn.AvgPool2d):
        return (f"nn.AvgPool2d(kernel_size={_pair(module.kernel_size)}, stride={_pair(module.stride)}, "
                f"padding={_pair(module.padding)}, ceil_mode={module.ceil_mode}, "
                f"count_include_pad={module.count_include_pad})")
    if isinstance(module, nn.Linear):
        return f"nn.Linear({module.in_features}, {module.out_features}, bias={module.bias is not None})"
    if isinstance(module, nn.BatchNorm2d):
        return (f"nn.BatchNorm2d({module.num_features}, eps={module.eps!r}, momentum={module.momentum!r}, "
                f"affine={module.affine}, track_running_stats={module.track_running_stats})")
    if isinstance(module, GlobalAvgPool2d):
        return "GlobalAvgPool2d()"
    if isinstance(module, nn.Flatten):
        return f"nn.Flatten(start_dim={module.start_dim}, end_dim={module.end_dim})"
    if isinstance(module, nn.Dropout):
        return f"nn.Dropout(p={module.p!r})"
    if isinstance(module, nn.LeakyReLU):
        return f"nn.LeakyReLU(negative_slope={module.negative_slope!r})"
    if isinstance(module, nn.ELU):
        return f"nn.ELU(alpha={module.alpha!r})"
    if isinstance(module, nn.Softmax):
        return f"nn.Softmax(dim={module.dim})"
    if type(module) in (nn.ReLU, nn.Sigmoid, nn.Tanh):
        return f"nn.{type(module).__name__}()"
    raise ExportError(f"cannot write Python source for a {type(module).__name__} layer yet; "
                      f"export TorchScript or ONNX instead")


def _shape(shape: tuple[int, ...] | None) -> str:
    return "x".join(map(str, shape)) if shape else "?"


def generate_source(arch: Architecture, name: str | None = None) -> str:
    """The module text: imports, helper layers actually used, the network class and `load()`."""
    from engine.builder import build_model
    name = name or class_name(arch.name)
    analysis = analyze(arch)
    with torch.device("meta"):  # structure only: no memory, no random initialisation
        model = build_model(arch, analysis)
    used = {type(m) for m in model}
    helpers = [cls for cls in (PaddedConv2d, GlobalAvgPool2d) if cls in used]
    input_shape = arch.input.as_tuple()
    output = _shape(analysis.output_shape)
    ends_softmax = getattr(model, "ends_with_softmax", False)
    returns = "class probabilities (the last layer is a softmax)" if ends_softmax else "the last layer's output"
    lines = [
        f'"""{arch.name}: a standalone PyTorch network exported by ConvScope {app_version()}.',
        "",
        f"Input: {_shape(input_shape)} (channels x height x width), batched as N x {' x '.join(map(str, input_shape))}.",
        f"Output: {output} per sample, {returns}.",
        f"Parameters: {analysis.total_params:,}.",
        "",
        "Usage:",
        "    model = load()  # or load('weights.safetensors') / load('weights.pt')",
        f"    scores = model(torch.rand(8, {', '.join(map(str, input_shape))}))",
        '"""',
        "",
        "from pathlib import Path",
        "",
        "import torch",
        *(["import torch.nn.functional as F"] if PaddedConv2d in used else []),
        "from torch import nn",
        "",
        f"INPUT_SHAPE = {input_shape}",
    ]
    for cls in helpers:
        lines += ["", "", inspect.getsource(cls).rstrip()]
    lines += ["", "", f"class {name}(nn.Sequential):",
              f'    """{arch.name}.', "",
              "    Child i is layer i+1 of the ConvScope design, so the state-dict keys are '<i>.weight'",
              "    and '<i>.bias', exactly those of the app's model.", '    """',
              "", "    def __init__(self) -> None:", "        super().__init__("]
    for spec_analysis, module in zip(analysis.layers, model):
        lines.append(f"            # layer {spec_analysis.index} ({spec_analysis.type}): "
                     f"-> {_shape(spec_analysis.output_shape)}, {spec_analysis.params:,} params")
        lines.append(f"            {module_source(module)},")
    lines.append("        )")
    source = "\n".join(lines) + "\n" + _LOAD_FUNCTION.format(name=name)
    compile(source, f"<{name}>", "exec")  # a generator bug must fail here, not in the user's hands
    return source


def export_python(arch: Architecture, weights: dict[str, torch.Tensor] | nn.Module | None,
                  out_path: str | os.PathLike, name: str | None = None) -> tuple[Path, Path]:
    """Write NAME.py and its weights NAME.safetensors beside it; returns both paths."""
    path = check_destination(out_path, PYTHON_SUFFIXES, "Python module")
    eval_model(arch, weights)  # the weights must fit before anything is written
    weights_path = path.with_suffix(".safetensors")
    try:
        write_atomically(weights_path, state_dict_to_safetensors(state_of(weights)))
        write_atomically(path, generate_source(arch, name).encode("utf-8"))
    except OSError as exc:
        raise ExportError(f"{path}: cannot write ({exc.strerror or exc})") from None
    return path, weights_path
