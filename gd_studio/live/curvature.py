"""The whole network's sharpness along a live run, measured in the worker at a steady compute budget.

The estimate is the engine's warm-started Lanczos (hessian.SharpnessTracker), taken at the point the run is at
when a snapshot is built: every snapshot while paused or stepping by hand, and while running at most once per
``interval`` seconds, where the interval grows with the cost of an estimate so the sharpness never takes more
than about BUDGET of the worker's time. Models with more than SUBSET samples use a fixed seeded subset (said
in the view), so estimates along a run are comparable.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from .snapshot import frozen

SUBSET = 512  # samples the Hessian is taken over at most (a fixed seeded subset beyond that)
MIN_INTERVAL = 0.1  # seconds between estimates while running, at the least
BUDGET = 0.08  # share of the engine's time the estimates may take while running
MAX_POINTS = 4000  # estimates kept; older ones are thinned so a long run stays cheap to draw


@dataclass(frozen=True)
class SharpnessInfo:
    """λ_max over the steps and the optimizer's limit, for the sharpness view, captions and narration."""

    steps: np.ndarray  # step of each estimate (finite estimates only)
    values: np.ndarray  # λ_max (or λ_max of P⁻¹H for Adam/RMSProp) at that step
    limits: np.ndarray  # the optimizer's stability threshold at the LR in force at that step
    value: float | None  # the newest estimate (at ``step``), None when it could not be taken
    step: int  # the step the newest estimate is for
    limit: float  # the threshold at the LR in force now (the line the view draws at the right end)
    label: str  # "2/η", "38/η", …
    data: str  # "full training set (400 samples)" or "a fixed random subset of 512 of 1797 samples (seed 0)"
    preconditioned: bool
    note: str = ""  # why there is no estimate (diverged weights), said in the view

    @property
    def lr_limit(self) -> float | None:
        """2/λ_max: the largest stable plain full-batch LR at this point."""
        if self.value is None or not (math.isfinite(self.value) and self.value > 0):
            return None
        return 2.0 / self.value


class SharpnessTrack:
    """Owns the tracker for one run: measure when due, forget the future after a jump, describe for a snapshot."""

    def __init__(self) -> None:
        self.tracker = None
        self.optimizer = None
        self.last_time = self.last_cpu = -math.inf
        self.cost = 0.0
        self.note = ""
        self.current_step: int | None = None  # the step the tracker's newest estimate belongs to

    def reset(self, session) -> None:
        from ..engine import hessian

        train = session.train
        n = int(train.X.shape[0])
        self.tracker = hessian.SharpnessTracker(session.model, train.X, train.y, every=1,
                                                subset=SUBSET if n > SUBSET else None, seed=0)
        self.last_time = self.last_cpu = -math.inf
        self.cost = 0.0
        self.note = ""
        self.current_step = None

    def truncate(self, step: int) -> None:
        """After a jump back: estimates past ``step`` belong to a future that may be rewritten."""
        if self.tracker is None:
            return
        self.tracker.truncate(int(step) - 1)  # the jumped-to step is measured afresh (its LR may differ)
        self.current_step = None
        self.last_time = self.last_cpu = -math.inf

    def due(self, step: int, running: bool, now: float | None = None) -> bool:
        if self.tracker is None or step == self.current_step:
            return False
        if not running:
            return True
        now = time.perf_counter() if now is None else now
        # at least MIN_INTERVAL apart on the wall clock, and within BUDGET of the engine thread's CPU time (spaced by
        # the wall clock, the share of the CPU the engine did get grew with the machine's load)
        wait = self.cost / BUDGET
        if now - self.last_time < max(MIN_INTERVAL, wait):  # (CPU time never runs ahead of the wall clock)
            return False
        return time.thread_time() - self.last_cpu >= wait

    def measure(self, runner, lr: float, running: bool) -> None:
        """Take an estimate at the runner's point if one is due (never raises: a failure is noted)."""
        step = int(runner.step_count)
        if not self.due(step, running):
            return
        tr = self.tracker
        cpu0 = time.thread_time()  # its cost in CPU time: a busy machine's waits are not the estimate's cost
        opt = runner.optimizer
        try:
            p = np.asarray(runner.params, dtype=np.float64)
            if not np.all(np.isfinite(p)):
                raise FloatingPointError("the weights are no longer finite")
            grad = None
            if getattr(opt, "name", "sgd") in ("rmsprop", "adam"):  # P of the next step needs its gradient
                _, grad = tr.model.loss_and_grad(p, tr.X, tr.y)
            if tr.steps and tr.steps[-1] >= step:  # a re-measure of the same step (the LR changed)
                tr.truncate(step - 1)
            with np.errstate(all="ignore"):
                est = tr.update(step, p, optimizer=opt, lr=lr, grad=grad)
            if est is None or not math.isfinite(est.value):
                raise FloatingPointError("the curvature is not finite here")
            self.note = ""
        except Exception as exc:  # noqa: BLE001 - a diverged or odd point: no estimate, and say why
            tr.last = None  # a vector from a blown-up point would only slow the next warm start
            self.note = f"no sharpness at step {step}: {exc}" if str(exc) else f"no sharpness at step {step}"
        self.current_step = step
        self.last_time = time.perf_counter()
        self.last_cpu = time.thread_time()
        self.cost = max(0.0, self.last_cpu - cpu0)
        if len(tr.steps) > MAX_POINTS:  # thin the older half: the curve's shape survives, the cost does not grow
            half = len(tr.steps) // 2
            for lst in (tr.steps, tr.values, tr.thresholds):
                lst[:half] = lst[:half:2]

    def info(self, runner, lr: float) -> SharpnessInfo | None:
        from ..engine import hessian

        tr = self.tracker
        if tr is None:
            return None
        opt = runner.optimizer
        arr = tr.arrays()
        limit = hessian.stability_threshold(opt, lr) if opt is not None else (2.0 / lr if lr > 0 else math.inf)
        value = None
        last = tr.last
        if last is not None and tr.steps and self.current_step == tr.steps[-1] and math.isfinite(last.value):
            value = float(last.value)
        data = last.data if last is not None else (
            f"a fixed random subset of {tr.X.shape[0]} of {tr._n_total} samples (seed {tr.seed})"
            if tr.subset is not None and tr.subset < tr._n_total else f"full training set ({tr._n_total} samples)")
        ok = np.isfinite(arr["limit"])
        return SharpnessInfo(
            steps=frozen(arr["step"][ok]), values=frozen(arr["sharpness"][ok]), limits=frozen(arr["limit"][ok]),
            value=value, step=int(self.current_step if self.current_step is not None else runner.step_count),
            limit=float(limit), label=hessian.threshold_label(opt) if opt is not None else "2/η", data=data,
            preconditioned=bool(last.preconditioned) if last is not None else False, note=self.note)


def initial_lr_limit(session, X=None, y=None) -> float | None:
    """2/λ_max at the run's initial weights: where full-batch plain descent would start to diverge."""
    from ..engine import hessian

    X = session.train.X if X is None else X
    y = session.train.y if y is None else y
    n = int(np.asarray(X).shape[0])
    try:
        with np.errstate(all="ignore"):
            est = hessian.sharpness(session.model, np.asarray(session.initial_params, dtype=np.float64), X, y,
                                    subset=SUBSET if n > SUBSET else None, seed=0)
    except Exception:  # noqa: BLE001 - the marker is optional
        return None
    limit = est.lr_limit
    return float(limit) if math.isfinite(limit) else None


__all__ = ["SharpnessInfo", "SharpnessTrack", "initial_lr_limit", "SUBSET"]
