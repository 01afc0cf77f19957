"""Leslie Smith's LR range test, lag-free smoothing of its curve, and the learning rates it suggests."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from . import fmt as _fmt
from . import optimizers
from .config import MAX_LR, check_lr
from .errors import ConfigError, GDStudioError
from .sampling import BatchSampler

MODES = ("exp", "linear")
SUGGESTIONS = ("steepest", "valley", "minimum/10", "base_lr", "max_lr", "recommended")
# recommended: the LR where the loss blows up ÷ 20, else the LR at the smoothed minimum ÷ 10; chosen on
# tests/benchmarks/bench_suggestions.py (13 engine and 3 PyTorch task × optimizer combinations)
RECOMMENDED_BLOWUP_DIVISOR = 20.0
RECOMMENDED_MIN_DIVISOR = 10.0
BENCHMARK_TASKS = 16
# One sentence each, for the window and the command line; RULES says how each is computed (a tooltip).
EXPLANATIONS = {
    "steepest": "where the loss falls fastest (Smith's rule, as the article teaches)",
    "recommended": f"where a fixed training budget does best, measured on {BENCHMARK_TASKS} tasks",
}
RULES = {
    "steepest": "the steepest downward slope of the smoothed loss against log LR, before its minimum",
    "recommended": ("a twentieth of the LR where the loss blows up, or a tenth of the LR at the smoothed "
                    "minimum when the test never blows up"),
}
MIN_POINTS = 5  # fewer finite points than this and no suggestion is meaningful
MAX_ITER = 100_000
DEFAULT_SPAN = 5.0  # smoothing time constant, in (median-spaced) points of the curve
BASE_FRACTION = 0.1  # base_lr: where the smoothed loss has covered this fraction of its drop
MAX_FRACTION = 0.9  # max_lr: where it has covered this fraction
BOUNDS_SPAN_RATIO = 0.4  # base_lr and max_lr are read off a smoothing this much lighter
VALLEY_FRACTION = 0.1
LOG_FLOOR = 0.25  # smoothing works on log(loss − floor), the floor this share of the loss range below the minimum  # valley: points falling at least this fraction as fast as the steepest point
STOP_KINDS = ("end", "diverged", "non_finite", "cancelled")
LEVEL_WINDOW = 5  # divergence compares the median of this many latest losses, not single mini-batches


class CurveError(GDStudioError):
    """A recorded (lr, loss) curve that cannot be analysed: bad learning rates, mismatched lengths."""


# -- results ------------------------------------------------------------------------------------------
def _frozen(a: Any) -> np.ndarray:
    arr = np.array(a, dtype=np.float64)  # a copy, so nobody else can change it under us
    arr.setflags(write=False)
    return arr


def _json_float(v: Any) -> float | None:
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


@dataclass(frozen=True)
class RangeTestStep:
    """One step of a running range test, for a progress view.

    ``step`` counts from 0 and indexes ``RangeTestResult.lrs``; ``loss`` is the mini-batch loss after the
    update with ``lr`` (see ``range_test``); ``params`` is a private copy of the parameters after it.
    """

    step: int
    lr: float
    loss: float
    params: np.ndarray
    val_loss: float | None = None


@dataclass(frozen=True)
class RangeTestResult:
    """A finished (or stopped) range test. All arrays are finite, read-only and of the same length."""

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    val_losses: np.ndarray | None
    suggestions: dict
    stop_reason: str
    mode: str = "exp"
    start_lr: float = 1e-7
    end_lr: float = 10.0
    num_iter: int = 100
    seed: int = 0
    stop_kind: str = "end"  # one of STOP_KINDS
    initial_loss: float | None = None  # loss at the given parameters, before any update
    batch_size: int = 32
    optimizer: str = "sgd"

    def to_dict(self) -> dict:
        """Plain lists, floats, strings and None: ready for ``json.dumps``."""
        return {
            "lrs": [float(v) for v in self.lrs],
            "losses": [float(v) for v in self.losses],
            "smoothed": [float(v) for v in self.smoothed],
            "val_losses": None if self.val_losses is None else [float(v) for v in self.val_losses],
            "suggestions": {k: _json_float(self.suggestions.get(k)) for k in SUGGESTIONS},
            "stop_reason": self.stop_reason,
            "stop_kind": self.stop_kind,
            "mode": self.mode,
            "start_lr": float(self.start_lr),
            "end_lr": float(self.end_lr),
            "num_iter": int(self.num_iter),
            "seed": int(self.seed),
            "initial_loss": _json_float(self.initial_loss),
            "batch_size": int(self.batch_size),
            "optimizer": self.optimizer,
        }

    def save(self, path, *, meta: dict | None = None):
        """Write this result as a ``.gdrange`` file (see ``gd_studio.engine.rangefile``); returns its path."""
        from . import rangefile
        return rangefile.save(self, path, meta=meta)

    @classmethod
    def from_dict(cls, d: dict) -> "RangeTestResult":
        """Rebuild a result saved with ``to_dict``; the smoothing and suggestions are recomputed."""
        if not isinstance(d, dict) or "lrs" not in d or "losses" not in d:
            raise CurveError("range test: expected an object with lrs and losses")
        lrs, losses = _clean_curve(d["lrs"], d["losses"])
        val = d.get("val_losses")
        val_arr = None if val is None else np.array(val, dtype=np.float64)[: lrs.size]
        if val_arr is not None and val_arr.size != lrs.size:
            raise CurveError("range test: val_losses and lrs differ in length")
        smoothed = smooth_curve(losses, lrs)
        nonfinite = None
        if d.get("stop_kind") == "non_finite":
            try:
                grid = lr_grid(d["start_lr"], d["end_lr"], d["num_iter"], d.get("mode", "exp"))
                nonfinite = float(grid[lrs.size]) if lrs.size < grid.size else None
            except (KeyError, TypeError, ValueError, GDStudioError):
                nonfinite = None  # an old or hand-written file: the blow-up is then read off the curve only
        return cls(
            _frozen(lrs), _frozen(losses), _frozen(smoothed), None if val_arr is None else _frozen(val_arr),
            _suggest_curve(lrs, losses, smoothed, nonfinite_lr=nonfinite), str(d.get("stop_reason", "")),
            mode=str(d.get("mode", "exp")), start_lr=float(d.get("start_lr", lrs[0] if lrs.size else 1e-7)),
            end_lr=float(d.get("end_lr", lrs[-1] if lrs.size else 10.0)),
            num_iter=int(d.get("num_iter", lrs.size)), seed=int(d.get("seed", 0)),
            stop_kind=str(d.get("stop_kind", "end")), initial_loss=_json_float(d.get("initial_loss")),
            batch_size=int(d.get("batch_size", 0)), optimizer=str(d.get("optimizer", "sgd")),
        )


# -- the test -----------------------------------------------------------------------------------------
def lr_grid(start_lr: float, end_lr: float, num_iter: int, mode: str = "exp") -> np.ndarray:
    """The LRs a range test uses, first ``start_lr`` and last ``end_lr``: geometric ("exp") or even ("linear")."""
    start, end = check_lr(start_lr, "range test: start_lr"), check_lr(end_lr, "range test: end_lr")
    if not start < end:
        raise ConfigError(f"range test: start_lr ({start:g}) must be below end_lr ({end:g})")
    if isinstance(num_iter, bool) or not isinstance(num_iter, (int, np.integer)) or not 2 <= num_iter <= MAX_ITER:
        raise ConfigError(f"range test: the number of steps must be a whole number from 2 to {MAX_ITER}, got {num_iter!r}")
    if mode not in MODES:
        raise ConfigError(f"range test: mode must be 'exp' or 'linear', got {mode!r}")
    grid = np.geomspace(start, end, int(num_iter)) if mode == "exp" else np.linspace(start, end, int(num_iter))
    grid[0], grid[-1] = start, end  # exactly, whatever the rounding inside geomspace
    return grid


def fmt_lr(lr: float | None) -> str:
    """A learning rate in the app's one style (engine/fmt.py): 0.316, 3.16e-5."""
    return _fmt.fmt_lr(lr)


def _check_int(what: str, value: Any, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low or (high is not None and value > high):
        bound = f"≥ {low}" if high is None else f"from {low} to {high}"
        raise ConfigError(f"range test: {what} must be a whole number {bound}, got {value!r}")
    return int(value)


def check_diverge_factor(diverge_factor) -> float:
    """The divergence stop's factor as a positive finite float; ConfigError otherwise (shared with the torch finder)."""
    try:
        factor = float(diverge_factor)
    except (TypeError, ValueError):
        factor = math.nan
    if not (math.isfinite(factor) and factor > 0):
        raise ConfigError(f"range test: diverge_factor must be positive and finite, got {diverge_factor!r}")
    return factor


def range_test(model, ds, params, start_lr: float = 1e-7, end_lr: float = 10.0, num_iter: int = 100, *,
               mode: str = "exp", batch_size: int = 32, optimizer: str = "sgd",
               optimizer_params: dict | None = None, seed: int = 0, val_ds=None,
               diverge_factor: float = 4.0, patience: int = 3,
               callback: Callable[[RangeTestStep], Any] | None = None,
               cancel: Callable[[], bool] | None = None) -> RangeTestResult:
    """Smith's LR range test: one mini-batch per step, the LR rising from ``start_lr`` to ``end_lr``.

    Starts from a copy of ``params`` (they are never modified), draws mini-batches with
    ``BatchSampler(n, batch_size, seed)`` like the descent runner, and takes ``num_iter`` optimizer steps
    with LRs ``lr_grid(start_lr, end_lr, num_iter, mode)``.

    ``losses[i]`` is the mini-batch loss *after* the update with ``lrs[i]``, measured on the next
    mini-batch (the one the following step trains on, so it costs nothing extra). Established finders
    record the loss before the update, which credits each LR with its predecessor's effect and shifts the
    curve one step towards higher LRs. With ``val_ds``, ``val_losses[i]`` is the loss on the whole of it
    at the same parameters.

    Stopping (``stop_reason`` says which in words, ``stop_kind`` names it):

    - a non-finite loss, validation loss or parameter vector stops at once; that step is not recorded;
    - divergence: with ``best`` the lowest level so far (a level is the median of the latest
      ``LEVEL_WINDOW`` losses, the starting loss included, so one lucky mini-batch is no best) and ``scale`` the
      largest of (a) how far the loss had fallen to reach ``best`` (the highest loss before it minus
      ``best``), (b) the mini-batch noise (median absolute step-to-step change) and (c) float resolution,
      the test stops once ``loss − best > diverge_factor · scale`` for ``patience`` steps in a row. The
      rule uses only differences of losses, so it behaves the same for losses near zero, negative or
      shifted by any constant, and scaled by any positive factor;
    - ``cancel()`` returning true (polled before each step);
    - reaching ``end_lr``.

    ``callback(RangeTestStep)`` runs after every recorded step (the parameter copy is made only when a
    callback is given). The same seed gives a bit-identical result.
    """
    grid = lr_grid(start_lr, end_lr, num_iter, mode)
    n_iter = grid.size
    batch_size = _check_int("batch size", batch_size, 0)
    seed = _check_int("seed", seed, 0, 2**32 - 1)
    patience = _check_int("patience", patience, 1, n_iter)
    factor = check_diverge_factor(diverge_factor)
    if callback is not None and not callable(callback):
        raise ConfigError("range test: callback must be callable")
    if cancel is not None and not callable(cancel):
        raise ConfigError("range test: cancel must be callable")
    X, y = _data(model, ds, "training data")
    val = _data(model, val_ds, "validation data") if val_ds is not None else None
    p = np.array(params, dtype=np.float64)  # our own copy: the caller's vector is never touched
    if p.shape != (model.n_params,):
        raise ConfigError(f"range test: expected {model.n_params} parameters, got an array of shape {p.shape}")
    if not np.isfinite(p).all():
        raise ConfigError("range test: the starting parameters contain NaN or infinity")
    opt = optimizers.make(optimizer, model.n_params, **(optimizer_params or {}))

    sampler = BatchSampler(X.shape[0], batch_size, seed)
    full = sampler.full_batch

    def batch():
        if full:
            sampler.next()  # keep its counters honest
            return X, y
        idx = sampler.next()
        return X[idx], y[idx]

    grad = None

    def apply(lr: float) -> bool:
        nonlocal p
        p = opt.step(p, grad, lr)
        return bool(np.isfinite(p).all())

    def train_loss(with_grad: bool) -> float:
        nonlocal grad
        if with_grad:
            loss, grad = model.loss_and_grad(p, *batch())
            return float(loss)
        return float(model.loss(p, *batch()))

    def on_point(run: RangeRun, i: int, lr: float, loss: float, v_loss: float | None) -> None:
        callback(RangeTestStep(i, lr, loss, p.copy(), v_loss))

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        loss, grad = model.loss_and_grad(p, *batch())
        initial = float(loss)
        if not (math.isfinite(initial) and np.isfinite(grad).all()):
            raise ConfigError("range test: the loss or its gradient at the starting parameters is not finite")
        run = drive_range_test(grid, initial, apply, train_loss,
                               val_loss=(lambda: float(model.loss(p, *val))) if val is not None else None,
                               on_point=on_point if callback is not None else None, cancel=cancel,
                               factor=factor, patience=patience)
    return run.result(grid, with_val=val is not None, mode=mode, seed=seed, initial_loss=initial, batch_size=batch_size,
                      optimizer=opt.name)


class EndOfData(Exception):
    """Raised by a range test's ``train_loss`` when there are no more batches: the test ends there, cleanly."""


@dataclass
class RangeRun:
    """What ``drive_range_test`` recorded: the finite points so far and why it stopped."""

    lrs: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    val_losses: list[float] = field(default_factory=list)
    stop_kind: str = "end"
    stop_reason: str = ""

    def result(self, grid: np.ndarray, *, with_val: bool, **fields) -> RangeTestResult:
        """The recorded curve as a result; after a NaN/inf stop, the LR that produced it counts as the blow-up
        (as ``RangeTestResult.from_dict`` reads it back), so a saved and a fresh result suggest the same."""
        lr_arr = np.array(self.lrs, dtype=np.float64)
        loss_arr = np.array(self.losses, dtype=np.float64)
        smoothed = smooth_curve(loss_arr, lr_arr)
        nonfinite = (float(grid[lr_arr.size]) if self.stop_kind == "non_finite" and lr_arr.size < grid.size
                     else None)
        return RangeTestResult(
            _frozen(lr_arr), _frozen(loss_arr), _frozen(smoothed),
            _frozen(self.val_losses) if with_val else None,
            _suggest_curve(lr_arr, loss_arr, smoothed, nonfinite_lr=nonfinite), self.stop_reason,
            start_lr=float(grid[0]), end_lr=float(grid[-1]), num_iter=int(grid.size), stop_kind=self.stop_kind, **fields)


def drive_range_test(grid: np.ndarray, initial: float, apply: Callable[[float], bool],
                     train_loss: Callable[[bool], float], *, val_loss: Callable[[], float] | None = None,
                     on_point: Callable[[RangeRun, int, float, float, float | None], Any] | None = None,
                     cancel: Callable[[], bool] | None = None, factor: float = 4.0, patience: int = 3,
                     weights: str = "parameters") -> RangeRun:
    """The range test's steps and stopping rules (see ``range_test``), one loop for the NumPy engine and the
    PyTorch finder, so both record and stop the same way.

    ``apply(lr)`` takes one optimizer step and says whether the weights are still finite; ``train_loss(with_grad)``
    is the loss on the next batch (with the gradient for the following step when ``with_grad``; it may raise
    ``EndOfData``); ``val_loss()`` the held-out loss at the current weights; ``on_point`` runs after each
    recorded step.
    """
    n_iter = grid.size
    run = RangeRun()
    watch = DivergenceWatch(initial, factor, patience)

    def stop(kind: str, reason: str) -> None:
        run.stop_kind, run.stop_reason = kind, reason

    for i in range(n_iter):
        if cancel is not None and cancel():
            stop("cancelled", f"cancelled after {i} of {n_iter} steps")
            break
        lr = float(grid[i])
        where = f"at step {i + 1} of {n_iter}, lr = {fmt_lr(lr)}"
        if not apply(lr):
            stop("non_finite", f"non-finite {weights} {where}")
            break
        try:
            loss = float(train_loss(i + 1 < n_iter))
        except EndOfData:
            stop("end", f"the training data ran out after {i} of {n_iter} steps")
            break
        if not math.isfinite(loss):
            stop("non_finite", f"non-finite loss {where}")
            break
        v_loss = None
        if val_loss is not None:
            v_loss = float(val_loss())
            if not math.isfinite(v_loss):
                stop("non_finite", f"non-finite validation loss {where}")
                break
            run.val_losses.append(v_loss)
        run.lrs.append(lr)
        run.losses.append(loss)
        if on_point is not None:
            on_point(run, i, lr, loss, v_loss)
        if watch.update(loss):
            stop("diverged", watch.reason(i, n_iter, lr))
            break
    if run.stop_kind == "end" and not run.stop_reason:
        run.stop_reason = f"reached end_lr = {fmt_lr(float(grid[-1]))} after {n_iter} steps"
    return run


class DivergenceWatch:
    """The range test's divergence stop, fed one loss at a time (rule in ``range_test``'s docstring).

    One implementation, so the engine's test and ``gd_studio.torch.range_test`` stop at the same point.
    """

    def __init__(self, initial: float, factor: float = 4.0, patience: int = 3) -> None:
        self.initial, self.factor, self.patience = float(initial), float(factor), int(patience)
        self.best, self.run_max, self.height = self.initial, self.initial, 0.0
        self.abs_steps: list[float] = []  # |loss change| per step, for the noise scale
        self.recent: list[float] = [self.initial]  # the losses so far, for the median level
        self.prev = self.initial
        self.over = 0

    def update(self, loss: float) -> bool:
        """Take the next recorded loss; True once the test has diverged and should stop."""
        # differences of losses only: offset- and scale-free; the best level is the lowest median of the
        # last few losses, so that one lucky mini-batch cannot set a "best" that the typical loss then
        # seems to diverge from
        self.abs_steps.append(abs(loss - self.prev))
        self.prev = loss
        self.recent.append(loss)
        # until the window is full the starting loss (one mini-batch) is the only reference
        recent = self.recent
        level = float(np.median(recent[-LEVEL_WINDOW:])) if len(recent) >= LEVEL_WINDOW else self.best
        if level < self.best or len(recent) == LEVEL_WINDOW:
            self.best = level
            self.height = self.run_max - self.best
        self.run_max = max(self.run_max, level)
        rise = loss - self.best
        if (len(recent) >= LEVEL_WINDOW and rise > self.factor * max(self.height, self._tiny())
                and rise > self.factor * float(np.median(self.abs_steps))):
            self.over += 1
        else:
            self.over = 0
        return self.over >= self.patience

    def _tiny(self) -> float:
        return 16 * np.finfo(np.float64).eps * max(abs(self.best), abs(self.initial), np.finfo(np.float64).tiny)

    def reason(self, step: int, n_iter: int, lr: float) -> str:
        """The stop reason in words, for step ``step`` (from 0) of ``n_iter``."""
        scale = max(self.height, float(np.median(self.abs_steps)), self._tiny())
        p = self.patience
        return (f"loss diverged at step {step + 1} of {n_iter}, lr = {fmt_lr(lr)}: it stayed more "
                f"than {self.factor:g}× its earlier fall ({scale:.3g}) above its best ({self.best:.4g}) "
                f"for {p} step{'s' if p > 1 else ''}")


def _data(model, ds, what: str) -> tuple[np.ndarray, np.ndarray]:
    X = getattr(ds, "X", None)
    y = getattr(ds, "y", None)
    if X is None or y is None:
        raise ConfigError(f"range test: the {what} has no X and y")
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[0] < 1 or y.shape != (X.shape[0],):
        raise ConfigError(f"range test: the {what} must have X of shape (n, d) and y of shape (n,), "
                          f"got {X.shape} and {y.shape}")
    if X.shape[1] != model.n_features:
        raise ConfigError(f"range test: the {what} has {X.shape[1]} features, the model expects {model.n_features}")
    return X, y


# -- smoothing and suggestions ------------------------------------------------------------------------
def smooth(losses, lrs=None, *, span: float = DEFAULT_SPAN) -> np.ndarray:
    """Zero-phase smoothing: an exponential moving average run forwards, then backwards over the result.

    The backward pass undoes the forward pass's lag exactly (the combined kernel is symmetric), so a
    drop stays where it is; a causal EMA moves it to higher LRs. Smoothing is against log10(lr) when
    ``lrs`` is given (so a linear-mode curve, dense in log lr at its end, is treated evenly) and against
    the point index otherwise. ``span`` is the EMA's time constant in points, measured with the curve's
    median spacing in log lr. The ends are padded by odd reflection (as in filtfilt) so the curve keeps
    its level and slope there (the reflection centre is a line fitted to the end points, so one noisy end
    point does not tilt the curve). ``losses`` must be finite; see ``suggest`` for recorded curves with a
    NaN/inf tail.
    """
    y = np.array(losses, dtype=np.float64).ravel()
    n = y.size
    if not np.isfinite(y).all():
        raise CurveError("smooth: the losses contain NaN or infinity; cut them first (suggest() does)")
    try:
        span = float(span)
    except (TypeError, ValueError):
        span = math.nan
    if not (math.isfinite(span) and span > 0):
        raise ConfigError(f"smooth: span must be positive, got {span!r}")
    if lrs is None:
        x = np.arange(n, dtype=np.float64)
    else:
        lr = np.asarray(lrs, dtype=np.float64).ravel()
        if lr.size != n:
            raise CurveError(f"smooth: {lr.size} learning rates for {n} losses")
        if not (np.isfinite(lr).all() and (lr > 0).all()):
            raise CurveError("smooth: learning rates must be positive and finite")
        x = np.log10(lr)
    if n < 3:
        return y
    dx = np.diff(x)
    if not (dx > 0).all():
        raise CurveError("smooth: learning rates must increase strictly")
    tau = span * float(np.median(dx))
    pad = min(n - 1, int(math.ceil(3 * span)))
    left = np.arange(pad, 0, -1)  # indices pad..1
    right = n - 2 - np.arange(pad)  # indices n-2..n-1-pad
    # Reflect about a straight line fitted to the last few points at each end rather than about the end
    # point itself: one noisy end point would otherwise be doubled into the padding and tilt the slope there.
    k = min(n, int(math.ceil(span)) + 1)
    y_first = _line_at(x[:k], y[:k], x[0])
    y_last = _line_at(x[-k:], y[-k:], x[-1])
    xs = np.concatenate([2 * x[0] - x[left], x, 2 * x[-1] - x[right]])
    ys = np.concatenate([2 * y_first - y[left], y, 2 * y_last - y[right]])
    alpha = -np.expm1(-np.diff(xs) / tau)  # per-interval EMA weight: uneven spacing handled exactly
    fwd = _ema(ys.tolist(), alpha.tolist())
    bwd = _ema(fwd[::-1], alpha[::-1].tolist())[::-1]
    return np.array(bwd[pad:pad + n], dtype=np.float64)


def blowup_start(losses, patience: int = 3) -> int:
    """Index where a range test's blow-up begins; the length of the curve if it never does.

    The blow-up is the curve's tail: the first point from which ``patience`` losses in a row (or all
    that remain) stand above the starting level by more than twice the typical step-to-step change,
    and from which the loss stays up: at least three quarters of the remaining points are above that
    level, and it never comes back below it for ``patience`` points in a row. A bump early in the
    test (Adam's first steps, an outlier batch) comes back down and is not a blow-up; a jump at the
    end followed by a one- or two-point dip still is.

    How far the loss fell before does not matter: on a noisy regression the whole descent can be
    smaller than the step-to-step noise, and a finite 1e19 tail must still be cut off.

    The blow-up grows exponentially in log lr, faster than any smoothing kernel decays, so a smoother fed
    the whole curve drags it back over the descent: it lifts the smoothed minimum, flattens the drop and
    moves the steepest point. Suggestions therefore read only the part before it, and only that part is
    smoothed.
    """
    y = np.asarray(losses, dtype=np.float64).ravel()
    n = y.size
    if n < MIN_POINTS:
        return n
    start = float(np.median(y[: max(3, n // 20)]))
    noise = float(np.median(np.abs(np.diff(y))))
    above = y > start + 2.0 * noise
    for k in np.flatnonzero(above):
        if not above[k:k + patience].all():
            continue
        tail = above[k:]
        if tail.mean() < 0.75:
            continue
        if _longest_run(~tail) >= patience:
            continue
        return int(k)
    return n


def _longest_run(mask: np.ndarray) -> int:
    """Length of the longest stretch of True in a boolean array."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return int((ends - starts).max()) if starts.size else 0


def _robust_smooth(y: np.ndarray, x: np.ndarray | None, span: float) -> np.ndarray:
    """``smooth`` after replacing outliers (one or two freak mini-batches) by a running median of 5.

    One batch far above the rest otherwise becomes a hump as wide as the smoothing, whose falling side
    can be steeper than the real descent. A point is an outlier when it is more than 4 robust standard
    deviations from the running median and at most one neighbour is too; longer runs are real features.
    """
    if y.size < MIN_POINTS:
        return smooth(y, x, span=span)
    # the reference is a running median of 5, which one or two freak batches cannot move
    padded = np.concatenate([y[:2][::-1], y, y[-2:][::-1]])
    med = np.median(np.lib.stride_tricks.sliding_window_view(padded, 5), axis=1)
    r = y - med
    sigma = 1.4826 * float(np.median(np.abs(r - np.median(r))))
    if not sigma > 0:
        return smooth(y, x, span=span)
    # only isolated points (runs of one or two) are outliers; a run of them is a real feature (a
    # jump, the start of a blow-up) that the smoother must keep
    wild = np.abs(r) > 4 * sigma
    edges = np.diff(np.concatenate([[0], wild.astype(np.int8), [0]]))
    isolated = np.zeros_like(wild)
    for lo, hi in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
        if hi - lo <= 2:
            isolated[lo:hi] = True
    return smooth(np.where(isolated, med, y), x, span=span)


def smooth_curve(losses, lrs=None, *, span: float = DEFAULT_SPAN) -> np.ndarray:
    """A robust ``smooth`` (outlier batches replaced) of the descent only; the blow-up (see
    ``blowup_start``) is kept as measured."""
    y = np.asarray(losses, dtype=np.float64).ravel()
    if y.size == 0:
        return y.copy()
    k = blowup_start(y)
    x = None if lrs is None else np.asarray(lrs, dtype=np.float64).ravel()
    head = _robust_smooth(y[:k], None if x is None else x[:k], span) if k else y[:0]
    # the blow-up is shown as measured: a few exploding points smoothed on their own only mislead
    return np.concatenate([head, y[k:]])


def _suggest_curve(lrs: np.ndarray, losses: np.ndarray, smoothed: np.ndarray,
                   span: float | None = DEFAULT_SPAN, nonfinite_lr: float | None = None) -> dict:
    """Suggestions from the part of a curve before its blow-up.

    ``nonfinite_lr`` is the LR at which the run produced NaN/inf (the curve was cut there): when no
    blow-up is visible in the finite part, that is where it blew up.
    """
    k = blowup_start(losses)
    limit = None
    if k < losses.size:
        # the descent was cut where the blow-up begins, so its last points are already climbing and the
        # smoother's edge there is unreliable: the minimum is looked for before that edge
        edge = int(math.ceil(span if span is not None else DEFAULT_SPAN))
        limit = k - edge if k - edge >= MIN_POINTS else None
    out = _suggest_from(lrs[:k], losses[:k], smoothed[:k], span, limit)
    blowup = _blowup_lr(lrs, losses, k, nonfinite_lr)
    out["recommended"] = _recommend(out, blowup, lrs, losses.size)
    return out


def _blowup_lr(lrs: np.ndarray, losses: np.ndarray, k: int, nonfinite_lr: float | None) -> float | None:
    """LR where the loss blows up (index ``k`` = ``blowup_start``, else the first NaN/inf), or None."""
    blowup = float(lrs[k]) if k < losses.size else nonfinite_lr
    if blowup is not None and k >= MIN_POINTS:
        # a loss that climbed all along before the "blow-up" never had a stable stretch: the edge of
        # stability is not where it finally took off (the range starts too high)
        head = losses[:k]
        start = float(np.median(head[: max(3, k // 20)]))
        noise = float(np.median(np.abs(np.diff(head))))
        if float(np.median(head[k // 2:])) - start > noise:
            blowup = None
    return blowup


def blowup_lr(lrs, losses) -> float | None:
    """The LR where a recorded curve blows up (``blowup_start``, or its first NaN/inf loss); None if it
    never does or only ever rises. ``recommended`` is a twentieth of it."""
    lr, loss = _clean_curve(lrs, losses)
    return _blowup_lr(lr, loss, blowup_start(loss), _nonfinite_lr(lrs, losses, lr.size))


def _recommend(out: dict, blowup_lr: float | None, lrs: np.ndarray, n: int) -> float | None:
    """The benchmark's winner: a twentieth of the LR where the loss blows up; a tenth of the LR at the
    smoothed minimum when the test never blew up.

    With a fixed budget the best constant LR sits just inside the edge of stability, and the blow-up
    marks that edge more reliably than the minimum does: on a noisy regression the minimum of a noisy
    curve comes early (or drowns in the noise) while the blow-up is unmistakable.
    """
    if n < MIN_POINTS:
        return None
    # a "blow-up" within the first fifth of the test is a curve that only rises (the range starts too
    # high): nothing to recommend from it
    early = lrs[min(max(2 * MIN_POINTS, n // 5), n) - 1]
    if blowup_lr is not None and math.isfinite(blowup_lr) and blowup_lr > early:
        return float(max(blowup_lr / RECOMMENDED_BLOWUP_DIVISOR, lrs[0]))
    if out.get("minimum/10") is not None:
        return float(max(out["minimum/10"] * 10 / RECOMMENDED_MIN_DIVISOR, lrs[0]))
    return None


def _line_at(x: np.ndarray, y: np.ndarray, at: float) -> float:
    """Value at ``at`` of the least-squares line through (x, y)."""
    xm, ym = x.mean(), y.mean()
    sxx = float(((x - xm) ** 2).sum())
    slope = float(((x - xm) * (y - ym)).sum()) / sxx if sxx > 0 else 0.0
    return float(ym + slope * (at - xm))


def _ema(values: list[float], alpha: list[float]) -> list[float]:
    out = [values[0]]
    s = values[0]
    for v, a in zip(values[1:], alpha):
        s += a * (v - s)
        out.append(s)
    return out


def _clean_curve(lrs, losses) -> tuple[np.ndarray, np.ndarray]:
    """(lrs, losses) up to the first non-finite loss; CurveError for learning rates that cannot be used."""
    lr = np.array(lrs, dtype=np.float64).ravel()
    loss = np.array(losses, dtype=np.float64).ravel()
    if lr.size != loss.size:
        raise CurveError(f"curve: {lr.size} learning rates but {loss.size} losses")
    bad = ~np.isfinite(loss)
    if bad.any():
        # After the first NaN/inf the run has diverged: what follows says nothing about that LR.
        cut = int(np.argmax(bad))
        lr, loss = lr[:cut], loss[:cut]
    if lr.size:
        ok = np.isfinite(lr) & (lr > 0)
        if not ok.all():
            i = int(np.argmin(ok))
            raise CurveError(f"curve: learning rate {lrs[i]!r} at row {i + 1} is not positive and finite")
        step = np.diff(lr)
        if (step <= 0).any():
            i = int(np.argmax(step <= 0)) + 1
            raise CurveError(f"curve: learning rates must increase strictly; row {i + 1} ({lr[i]:g}) "
                             f"does not exceed row {i} ({lr[i - 1]:g})")
    return lr, loss


def _nonfinite_lr(lrs, losses, kept: int) -> float | None:
    """The LR of the first NaN/inf loss of a recorded curve (where ``_clean_curve`` cut it), if any."""
    lr = np.asarray(lrs, dtype=np.float64).ravel()
    if kept < lr.size and np.isfinite(lr[kept]) and lr[kept] > 0:
        return float(lr[kept])
    return None


def suggest(lrs, losses, method: str = "steepest", *, span: float = DEFAULT_SPAN) -> float | None:
    """One suggested LR from any recorded (lr, loss) curve, or None when it is undefined.

    The curve is taken in recorded order, cut at its first NaN/inf loss (the run diverged there), and
    smoothed with ``smooth`` against log10(lr). With ``x = log10(lr)``, ``s`` the smoothed loss, and
    ``m`` the index of its minimum, the rules are:

    - ``steepest`` (Smith's choice): where ``ds/dx`` (np.gradient against log10 lr) is most negative,
      searched only up to ``m`` (past the minimum the loss is blowing up), refined between grid points by
      the vertex of a parabola through the slope's three lowest neighbours.
    - ``valley``: the middle, in log lr, of the longest stretch before ``m`` over which the smoothed loss
      falls at least a tenth as fast as at its steepest; robust to a single sharp kink in the slope.
    - ``minimum/10``: the LR at the minimum of ``s`` (parabola-refined), divided by 10.
    - ``base_lr`` (Smith's lower bound): where the loss has covered 10 % of its drop (from ``s[0]`` to
      ``s[m]``), i.e. where it starts to fall for good (the last downward crossing of that level before
      ``m``, so a dip in a noisy plateau does not count); interpolated in log lr. The crossing is read off a
      lighter smoothing (span × 0.4): heavy smoothing widens a drop and would push both bounds outwards,
      and a level crossing needs far less smoothing than a slope.
    - ``max_lr`` (Smith's upper bound): where it first has covered 90 % of the drop, just before the
      loss turns up.

    - ``recommended`` (the benchmark's winner, see tests/benchmarks/bench_suggestions.py): the LR where
      the loss blows up (``blowup_start``, or the first NaN/inf) ÷ 20, or when it never does the LR at
      the minimum ÷ 10. It exists even when the descent drowns in noise, as long as the loss blows up.

    The others are None with fewer than 5 finite points, when the minimum is the first point, or when
    the drop (from the median of the first points to the minimum of the first valley) is no bigger than
    the noise (the robust spread of the raw losses around ``s``): no descent.
    """
    if method not in SUGGESTIONS:
        raise ConfigError(f"suggest: unknown method {method!r}; choose one of {', '.join(SUGGESTIONS)}")
    return suggest_all(lrs, losses, span=span)[method]


def suggest_all(lrs, losses, *, span: float = DEFAULT_SPAN) -> dict:
    """Every suggestion (keys as ``SUGGESTIONS``) for a recorded curve; see ``suggest`` for the rules."""
    lr, loss = _clean_curve(lrs, losses)
    smoothed = smooth_curve(loss, lr, span=span)
    return _suggest_curve(lr, loss, smoothed, span, _nonfinite_lr(lrs, losses, lr.size))


def _parabola_vertex(x: np.ndarray, f: np.ndarray, j: int) -> float:
    """x of the vertex of the parabola through points j-1, j, j+1 (clamped to them); x[j] at an end."""
    if j <= 0 or j >= x.size - 1:
        return float(x[j])
    x0, x1, x2 = x[j - 1], x[j], x[j + 1]
    f0, f1, f2 = f[j - 1], f[j], f[j + 1]
    d = (x0 - x1) * (x0 - x2) * (x1 - x2)
    a = (x2 * (f1 - f0) + x1 * (f0 - f2) + x0 * (f2 - f1)) / d
    b = (x2 * x2 * (f0 - f1) + x1 * x1 * (f2 - f0) + x0 * x0 * (f1 - f2)) / d
    if not a > 0:  # flat or not a minimum: keep the grid point
        return float(x1)
    return float(min(max(-b / (2 * a), x0), x2))


def _crossing(x: np.ndarray, s: np.ndarray, level: float, stop: int, *, last: bool = False) -> float:
    """log lr where s falls through ``level`` at or before index ``stop``, interpolated linearly.

    The first such crossing, or with ``last`` the last one (the fall that does not come back up);
    x[0] when s starts below the level, x[stop] when it never gets there.
    """
    below = s[: stop + 1] <= level
    if below[0] and not last:
        return float(x[0])
    # k where s goes from above the level (k − 1) to at or below it (k): a downward crossing. With
    # ``last``, a first point that happens to sit below the level (the smoother's edge, one low batch)
    # does not count when the curve later comes back above it and falls for good.
    downs = np.flatnonzero(below[1:] & ~below[:-1]) + 1
    if downs.size == 0:
        return float(x[0] if below[0] else x[stop])
    k = int(downs[-1] if last else downs[0])
    s0, s1 = s[k - 1], s[k]
    t = (s0 - level) / (s0 - s1) if s0 != s1 else 1.0
    return float(x[k - 1] + t * (x[k] - x[k - 1]))


def _valley_bottom(s: np.ndarray, noise: float, start: float, skip: int, limit: int | None = None) -> int:
    """Index of the smoothed minimum of the first valley, at or after ``skip``.

    A later, lower dip after the loss has climbed back up by half its fall from ``start`` (and by more
    than the noise) is an end effect or a second regime, not the minimum the descent leads to. The
    first ``skip`` points are left out: the smoother's edge there follows single batches.
    """
    head = s[:limit]
    if head.size <= skip:
        return 0
    inner = head[skip:]
    low = np.minimum.accumulate(inner)
    fallen = start - low
    risen = inner - low
    back = np.flatnonzero((fallen > noise) & (risen > np.maximum(noise, 0.5 * fallen)))
    if back.size:
        inner = inner[: max(int(back[0]), 1)]
    return skip + int(np.argmin(inner))


def _suggest_from(lrs: np.ndarray, losses: np.ndarray, smoothed: np.ndarray,
                  span: float | None = DEFAULT_SPAN, min_before: int | None = None) -> dict:
    out: dict[str, float | None] = {k: None for k in SUGGESTIONS}
    n = losses.size
    if n < MIN_POINTS:
        return out
    x = np.log10(lrs)
    s = smoothed
    resid = losses - s
    noise = 1.4826 * float(np.median(np.abs(resid - np.median(resid))))
    # the starting level is the median of the first points, not the smoothed first point: at the edge
    # the smoother leans on a line through a handful of batches and can sit a whole noise width off
    width = int(math.ceil(2 * (span if span is not None else DEFAULT_SPAN)))
    edge = max(1, min(width // 4, n // 5))
    first = float(np.median(losses[: max(3, min(width, n // 4))]))
    m = _valley_bottom(s, noise, first, edge, min_before)
    drop = float(first - s[m])
    # a drop bigger than the batch-to-batch noise is a descent, however noisy the curve: the smoothed
    # curve averages ~2·span points, so its own error is a fraction of that noise
    if m == 0 or not drop > noise or not drop > 0:
        return out
    slope = np.gradient(s, x)
    lo = edge if m > edge else 0  # the smoother's first points are no steepest descent either
    j = lo + int(np.argmin(slope[lo: m + 1]))
    steepest = float(slope[j])
    if steepest >= 0:
        return out
    out["steepest"] = 10 ** _parabola_vertex(x, slope, j)

    falling = slope[: m + 1] <= VALLEY_FRACTION * steepest
    best_len, best_mid = -1.0, float(x[j])
    k = 0
    while k <= m:
        if falling[k]:
            start = k
            while k + 1 <= m and falling[k + 1]:
                k += 1
            length = float(x[k] - x[start])
            if length >= best_len:  # ties go to the later stretch, nearer the minimum
                best_len, best_mid = length, float(x[start] + x[k]) / 2
        k += 1
    out["valley"] = 10 ** best_mid

    out["minimum/10"] = 10 ** _parabola_vertex(x, s, m) / 10
    # Level crossings are far less sensitive to noise than slopes, and heavy smoothing widens a drop
    # (pushing both bounds outwards), so the bounds are read off a lighter smoothing of the same curve.
    light = smooth(losses, lrs, span=span * BOUNDS_SPAN_RATIO) if span is not None else s
    top = _crossing(x, light, first - MAX_FRACTION * drop, m)
    # base_lr is looked for before max_lr's crossing, so a wobble of the light smoothing past it cannot
    # put the lower bound above the upper one
    stop = max(int(np.searchsorted(x, top, side="right")) - 1, 0)
    base = _crossing(x, light, first - BASE_FRACTION * drop, stop, last=True)
    if not base < top:
        half = 0.5 * float(np.median(np.diff(x)))
        base = max(top - half, float(x[0]))
        top = min(max(top, base + half), float(x[-1]))
    out["base_lr"] = 10 ** base
    out["max_lr"] = 10 ** top
    return out


# -- repeats ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RepeatResult:
    """K range tests with different seeds (mini-batch orders), summarised.

    ``lrs`` is the common LR grid, cut where fewer than half the runs still have a point; ``curves`` is
    (K, n), NaN after a run stopped; ``median``, ``low`` and ``high`` are the median and the 10th and 90th
    percentiles (linear interpolation) across the runs that reach each LR; ``smoothed`` smooths the median.
    ``spread[name]`` is (geometric mean, geometric standard deviation) of that suggestion over the runs
    that produced one (factor 1.0 with a single run), or None when no run did; ``counts[name]`` says how
    many did. ``suggestions`` are those of the median curve.
    """

    lrs: np.ndarray
    curves: np.ndarray
    median: np.ndarray
    low: np.ndarray
    high: np.ndarray
    smoothed: np.ndarray
    results: tuple
    spread: dict
    counts: dict
    suggestions: dict
    seeds: tuple = ()
    band: str = "10th–90th percentile"

    def describe(self, name: str = "steepest") -> str:
        """e.g. "3.1e-3 ×/÷ 1.4": the geometric centre and the factor it typically moves by between runs."""
        if name not in SUGGESTIONS:
            raise ConfigError(f"describe: unknown suggestion {name!r}; choose one of {', '.join(SUGGESTIONS)}")
        k = len(self.results)
        got = self.spread.get(name)
        if got is None:
            return f"undefined in all {k} runs" if k != 1 else "undefined"
        centre, factor = got
        text = f"{fmt_lr(centre)} ×/÷ {factor:.1f}"
        if self.counts[name] < k:
            text += f" ({self.counts[name]} of {k} runs)"
        return text

    def to_dict(self) -> dict:
        def col(a):
            return [None if not math.isfinite(v) else float(v) for v in np.asarray(a, dtype=np.float64).ravel()]

        return {
            "lrs": col(self.lrs),
            "curves": [col(row) for row in self.curves],
            "median": col(self.median),
            "low": col(self.low),
            "high": col(self.high),
            "smoothed": col(self.smoothed),
            "band": self.band,
            "seeds": [int(s) for s in self.seeds],
            "spread": {k: (None if v is None else {"center": v[0], "factor": v[1], "count": self.counts[k]})
                       for k, v in self.spread.items()},
            "describe": {k: self.describe(k) for k in SUGGESTIONS},
            "suggestions": {k: _json_float(self.suggestions.get(k)) for k in SUGGESTIONS},
            "results": [r.to_dict() for r in self.results],
        }

    def save(self, path, *, meta: dict | None = None):
        """Write this result as a ``.gdrange`` file (see ``gd_studio.engine.rangefile``); returns its path."""
        from . import rangefile
        return rangefile.save(self, path, meta=meta)


def repeat_range_test(model, ds, params, seeds=(0, 1, 2, 3, 4), **kw) -> RepeatResult:
    """``range_test`` once per seed (other arguments as there), summarised as a ``RepeatResult``.

    A ``cancel`` that fires stops the current run and skips the rest; the summary covers the runs made.
    """
    try:
        seeds = tuple(int(s) for s in seeds)
    except (TypeError, ValueError):
        raise ConfigError(f"repeat range test: seeds must be whole numbers, got {seeds!r}") from None
    if not seeds:
        raise ConfigError("repeat range test: give at least one seed")
    if "seed" in kw:
        raise ConfigError("repeat range test: pass seeds=…, not seed=…")
    cancel = kw.get("cancel")
    results = []
    for s in seeds:
        if results and cancel is not None and cancel():
            break
        results.append(range_test(model, ds, params, seed=s, **kw))
    return summarize(results)


def summarize(results) -> RepeatResult:
    """Median curve, band and suggestion spread of range tests run on the same LR grid."""
    results = tuple(results)
    if not results:
        raise ConfigError("repeat range test: no results to summarise")
    first = results[0]
    grid = lr_grid(first.start_lr, first.end_lr, first.num_iter, first.mode)
    for r in results[1:]:
        if (r.start_lr, r.end_lr, r.num_iter, r.mode) != (first.start_lr, first.end_lr, first.num_iter, first.mode):
            raise ConfigError("repeat range test: the runs used different LR grids")
    k = len(results)
    lengths = sorted((r.losses.size for r in results), reverse=True)
    n = lengths[(k + 1) // 2 - 1]  # the longest prefix that at least half the runs reach
    curves = np.full((k, n), np.nan)
    for i, r in enumerate(results):
        m = min(n, r.losses.size)
        curves[i, :m] = r.losses[:m]
    if n:
        median = np.nanmedian(curves, axis=0)
        low, high = np.nanpercentile(curves, [10, 90], axis=0)
    else:
        median = low = high = np.empty(0)
    lrs = grid[:n]
    smoothed = smooth_curve(median, lrs) if n else median.copy()
    spread: dict[str, tuple[float, float] | None] = {}
    counts: dict[str, int] = {}
    for name in SUGGESTIONS:
        vals = np.array([r.suggestions[name] for r in results if r.suggestions.get(name) is not None], dtype=np.float64)
        counts[name] = int(vals.size)
        if vals.size == 0:
            spread[name] = None
            continue
        logs = np.log10(vals)
        centre = float(10 ** logs.mean())
        factor = float(10 ** logs.std(ddof=1)) if vals.size > 1 else 1.0
        spread[name] = (centre, factor)
    curves.setflags(write=False)
    return RepeatResult(
        _frozen(lrs), curves, _frozen(median), _frozen(low), _frozen(high), _frozen(smoothed), results,
        spread, counts, _suggest_curve(lrs, median, smoothed), seeds=tuple(r.seed for r in results),
    )


# -- validated recommendation ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ValidationResult:
    """Short trainings from the same start at a few candidate LRs; the best one wins.

    ``losses`` is (candidates, seeds): the validation loss after ``steps`` steps (inf when a run
    diverged); ``scores`` their mean per candidate. ``best_lr`` is the winner (None when every run
    diverged or nothing ran); ``gain`` is how many times lower its score is than ``curve_pick``'s (the
    LR the curve alone proposed, when it is among the candidates), 1.0 when the curve's pick won.
    ``budget`` is the training the pick is meant for (steps); ``recommended`` is ``best_lr`` carried
    over to it (``budget_lr``), or ``best_lr`` itself when no budget was given.
    """

    lrs: tuple
    losses: np.ndarray
    scores: np.ndarray
    best_lr: float | None
    curve_pick: float | None
    gain: float | None
    steps: int
    seeds: tuple
    cancelled: bool = False
    budget: int | None = None

    @property
    def recommended(self) -> float | None:
        if self.best_lr is None:
            return None
        return budget_lr(self.best_lr, self.steps, self.budget) if self.budget else self.best_lr

    @property
    def at_edge(self) -> str | None:
        """"lowest" or "highest" when the winner is the end of the candidates (the best LR may lie beyond)."""
        if self.best_lr is None or len(self.lrs) < 2:
            return None
        if self.best_lr == min(self.lrs):
            return "lowest"
        return "highest" if self.best_lr == max(self.lrs) else None

    def describe(self) -> str:
        if self.best_lr is None:
            return "every candidate diverged" if not self.cancelled else "cancelled"
        text = f"best of {len(self.lrs)}: {fmt_lr(self.best_lr)}"
        if self.gain is not None:
            text += (" (the curve's pick)" if self.gain == 1.0
                     else f" ({self.gain:.2f}× lower loss than the curve's pick {fmt_lr(self.curve_pick)})")
        if self.budget and self.recommended != self.best_lr:
            text += f"; for {self.budget} steps: {fmt_lr(self.recommended)}"
        return text

    def to_dict(self) -> dict:
        """JSON-ready (no NaN/inf: a diverged or unfinished run's loss is None)."""
        return {
            "candidates": [float(v) for v in self.lrs],
            "scores": [_json_float(v) for v in self.scores],
            "losses": [[_json_float(v) for v in row] for row in self.losses],
            "steps": int(self.steps), "seeds": list(self.seeds), "budget": self.budget,
            "best_candidate": self.best_lr, "recommended": self.recommended,
            "curve_pick": self.curve_pick, "gain": _json_float(self.gain) if self.gain is not None else None,
            "at_edge": self.at_edge, "cancelled": bool(self.cancelled),
        }


VALIDATION_FACTORS = (0.25, 0.5, 1.0, 2.0, 4.0)  # what the benchmark measured (README: "validated")
# The validated recommendation for a training budget: each candidate trains this share of it, and the
# winner is carried over to the whole budget by (share)^BUDGET_EXPONENT. A short run's best constant LR
# sits above a long run's (measured on the benchmark: about 2.4× at a quarter of the budget); the
# exponent is not fitted but taken from SGD theory (the best constant step for T steps scales as 1/√T).
VALIDATION_SHARE = 0.25
BUDGET_EXPONENT = 0.5


def budget_lr(lr: float, steps: int, budget: int | None) -> float:
    """``lr``, the best constant LR for ``steps`` steps, carried over to ``budget`` steps: × (steps/budget)^½.

    Never raised: a budget shorter than the trial keeps the LR (a larger one would be a guess past the
    edge of stability the trial has not seen)."""
    if not budget or budget <= steps:
        return float(lr)
    return float(lr) * (steps / budget) ** BUDGET_EXPONENT


def candidate_lrs(suggestions: dict, factors=VALIDATION_FACTORS, around: str = "recommended") -> list[float]:
    """LRs to validate: ``around`` (else steepest) times each factor, sorted and distinct, each within
    the LRs a run accepts (``config.MAX_LR``)."""
    centre = suggestions.get(around) or suggestions.get("steepest")
    if centre is None:
        return []
    out = {min(float(centre) * float(f), MAX_LR) for f in factors}
    return sorted(v for v in out if math.isfinite(v) and v > 0)


def validate_candidates(model, ds, params, candidates, steps: int = 100, seeds=(0,), *, val_ds=None,
                        batch_size: int = 32, optimizer: str = "sgd", optimizer_params: dict | None = None,
                        curve_pick: float | None = None, budget: int | None = None,
                        progress: Callable[[int, int], Any] | None = None,
                        cancel: Callable[[], bool] | None = None) -> ValidationResult:
    """Train ``steps`` constant-LR steps from ``params`` at each candidate LR (once per data-order seed,
    mini-batches as ``BatchSampler(n, batch_size, seed)``) and pick the one with the lowest mean loss on
    ``val_ds`` (the training data when None). Deterministic: the same arguments give the same result.

    ``budget`` (steps, at least ``steps``) is the training the pick is for: ``recommended`` carries
    the winner over to it (``budget_lr``). ``progress(done, total)`` runs after each training;
    ``cancel()`` is polled every step, and a cancelled call returns what finished (``cancelled`` set).
    The caller's ``params`` are never touched.
    """
    lrs = tuple(check_lr(v, "validate: candidate lr") for v in candidates)
    if not lrs:
        raise ConfigError("validate: give at least one candidate learning rate")
    steps = _check_int("validation steps", steps, 1, MAX_ITER)
    if budget is not None:
        budget = _check_int("training budget", budget, steps)
    try:
        seeds = tuple(int(s) for s in seeds)
    except (TypeError, ValueError):
        raise ConfigError(f"validate: seeds must be whole numbers, got {seeds!r}") from None
    if not seeds:
        raise ConfigError("validate: give at least one seed")
    batch_size = _check_int("batch size", batch_size, 0)
    X, y = _data(model, ds, "training data")
    Xv, yv = _data(model, val_ds, "validation data") if val_ds is not None else (X, y)
    p0 = np.array(params, dtype=np.float64)
    if p0.shape != (model.n_params,) or not np.isfinite(p0).all():
        raise ConfigError(f"validate: expected {model.n_params} finite parameters")
    losses = np.full((len(lrs), len(seeds)), np.nan)
    total, done, cancelled = len(lrs) * len(seeds), 0, False
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for i, lr in enumerate(lrs):
            for j, seed in enumerate(seeds):
                opt = optimizers.make(optimizer, model.n_params, **(optimizer_params or {}))
                sampler = BatchSampler(X.shape[0], batch_size, seed)
                p = p0.copy()
                value = math.inf
                for _ in range(steps):
                    if cancel is not None and cancel():
                        cancelled = True
                        break
                    idx = sampler.next()
                    loss, g = model.loss_and_grad(p, X[idx], y[idx])
                    if not math.isfinite(loss):
                        break
                    p = opt.step(p, g, lr)
                    if not np.isfinite(p).all():
                        break
                else:
                    v = float(model.loss(p, Xv, yv))
                    value = v if math.isfinite(v) else math.inf
                if cancelled:
                    break
                losses[i, j] = value
                done += 1
                if progress is not None:
                    progress(done, total)
            if cancelled:
                break
    finished = ~np.isnan(losses).any(axis=1)
    scores = np.where(finished, np.mean(np.where(np.isnan(losses), np.inf, losses), axis=1), np.inf)
    best_lr = gain = None
    if np.isfinite(scores).any():
        k = int(np.argmin(scores))
        best_lr = lrs[k]
        if curve_pick is not None:
            near = [i for i, v in enumerate(lrs) if math.isclose(v, curve_pick, rel_tol=1e-9)]
            if near and finished[near[0]]:
                ref = float(scores[near[0]])
                gain = ref / float(scores[k]) if math.isfinite(ref) and scores[k] > 0 else math.inf
    losses.setflags(write=False)
    return ValidationResult(lrs, losses, scores, best_lr, curve_pick, gain, steps, seeds, cancelled, budget)


def validated_recommendation(model, ds, params, suggestions: dict, budget: int, *, val_ds=None,
                             share: float = VALIDATION_SHARE, seed: int = 0, batch_size: int = 32,
                             optimizer: str = "sgd", optimizer_params: dict | None = None,
                             progress: Callable[[int, int], Any] | None = None,
                             cancel: Callable[[], bool] | None = None) -> ValidationResult:
    """The validated recommendation for a training of ``budget`` steps: ``recommended`` × ¼ … 4, each
    trained ``share`` of the budget from ``params`` with one data-order ``seed``, the lowest held-out loss
    carried over to the budget (``ValidationResult.recommended``). It costs len(VALIDATION_FACTORS) ×
    share of a training (1.25× at the defaults). Raises ConfigError when the curve proposed nothing."""
    budget = _check_int("training budget", budget, 1, MAX_ITER)
    if not (isinstance(share, (int, float)) and 0 < share <= 1):
        raise ConfigError(f"validate: share of the budget must be in (0, 1], got {share!r}")
    cands = candidate_lrs(suggestions)
    if not cands:
        raise ConfigError("validate: the range test suggested no learning rate to validate")
    pick = suggestions.get("recommended") or suggestions.get("steepest")
    steps = max(1, int(round(share * budget)))
    return validate_candidates(model, ds, params, cands, steps=steps, seeds=(seed,), val_ds=val_ds,
                               batch_size=batch_size, optimizer=optimizer, optimizer_params=optimizer_params,
                               curve_pick=float(pick), budget=budget, progress=progress, cancel=cancel)
