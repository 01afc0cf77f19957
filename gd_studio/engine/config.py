"""RunConfig: the plain, JSON-able description of a run that the panel, the worker and scenarios share."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from .errors import ConfigError

MODEL_KINDS = ("one_weight", "linear", "logistic", "mlp")
ACTIVATIONS = ("tanh", "relu", "sigmoid")
LOSSES = ("squared_error", "cross_entropy", "mse")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam")
SCHEDULES = ("constant", "step", "exponential", "linear", "triangular", "one_cycle")
DESCENT_DIRECTION = "descent direction"
MAX_LR = 1e3  # typed LRs above this are refused: nothing learns there, and 1e6 should say so, not run


@dataclass(frozen=True)
class RunConfig:
    """Everything needed to rebuild a run bit for bit."""

    dataset: str = "moons"
    dataset_params: dict = field(default_factory=lambda: {"n_samples": 200, "noise": 0.2})
    data_path: str | None = None  # a CSV file; when set, ``dataset`` is ignored
    target: str | None = None  # CSV target column (default: last)
    model: str = "mlp"
    hidden: tuple[int, ...] = (16,)
    activation: str = "tanh"
    loss: str = "cross_entropy"
    optimizer: str = "sgd"
    optimizer_params: dict = field(default_factory=dict)
    lr: float = 0.1
    schedule: str = "constant"
    schedule_params: dict = field(default_factory=dict)
    batch_size: int = 32  # 0 means full batch
    seed: int = 0
    watch: str = ""  # a model.param_names entry, DESCENT_DIRECTION, or "" for the first parameter
    standardize: bool = True
    val_fraction: float = 0.2
    val_every: int = 10

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        self.validate()

    def validate(self) -> None:
        if self.model not in MODEL_KINDS:
            raise ConfigError(f"model: unknown kind {self.model!r}; choose one of {', '.join(MODEL_KINDS)}")
        if self.activation not in ACTIVATIONS:
            raise ConfigError(f"activation: unknown {self.activation!r}; choose one of {', '.join(ACTIVATIONS)}")
        if self.loss not in LOSSES:
            raise ConfigError(f"loss: unknown {self.loss!r}; choose one of {', '.join(LOSSES)}")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"optimizer: unknown {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"schedule: unknown {self.schedule!r}; choose one of {', '.join(SCHEDULES)}")
        if self.model == "mlp" and (not self.hidden or any(h < 1 or h > 4096 for h in self.hidden)):
            raise ConfigError("hidden: an MLP needs one or more hidden layers, each of 1 to 4096 units")
        check_lr(self.lr, "lr")
        if not isinstance(self.batch_size, int) or self.batch_size < 0:
            raise ConfigError(f"batch size: must be a whole number ≥ 0 (0 = full batch), got {self.batch_size!r}")
        if not isinstance(self.seed, int) or not 0 <= self.seed < 2**32:
            raise ConfigError(f"seed: must be a whole number from 0 to 2^32−1, got {self.seed!r}")
        if not 0.0 <= float(self.val_fraction) < 0.9:
            raise ConfigError(f"validation fraction: must be in [0, 0.9), got {self.val_fraction!r}")
        if not isinstance(self.val_every, int) or self.val_every < 1:
            raise ConfigError(f"validation interval: must be a whole number ≥ 1, got {self.val_every!r}")

    def replace(self, **changes: Any) -> "RunConfig":
        return replace(self, **changes)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, data: dict) -> "RunConfig":
        if not isinstance(data, dict):
            raise ConfigError(f"run config: expected an object, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"run config: unknown field(s) {', '.join(unknown)}")
        try:
            return cls(**data)
        except TypeError as exc:
            raise ConfigError(f"run config: {exc}") from None


def check_lr(lr: Any, what: str = "learning rate") -> float:
    """A usable learning rate as float, or ConfigError saying why not."""
    try:
        value = float(lr)
    except (TypeError, ValueError):
        raise ConfigError(f"{what}: {lr!r} is not a number") from None
    if not math.isfinite(value):
        raise ConfigError(f"{what}: must be finite, got {lr!r}")
    if value <= 0:
        raise ConfigError(f"{what}: must be positive, got {value:g}")
    if value > MAX_LR:
        raise ConfigError(f"{what}: {value:g} is above the largest supported value {MAX_LR:g}")
    return value
