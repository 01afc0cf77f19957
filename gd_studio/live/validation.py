"""Validate a range test's suggestion: short trainings from the same start at a few LRs (plain engine code).

Trains briefly from the same weights, seed and batches at the engine's candidates around ``recommended``
(and the steepest slope), polling ``cancel`` every step, then lets lr_finder.validate_candidates pick the
best on held-out loss, so the suggestion is checked, not trusted. (validation_lrs: the older ⅓×/1×/3×
steepest set, kept for scripts.)
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from .snapshot import frozen

VALIDATION_STEPS = 200


@dataclass(frozen=True)
class ValidationRun:
    label: str
    lr: float
    losses: np.ndarray  # batch loss per step (finite ones)
    done: bool
    diverged: bool
    stop_reason: str | None
    steps: int  # steps taken

    def final(self) -> float:
        if self.diverged or not self.losses.size:
            return math.inf
        return float(np.mean(self.losses[-min(10, self.losses.size):]))


@dataclass(frozen=True)
class ValidationProgress:
    generation: int
    runs: tuple[ValidationRun, ...]
    steps: int


@dataclass(frozen=True)
class ValidationOutcome:
    generation: int
    runs: tuple[ValidationRun, ...]
    steps: int
    cancelled: bool
    seconds: float
    pick: object = None  # lr_finder.ValidationResult: the best candidate on held-out loss (a request with "pick")


CANDIDATE_LABELS = {0.25: "¼×", 0.5: "½×", 1.0: "", 2.0: "2×", 4.0: "4×"}


def candidate_runs(suggestions: dict) -> list[tuple[str, float]]:
    """(label, lr) for the engine's candidates around ``recommended`` (lr_finder.candidate_lrs), plus the
    steepest-slope LR when it is not one of them, so the pick is measured against both curve-only rules."""
    from ..engine.lr_finder import VALIDATION_FACTORS, candidate_lrs

    rec = suggestions.get("recommended")
    around = "recommended" if rec is not None and math.isfinite(rec) and rec > 0 else "steepest"
    lrs = candidate_lrs(suggestions, around=around)
    if not lrs:
        return []
    centre = float(suggestions[around])
    out = []
    for lr in lrs:
        factor = min(VALIDATION_FACTORS, key=lambda f: abs(math.log(lr / (centre * f))))
        prefix = CANDIDATE_LABELS.get(factor, f"{factor:g}×")
        out.append(((prefix + " " if prefix else "") + around, float(lr)))
    steep = suggestions.get("steepest")
    if (around != "steepest" and steep is not None and math.isfinite(steep) and steep > 0
            and not any(math.isclose(steep, lr, rel_tol=1e-9) for _, lr in out)):
        out.append(("steepest", float(steep)))
    return sorted(out, key=lambda t: t[1])


def pick_best(session, config, lrs: list[tuple[str, float]], steps: int, curve_pick: float | None, *,
              cancel=lambda: False):
    """The engine's validated pick (lr_finder.validate_candidates) among ``lrs``, from the session's start,
    scored on its validation data (the training data when it has none)."""
    from ..engine.lr_finder import validate_candidates

    return validate_candidates(session.model, session.train, session.initial_params, [lr for _, lr in lrs],
                               steps=int(steps), seeds=(int(config.seed),), val_ds=getattr(session, "val", None),
                               batch_size=config.batch_size, optimizer=config.optimizer,
                               optimizer_params=dict(config.optimizer_params), curve_pick=curve_pick,
                               cancel=cancel)


def validation_lrs(suggestions: dict) -> list[tuple[str, float]]:
    """(label, lr) for ⅓×, 1×, 3× the steepest suggestion and Smith's two bounds (those that exist)."""
    out = []
    steep = suggestions.get("steepest")
    if steep is not None and math.isfinite(steep) and steep > 0:
        out += [("⅓× steepest", steep / 3.0), ("steepest", float(steep)), ("3× steepest", 3.0 * steep)]
    for key, label in (("base_lr", "Smith base_lr"), ("max_lr", "Smith max_lr")):
        v = suggestions.get(key)
        if v is not None and math.isfinite(v) and v > 0:
            out.append((label, float(v)))
    return out


def run_validation(session, config, lrs: list[tuple[str, float]], steps: int = VALIDATION_STEPS, *,
                   cancel=lambda: False, progress=None, pace: float = 0.0) -> tuple[list[ValidationRun], bool]:
    """Train ``steps`` steps at each LR from the session's initial weights with its seed (same batches).

    Plain engine code, run in the worker thread: ``cancel()`` is polled every step; ``progress(build)`` is
    called after every step with a function that builds the runs so far (the caller coalesces, and only
    builds what it sends); ``pace`` stretches the whole to that many seconds.
    Returns the runs and whether it was cancelled.
    """
    from ..engine import descent, schedules

    runs: list[ValidationRun] = []
    per_step = pace / max(1, steps * len(lrs))
    cancelled = False
    for label, lr in lrs:
        runner = descent.Runner(session.model, session.train, session.initial_params,
                                optimizer=config.optimizer, optimizer_params=dict(config.optimizer_params),
                                schedule=schedules.make("constant", lr), batch_size=config.batch_size,
                                seed=config.seed, watch=0, val=None)
        losses: list[float] = []
        for _ in range(int(steps)):
            if cancel():
                cancelled = True
                break
            rec = runner.step()
            if rec is None:
                break
            losses.append(float(rec.loss))
            if progress is not None:
                progress(lambda: runs + [_run(label, lr, losses, runner, False)])
            if per_step > 0:
                end = time.perf_counter() + per_step
                while not cancel() and time.perf_counter() < end:
                    time.sleep(min(0.005, max(end - time.perf_counter(), 0.0)))
        runs.append(_run(label, lr, losses, runner, not cancelled))
        if cancelled:
            break
    return runs, cancelled


def _run(label, lr, losses, runner, done) -> ValidationRun:
    y = np.asarray(losses, dtype=np.float64)
    return ValidationRun(label=label, lr=float(lr), losses=frozen(y[np.isfinite(y)]), done=bool(done),
                         diverged=bool(runner.stopped), stop_reason=runner.stop_reason,
                         steps=int(runner.step_count))


__all__ = ["ValidationRun", "ValidationProgress", "ValidationOutcome", "validation_lrs", "run_validation",
           "VALIDATION_STEPS", "candidate_runs", "pick_best"]
