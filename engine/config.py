"""Training settings: one frozen TrainConfig whose class body describes every setting once.

Each field carries a `Setting` (range, unit, title, help, group, command-line flags, what 0 means, when the
window shows it); `SETTINGS` reads them back in order. TrainConfig's checks, the window's training form
(gui/training/training_form.py), the flags of `train` and `experiment` (engine/cli/setting_flags.py) and
docs/training-settings.md (engine/cli/settings_table.py) are all made from it, so adding a setting is one field
here.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import re
from dataclasses import dataclass
from typing import Any, Callable

# The window's spin boxes are 32-bit: the seed's range is the one they hold, for the CLI and settings.json too.
SEED_MAX = 2**31 - 1
THREADS_MAX = 256
SNAPSHOT_BUDGET_MAX = 1_000_000  # MB (a terabyte)
AUGMENTATIONS = ("crop", "flip", "affine", "cutout")  # applied in this order (engine/training/augmentation.py)
EVALUATION_BATCH = 1000  # images per no-gradient validation batch (engine/scoring/evaluation.py; its memory is estimated)

KIND_WORDS = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}


class ConfigError(ValueError):
    """A setting with an impossible value; the message names the setting."""


def augment_operations(text: str) -> tuple[str, ...] | None:
    """`augment` as operations in their order: None for "default" (the dataset's recommended set, decided by
    engine/training/augmentation.py), () for "none" (the default);
    ValueError naming the setting for anything else."""
    if text == "default":
        return None
    if text == "none":
        return ()
    names = [part.strip() for part in text.split(",")]
    unknown = [name for name in names if name not in AUGMENTATIONS]
    if unknown or not names:
        raise ValueError(f"augment must be none, default or a comma-separated list of "
                         f"{', '.join(AUGMENTATIONS)}, not {text[:60]!r}")
    return tuple(name for name in AUGMENTATIONS if name in names)


def number_text(value: float) -> str:
    """A range end as people write it: 10, 0.001, 1e6, 65536, 2,147,483,647 (digits grouped from six on)."""
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 100_000 else str(value)
    return re.sub(r"e([+-])0*(\d)", lambda m: "e" + m[1].lstrip("+") + m[2], f"{value:g}")


@dataclass(frozen=True)
class Setting:
    """One training setting, described once. `name` and `default` come from its TrainConfig field."""

    title: str                 # the form's label (a check box's text)
    help: str                  # what it does, in a sentence or two: the tooltip, --help, the docs table
    group: str                 # the form's section heading; the docs table follows the same order
    flags: tuple[str, ...]     # command-line spellings (`train`, `experiment`); a bool's gets --no-... too
    metavar: str | None = None
    low: float | None = None   # numbers: the range; None is unbounded on that side
    high: float | None = None
    low_open: bool = False     # True: `low` itself is outside the range
    high_open: bool = False
    unit: str = ""             # "epochs", "MB", "seconds": messages, the form's suffix, the docs
    zero: str = ""             # what 0 means ("off", "automatic", "none"): the form shows this word at 0
    choices: tuple[tuple[str, str], ...] = ()  # (value, title): the only values allowed
    presets: tuple[tuple[str, str], ...] = ()  # (value, title): offered in the form; `check` judges any value
    check: Callable[[Any], object] | None = None  # raises ValueError, with a message naming the setting
    shown_when: tuple[str, tuple[str, ...]] | None = None  # (setting, values): the form shows the row only then
    in_form: bool = True       # False: the window keeps the value it was given (settings.json, CLI)
    log_scale: bool = False    # the form's arrows step 1, 2, 5, 10 ... (rates spanning decades)
    step: float = 1            # the form's arrow step on a linear scale
    details: str = ""          # the docs table's longer account, after `help`
    name: str = ""
    default: Any = None

    @property
    def kind(self) -> type:
        return type(self.default)

    def choice_keys(self) -> tuple[str, ...]:
        return tuple(key for key, _ in self.choices)

    def range_text(self) -> str:
        """`in (0, 10]`, `1 to 65536`, `0 (off) to 1e6`, `at least 0 seconds`: closed ranges read as words."""
        unit = f" {self.unit}" if self.unit else ""
        low = None if self.low is None else number_text(self.low)
        high = None if self.high is None else number_text(self.high)
        if high is None:
            return f"{'more than' if self.low_open else 'at least'} {low}{unit}"
        if low is None:
            return f"{'less than' if self.high_open else 'at most'} {high}{unit}"
        if self.low_open or self.high_open:
            return f"in {'(' if self.low_open else '['}{low}, {high}{')' if self.high_open else ']'}{unit}"
        zero = f" ({self.zero})" if self.zero and self.low == 0 else ""
        return f"{low}{zero} to {high}{unit}"

    def contains(self, value: float) -> bool:
        above = self.low is None or (value > self.low if self.low_open else value >= self.low)
        below = self.high is None or (value < self.high if self.high_open else value <= self.high)
        return above and below

    def takes_kind_of(self, value: Any) -> bool:
        """True for a value of this setting's type; a whole number is a number too, a bool never one."""
        if isinstance(value, bool) or self.kind is bool:
            return isinstance(value, bool) and self.kind is bool
        if self.kind is float:
            return isinstance(value, numbers.Real)
        return isinstance(value, numbers.Integral if self.kind is int else self.kind)

    def problem(self, value: Any) -> str | None:
        """Why `value` is not allowed, naming this setting, the values allowed and `value`; None if it is."""
        if not self.takes_kind_of(value):
            return f"{self.name} must be {KIND_WORDS[self.kind]}, not {value!r:.60}"
        numeric = self.kind in (int, float)
        if numeric and not isinstance(value, numbers.Integral) and not math.isfinite(value):
            return f"{self.name} must be a finite number, not {value}"  # NaN passes and fails comparisons by luck
        if numeric and not self.contains(value):
            return f"{self.name} must be {self.range_text()}, not {value}"
        if self.choices and value not in self.choice_keys():
            return f"{self.name} must be one of {', '.join(self.choice_keys())}, not {value!r}"
        if self.check is not None:
            try:
                self.check(value)
            except ValueError as exc:
                return str(exc)
        return None


def setting(default: Any, title: str, help: str, group: str, flags: tuple[str, ...], **details: Any) -> Any:
    """A TrainConfig field described by a Setting (read back through SETTINGS)."""
    return dataclasses.field(default=default, metadata={"setting": Setting(title, help, group, flags, **details)})


AFTER_SGD = ("optimizer", ("sgd", "rmsprop"))


@dataclass(frozen=True)
class TrainConfig:
    """The settings of one run, in the window's order (SETTINGS reads the descriptions back)."""

    dataset: str = setting(
        "mnist", "Dataset", "The images to train on: mnist, fashion-mnist, shapes-rgb (bundled), a downloaded set "
        "(mnist-full, fashion-mnist-full, cifar10) or a path (.npz, IDX/CIFAR/image folder); its image shape becomes "
        "the network's input", "Dataset", ("--dataset",), metavar="NAME_OR_PATH")
    val_fraction: float = setting(
        0.2, "Validation fraction", "Share of the training images held out for validation (the seed draws which)",
        "Dataset", ("--val-fraction",), metavar="FRACTION", low=0.0, high=1.0, low_open=True, high_open=True,
        in_form=False)

    optimizer: str = setting(
        "adam", "Optimiser", "How each step turns the gradients into weight changes (Adam adapts the step size per "
        "weight; SGD takes the plain gradient, with optional momentum)", "Optimiser", ("--optimizer",),
        choices=(("adam", "Adam"), ("adamw", "AdamW (decoupled weight decay)"), ("sgd", "SGD"),
                 ("rmsprop", "RMSprop")),
        details="torch's own classes. `adamw` decays the weights themselves (decoupled); the others add the weight "
                "decay as an L2 term to the gradient")
    learning_rate: float = setting(
        1e-3, "Learning rate", "Step size of the optimiser (Adam: about 0.001; SGD: 0.01-0.1), the peak the "
        "schedule scales", "Optimiser", ("--lr", "--learning-rate"), metavar="LR", low=0.0, high=10.0,
        low_open=True, log_scale=True, details="engine/training/schedules.py has the formula of each schedule")
    momentum: float = setting(
        0.9, "Momentum", "SGD and RMSprop: how much of the previous step carries over", "Optimiser", ("--momentum",),
        low=0.0, high=1.0, high_open=True, zero="none", step=0.05, shown_when=AFTER_SGD)
    nesterov: bool = setting(
        False, "Nesterov momentum", "SGD: look ahead along the momentum before taking the gradient (needs "
        "momentum > 0)", "Optimiser", ("--nesterov",), shown_when=("optimizer", ("sgd",)))
    weight_decay: float = setting(
        0.0, "Weight decay", "Penalty on large weights: an L2 term added to the gradient (AdamW: the weights shrink "
        "themselves, decoupled)", "Optimiser", ("--weight-decay",), low=0.0, high=1.0, high_open=True, zero="none",
        log_scale=True)

    schedule: str = setting(
        "constant", "Schedule", "How the learning rate changes over the run, per optimiser step", "Schedule",
        ("--schedule",),
        choices=(("constant", "Constant"), ("step", "Step decay"), ("cosine", "Cosine"), ("onecycle", "One-cycle")),
        details="torch's `lr_scheduler` classes. `step` multiplies it by the decay factor (`--gamma`) every "
                "`--step-size` epochs; `cosine` falls to 0 over the run; `onecycle` rises from lr/25 to `--lr` and "
                "falls to lr/250,000 (momentum left as set)")
    step_size: int = setting(
        1, "Decay every", "Step schedule: epochs between multiplications of the learning rate by the decay factor",
        "Schedule", ("--step-size",), metavar="EPOCHS", low=1, high=10000, unit="epochs",
        shown_when=("schedule", ("step",)))
    gamma: float = setting(
        0.1, "Decay factor", "Step schedule: the factor the learning rate is multiplied by", "Schedule",
        ("--gamma",), low=0.0, high=1.0, low_open=True, log_scale=True, shown_when=("schedule", ("step",)))
    warmup_epochs: int = setting(
        0, "Warm-up epochs", "Raise the learning rate linearly over these first epochs (one-cycle: the length of its "
        "rise; 0 = none)", "Schedule", ("--warmup-epochs",), metavar="EPOCHS", low=0, high=10000,
        details="Step s uses lr x (s + 1) / (W + 1) for the first W steps")

    label_smoothing: float = setting(
        0.0, "Label smoothing", "Train towards 1 - e on the true class and e spread over all classes (0.1 is usual)",
        "Regularisation", ("--label-smoothing",), metavar="EPS", low=0.0, high=1.0, high_open=True, zero="none",
        step=0.05)
    clip_grad: float = setting(
        0.0, "Clip gradients", "Scale the gradients down when their total L2 norm exceeds this", "Regularisation",
        ("--clip-grad",), metavar="NORM", low=0.0, high=1e6, zero="off", step=0.5)
    augment: str = setting(
        "none", "Augmentation", "Random changes to the training images, drawn anew each batch (never to "
        "validation or test): none (the default), default (the dataset's recommended set: none for digits, crop + "
        "flip otherwise; it pays off in long runs) or a list of crop, flip, affine, cutout", "Regularisation",
        ("--augment",), metavar="none|default|crop,flip,affine,cutout", check=augment_operations,
        presets=(("none", "None"), ("default", "Recommended for the dataset (pays off in long runs, ~30 epochs)"),
                 ("crop,flip", "Crop + flip"), ("crop,flip,cutout", "Crop + flip + cutout"),
                 ("crop,flip,affine,cutout", "Crop, flip, affine, cutout")),
        details="Off unless chosen: on Fashion-MNIST crop + flip cost the typical short run about 5 points "
                "(LeNet-5, 8 epochs: 0.793 against 0.846 without; the small VGG, 12 epochs: 0.865 against 0.890) "
                "and pay off only around 30 epochs (0.895). A list is applied on the device as batched tensor "
                "operations with their own seeded generator, in this order: `crop` pads 2 black pixels and cuts at "
                "a random offset, `flip` mirrors half the images, `affine` rotates up to 10 degrees, shifts up to "
                "10% and scales by 0.9-1.1, `cutout` blanks a quarter-side square to the mean colour. `default` "
                "(what it meant when it was the default, so files saved with it train as they did) is none for "
                "MNIST and IDX digit folders, crop + flip for Fashion-MNIST, CIFAR-10, colour `.npz` files and "
                "image folders")

    early_stop: int = setting(
        0, "Patience", "Stop after this many epochs without a better validation score", "Early stopping",
        ("--early-stop",), metavar="PATIENCE", low=0, high=10000, unit="epochs", zero="off",
        details="Epochs in a row, judged by `--early-stop-metric`: strictly better, so the first epoch to reach "
                "the best wins")
    early_stop_metric: str = setting(
        "val_loss", "Watch", "What 'better' means for early stopping and for the best epoch", "Early stopping",
        ("--early-stop-metric",), choices=(("val_loss", "Validation loss"), ("val_accuracy", "Validation accuracy")),
        details="`val_loss`: lower is better; `val_accuracy`: higher is better")
    keep: str = setting(
        "auto", "Weights kept", "Which weights the run ends with and saves: the best epoch's or the last",
        "Early stopping", ("--keep",),
        choices=(("auto", "Best when stopping early, else last"), ("best", "Best epoch's"), ("last", "Last epoch's")))

    batch_size: int = setting(
        64, "Batch size", "Images per optimiser step (under torchrun: in all, split across the ranks)", "Run",
        ("--batch-size",), low=1, high=65536)
    epochs: int = setting(5, "Epochs", "Passes over the training split", "Run", ("--epochs",), low=1, high=10000)
    seed: int = setting(
        0, "Seed", "Seeds the weight initialisation, the shuffling and the train/validation split", "Run",
        ("--seed",), low=0, high=SEED_MAX)
    device: str = setting(
        "auto", "Device", "Where training computes: Automatic takes a GPU when there is one (CUDA, then MPS)",
        "Run", ("--device",),
        choices=(("auto", "Automatic"), ("cpu", "CPU"), ("cuda", "CUDA GPU"), ("mps", "Apple GPU (MPS)")))
    mixed_precision: bool = setting(
        True, "Mixed precision (CUDA)", "On a CUDA GPU: compute in bfloat16 (float16 with loss scaling where the GPU "
        "lacks it); the weights stay float32. No effect elsewhere", "Run", ("--mixed-precision",),
        details="The forward pass and the loss run under `torch.autocast`; CPU and MPS train in float32 whatever "
                "this says")
    channels_last: bool = setting(
        True, "Channels-last layout (CUDA)", "On a CUDA GPU: lay conv nets' tensors out as NHWC, which tensor cores "
        "read fastest. No effect elsewhere", "Run", ("--channels-last",))
    threads: int = setting(
        0, "Threads", "torch's CPU threads for training (0: chosen for the machine)", "Run", ("--threads",), low=0, high=THREADS_MAX, zero="automatic",
        in_form=False)
    snapshot_interval: float = setting(
        0.5, "Snapshot interval", "Wall-clock time between the live snapshots the window draws", "Run",
        ("--snapshot-interval",), metavar="SECONDS", low=0.0, unit="seconds", in_form=False)
    snapshot_budget_mb: int = setting(
        300, "Snapshot budget", "Disk for the run folder's snapshot timeline (engine/run_folder/timeline.py)", "Run",
        ("--snapshot-budget",), metavar="MB", low=1, high=SNAPSHOT_BUDGET_MAX, unit="MB", in_form=False)

    def __post_init__(self) -> None:
        problems = [p for s in SETTINGS.values() if (p := s.problem(getattr(self, s.name))) is not None]
        if self.nesterov and self.optimizer == "sgd" and self.momentum == 0:
            problems.append("nesterov needs momentum > 0 (set momentum, or turn nesterov off)")
        if problems:
            raise ConfigError("; ".join(problems))

    def replace(self, **changes: Any) -> "TrainConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> "TrainConfig":
        """Settings from a project file; unknown keys are refused, missing keys take defaults."""
        if not isinstance(data, dict):
            raise ConfigError("training settings must be an object")
        unknown = sorted(set(data) - set(SETTINGS))
        if unknown:
            raise ConfigError(f"unknown training setting {unknown[0]!r}")
        return cls(**{name: _as_read(SETTINGS[name], value) for name, value in data.items()})


def _as_read(setting: Setting, value: Any) -> Any:
    """JSON writes 1.0 as 1: a whole number is a float setting's number too (one too large for a float stays,
    and its range refuses it)."""
    if setting.kind is float and type(value) is int and abs(value) < 2**1000:
        return float(value)
    return value

SETTINGS: dict[str, Setting] = {
    f.name: dataclasses.replace(f.metadata["setting"], name=f.name, default=f.default)
    for f in dataclasses.fields(TrainConfig)}
DEVICES = SETTINGS["device"].choice_keys()  # `evaluate --device` offers the same
