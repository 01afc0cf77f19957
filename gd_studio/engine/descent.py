"""The descent runner: trains one step at a time, records each step, stops on divergence, snapshots exactly."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import datasets, models, optimizers, schedules
from . import fmt as _fmt
from .config import DESCENT_DIRECTION, RunConfig, check_lr
from .errors import ConfigError
from .sampling import BatchSampler

# A finite loss this many times the first one is called divergence: on a quadratic past 2/λ the loss
# grows geometrically, and waiting for float overflow would take hundreds of useless steps.
DIVERGENCE_FACTOR = 1e4

RECORD_FIELDS = ("step", "epoch", "lr", "loss", "grad_norm", "watched_value", "watched_grad",
                 "watched_next", "update_norm")


@dataclass(frozen=True)
class StepRecord:
    """What one step did. ``watched_value`` is before the update and ``watched_next`` after it."""

    step: int
    epoch: int
    lr: float
    loss: float
    grad_norm: float
    watched_value: float
    watched_grad: float
    watched_next: float
    update_norm: float
    val_loss: float | None = None


class History:
    """Bounded record of a run: the last ``recent`` rows at full resolution, older rows thinned evenly.

    Older rows are kept when their step is a multiple of a stride that doubles each time the older part
    fills up, so memory stays flat over millions of steps while the whole run remains drawable.
    """

    def __init__(self, fields: tuple[str, ...] = RECORD_FIELDS, recent: int = 4096, old: int = 4096) -> None:
        self.fields = tuple(fields)
        width = len(self.fields)
        self._recent = np.empty((recent, width))
        self._old = np.empty((old, width))
        self._n_recent = 0
        self._head = 0  # index of the oldest row in the recent ring
        self._n_old = 0
        self.stride = 1

    def __len__(self) -> int:
        return self._n_recent + self._n_old

    def append(self, row: tuple[float, ...]) -> None:
        cap = self._recent.shape[0]
        if self._n_recent == cap:
            oldest = self._recent[self._head]
            if int(oldest[0]) % self.stride == 0:
                self._push_old(oldest)
            self._recent[self._head] = row
            self._head = (self._head + 1) % cap
        else:
            self._recent[(self._head + self._n_recent) % cap] = row
            self._n_recent += 1

    def _push_old(self, row: np.ndarray) -> None:
        while self._n_old == self._old.shape[0]:
            # thin to every (2·stride)-th step; rows recorded every k steps may all survive one doubling
            # (validation every 10 steps is all multiples of 2), hence the loop until room is made
            self.stride *= 2
            keep = self._old[: self._n_old][self._old[: self._n_old, 0].astype(np.int64) % self.stride == 0]
            self._n_old = keep.shape[0]
            self._old[: self._n_old] = keep
        if int(row[0]) % self.stride:
            return
        self._old[self._n_old] = row
        self._n_old += 1

    def _recent_rows(self) -> np.ndarray:
        cap = self._recent.shape[0]
        order = (self._head + np.arange(self._n_recent)) % cap
        return self._recent[order]

    def rows(self) -> np.ndarray:
        """All kept rows in step order, as a fresh (n, len(fields)) array."""
        return np.concatenate([self._old[: self._n_old], self._recent_rows()])

    def columns(self) -> dict[str, np.ndarray]:
        rows = self.rows()
        return {name: rows[:, i].copy() for i, name in enumerate(self.fields)}

    def last(self, n: int) -> np.ndarray:
        """The last n full-resolution rows (fewer if fewer are kept)."""
        rows = self._recent_rows()
        return rows[-n:] if n else rows[:0]

    def truncate(self, step: int) -> None:
        """Forget every row whose step is greater than ``step`` (used when the run steps back)."""
        old = self._old[: self._n_old]
        self._n_old = int(np.count_nonzero(old[:, 0] <= step))
        recent = self._recent_rows()
        recent = recent[recent[:, 0] <= step]
        self._n_recent = recent.shape[0]
        self._head = 0
        self._recent[: self._n_recent] = recent


@dataclass(frozen=True)
class RunnerState:
    """Everything that determines the rest of a run; restoring it continues bit for bit."""

    params: np.ndarray
    optimizer: dict
    sampler: dict
    schedule: Any
    step_count: int
    first_loss: float | None
    stopped: bool
    stop_reason: str | None
    last_val_loss: float | None


class Runner:
    """Drives gradient descent one step at a time; owned by one thread (the window's worker)."""

    def __init__(self, model: models.Model, train: datasets.Dataset, params: np.ndarray, *,
                 optimizer: str = "sgd", optimizer_params: dict | None = None,
                 schedule: schedules.Schedule | None = None, lr: float = 0.1, batch_size: int = 32,
                 seed: int = 0, watch: int | str | None = 0, val: datasets.Dataset | None = None,
                 val_every: int = 10, history_recent: int = 4096, history_old: int = 4096) -> None:
        self.model = model
        self.train = train
        self.val = val
        self.val_every = max(1, int(val_every))
        self._params = np.array(params, dtype=np.float64, copy=True)
        if self._params.shape != (model.n_params,):
            raise ConfigError(f"parameters: expected {model.n_params} values, got {self._params.size}")
        self.optimizer = optimizers.make(optimizer, model.n_params, **(optimizer_params or {}))
        self.schedule = schedule if schedule is not None else schedules.make("constant", check_lr(lr))
        self.sampler = BatchSampler(train.n_samples, batch_size, seed)
        if isinstance(watch, str):
            watch = None if watch == DESCENT_DIRECTION else model.index_of(watch)
        self.watch: int | None = watch
        self.step_count = 0
        self.first_loss: float | None = None
        self.stopped = False
        self.stop_reason: str | None = None
        self.last_val_loss: float | None = None
        self.history = History(RECORD_FIELDS, history_recent, history_old)
        self.val_history = History(("step", "val_loss"), history_recent, history_old)

    # -- state -------------------------------------------------------------------------------
    @property
    def params(self) -> np.ndarray:
        return self._params.copy()

    @property
    def lr(self) -> float:
        """The learning rate the next step will use."""
        return float(self.schedule(self.step_count))

    @property
    def epoch(self) -> int:
        return self.sampler.epoch

    def set_lr(self, lr: float) -> None:
        """Change the learning rate from the next step on (a schedule keeps its shape, rescaled)."""
        self.schedule = self.schedule.with_base_lr(check_lr(lr))

    def set_watch(self, watch: int | str | None) -> None:
        if isinstance(watch, str):
            watch = None if watch == DESCENT_DIRECTION else self.model.index_of(watch)
        self.watch = watch

    def snapshot(self) -> RunnerState:
        return RunnerState(self._params.copy(), self.optimizer.state_dict(), self.sampler.state(),
                           self.schedule, self.step_count, self.first_loss, self.stopped,
                           self.stop_reason, self.last_val_loss)

    def restore(self, state: RunnerState, *, truncate_history: bool = True) -> None:
        self._params = state.params.copy()
        self.optimizer.load_state_dict(state.optimizer)
        self.sampler.set_state(state.sampler)
        self.schedule = state.schedule
        self.step_count = state.step_count
        self.first_loss = state.first_loss
        self.stopped = state.stopped
        self.stop_reason = state.stop_reason
        self.last_val_loss = state.last_val_loss
        if truncate_history:
            self.history.truncate(state.step_count)
            self.val_history.truncate(state.step_count)

    # -- stepping ----------------------------------------------------------------------------
    def _stop(self, reason: str) -> None:
        self.stopped = True
        self.stop_reason = reason

    def step(self) -> StepRecord | None:
        """Take one step; None once the run has stopped (``stop_reason`` says why)."""
        if self.stopped:
            return None
        step = self.step_count + 1
        lr = self.lr
        idx = self.sampler.next()
        if self.sampler.full_batch:
            X, y = self.train.X, self.train.y
        else:
            X, y = self.train.X[idx], self.train.y[idx]
        p = self._params
        with np.errstate(all="ignore"):
            loss, grad = self.model.loss_and_grad(p, X, y)
            grad_norm = math.sqrt(float(grad @ grad))
            if not (math.isfinite(loss) and math.isfinite(grad_norm)):
                self._stop(f"diverged at step {step}, lr = {_fmt.fmt_lr(lr)} (the loss is no longer a finite number)")
                return None
            if self.first_loss is None:
                self.first_loss = loss
            elif loss > DIVERGENCE_FACTOR * max(self.first_loss, 1e-12):
                self._stop(f"diverged at step {step}, lr = {_fmt.fmt_lr(lr)} (the loss grew "
                           f"{loss / max(self.first_loss, 1e-12):.3g}× above its start)")
                return None
            new_p = self.optimizer.step(p, grad, lr)
            delta = new_p - p
            update_norm = math.sqrt(float(delta @ delta))
            if not math.isfinite(update_norm):
                self._stop(f"diverged at step {step}, lr = {_fmt.fmt_lr(lr)} (the weights overflowed)")
                return None
        if self.watch is None:  # position along the descent direction −g/|g|, which starts at 0
            unit = -grad / grad_norm if grad_norm > 0 else grad
            watched, watched_grad, watched_next = 0.0, -grad_norm, float(delta @ unit)
        else:
            watched, watched_grad, watched_next = float(p[self.watch]), float(grad[self.watch]), \
                float(new_p[self.watch])
        self._params = new_p
        self.step_count = step
        val_loss = None
        if self.val is not None and step % self.val_every == 0:
            val_loss = self.model.loss(new_p, self.val.X, self.val.y)
            if math.isfinite(val_loss):
                self.last_val_loss = val_loss
                self.val_history.append((step, val_loss))
            else:
                val_loss = None
        epoch = self.sampler.epoch
        self.history.append((step, epoch, lr, loss, grad_norm, watched, watched_grad, watched_next,
                             update_norm))
        return StepRecord(step, epoch, lr, loss, grad_norm, watched, watched_grad, watched_next,
                          update_norm, val_loss)

    def run(self, n: int) -> list[StepRecord]:
        """Up to n steps; fewer if the run stops."""
        out = []
        for _ in range(int(n)):
            record = self.step()
            if record is None:
                break
            out.append(record)
        return out

    def full_loss(self) -> float:
        """Loss of the current parameters on the whole training set."""
        return self.model.loss(self._params, self.train.X, self.train.y)


@dataclass
class Session:
    """A run built from a RunConfig: the data, the model, the starting weights and the runner."""

    config: RunConfig
    dataset: datasets.Dataset
    train: datasets.Dataset
    val: datasets.Dataset | None
    model: models.Model
    initial_params: np.ndarray
    runner: Runner
    notes: list[str] = field(default_factory=list)

    def reset(self, seed: int | None = None) -> "Session":
        """A fresh run from the same data and model: the same initial weights, or new ones for a seed."""
        config = self.config if seed is None else self.config.replace(seed=int(seed))
        return build(config, dataset=self.dataset)


def load_dataset(config: RunConfig) -> datasets.Dataset:
    """The dataset a config names: a CSV file, or a generator/bundled set with its parameters."""
    if config.data_path:
        # a CSV's own guesses can be overridden from dataset_params (the generators' keys do not apply)
        options = {k: config.dataset_params[k] for k in ("task", "header") if k in config.dataset_params}
        return datasets.load_csv(config.data_path, target=config.target, **options)
    return datasets.make(config.dataset, **config.dataset_params)


def build(config: RunConfig, dataset: datasets.Dataset | None = None) -> Session:
    """Build everything a run needs from a RunConfig (raises a GDStudioError subclass on bad settings).

    ``dataset`` skips loading (e.g. a CSV already read); standardisation and the split still apply.
    """
    config.validate()
    data = dataset if dataset is not None else load_dataset(config)
    notes: list[str] = list(data.notes)  # what a CSV reader guessed, and how to override it
    work = data
    if config.standardize:
        work, _, _ = datasets.standardize(work)
    train, val = datasets.train_val_split(work, config.val_fraction, seed=config.seed)
    n_outputs = 1 if data.task == "regression" else data.n_classes
    loss = config.loss
    if data.task == "regression" and loss == "cross_entropy":
        raise ConfigError(f"loss: cross entropy needs classes, but {data.name or 'this dataset'} is "
                          "a regression dataset; use mse")
    if data.task == "classification" and loss == "mse":
        raise ConfigError(f"loss: mse is for regression, but {data.name or 'this dataset'} has "
                          f"{data.n_classes} classes; use cross_entropy or squared_error")
    model = models.make(config.model, data.n_features, n_outputs, hidden=config.hidden,
                        activation=config.activation, loss=loss)
    if model.n_params > 50 * train.n_samples * n_outputs:
        notes.append(f"{model.n_params:,} parameters for {train.n_samples} training samples: "
                     "expect the model to memorise rather than generalise")
    params = model.init_params(config.seed)
    watch: int | str | None = config.watch or 0
    if config.watch and config.watch != DESCENT_DIRECTION and config.watch not in model.param_names:
        notes.append(f"watched weight {config.watch!r} is not in this model; watching "
                     f"{model.param_names[0]} instead")
        watch = 0
    schedule = schedules.make(config.schedule, config.lr, **config.schedule_params)
    runner = Runner(model, train, params, optimizer=config.optimizer,
                    optimizer_params=config.optimizer_params, schedule=schedule,
                    batch_size=config.batch_size, seed=config.seed, watch=watch, val=val,
                    val_every=config.val_every)
    return Session(config, data, train, val, model, params.copy(), runner, notes)
