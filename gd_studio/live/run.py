"""LiveRun: one training run as the window shows it, without Qt (session, trail, caches, timeline, snapshots).

Everything the window shows of a run is computed here with plain methods, so a script, the command line or
a test can drive it exactly as the worker thread does:

    run = LiveRun()
    info = run.configure(config)          # ConfigInfo (raises a GDStudioError on bad settings; keeps the old run)
    run.step(10, cancel=lambda: False)    # steps taken
    snap = run.snapshot()                 # RunSnapshot: immutable copies, safe to hand to another thread
    run.step_back(); run.jump(3)
    outcome = run.range_test({"num_iter": 100}, progress=..., cancel=...)
    outcome = run.validate({"lrs": [("steepest", 0.05)]}, progress=..., cancel=...)

Long work polls ``cancel()`` at every engine step, so a caller can stop it within one step.
"""
from __future__ import annotations

import collections
import math
import os
import stat
import time
from typing import Callable

import numpy as np

from ..engine.config import DESCENT_DIRECTION, RunConfig
from ..engine.datasets import DatasetError
from . import narration as live_narration
from .curvature import SharpnessTrack, initial_lr_limit
from .surface import SurfaceSpec, SurfaceTrack
from .data_plane import DataPlane, history_arrays
from .snapshot import ConfigInfo, RangeTestOutcome, RangeTestProgress, RunSnapshot, WeightView, finite_xy, frozen
from .timeline import RunTimeline, rebuild_trail
from .validation import VALIDATION_STEPS, ValidationOutcome, ValidationProgress, run_validation

TRAIL_MAX = 200  # arrows kept on the loss-vs-weight view: a long run shows its most recent steps
SLICE_POINTS = 121
# the slice, its curvature and the view's loss values use at most this many training samples (a fixed,
# seeded subset): on digits the full set made a frame cost ~90 ms; the toy sets are used whole
SLICE_SAMPLES = 512
# While running, the costly parts of a snapshot are refreshed at most this often and within this share of the
# time (a part costing c seconds waits at least c / share): the ball, the step and the loss history are new in
# every frame at ~60 frames a second, while on digits the slice (~28 ms), the region grid (~30 ms) and the
# curvature (~25 ms) would each take half the engine's time if built for every frame. Paused, all are exact.
CURVATURE_EVERY, CURVATURE_SHARE = 0.5, 0.03
REGIONS_EVERY, REGIONS_SHARE = 0.25, 0.04
SLICE_EVERY, SLICE_SHARE = 0.0, 0.06
PROGRESS_EVERY = 1.0 / 60.0  # at most ~60 progress reports a second from a range test or a validation
SHARPNESS_EVERY = 10  # steps between sharpness estimates within a batch of steps
RATE_WINDOW = 2.0  # seconds of steps the speed readout averages over

Cancel = Callable[[], bool]


def never() -> bool:
    return False


class Trail:
    """The recent steps on the watched weight: w_t, batch loss, step number; and, for the descent
    direction, the parameter vectors themselves so they can be projected onto the current line."""

    def __init__(self, maxlen: int = TRAIL_MAX + 1) -> None:
        self.w = collections.deque(maxlen=maxlen)
        self.loss = collections.deque(maxlen=maxlen)
        self.step = collections.deque(maxlen=maxlen)
        self.params = collections.deque(maxlen=maxlen)

    def clear(self) -> None:
        self.w.clear(); self.loss.clear(); self.step.clear(); self.params.clear()

    def add(self, step: int, w: float, loss: float, params: np.ndarray | None = None) -> None:
        self.step.append(step)
        self.w.append(w)
        self.loss.append(loss)
        if params is not None:
            self.params.append(params)

    def __len__(self) -> int:
        return len(self.step)


class Refresh:
    """When a costly part of a running snapshot is due again: ``least`` s apart, and within ``share`` of the engine's
    time.

    Its cost and the engine's time are both the thread's CPU time: measured by the wall clock, a busy machine's
    waits (another process had the core) counted as cost, and the part was refreshed ever more rarely for nothing it
    cost; and spaced by the wall clock, the share of the CPU the engine did get grew with the load. ``least`` is a
    wall-clock spacing (how often a person can see it change).
    """

    def __init__(self, least: float, share: float) -> None:
        self.least, self.share = float(least), float(share)
        self.last = -math.inf
        self.last_cpu = -math.inf
        self.cost = 0.0

    def due(self, now: float) -> bool:
        wait = self.cost / self.share
        # a thread's CPU time never runs ahead of the wall clock: too soon by the wall clock is too soon (and asking
        # for the CPU clock is a system call, ~18 µs in this sandbox, that most frames need not make)
        if now - self.last < max(self.least, wait):
            return False
        return time.thread_time() - self.last_cpu >= wait

    def done(self, cpu_started: float) -> None:
        """Built now, from ``cpu_started`` (the thread's CPU clock, time.thread_time(), when it began)."""
        self.last = time.perf_counter()
        self.last_cpu = time.thread_time()
        self.cost = max(0.0, self.last_cpu - cpu_started)

    def reset(self) -> None:
        self.last = self.last_cpu = -math.inf


class RateMeter:
    """Steps per second over the last RATE_WINDOW seconds of steps actually taken.

    Measured between step times, not between reports: a run at 1 step/s reads 1, however often it is asked. A
    batch of steps taken at full speed is counted in one tick (its count, at the time its last step ended): one
    clock read and one sample a batch instead of a step, the same rate over the window.
    """

    def __init__(self, window: float = RATE_WINDOW) -> None:
        self.window = float(window)
        self._times: collections.deque[float] = collections.deque()
        self._counts: collections.deque[int] = collections.deque()  # steps taken up to each sample
        self._total = 0

    def clear(self) -> None:
        self._times.clear()
        self._counts.clear()
        self._total = 0

    def tick(self, now: float | None = None, steps: int = 1) -> None:
        t = time.perf_counter() if now is None else now
        self._total += int(steps)
        self._times.append(t)
        self._counts.append(self._total)
        # keep one sample older than the window, so a slow rate still has an interval to measure
        while len(self._times) > 2 and t - self._times[1] > self.window:
            self._times.popleft()
            self._counts.popleft()
        if len(self._times) > 100_000:
            self._times.popleft()
            self._counts.popleft()

    def rate(self) -> float:
        if len(self._times) < 2:
            return 0.0
        span = self._times[-1] - self._times[0]
        return (self._counts[-1] - self._counts[0]) / span if span > 0 else 0.0


def fit_loss_to_task(config: RunConfig, data) -> tuple[RunConfig, str]:
    """Switching between regression and classification data also switches an unfitting loss, and says so."""
    if data.task == "regression" and config.loss != "mse":
        return config.replace(loss="mse"), f"Loss set to mse: {data.name or 'this dataset'} is a regression dataset."
    if data.task == "classification" and config.loss == "mse":
        return (config.replace(loss="cross_entropy"),
                f"Loss set to cross entropy: {data.name or 'this dataset'} has {data.n_classes} classes.")
    return config, ""


def describe_dataset(train, val) -> str:
    n = train.X.shape[0] + (0 if val is None else val.X.shape[0])
    name = getattr(train, "name", "") or getattr(train, "source", "") or "data"
    kind = (f"{train.n_classes} classes" if getattr(train, "task", "") == "classification"
            else "regression")
    split = f" ({train.X.shape[0]} train / {val.X.shape[0]} validation)" if val is not None else ""
    return f"{name}: {n} samples × {train.X.shape[1]} features, {kind}{split}"


def current_lr(runner, config) -> float:
    try:
        lr = float(runner.lr)
    except Exception:  # noqa: BLE001 - a schedule that cannot say: fall back to the configured LR
        lr = math.nan
    if math.isfinite(lr):
        return lr
    return float(config.lr) if config is not None else math.nan


def _check_data_path(path) -> None:
    """A data path must be a regular file: a FIFO or a device would block the worker's read for ever."""
    if not path:
        return
    try:
        st = os.stat(path)
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if not stat.S_ISREG(st.st_mode):
        raise DatasetError(f"{path}: not a regular file (a pipe, a device or a folder); choose a CSV file")


class AtFirstStep(Exception):
    """step_back() at the first recorded step: nothing to go back to (not an error, a note for the user)."""


class LiveRun:
    """The one owner of a live run's engine state: build, step, jump, range test, validate, snapshot."""

    def __init__(self) -> None:
        self.config: RunConfig | None = None
        self.session = None
        self.generation = 0
        self.running = False  # set by the caller while it steps continuously: caches refresh less often
        self.fast = False  # running unthrottled: the timeline checkpoints sparsely
        # called before every engine step (the worker parks here while the GUI draws); None: no pause
        self.before_step: Callable[[], None] | None = None
        self.trail = Trail()
        self.timeline = RunTimeline()  # exact checkpoints for step back and the timeline slider
        self.rate = RateMeter()
        self.watch_index: int | None = None
        self.watch_name = ""
        self.initial_state = None
        self.slice_range: tuple[float, float] | None = None
        self.plane = None
        self.data_info = None
        self.grid_inputs = None
        self.slice_X = self.slice_y = None
        self.slice_note = ""
        self.curv_cache = None  # (watch name, λ, slope)
        self.regions_cache = None  # (regions, confidence)
        self.slice_cache = None  # (watch name, lo, hi, curve) of the last slice, reused while running
        self.view_cache = None  # the last descent-direction WeightView, reused while running
        self.curv_refresh = Refresh(CURVATURE_EVERY, CURVATURE_SHARE)
        self.regions_refresh = Refresh(REGIONS_EVERY, REGIONS_SHARE)
        self.slice_refresh = Refresh(SLICE_EVERY, SLICE_SHARE)
        self.narration_cache = None  # (time, key, narration) while running
        self.sharpness = SharpnessTrack()  # λ_max along the run (live/curvature.py)
        self.surface = SurfaceTrack()  # the loss surface when its view is shown (live/surface.py)
        self._paused_snapshot = None  # the last snapshot taken while paused: refine_surface redoes its surface

    # -- building -------------------------------------------------------------------------------
    def configure(self, config: RunConfig, reason: str = "configured") -> ConfigInfo:
        """Build a new run from ``config``; on a bad config this raises and the previous run stays."""
        from ..engine import descent

        self.running = False
        _check_data_path(config.data_path)
        data = descent.load_dataset(config)
        config, note = fit_loss_to_task(config, data)
        session = descent.build(config, dataset=data)
        return self._install(session, config, reason, (note,) if note else ())

    def reset(self, config: RunConfig | None = None) -> ConfigInfo | None:
        """Back to step 0 with the same initial weights, under ``config`` (default: the one in force).

        Only the LR may differ without a rebuild: the live LR is part of the config, and the restored runner
        uses it (not the LR the run was built with).
        """
        if self.session is None:
            return None if config is None else self.configure(config, "reset")
        self.running = False
        if config is not None and config.replace(lr=self.config.lr) != self.config:
            return self.configure(config, "reset")
        if config is not None:
            self.config = self.config.replace(lr=config.lr)
        try:
            self.session.runner.restore(self.initial_state)
        except Exception:  # noqa: BLE001 - a runner that cannot restore is rebuilt from the same config
            return self.configure(self.config, "reset")
        # the live LR is part of the run's config: the restored runner must use it, not the build-time one
        self._apply_lr(self.config.lr)
        return self._after_build("reset")

    def _apply_lr(self, lr: float) -> None:
        runner = self.session.runner
        if float(getattr(runner.schedule, "base_lr", math.nan)) != float(lr):
            runner.set_lr(float(lr))

    def reseed(self, seed_or_config: int | RunConfig) -> ConfigInfo | None:
        """New initial weights: the config in force (live LR included) with another seed, or ``config``."""
        from ..engine import descent

        if isinstance(seed_or_config, RunConfig):
            config = seed_or_config
        elif self.config is not None:
            config = self.config.replace(seed=int(seed_or_config))
        else:
            return None
        self.running = False
        same_data = (self.session is not None and self.config is not None
                     and config.replace(seed=self.config.seed, lr=self.config.lr) == self.config)
        if not same_data:
            return self.configure(config, "reseeded")
        session = descent.build(config, dataset=self.session.dataset)
        return self._install(session, config, "reseeded", ())

    def _install(self, session, config: RunConfig, reason: str, notes: tuple[str, ...]) -> ConfigInfo:
        self.session = session
        self.config = config
        self.initial_state = session.runner.snapshot()
        model, train = session.model, session.train
        try:
            self.plane = DataPlane(train)
            self.data_info = self.plane.info(train)
            self.grid_inputs = self.plane.grid_inputs(self.data_info)
        except Exception:  # noqa: BLE001 - a data view we cannot draw must not stop training
            self.plane = self.data_info = self.grid_inputs = None
        n = train.X.shape[0]
        if n > SLICE_SAMPLES:  # a fixed, seeded subset keeps the re-sliced curve cheap and steady
            idx = np.sort(np.random.default_rng(0).choice(n, SLICE_SAMPLES, replace=False))
            self.slice_X, self.slice_y = train.X[idx], train.y[idx]
            self.slice_note = f"(Curve: loss on a fixed sample of {SLICE_SAMPLES} of the {n} training points.)"
        else:
            self.slice_X, self.slice_y = train.X, train.y
            self.slice_note = ""
        try:
            self._set_watch(config.watch or model.param_names[0])
        except Exception:  # noqa: BLE001 - an unknown watch name falls back to the first weight
            self._set_watch(model.param_names[0])
        notes = tuple(notes) + tuple(getattr(session, "notes", ()))
        return self._after_build(reason, notes)

    def _after_build(self, reason: str, notes: tuple[str, ...] = ()) -> ConfigInfo:
        self.generation += 1
        self.running = False
        self._drop_caches()
        self.trail.clear()
        self.slice_range = None
        self.rate.clear()
        self.timeline.reset(self.session.runner)
        self._record_start()
        self.sharpness.reset(self.session)
        self.surface.reset(self.session.runner)
        s = self.session
        val = getattr(s, "val", None)
        return ConfigInfo(
            generation=self.generation, config=self.config, param_names=tuple(s.model.param_names),
            watch_names=tuple(s.model.param_names) + (DESCENT_DIRECTION,), watch=self.watch_name,
            model_text=s.model.describe() if hasattr(s.model, "describe") else s.model.kind,
            dataset_text=describe_dataset(s.train, val), n_train=int(s.train.X.shape[0]),
            n_val=0 if val is None else int(val.X.shape[0]), data=self.data_info, reason=reason, notes=notes)

    def _drop_caches(self) -> None:
        self.curv_cache = self.regions_cache = self.narration_cache = self.slice_cache = self.view_cache = None
        for r in (self.curv_refresh, self.regions_refresh, self.slice_refresh):
            r.reset()

    # -- settings that do not rebuild -------------------------------------------------------------
    def set_lr(self, lr: float) -> None:
        """The LR from the next step on (raises on a bad LR and keeps the previous one)."""
        if self.session is None:
            return
        self.session.runner.set_lr(lr)
        self.config = self.config.replace(lr=float(lr))
        self.timeline.changed(self.session.runner)  # a new LR in the past forks the run here
        self.sharpness.current_step = None  # re-measure here: the limit (and Adam's P) follow the LR
        self.surface.invalidate()

    def set_surface(self, spec: SurfaceSpec | dict | None) -> None:
        """Show the loss surface in this plane from the next snapshot on (None: hidden, nothing computed)."""
        if isinstance(spec, dict):
            spec = SurfaceSpec(**spec)
        shown = self.surface.spec is None and spec is not None
        self.surface.set_spec(spec)
        if shown and self.session is not None:
            # hidden, the path was not recorded: the run so far, from the checkpoints (every step of a run stepped by
            # hand or throttled, every FAST_EVERY-th at full speed, older ones thinned)
            self.surface.rebuild_path(self.timeline.store, self.session.runner)

    def set_watch(self, name: str) -> None:
        if self.session is None:
            return
        self._set_watch(name)

    def _set_watch(self, name: str) -> None:
        model = self.session.model
        index = None if name == DESCENT_DIRECTION else model.index_of(name)
        self.watch_index = index
        self.watch_name = name
        self.session.runner.set_watch(index)
        if self.config is not None and self.config.watch != name:
            self.config = self.config.replace(watch=name)
        self.trail.clear()
        self.slice_range = None
        self.timeline.watch_changed(self.session.runner)
        self._record_start()

    def _record_start(self) -> None:
        """Put the current point on the trail, so the first step draws an arrow from it."""
        if self.session is None:
            return
        p = self.session.runner.params
        step = int(getattr(self.session.runner, "step_count", 0))
        self.trail.add(step, self._watched_value(p), math.nan, p.copy() if self.watch_index is None else None)

    def _watched_value(self, p: np.ndarray) -> float:
        return float(p[self.watch_index]) if self.watch_index is not None else 0.0

    # -- stepping -------------------------------------------------------------------------------
    @property
    def stopped(self) -> bool:
        return self.session is not None and bool(getattr(self.session.runner, "stopped", False))

    @property
    def step_count(self) -> int:
        return 0 if self.session is None else int(self.session.runner.step_count)

    def step_once(self) -> bool:
        """One engine step; True when a step was taken. Raises on a bug (the caller reports it)."""
        return self.step(1) == 1

    def step(self, n: int = 1, *, cancel: Cancel = never, stop_at: int | None = None,
             deadline: float | None = None) -> int:
        """Up to ``n`` steps; stops early on divergence, ``cancel()``, step ``stop_at`` or time ``deadline``.

        Returns the number of steps taken. ``cancel`` is polled before every step.

        One loop with its names looked up once: running the one-weight parabola at full speed, an engine step is
        ~16 µs, and the calls and attribute look-ups around it (the run's properties, a method call a step, the
        speed readout's clock per step) cost the window's engine a quarter of its headless speed.
        """
        if self.session is None:
            return 0
        done = 0
        # a batch of steps (a pre-run, "step 600") records the sharpness every few steps as it goes, as a
        # script's hessian.track_run does; while running, snapshots take it at a steady time budget instead
        every = 0 if self.running else max(SHARPNESS_EVERY, int(n) // 200)
        runner = self.session.runner
        take = runner.step
        before = self.before_step
        watch = self.watch_index
        trail = self.trail
        tw, tl, ts, tp = trail.w.append, trail.loss.append, trail.step.append, trail.params.append
        after_step, fast = self.timeline.after_step, self.fast
        # the surface's path only while the view is shown (hidden, a copy of every step's weights cost digits' engine
        # ~8 % of its speed for nothing): shown again, it is rebuilt from the timeline's checkpoints
        on_path = self.surface.after_step if self.surface.spec is not None else None
        clock = time.perf_counter
        try:
            for _ in range(max(0, int(n))):
                if cancel():
                    break
                if stop_at is not None and runner.step_count >= stop_at:
                    break
                if before is not None:
                    before()
                if runner.stopped:
                    break
                rec = take()
                if rec is None:
                    break
                ts(int(rec.step))
                tl(float(rec.loss))
                if watch is None:  # the descent line moves: keep the vectors to project later
                    tw(0.0)
                    tp(runner.params)
                else:  # the record says where the watched weight went; no copy of the whole vector needed
                    tw(float(rec.watched_next))
                after_step(runner, fast)
                if on_path is not None:
                    on_path(runner)
                done += 1
                if runner.stopped:
                    break
                if every and runner.step_count % every == 0:
                    self.sharpness.measure(runner, current_lr(runner, self.config), False)
                if deadline is not None and clock() >= deadline:
                    break
        finally:
            if done:
                self.rate.tick(steps=done)
        return done

    # -- the timeline -----------------------------------------------------------------------------
    def jump(self, target: int) -> int:
        """Go to step ``target`` exactly (clamped to the recorded run); returns the step reached."""
        if self.session is None:
            return 0
        self.running = False
        runner = self.session.runner
        tl = self.timeline
        reached = tl.goto(runner, int(target))
        # rows up to here were recorded (or replayed) under older watches only if the watch changed later
        tl.watch_since = min(tl.watch_since, reached)
        self._drop_caches()
        self.slice_range = None
        self.rate.clear()
        rebuild_trail(self.trail, runner, self.watch_index, tl.watch_since, TRAIL_MAX)
        self.sharpness.truncate(reached)
        self.surface.invalidate()
        base = float(getattr(runner.schedule, "base_lr", math.nan))
        if self.config is not None and math.isfinite(base) and self.config.lr != base:
            self.config = self.config.replace(lr=base)  # the LR in force at that step is the run's LR again
        return reached

    def step_back(self) -> int:
        """The exact state one step earlier (after a stop: the last good step); raises AtFirstStep at the start."""
        if self.session is None:
            return 0
        runner = self.session.runner
        target = runner.step_count if runner.stopped else runner.step_count - 1
        if target < self.timeline.store.first:
            self.running = False
            raise AtFirstStep("Already at the first recorded step: nothing to step back to.")
        return self.jump(target)

    # -- snapshots ---------------------------------------------------------------------------------
    def snapshot(self) -> RunSnapshot:
        s = self.session
        runner = s.runner
        p = runner.params
        hist = history_arrays(runner)
        val_loss = float(hist.val_loss[-1]) if hist.val_loss.size else None
        lr = current_lr(runner, self.config)
        stop = getattr(runner, "stop_reason", None) if getattr(runner, "stopped", False) else None
        weight = self.weight_view(p, lr)
        regions = confidence = None
        if self.data_info is not None:
            now = time.perf_counter()
            cached = self.regions_cache
            if self.running and cached is not None and not self.regions_refresh.due(now):
                regions, confidence = cached  # the same arrays: the view skips the redraw
            else:
                cpu0 = time.thread_time()  # (only when needed: a system call, ~18 µs here)
                try:
                    regions, confidence = self._predict_grid(p)
                except Exception:  # noqa: BLE001 - a failed data view must not stop a run
                    regions = confidence = None
                self.regions_cache = (regions, confidence)
                self.regions_refresh.done(cpu0)
        sharp = None
        try:
            self.sharpness.measure(runner, lr, self.running)
            sharp = self.sharpness.info(runner, lr)
        except Exception:  # noqa: BLE001 - the sharpness must never stop a run
            sharp = None
        weight = self._with_network_threshold(weight, sharp, lr)
        surface, surface_error = None, ""
        if self.surface.spec is not None:
            surface = self.surface.info(s, runner, lr, self.slice_X, self.slice_y, self.running)
            surface_error = self.surface.error
        narr = self.narration(weight, sharp)
        snap = RunSnapshot(
            generation=self.generation, step=int(getattr(runner, "step_count", 0)),
            epoch=int(getattr(runner, "epoch", 0)), lr=lr, loss=float(hist.loss[-1]) if hist.loss.size else None,
            val_loss=val_loss, steps_per_sec=float(self.rate.rate()) if self.running else 0.0,
            running=self.running, stop_reason=stop, history=hist, weight=weight, regions=regions,
            confidence=confidence, time=time.perf_counter(),
            extra={"timeline": self.timeline.info(runner), "narration": narr},
            loss_now=self._loss_now(hist, narr, weight), sharpness=sharp, surface=surface,
            surface_error=surface_error)
        self._paused_snapshot = None if self.running else snap
        return snap

    # -- the loss surface, refined when idle ---------------------------------------------------------
    def surface_refine_due(self) -> bool:
        """The last paused snapshot's loss surface was drawn coarse and the run has not moved since: the window
        calls refine_surface once no command has come for surface.REFINE_DELAY."""
        if self.session is None or self.running or self._paused_snapshot is None:
            return False
        return self.surface.refine_due(self.session.runner, current_lr(self.session.runner, self.config))

    def tune_surface(self, **budgets: float) -> None:
        """Tests and benchmarks: the loss surface's time budgets in the window (step_seconds, refine_seconds,
        refine_delay; live/surface.SurfaceTrack)."""
        for name, value in budgets.items():
            if name not in ("step_seconds", "refine_seconds", "refine_delay"):
                raise ValueError(f"tune_surface: unknown budget {name!r}")
            setattr(self.surface, name, float(value))

    def refine_surface(self, cancel: Cancel = never) -> RunSnapshot | None:
        """The last paused snapshot again, its loss surface on the full grid; None when there is nothing to refine
        or ``cancel()`` turned true on the way (it is asked between bands of grid rows)."""
        if not self.surface_refine_due():
            return None
        runner = self.session.runner
        info = self.surface.refine(self.session, runner, current_lr(runner, self.config), self.slice_X,
                                   self.slice_y, cancel)
        if info is None:
            return None
        from dataclasses import replace

        self._paused_snapshot = replace(self._paused_snapshot, surface=info, surface_error="")
        return self._paused_snapshot

    @staticmethod
    def _with_network_threshold(weight, sharp, lr: float):
        """The weight view with the whole network's 2/λ_max next to the weight's own 2/λ (engine wording)."""
        from dataclasses import replace

        from ..engine import narration

        if weight is None or sharp is None or sharp.value is None or sharp.preconditioned:
            return weight
        lam = weight.curvature if weight.curvature is not None else math.nan
        name = weight.name if weight.axis_label == weight.name else "the descent direction"
        try:
            text = narration.weight_caption(name, lam, sharp.value, lr)
        except Exception:  # noqa: BLE001
            return weight
        return replace(weight, network_caption=text, lr_limit=sharp.lr_limit)

    def _loss_now(self, hist, narr, weight) -> float | None:
        """The loss where the run is now (after the last step), as the ball and the narration show it.

        The history's last row is the batch loss *before* that step's update; the narration's loss after
        the step (full batch, or on the training sample) is the one that matches the ball.
        """
        if narr is not None and narr.get("loss_after") is not None and narr.get("step") == self.step_count:
            return float(narr["loss_after"])
        if weight is not None and math.isfinite(weight.current_loss) and self.watch_index is not None:
            return float(weight.current_loss)
        return float(hist.loss[-1]) if hist.loss.size else None

    def narration(self, weight, sharp=None) -> dict | None:
        """The narration of the newest step; a few times a second while running.

        With ``sharp`` (a SharpnessInfo measured at this step) divergence is judged by the whole network's
        λ_max against the optimizer's limit, not by the watched weight's own curvature.
        """
        runner = self.session.runner
        tl = self.timeline
        network = None
        if sharp is not None and sharp.value is not None and sharp.step == runner.step_count:
            network = {"sharpness": sharp.value, "limit": sharp.limit, "limit_label": sharp.label}
        key = (self.generation, int(runner.step_count), self.watch_name, tl.watch_since,
               None if network is None else (network["sharpness"], network["limit"]))
        cache = self.narration_cache
        now = time.perf_counter()
        if cache is not None and (cache[1] == key or (self.running and now - cache[0] < live_narration.RUNNING_EVERY)):
            return cache[2]
        try:
            data = live_narration.narrate_latest(
                self.session, runner, watch_index=self.watch_index, watch_name=self.watch_name,
                since=tl.watch_since, optimizer=self.config.optimizer if self.config is not None else "sgd",
                thresholds=live_narration.thresholds_of(weight), p_before=tl.store.params_at(runner.step_count - 1),
                X=self.slice_X, y=self.slice_y, network=network)
        except Exception:  # noqa: BLE001 - narration must never stop a run
            data = None
        self.narration_cache = (now, key, data)
        return data

    def _predict_grid(self, p: np.ndarray):
        info = self.data_info
        model = self.session.model
        if info.kind == "regions":
            probs = np.asarray(model.predict(p, self.grid_inputs))
            if probs.ndim == 1:
                probs = np.column_stack([1.0 - probs, probs])
            probs = np.nan_to_num(probs, nan=0.0, posinf=1.0, neginf=0.0)
            shape = (len(info.grid_y), len(info.grid_x))
            return (frozen(probs.argmax(axis=1).reshape(shape), np.int64),
                    frozen(probs.max(axis=1).reshape(shape)))
        if info.kind == "curve":
            return frozen(np.asarray(model.predict(p, self.grid_inputs), dtype=np.float64).ravel()), None
        return frozen(np.asarray(model.predict(p, self.session.train.X), dtype=np.float64).ravel()), None

    def history_columns(self) -> tuple[dict, dict]:
        """Copies of the run's recorded columns and validation columns (for the run-history CSV)."""
        runner = self.session.runner if self.session is not None else None
        if runner is None or not len(runner.history):
            return {}, {}
        cols = {k: np.array(v, copy=True) for k, v in runner.history.columns().items()}
        vals = ({k: np.array(v, copy=True) for k, v in runner.val_history.columns().items()}
                if len(runner.val_history) else {"step": np.zeros(0), "val_loss": np.zeros(0)})
        return cols, vals

    # -- the loss-vs-weight view -----------------------------------------------------------------
    def _slice_bounds(self, ws: np.ndarray, current: float, target: float | None = None) -> tuple[float, float]:
        """A window over the recent steps and the bowl's bottom, kept steady unless the steps (or the bottom)
        leave it or it gets far too wide.

        ``target`` is where the quadratic model along the slice has its minimum (w − g/λ): without it a
        network weight's window is so narrow that the curve looks like a straight line.
        """
        finite = ws[np.isfinite(ws)]
        lo = float(min(finite.min(), current)) if finite.size else current
        hi = float(max(finite.max(), current)) if finite.size else current
        if target is not None and math.isfinite(target):
            # half as far again: the quadratic model is local, and losses such as cross-entropy flatten out, so
            # the real bottom usually lies further (on a parabola the bowl then shows on both sides)
            target = current + 1.5 * (target - current)
            cap = 3.0 * abs(current) + 2.0  # a nearly flat slice puts the "minimum" far away: not that far
            target = min(max(target, current - cap), current + cap)
            lo, hi = min(lo, target), max(hi, target)
        span = hi - lo
        # wide enough to show the trough around small steps, narrow enough that the steps are visible
        base = max(span * 0.6, 0.1 * max(abs(current), 1.0))
        want = (lo - base, hi + base)
        old = self.slice_range
        if old is not None:
            inside = old[0] <= lo and hi <= old[1]
            not_too_wide = (old[1] - old[0]) < 4.0 * (want[1] - want[0])
            if inside and not_too_wide:
                return old
        self.slice_range = want
        return want

    def _curvature(self, model, p, X, y, along, cacheable: bool) -> tuple[float, float]:
        """(λ, the loss's slope along the slice) at p; while running, when self.curv_refresh says so."""
        from ..engine import landscape

        now = time.perf_counter()
        cached = self.curv_cache
        if (cacheable and self.running and cached is not None and cached[0] == self.watch_name
                and not self.curv_refresh.due(now)):
            return cached[1], cached[2]
        cpu0 = time.thread_time()
        lam = float(landscape.curvature(model, p, X, y, along))
        slope = math.nan
        if isinstance(along, (int, np.integer)) and math.isfinite(lam) and lam > 0:
            _, g = model.loss_and_grad(p, X, y)
            slope = float(np.asarray(g)[int(along)])
        self.curv_cache = (self.watch_name, lam, slope)
        if cacheable:
            self.curv_refresh.done(cpu0)
        return lam, slope

    def weight_view(self, p: np.ndarray, lr: float, trail: Trail | None = None) -> WeightView | None:
        from ..engine import landscape

        trail = trail or self.trail
        model = self.session.model
        X, y = self.slice_X, self.slice_y
        try:
            if self.watch_index is not None:
                idx = self.watch_index
                ws = np.fromiter(trail.w, dtype=np.float64, count=len(trail.w))
                current = float(p[idx])
                lam, slope = self._curvature(model, p, X, y, idx, trail is self.trail)
                # the bottom of the quadratic model along the slice (while running: from a recent λ and slope)
                target = current - slope / lam if lam > 0 and math.isfinite(slope) else None
                lo, hi = self._slice_bounds(ws, current, target)
                grid = np.linspace(lo, hi, SLICE_POINTS)
                now = time.perf_counter()
                cached = self.slice_cache
                if (self.running and trail is self.trail and cached is not None
                        and cached[:3] == (self.watch_name, lo, hi) and not self.slice_refresh.due(now)):
                    curve = cached[3]  # the curve a moment ago: the ball and the trail still sit on it
                else:
                    cpu0 = time.thread_time()
                    curve = np.asarray(landscape.weight_slice(model, p, X, y, idx, grid - current),
                                       dtype=np.float64)
                    if trail is self.trail:
                        self.slice_cache = (self.watch_name, lo, hi, curve)
                        self.slice_refresh.done(cpu0)
                axis_label = self.watch_name
                cur_w = current
            else:
                now = time.perf_counter()
                if (self.running and trail is self.trail and self.view_cache is not None
                        and not self.slice_refresh.due(now)):
                    return self.view_cache  # the descent line of a moment ago (it moves with every step)
                cpu0 = time.thread_time()
                _, g = model.loss_and_grad(p, X, y)
                g = np.asarray(g, dtype=np.float64)
                norm = float(np.linalg.norm(g))
                d = -g / norm if norm > 0 else np.zeros_like(g)  # as landscape.descent_direction
                if trail.params:
                    P = np.asarray(trail.params)
                    ws = (P - p) @ d  # every recent point, projected onto the current descent line
                else:
                    ws = np.zeros(0)
                lam, _slope = self._curvature(model, p, X, y, d, trail is self.trail)
                # along −g/|g| the slope is −|g|: the quadratic model's bottom is at α = |g|/λ
                lo, hi = self._slice_bounds(ws, 0.0, norm / lam if lam > 0 and norm > 0 else None)
                grid = np.linspace(lo, hi, SLICE_POINTS)
                curve = np.asarray(landscape.direction_slice(model, p, X, y, d, grid), dtype=np.float64)
                axis_label = "α along the descent direction"
                cur_w = 0.0
                if trail is self.trail:
                    self.slice_refresh.done(cpu0)
        except Exception:  # noqa: BLE001 - e.g. a slice through overflowing weights: skip this frame's curve
            return None
        osc, div = landscape.lr_thresholds(lam)
        curve_w, curve_loss = finite_xy(grid, curve)
        if curve_w.size >= 2:
            trail_loss = np.interp(ws, curve_w, curve_loss)
            cur_loss = float(np.interp(cur_w, curve_w, curve_loss))
        else:
            trail_loss = np.full(len(ws), np.nan)
            cur_loss = math.nan
        view = WeightView(
            name=self.watch_name, curve_w=frozen(curve_w), curve_loss=frozen(curve_loss), trail_w=frozen(ws),
            trail_loss=frozen(trail_loss), trail_step=frozen(list(trail.step), np.int64),
            trail_batch_loss=frozen(list(trail.loss)), current_w=cur_w, current_loss=cur_loss,
            curvature=lam if math.isfinite(lam) else None,
            oscillate_lr=float(osc) if math.isfinite(osc) else None,
            diverge_lr=float(div) if math.isfinite(div) else None, lr=lr, axis_label=axis_label,
            note=self.slice_note, whole_loss=self.watch_index is not None and int(model.n_params) == 1)
        if self.watch_index is None and trail is self.trail:
            self.view_cache = view
        return view

    # -- the range test ---------------------------------------------------------------------------
    def range_test(self, request: dict, *, progress: Callable[[RangeTestProgress], None] | None = None,
                   cancel: Cancel = never, ready: Callable[[], bool] = lambda: True,
                   pace: float = 0.0, lockstep: Callable[[], None] | None = None) -> RangeTestOutcome | None:
        """Leslie Smith's range test from the run's initial weights, walking on the loss-vs-weight view.

        ``progress`` receives a RangeTestProgress at most every PROGRESS_EVERY s and only when ``ready()``
        (the GUI has drawn the last one); ``cancel()`` is polled at every step. With ``lockstep`` (a
        recording) every step is reported and ``lockstep()`` returns once its frame is taken, so an animation
        has one frame per step whatever the timing. Raises on a bug; a cancelled test returns the curve so far.
        """
        from ..engine import lr_finder

        if self.session is None:
            return None
        self.running = False
        s, cfg = self.session, self.config
        params0 = np.array(s.initial_params, dtype=np.float64, copy=True)
        num_iter = int(request.get("num_iter", 100))
        repeats = max(1, int(request.get("repeats", 1)))
        per_step = float(request.get("pace", pace)) / max(num_iter * repeats, 1)
        kw = dict(start_lr=float(request.get("start_lr", 1e-7)), end_lr=float(request.get("end_lr", 10.0)),
                  num_iter=num_iter, mode=request.get("mode", "exp"), batch_size=cfg.batch_size,
                  optimizer=cfg.optimizer, optimizer_params=dict(cfg.optimizer_params))
        val = getattr(s, "val", None)
        if request.get("use_val") and val is not None:
            kw["val_ds"] = val
        trail = Trail()
        lrs: list[float] = []
        losses: list[float] = []
        state = {"last": 0.0, "repeat": 0, "params": params0}
        self.slice_range = None
        trail.add(0, self._watched_value(params0), math.nan, params0.copy() if self.watch_index is None else None)

        def report() -> None:
            if progress is not None:
                progress(self._range_progress(lrs, losses, state["params"], trail, num_iter, state["repeat"],
                                              repeats))

        def callback(st) -> None:
            if st.step == 0 and lrs:  # the next seed of a repeated test begins
                state["repeat"] += 1
                lrs.clear()
                losses.clear()
            if self.before_step is not None:
                self.before_step()
            lrs.append(float(st.lr))
            losses.append(float(st.loss))
            if state["repeat"] == 0:  # the first seed's steps walk on the loss-vs-weight view
                pp = np.asarray(st.params)
                state["params"] = pp
                trail.add(int(st.step) + 1, self._watched_value(pp), float(st.loss),
                          pp if self.watch_index is None else None)
            if lockstep is not None:
                report()
                lockstep()
                return
            now = time.perf_counter()
            if now - state["last"] >= PROGRESS_EVERY and ready():
                state["last"] = now
                report()
            if per_step > 0:
                end = time.perf_counter() + per_step
                while not cancel() and time.perf_counter() < end:
                    time.sleep(min(0.01, max(end - time.perf_counter(), 0.0)))

        t0 = time.perf_counter()
        repeat = None
        try:
            if repeats > 1:
                seeds = tuple(cfg.seed + i for i in range(repeats))
                repeat = lr_finder.repeat_range_test(s.model, s.train, params0, seeds=seeds, callback=callback,
                                                     cancel=cancel, **kw)
                result = repeat.results[0]
            else:
                result = lr_finder.range_test(s.model, s.train, params0, seed=cfg.seed, callback=callback,
                                              cancel=cancel, **kw)
        finally:
            self.slice_range = None
        if lrs and lockstep is None:  # one last frame of the walk (a recording has had every one), then the result
            report()
        self.slice_range = None
        seconds = time.perf_counter() - t0
        limit = None if cancel() else initial_lr_limit(s)
        return RangeTestOutcome(generation=self.generation, result=result, repeat=repeat,
                                cancelled=bool(cancel()), seconds=seconds, initial_lr_limit=limit)

    def _range_progress(self, lrs, losses, params, trail, num_iter, repeat, repeats) -> RangeTestProgress:
        from ..engine import lr_finder

        x, yv = finite_xy(np.asarray(lrs), np.asarray(losses))
        try:
            sm = np.asarray(lr_finder.smooth(yv, x), dtype=np.float64) if yv.size >= 3 else yv.copy()
        except Exception:  # noqa: BLE001 - a short or odd prefix: draw the raw curve only
            sm = yv.copy()
        lr_now = float(x[-1]) if x.size else math.nan
        weight = None
        if repeat == 0 and params is not None:
            try:
                weight = self.weight_view(params, lr_now, trail)
            except Exception:  # noqa: BLE001
                weight = None
        return RangeTestProgress(generation=self.generation, lrs=frozen(x), losses=frozen(yv), smoothed=frozen(sm),
                                 weight=weight, num_iter=num_iter, repeat=repeat, repeats=repeats)

    # -- validation --------------------------------------------------------------------------------
    def validate(self, request: dict, *, progress: Callable[[ValidationProgress], None] | None = None,
                 cancel: Cancel = never, ready: Callable[[], bool] = lambda: True) -> ValidationOutcome | None:
        """Short trainings at the request's (label, lr) pairs from the run's start (see live.validation)."""
        if self.session is None:
            return None
        self.running = False
        lrs = [(str(label), float(lr)) for label, lr in request.get("lrs", ())]
        steps = max(1, int(request.get("steps", VALIDATION_STEPS)))
        gen = self.generation
        last = [0.0]

        def on_step(build) -> None:
            now = time.perf_counter()
            if progress is not None and now - last[0] >= PROGRESS_EVERY and ready():
                last[0] = now
                progress(ValidationProgress(gen, tuple(build()), steps))

        t0 = time.perf_counter()
        runs, was_cancelled = run_validation(self.session, self.config, lrs, steps, cancel=cancel,
                                             progress=on_step, pace=float(request.get("pace", 0.0)))
        pick = None
        if request.get("pick") and not was_cancelled and lrs:
            # the curves above show how each trained; the pick scores each on held-out loss (engine rule)
            from .validation import pick_best

            pick = pick_best(self.session, self.config, lrs, steps, request.get("curve_pick"), cancel=cancel)
            was_cancelled = bool(pick.cancelled)
        return ValidationOutcome(gen, tuple(runs), steps, bool(was_cancelled), time.perf_counter() - t0, pick)


__all__ = ["LiveRun", "Trail", "RateMeter", "AtFirstStep", "fit_loss_to_task", "describe_dataset", "current_lr",
           "TRAIL_MAX", "SLICE_SAMPLES"]
