"""Training settings: one frozen TrainConfig, validated, with a JSON-ready dict form for project files."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULES = ("constant", "step", "cosine", "onecycle")
# One range per setting, the same for the CLI, settings.json and the window (whose spin boxes are 32-bit).
SEED_MAX = 2**31 - 1
THREADS_MAX = 256
SNAPSHOT_BUDGET_MAX = 1_000_000  # MB (a terabyte)
DEVICES = ("auto", "cpu", "cuda", "mps")
AUGMENTATIONS = ("crop", "flip", "affine", "cutout")
EARLY_STOP_METRICS = ("val_loss", "val_accuracy")
EVALUATION_BATCH = 1000  # images per no-gradient validation batch (engine/scoring/evaluation.py; its memory is estimated)
KEEP = ("auto", "best", "last")  # applied in this order (engine/training/augmentation.py)


class ConfigError(ValueError):
    """A setting with an impossible value; the message names the setting."""


def augment_operations(text: str) -> tuple[str, ...] | None:
    """`augment` as operations in their order: None for "default" (the dataset decides), () for "none";
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


@dataclass(frozen=True)
class TrainConfig:
    dataset: str = "mnist"            # bundled/downloaded name or a path
    optimizer: str = "adam"           # adam | adamw (decoupled weight decay) | sgd | rmsprop
    learning_rate: float = 1e-3       # the peak rate: the schedule scales it per step (engine/training/schedules.py)
    momentum: float = 0.9             # SGD and RMSprop only
    batch_size: int = 64
    epochs: int = 5
    weight_decay: float = 0.0
    seed: int = 0
    device: str = "auto"              # "auto" picks CUDA > MPS > CPU
    val_fraction: float = 0.2
    snapshot_interval: float = 0.5    # seconds of wall-clock time between live snapshots
    threads: int = 0                  # torch intra-op threads; 0 = choose automatically
    snapshot_budget_mb: int = 300     # MB of disk for the run folder's snapshot timeline (engine/run_folder/timeline.py)
    nesterov: bool = False            # SGD only: Nesterov momentum (needs momentum > 0)
    schedule: str = "constant"        # constant | step | cosine | onecycle, per optimiser step
    step_size: int = 1                # step: epochs between multiplications by `gamma`
    gamma: float = 0.1                # step: the factor
    warmup_epochs: int = 0            # linear warm-up from learning_rate / (steps + 1) (onecycle: its rise)
    label_smoothing: float = 0.0      # cross-entropy label smoothing, 0 = none
    clip_grad: float = 0.0            # maximum L2 norm of all gradients together, 0 = no clipping
    augment: str = "default"          # none | default (chosen by dataset) | a list such as "crop,flip,cutout"
    early_stop: int = 0               # patience: stop after this many epochs without improvement; 0 = never
    early_stop_metric: str = "val_loss"  # val_loss | val_accuracy (what "improvement" means, and "best")
    keep: str = "auto"                # weights at the end: best epoch's | last; auto = best when early stopping
    mixed_precision: bool = True      # CUDA only: autocast in bf16 (else fp16 with loss scaling)
    channels_last: bool = True        # CUDA only: NHWC memory format for conv nets

    def __post_init__(self) -> None:
        problems = []
        for name in ("learning_rate", "momentum", "weight_decay", "val_fraction", "snapshot_interval", "gamma",
                     "label_smoothing", "clip_grad"):
            value = getattr(self, name)
            if isinstance(value, float) and not math.isfinite(value):
                problems.append(f"{name} must be a finite number, not {value}")
        if problems:  # the range checks below would read NaN comparisons as passing or failing by luck
            raise ConfigError("; ".join(problems))
        if self.optimizer not in OPTIMIZERS:
            problems.append(f"optimizer must be one of {', '.join(OPTIMIZERS)}, not {self.optimizer!r}")
        if self.device not in DEVICES:
            problems.append(f"device must be one of {', '.join(DEVICES)}, not {self.device!r}")
        if not 0 < self.learning_rate <= 10:
            problems.append(f"learning_rate must be in (0, 10], not {self.learning_rate}")
        if not 0 <= self.momentum < 1:
            problems.append(f"momentum must be in [0, 1), not {self.momentum}")
        if not 1 <= self.batch_size <= 65536:
            problems.append(f"batch_size must be 1 to 65536, not {self.batch_size}")
        if not 1 <= self.epochs <= 10000:
            problems.append(f"epochs must be 1 to 10000, not {self.epochs}")
        if not 0 <= self.weight_decay < 1:
            problems.append(f"weight_decay must be in [0, 1), not {self.weight_decay}")
        if not 0 < self.val_fraction < 1:
            problems.append(f"val_fraction must be between 0 and 1, not {self.val_fraction}")
        if self.snapshot_interval < 0:
            problems.append(f"snapshot_interval must be >= 0 seconds, not {self.snapshot_interval}")
        if not 1 <= self.snapshot_budget_mb <= SNAPSHOT_BUDGET_MAX:
            problems.append(f"snapshot_budget_mb must be 1 to {SNAPSHOT_BUDGET_MAX:,} MB, not {self.snapshot_budget_mb}")
        if not 0 <= self.threads <= THREADS_MAX:
            problems.append(f"threads must be 0 (automatic) to {THREADS_MAX}, not {self.threads}")
        if not 0 <= self.seed <= SEED_MAX:
            problems.append(f"seed must be 0 to {SEED_MAX:,}, not {self.seed}")
        problems += self._practice_problems()
        if problems:
            raise ConfigError("; ".join(problems))

    def _practice_problems(self) -> list[str]:
        """The schedule, regularisation and optimiser-detail settings (issue 14)."""
        problems = []
        if self.schedule not in SCHEDULES:
            problems.append(f"schedule must be one of {', '.join(SCHEDULES)}, not {self.schedule!r}")
        if not 1 <= self.step_size <= 10000:
            problems.append(f"step_size must be 1 to 10000 epochs, not {self.step_size}")
        if not 0 < self.gamma <= 1:
            problems.append(f"gamma must be in (0, 1], not {self.gamma}")
        if not 0 <= self.warmup_epochs <= 10000:
            problems.append(f"warmup_epochs must be 0 to 10000, not {self.warmup_epochs}")
        if not 0 <= self.label_smoothing < 1:
            problems.append(f"label_smoothing must be in [0, 1), not {self.label_smoothing}")
        if not 0 <= self.clip_grad <= 1e6:
            problems.append(f"clip_grad must be 0 (off) to 1e6, not {self.clip_grad}")
        if not 0 <= self.early_stop <= 10000:
            problems.append(f"early_stop must be 0 (off) to 10000 epochs, not {self.early_stop}")
        if self.early_stop_metric not in EARLY_STOP_METRICS:
            problems.append(f"early_stop_metric must be one of {', '.join(EARLY_STOP_METRICS)}, "
                            f"not {self.early_stop_metric!r}")
        if self.keep not in KEEP:
            problems.append(f"keep must be one of {', '.join(KEEP)}, not {self.keep!r}")
        try:
            augment_operations(self.augment)
        except ValueError as exc:
            problems.append(str(exc))
        if self.nesterov and self.optimizer == "sgd" and self.momentum == 0:
            problems.append("nesterov needs momentum > 0 (set momentum, or turn nesterov off)")
        return problems

    def replace(self, **changes: Any) -> "TrainConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> "TrainConfig":
        """Settings from a project file; unknown keys are refused, missing keys take defaults."""
        if not isinstance(data, dict):
            raise ConfigError("training settings must be an object")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise ConfigError(f"unknown training setting {unknown[0]!r}")
        values = {}
        for name, value in data.items():
            expected = type(getattr(cls(), name))
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if type(value) is not expected:
                raise ConfigError(f"training setting {name!r} must be {expected.__name__}, got {value!r}")
            values[name] = value
        return cls(**values)
