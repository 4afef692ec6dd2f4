"""Training settings: one frozen TrainConfig, validated, with a JSON-ready dict form for project files."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

OPTIMIZERS = ("adam", "sgd")
# One range per setting, the same for the CLI, settings.json and the window (whose spin boxes are 32-bit).
SEED_MAX = 2**31 - 1
THREADS_MAX = 256
SNAPSHOT_BUDGET_MAX = 1_000_000  # MB (a terabyte)
DEVICES = ("auto", "cpu", "cuda", "mps")


class ConfigError(ValueError):
    """A setting with an impossible value; the message names the setting."""


@dataclass(frozen=True)
class TrainConfig:
    dataset: str = "mnist"            # bundled/downloaded name or a path
    optimizer: str = "adam"           # "adam" | "sgd" (SGD uses `momentum`)
    learning_rate: float = 1e-3
    momentum: float = 0.9
    batch_size: int = 64
    epochs: int = 5
    weight_decay: float = 0.0
    seed: int = 0
    device: str = "auto"              # "auto" picks CUDA > MPS > CPU
    val_fraction: float = 0.2
    snapshot_interval: float = 0.5    # seconds of wall-clock time between live snapshots
    threads: int = 0                  # torch intra-op threads; 0 = choose automatically
    snapshot_budget_mb: int = 300     # MB of disk for the run folder's snapshot timeline (engine/run_folder/timeline.py)

    def __post_init__(self) -> None:
        problems = []
        for name in ("learning_rate", "momentum", "weight_decay", "val_fraction", "snapshot_interval"):
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
