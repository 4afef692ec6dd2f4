"""The export formats, one registry read by the CLI's `export` command and the window's Export dialog.

Each format says what it writes (file suffixes, or a folder), what it needs (trained weights, a history,
or nothing), the options it takes and the writer that does it. Writers import their exporter lazily:
reading this registry (e.g. for `--help`) must not import torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Union

if TYPE_CHECKING:
    import torch

    from engine.metrics import MetricsHistory
    from engine.normalization import Normalization
    from models.architecture import Architecture

NEEDS_WEIGHTS, NEEDS_HISTORY, NEEDS_NOTHING = "weights", "history", ""
NEEDS_TIMELINE = "timeline"  # a run folder's snapshots: the writer also gets run_folder=Path
OptionValue = Union[int, float, str]
# (architecture, weights or None, history, out, normalization or None, **options) -> files written
Writer = Callable[..., "list[Path]"]


@dataclass(frozen=True)
class ExportOption:
    """One setting a format takes: `--<name>` on the command line, a field in the dialog, a writer keyword.

    Its type is the type of `default` (int, float or str); numbers may have bounds, text may have choices.
    """

    name: str
    label: str
    default: OptionValue
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()

    @property
    def kind(self) -> type:
        return type(self.default)

    def check(self, value: object, fmt_key: str) -> OptionValue:
        """`value` (a string from the command line, or a typed value) converted and checked; ExportError if bad."""
        from engine.export.target import ExportError

        where = f"--{self.name} of the {fmt_key} export"
        try:
            converted = self.kind(value)
        except (TypeError, ValueError):
            raise ExportError(f"{where} must be {'a whole number' if self.kind is int else 'a number'}, "
                              f"not {value!r}") from None
        if self.minimum is not None and converted < self.minimum:
            raise ExportError(f"{where} is {converted}; use {self.minimum:g} or more")
        if self.maximum is not None and converted > self.maximum:
            raise ExportError(f"{where} is {converted}; use {self.maximum:g} or less")
        if self.choices and converted not in self.choices:
            raise ExportError(f"{where} is {converted!r}; use one of {', '.join(self.choices)}")
        return converted


@dataclass(frozen=True)
class ExportFormat:
    key: str                   # the CLI's `export --format` name
    label: str                 # what the dialog lists
    name: str                  # default file (or folder) name; {stem} is the project's name
    suffixes: tuple[str, ...]  # accepted endings, the first suggested; () for a folder
    needs: str                 # NEEDS_WEIGHTS, NEEDS_HISTORY or NEEDS_NOTHING
    write: Writer
    out: str = "FILE"          # what --out is, for the CLI's help
    description: str = ""      # one line for the CLI's help
    options: tuple[ExportOption, ...] = ()
    beside: tuple[str, ...] = ()  # suffixes of the files written next to FILE (FILE.py's FILE.safetensors)

    @property
    def is_folder(self) -> bool:
        return not self.suffixes

    def targets(self, out: Path) -> list[Path]:
        """The files (or for a folder format, the folder) that writing to `out` creates or replaces."""
        return [out] + [out.with_suffix(suffix) for suffix in self.beside]

    def file_filter(self) -> str:
        return f"{self.label} ({' '.join('*' + s for s in self.suffixes)})"

    def checked_options(self, given: dict[str, object] | None = None) -> dict[str, OptionValue]:
        """Every option of this format: the given value (checked) or its default. ExportError for one it lacks."""
        from engine.export.target import ExportError

        given = dict(given or {})
        unknown = sorted(set(given) - {o.name for o in self.options})
        if unknown:
            takes = f"it takes {', '.join('--' + o.name for o in self.options)}" if self.options else "it takes none"
            raise ExportError(f"the {self.key} export has no option --{unknown[0]}; {takes}")
        return {o.name: o.check(given[o.name], self.key) if o.name in given else o.default for o in self.options}

    def export(self, architecture: Architecture, weights: dict[str, torch.Tensor] | None, history: MetricsHistory,
               out: str | Path, options: dict[str, object] | None = None,
               normalization: Normalization | None = None, run_folder: str | Path | None = None) -> list[Path]:
        """Write this format to `out`; the files written. ExportError (or WeightsError) naming what is wrong.

        `normalization` is the statistics the weights were trained with (None when not stored): models that
        take an input then take [0, 1] pixels, unless the `input` option says "normalized"."""
        extra = {}
        if self.needs == NEEDS_TIMELINE:
            from engine.export.target import ExportError
            if run_folder is None or not Path(run_folder).is_dir():
                raise ExportError(f"the {self.key} export animates a run's snapshot timeline: give a run folder "
                                  f"written by `train --out DIR`, not {run_folder or 'a project'}")
            extra["run_folder"] = Path(run_folder)
        paths = self.write(architecture, weights, history, Path(out), normalization,
                           **self.checked_options(options), **extra)
        return [Path(p) for p in paths]


# -- writers (lazy imports: torch loads only when something is written) ----------------------------------------
def _state_dict(arch, weights, _history, out, _normalization):
    from engine.export import torch_formats
    return [torch_formats.export_state_dict(arch, weights, out)]


def _safetensors(arch, weights, _history, out, normalization):
    from engine.export import torch_formats
    return [torch_formats.export_safetensors(arch, weights, out, normalization=normalization)]


def _pixels(normalization, input):
    """The statistics to fold into a model that takes an input, or None for one taking normalised inputs."""
    return normalization if input == PIXELS else None


def _torchscript(arch, weights, _history, out, normalization, input):
    from engine.export import torch_formats
    return [torch_formats.export_torchscript(arch, weights, out, normalization=_pixels(normalization, input))]


def _onnx(arch, weights, _history, out, normalization, opset, input):
    from engine.export import onnx_format
    return [onnx_format.export_onnx(arch, weights, out, opset=opset, normalization=_pixels(normalization, input))]


def _python(arch, weights, _history, out, normalization, input):
    from engine.export import python_source
    return list(python_source.export_python(arch, weights, out, normalization=_pixels(normalization, input)))


def _filter_pngs(arch, weights, _history, out, _normalization):
    from engine.export import images
    return images.export_filter_pngs(arch, weights, out)


def _metrics_csv(_arch, _weights, history, out, _normalization):
    from engine.export import tables
    return [tables.export_metrics_csv(history, out)]


def _filters_gif(arch, _weights, _history, out, _normalization, layer, delay, run_folder):
    from engine.export import evolution
    return [evolution.export_filters_gif(arch, run_folder, out, layer=layer, frame_ms=delay)]


def _activations_gif(arch, _weights, _history, out, normalization, layer, probe, delay, run_folder):
    from engine.export import evolution
    from engine.export.target import ExportError
    from engine.inspection.probe_batch import ProbeBatchError, run_probe_sample
    try:
        sample, label = run_probe_sample(run_folder, normalization, probe)
    except ProbeBatchError as exc:
        raise ExportError(str(exc)) from None
    return [evolution.export_activations_gif(arch, run_folder, out, sample, layer=layer, frame_ms=delay,
                                             label=label)]


def _summary(style: str) -> Writer:
    def write(arch, _weights, _history, out, _normalization):
        from engine.export import tables
        return [tables.export_summary(arch, out, style=style)]
    return write


# Suffixes are the writers' own (tests/engine/test_export_formats.py checks they agree); spelled out here
# because importing the writers would import torch.
OPSET = ExportOption("opset", "ONNX opset", 17, "ONNX operator set version (17 to 20)", minimum=17, maximum=20)
PIXELS, NORMALIZED = "pixels", "normalized"
INPUT = ExportOption("input", "Model input", PIXELS,
                     "pixels: the model takes [0, 1] pixels and normalises them with the training statistics; "
                     "normalized: it takes inputs already normalised (the older variant)",
                     choices=(PIXELS, NORMALIZED))
FORMATS: tuple[ExportFormat, ...] = (
    ExportFormat("state-dict", "PyTorch state dict", "{stem}.pt", (".pt", ".pth"), NEEDS_WEIGHTS, _state_dict,
                 "FILE.pt", "PyTorch state dict (torch.save of a dict of tensors)"),
    ExportFormat("safetensors", "safetensors weights", "{stem}.safetensors", (".safetensors",), NEEDS_WEIGHTS,
                 _safetensors, "FILE.safetensors", "safetensors weights"),
    ExportFormat("torchscript", "TorchScript", "{stem}_scripted.pt", (".pt", ".pth", ".torchscript"), NEEDS_WEIGHTS,
                 _torchscript, "FILE.pt", "TorchScript (torch.jit.load, libtorch)", (INPUT,)),
    ExportFormat("onnx", "ONNX", "{stem}.onnx", (".onnx",), NEEDS_WEIGHTS, _onnx,
                 "FILE.onnx", "ONNX, opset 17 unless --opset says otherwise, dynamic batch size", (OPSET, INPUT)),
    ExportFormat("python", "Standalone Python module (+ .safetensors)", "{stem}.py", (".py",), NEEDS_WEIGHTS,
                 _python, "FILE.py", "standalone PyTorch module, weights written beside it as FILE.safetensors",
                 (INPUT,), beside=(".safetensors",)),
    ExportFormat("filters-png", "Filters as PNG (one per conv layer, in a folder)", "{stem}_filters", (),
                 NEEDS_WEIGHTS, _filter_pngs, "FOLDER", "one PNG of the filters per conv layer"),
    ExportFormat("metrics-csv", "Metrics history (CSV)", "{stem}_metrics.csv", (".csv",), NEEDS_HISTORY,
                 _metrics_csv, "FILE.csv", "training history as CSV"),
    ExportFormat("summary-md", "Layer summary (Markdown)", "{stem}_summary.md", (".md", ".markdown"), NEEDS_NOTHING,
                 _summary("md"), "FILE.md", "layer table as Markdown (no weights needed)"),
    ExportFormat("summary-csv", "Layer summary (CSV)", "{stem}_summary.csv", (".csv",), NEEDS_NOTHING,
                 _summary("csv"), "FILE.csv", "layer table as CSV (no weights needed)"),
)


GIF_LAYER = ExportOption("layer", "Layer", 0, "which layer, 1 = the first (filters-gif: a conv layer; 0 = the "
                         "first conv layer, or layer 1 for activations-gif)", minimum=0, maximum=10000)
FRAME_MS = ExportOption("delay", "Frame time (ms)", 200, "milliseconds each snapshot's frame shows",
                        minimum=20, maximum=10000)
PROBE = ExportOption("probe", "Probe sample", -1, "index of the validation image to show (-1: the run's probe)",
                     minimum=-1, maximum=10**9)
# Formats that need a run folder's snapshot timeline (the CLI; the window's Export dialog lists FORMATS).
TIMELINE_FORMATS: tuple[ExportFormat, ...] = (
    ExportFormat("filters-gif", "Filters over training (GIF)", "{stem}_filters.gif", (".gif",), NEEDS_TIMELINE,
                 _filters_gif, "FILE.gif", "a conv layer's filters at every snapshot, step on each frame",
                 (GIF_LAYER, FRAME_MS)),
    ExportFormat("activations-gif", "Activation maps over training (GIF)", "{stem}_activations.gif", (".gif",),
                 NEEDS_TIMELINE, _activations_gif, "FILE.gif",
                 "a layer's maps for the probe image at every snapshot, step on each frame", (GIF_LAYER, PROBE,
                                                                                              FRAME_MS)),
)


def all_formats() -> tuple[ExportFormat, ...]:
    """Every format the CLI offers (read at call time, so a format added to FORMATS is offered too)."""
    return FORMATS + TIMELINE_FORMATS


def by_key(key: str) -> ExportFormat:
    """The format named `key` (as the CLI spells it); KeyError naming the known ones otherwise."""
    for fmt in all_formats():
        if fmt.key == key:
            return fmt
    raise KeyError(f"no export format {key!r}; known: {', '.join(f.key for f in all_formats())}")
