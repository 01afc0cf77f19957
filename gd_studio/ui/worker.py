"""The engine's thread: a Worker QObject that owns the run and the range test, and its controller in the UI.

The worker lives in a QThread and is the one owner of the engine state. The UI talks to it only through
queued signals (start, pause, step, set LR, range test, cancel, reconfigure, reset, reseed) and receives
immutable snapshots, coalesced by time (≤ ~60 per second and never more than the UI has consumed), so
drawing speed does not depend on how fast the engine steps. Running at full speed the worker steps in
slices of a few milliseconds from a zero-interval timer, so its own event loop keeps answering commands.
Cancel and shutdown also travel through plain thread-safe flags, because a range test is one engine
call that only returns when its cancel callable says so.
"""
from __future__ import annotations

import collections
import math
import sys
import threading
import time
import traceback
import weakref

import numpy as np
from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from ..engine.config import DESCENT_DIRECTION, RunConfig
from ..engine.errors import GDStudioError
from . import adapters
from .snapshot import ConfigInfo, RangeTestOutcome, RangeTestProgress, RunSnapshot, WeightView, finite_xy, frozen
from .timeline import RunTimeline

TRAIL_MAX = 200  # arrows kept on the loss-vs-weight view: a long run shows its most recent steps
SLICE_POINTS = 121
# the slice, its curvature and the view's loss values use at most this many training samples (a fixed,
# seeded subset): on digits the full set made a frame cost ~90 ms; the toy sets are used whole
SLICE_SAMPLES = 512
CURVATURE_EVERY = 0.5  # seconds between curvature estimates while running (it changes slowly)
REGIONS_EVERY = 0.25  # seconds between decision-region updates while running
MIN_EMIT = 1.0 / 60.0  # at most ~60 snapshots a second
SWITCH_INTERVAL = 0.001
VIEW_BUDGET = 0.45  # snapshots plus drawing may take at most this share of the time while running
GATE_TIMEOUT = 0.1  # longest the worker waits for the UI to finish drawing
STEP_SLICE = 0.008  # seconds of stepping between returns to the worker's event loop

# every controller's thread, so a test fixture can fail a test that leaves one running
_THREADS: "weakref.WeakSet[QThread]" = weakref.WeakSet()


def live_threads() -> list[QThread]:
    out = []
    for t in list(_THREADS):
        try:
            if t.isRunning():
                out.append(t)
        except RuntimeError:  # the C++ object is already gone
            pass
    return out


class _Trail:
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


class Worker(QObject):
    """Owns the engine objects; runs in its own thread; talks only through signals."""

    configured = Signal(object)  # ConfigInfo
    snapshotReady = Signal(object)  # RunSnapshot
    rangeTestProgress = Signal(object)  # RangeTestProgress
    rangeTestDone = Signal(object)  # RangeTestOutcome
    failed = Signal(str, str)  # (what failed: "configure" | "lr" | "range test" | "run", message)
    message = Signal(str)
    validationProgress = Signal(object)  # compare.ValidationProgress
    validationDone = Signal(object)  # compare.ValidationOutcome

    def __init__(self) -> None:
        super().__init__()
        self.config: RunConfig | None = None
        self.session = None
        self.generation = 0
        self.running = False
        self.speed: float | None = None  # steps per second; None = as fast as the engine goes
        self.range_test_pace = 0.0  # seconds a range test is stretched to, so people can watch it
        self.stop_at: int | None = None  # a running scenario pauses at this step (written by the UI thread)
        self.shutdown = threading.Event()
        self.cancel_upto = 0  # range tests with a token ≤ this are cancelled (set from the UI thread)
        # set by a recording (ui/record.py): a range test then sends every step and waits for this event
        # (set once that frame is taken), so the animation has one frame per step, whatever the timing
        self.frame_gate: threading.Event | None = None
        self.credit = threading.Event()  # set when the UI has consumed the last snapshot
        self.credit.set()
        # cleared by the UI thread while it draws: the worker waits between steps instead of fighting for
        # the GIL (see views.GatedPlotWidget); a timeout keeps a forgotten gate from stalling the engine
        self.ui_gate = threading.Event()
        self.ui_gate.set()
        self.ui_cost = 0.0  # seconds the UI spent on the last frame (written by the UI thread)
        self._timer: QTimer | None = None
        self._trail = _Trail()
        self._watch_index: int | None = None
        self._watch_name = ""
        self._initial_state = None
        self._last_emit = 0.0
        self._emit_interval = MIN_EMIT
        self._rate_steps = 0
        self._rate_time = time.perf_counter()
        self._rate = 0.0
        self._throttle_start = 0.0
        self._throttle_done = 0
        self._slice_range: tuple[float, float] | None = None
        self._plane = None
        self._data_info = None
        self._grid_inputs = None
        self._slice_X = self._slice_y = None
        self._slice_note = ""
        self._last_stop_reason: str | None = None
        self._curv_cache = None
        self._regions_cache = None  # (time, regions, confidence)
        self._timeline = RunTimeline()  # exact checkpoints for step back and the timeline (timeline.py)
        self._narration_cache = None  # (time, step, narration) while running

    # -- plumbing -------------------------------------------------------------------------------
    def _ensure_timer(self) -> QTimer:
        if self._timer is None:  # created in the worker's thread, on first use
            self._timer = QTimer(self)
            self._timer.setInterval(0)
            self._timer.timeout.connect(self._tick)
        return self._timer

    def _fail(self, what: str, exc: BaseException) -> None:
        if isinstance(exc, GDStudioError):
            self.failed.emit(what, str(exc))
        else:  # a bug, not the user's fault: say so plainly, keep the app alive
            traceback.print_exc()
            self.failed.emit(what, f"internal error ({type(exc).__name__}: {exc})")

    # -- commands (slots run in the worker's thread) -------------------------------------------
    @Slot(object)
    def reconfigure(self, config: RunConfig) -> None:
        self._build(config, "configured")

    @Slot()
    def reset(self) -> None:
        if self.session is None:
            return
        self._stop_running()
        try:
            self.session.runner.restore(self._initial_state)
        except Exception:  # a runner that cannot restore is rebuilt from the same config instead
            self._build(self.config, "reset")
            return
        self._after_build("reset")

    @Slot(int)
    def reseed(self, seed: int) -> None:
        if self.config is None:
            return
        self._stop_running()
        try:
            session = self.session.reset(int(seed)) if self.session is not None else None
        except Exception as exc:  # noqa: BLE001
            self._fail("configure", exc)
            return
        if session is None:
            self._build(self.config.replace(seed=int(seed)), "reseeded")
        else:
            self._install(session, session.config, "reseeded")

    @Slot()
    def start(self) -> None:
        if self.session is None or self.shutdown.is_set():
            return
        runner = self.session.runner
        if getattr(runner, "stopped", False):
            self._emit(force=True)
            return
        self.running = True
        self._throttle_start = time.perf_counter()
        self._throttle_done = 0
        self._rate_time = time.perf_counter()
        self._rate_steps = 0
        timer = self._ensure_timer()
        timer.setInterval(0 if self.speed is None else 5)
        timer.start()
        self._emit(force=True)

    @Slot()
    def pause(self) -> None:
        was = self.running
        self._stop_running()
        if was:
            self._emit(force=True)

    @Slot(int)
    def step(self, n: int = 1) -> None:
        if self.session is None:
            return
        self._stop_running()
        for _ in range(max(1, int(n))):
            if not self._one_step():
                break
        self._emit(force=True)

    @Slot(float)
    def setLr(self, lr: float) -> None:
        if self.session is None:
            return
        try:
            self.session.runner.set_lr(lr)
            self.config = self.config.replace(lr=float(lr))
        except Exception as exc:  # noqa: BLE001 - reported, previous LR kept
            self._fail("lr", exc)
            return
        self._timeline.changed(self.session.runner)  # a new LR in the past forks the run here
        if not self.running:
            self._emit(force=True)

    @Slot(object)
    def setSpeed(self, steps_per_second) -> None:
        self.speed = None if steps_per_second is None else max(0.1, float(steps_per_second))
        if self.running and self._timer is not None:
            self._timer.setInterval(0 if self.speed is None else 5)
            self._throttle_start = time.perf_counter()
            self._throttle_done = 0

    @Slot(float)
    def setRangeTestPace(self, seconds: float) -> None:
        self.range_test_pace = max(0.0, float(seconds))

    @Slot(str)
    def setWatch(self, name: str) -> None:
        if self.session is None:
            return
        try:
            self._set_watch(name)
        except Exception as exc:  # noqa: BLE001
            self._fail("watch", exc)
            return
        self._emit(force=True)

    @Slot()
    def stopAll(self) -> None:
        """Last call before the thread quits: stop the timer from its own thread."""
        self._stop_running()

    # step back, the timeline, validation: the logic lives in timeline.py and compare.py
    @Slot()
    def stepBack(self) -> None:
        from .timeline import step_back

        step_back(self)

    @Slot(int)
    def jumpTo(self, step: int) -> None:
        from .timeline import jump

        jump(self, int(step))

    @Slot(object)
    def validate(self, request: dict) -> None:
        from .compare import validate_in_worker

        validate_in_worker(self, request)

    # -- building -------------------------------------------------------------------------------
    def _build(self, config: RunConfig, reason: str) -> None:
        from ..engine import descent

        self._stop_running()
        try:
            data = descent.load_dataset(config)
            config, note = _fit_loss_to_task(config, data)
            session = descent.build(config, dataset=data)
        except Exception as exc:  # noqa: BLE001 - the previous session stays in place
            self._fail("configure", exc)
            return
        self._install(session, config, reason)
        if note:
            self.message.emit(note)

    def _install(self, session, config: RunConfig, reason: str) -> None:
        self.session = session
        self.config = config
        self._initial_state = session.runner.snapshot()
        model, train = session.model, session.train
        try:
            self._plane = adapters.DataPlane(train)
            self._data_info = self._plane.info(train)
            self._grid_inputs = self._plane.grid_inputs(self._data_info)
        except Exception:  # a data view we cannot draw must not stop training
            traceback.print_exc()
            self._plane = self._data_info = self._grid_inputs = None
        n = train.X.shape[0]
        if n > SLICE_SAMPLES:  # a fixed, seeded subset keeps the re-sliced curve cheap and steady
            idx = np.sort(np.random.default_rng(0).choice(n, SLICE_SAMPLES, replace=False))
            self._slice_X, self._slice_y = train.X[idx], train.y[idx]
            self._slice_note = f"(Curve: loss on a fixed sample of {SLICE_SAMPLES} of the {n} training points.)"
        else:
            self._slice_X, self._slice_y = train.X, train.y
            self._slice_note = ""
        try:
            self._set_watch(config.watch or model.param_names[0])
        except Exception:  # noqa: BLE001 - an unknown watch name falls back to the first weight
            self._set_watch(model.param_names[0])
        self._after_build(reason)
        for note in getattr(session, "notes", ()):
            self.message.emit(note)

    def _after_build(self, reason: str) -> None:
        self.generation += 1
        self._curv_cache = self._regions_cache = None
        self._trail.clear()
        self._slice_range = None
        self._last_stop_reason = None
        self._rate = 0.0
        self._timeline.reset(self.session.runner)
        self._record_start()
        s = self.session
        val = getattr(s, "val", None)
        info = ConfigInfo(
            generation=self.generation, config=self.config, param_names=tuple(s.model.param_names),
            watch_names=tuple(s.model.param_names) + (DESCENT_DIRECTION,), watch=self._watch_name,
            model_text=s.model.describe() if hasattr(s.model, "describe") else s.model.kind,
            dataset_text=_describe_dataset(s.train, val), n_train=int(s.train.X.shape[0]),
            n_val=0 if val is None else int(val.X.shape[0]), data=self._data_info, reason=reason)
        self.configured.emit(info)
        self._emit(force=True)

    def _set_watch(self, name: str) -> None:
        model = self.session.model
        if name == DESCENT_DIRECTION:
            self._watch_index = None
        else:
            self._watch_index = model.index_of(name)
        self._watch_name = name
        self.session.runner.set_watch(self._watch_index)
        if self.config is not None and self.config.watch != name:
            self.config = self.config.replace(watch=name)
        self._trail.clear()
        self._slice_range = None
        self._timeline.watch_changed(self.session.runner)
        self._record_start()

    def _params(self) -> np.ndarray:
        return self.session.runner.params

    def _record_start(self) -> None:
        """Put the current point on the trail, so the first step draws an arrow from it."""
        if self.session is None:
            return
        p = self._params()
        runner = self.session.runner
        step = int(getattr(runner, "step_count", 0))
        self._trail.add(step, self._watched_value(p), math.nan, p.copy() if self._watch_index is None else None)

    def _watched_value(self, p: np.ndarray) -> float:
        return float(p[self._watch_index]) if self._watch_index is not None else 0.0

    # -- running --------------------------------------------------------------------------------
    def _stop_running(self) -> None:
        self.running = False
        if self._timer is not None:
            self._timer.stop()

    def _one_step(self) -> bool:
        if not self.ui_gate.is_set():
            self.ui_gate.wait(GATE_TIMEOUT)
        runner = self.session.runner
        if getattr(runner, "stopped", False):
            return False
        if self.running and self.stop_at is not None and runner.step_count >= self.stop_at:
            return False  # a scenario's autoplay ends here; stepping by hand (→) goes on
        try:
            rec = runner.step()
        except Exception as exc:  # noqa: BLE001 - report, stop, keep the app alive
            self._stop_running()
            self._fail("run", exc)
            return False
        if rec is None:
            return False
        if self._watch_index is None:  # the descent line moves: keep the vectors to project later
            self._trail.add(int(rec.step), 0.0, float(rec.loss), runner.params)
        else:  # the record says where the watched weight went; no copy of the whole vector needed
            self._trail.add(int(rec.step), float(rec.watched_next), float(rec.loss))
        self._timeline.after_step(runner, self.running and self.speed is None)
        self._rate_steps += 1
        return not getattr(runner, "stopped", False)

    @Slot()
    def _tick(self) -> None:
        if not self.running or self.session is None or self.shutdown.is_set():
            self._stop_running()
            return
        now = time.perf_counter()
        if self.speed is None:
            deadline = now + STEP_SLICE
            while True:
                if not self._one_step():
                    self._stop_running()
                    break
                if time.perf_counter() >= deadline or self.shutdown.is_set():
                    break
        else:
            due = int((now - self._throttle_start) * self.speed) - self._throttle_done
            for _ in range(min(max(due, 0), 1000)):
                self._throttle_done += 1
                if not self._one_step():
                    self._stop_running()
                    break
        self._emit(force=not self.running)

    def _emit(self, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and (now - self._last_emit < self._emit_interval or not self.credit.is_set()):
            return
        dt = now - self._rate_time
        if dt > 0.05 or force:
            if dt > 0 and self._rate_steps:
                inst = self._rate_steps / dt
                self._rate = inst if self._rate == 0 else 0.7 * self._rate + 0.3 * inst
            self._rate_time, self._rate_steps = now, 0
        t0 = time.perf_counter()
        snap = self._snapshot()
        cost = time.perf_counter() - t0
        # adapt: building snapshots and drawing them never take more than VIEW_BUDGET of the time
        self._emit_interval = max(MIN_EMIT, (cost + self.ui_cost) / VIEW_BUDGET)
        self._last_emit = time.perf_counter()
        self.credit.clear()
        self.snapshotReady.emit(snap)

    def _snapshot(self) -> RunSnapshot:
        s = self.session
        runner = s.runner
        p = self._params()
        hist = adapters.history_arrays(runner)
        loss = float(hist.loss[-1]) if hist.loss.size else None
        val_loss = float(hist.val_loss[-1]) if hist.val_loss.size else None
        lr = _current_lr(runner, self.config)
        stop = getattr(runner, "stop_reason", None) if getattr(runner, "stopped", False) else None
        weight = self._weight_view(p, lr)
        regions = confidence = None
        if self._data_info is not None:
            now = time.perf_counter()
            cached = self._regions_cache
            if self.running and cached is not None and now - cached[0] < REGIONS_EVERY:
                regions, confidence = cached[1], cached[2]  # the same arrays: the view skips the redraw
            else:
                try:
                    regions, confidence = self._predict_grid(p)
                except Exception:  # noqa: BLE001 - a failed data view must not stop a run
                    regions = confidence = None
                self._regions_cache = (now, regions, confidence)
        return RunSnapshot(
            generation=self.generation, step=int(getattr(runner, "step_count", 0)),
            epoch=int(getattr(runner, "epoch", 0)), lr=lr, loss=loss, val_loss=val_loss,
            steps_per_sec=float(self._rate) if self.running else 0.0, running=self.running,
            stop_reason=stop, history=hist, weight=weight, regions=regions, confidence=confidence,
            time=time.perf_counter(), extra=self._study_extra(weight))

    def _study_extra(self, weight) -> dict:
        from .narration_panel import narration_for

        return {"timeline": self._timeline.info(self.session.runner), "narration": narration_for(self, weight)}

    def _predict_grid(self, p: np.ndarray):
        info = self._data_info
        model = self.session.model
        if info.kind == "regions":
            probs = np.asarray(model.predict(p, self._grid_inputs))
            if probs.ndim == 1:
                probs = np.column_stack([1.0 - probs, probs])
            probs = np.nan_to_num(probs, nan=0.0, posinf=1.0, neginf=0.0)
            shape = (len(info.grid_y), len(info.grid_x))
            return (frozen(probs.argmax(axis=1).reshape(shape), np.int64),
                    frozen(probs.max(axis=1).reshape(shape)))
        if info.kind == "curve":
            return frozen(np.asarray(model.predict(p, self._grid_inputs), dtype=np.float64).ravel()), None
        return frozen(np.asarray(model.predict(p, self.session.train.X), dtype=np.float64).ravel()), None

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
        old = self._slice_range
        if old is not None:
            inside = old[0] <= lo and hi <= old[1]
            not_too_wide = (old[1] - old[0]) < 4.0 * (want[1] - want[0])
            if inside and not_too_wide:
                return old
        self._slice_range = want
        return want

    def _curvature(self, model, p, X, y, along, cacheable: bool) -> tuple[float, float]:
        """(λ, the loss's slope along the slice) at p; while running, at most every CURVATURE_EVERY s."""
        from ..engine import landscape

        now = time.perf_counter()
        cached = self._curv_cache
        if (cacheable and self.running and cached is not None and cached[0] == self._watch_name
                and now - cached[1] < CURVATURE_EVERY):
            return cached[2], cached[3]
        lam = float(landscape.curvature(model, p, X, y, along))
        slope = math.nan
        if isinstance(along, (int, np.integer)) and math.isfinite(lam) and lam > 0:
            _, g = model.loss_and_grad(p, X, y)
            slope = float(np.asarray(g)[int(along)])
        self._curv_cache = (self._watch_name, now, lam, slope)
        return lam, slope

    def _weight_view(self, p: np.ndarray, lr: float, trail: _Trail | None = None) -> WeightView | None:
        from ..engine import landscape

        trail = trail or self._trail
        model = self.session.model
        X, y = self._slice_X, self._slice_y
        try:
            if self._watch_index is not None:
                idx = self._watch_index
                ws = np.fromiter(trail.w, dtype=np.float64, count=len(trail.w))
                current = float(p[idx])
                lam, slope = self._curvature(model, p, X, y, idx, trail is self._trail)
                # the bottom of the quadratic model along the slice (while running: from a recent λ and slope)
                target = current - slope / lam if lam > 0 and math.isfinite(slope) else None
                lo, hi = self._slice_bounds(ws, current, target)
                grid = np.linspace(lo, hi, SLICE_POINTS)
                curve = np.asarray(landscape.weight_slice(model, p, X, y, idx, grid - current), dtype=np.float64)
                axis_label = self._watch_name
                cur_w = current
            else:
                _, g = model.loss_and_grad(p, X, y)
                g = np.asarray(g, dtype=np.float64)
                norm = float(np.linalg.norm(g))
                d = -g / norm if norm > 0 else np.zeros_like(g)  # as landscape.descent_direction
                if trail.params:
                    P = np.asarray(trail.params)
                    ws = (P - p) @ d  # every recent point, projected onto the current descent line
                else:
                    ws = np.zeros(0)
                lam, _slope = self._curvature(model, p, X, y, d, trail is self._trail)
                # along −g/|g| the slope is −|g|: the quadratic model's bottom is at α = |g|/λ
                lo, hi = self._slice_bounds(ws, 0.0, norm / lam if lam > 0 and norm > 0 else None)
                grid = np.linspace(lo, hi, SLICE_POINTS)
                curve = np.asarray(landscape.direction_slice(model, p, X, y, d, grid), dtype=np.float64)
                axis_label = "α along the descent direction"
                cur_w = 0.0
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
        return WeightView(
            name=self._watch_name, curve_w=frozen(curve_w), curve_loss=frozen(curve_loss), trail_w=frozen(ws),
            trail_loss=frozen(trail_loss), trail_step=frozen(list(trail.step), np.int64),
            trail_batch_loss=frozen(list(trail.loss)), current_w=cur_w, current_loss=cur_loss,
            curvature=lam if math.isfinite(lam) else None,
            oscillate_lr=float(osc) if math.isfinite(osc) else None,
            diverge_lr=float(div) if math.isfinite(div) else None, lr=lr, axis_label=axis_label,
            note=self._slice_note)

    # -- the range test ---------------------------------------------------------------------------
    @Slot(object)
    def rangeTest(self, request: dict) -> None:
        from ..engine import lr_finder

        if self.session is None:
            return
        self._stop_running()
        self._emit(force=True)
        token = int(request.get("token", 0))
        cancelled = lambda: self.shutdown.is_set() or self.cancel_upto >= token  # noqa: E731
        s, cfg = self.session, self.config
        params0 = _initial_params(s, self._initial_state)
        num_iter = int(request.get("num_iter", 100))
        repeats = max(1, int(request.get("repeats", 1)))
        pace = float(request.get("pace", self.range_test_pace)) / max(num_iter * repeats, 1)
        kw = dict(start_lr=float(request.get("start_lr", 1e-7)), end_lr=float(request.get("end_lr", 10.0)),
                  num_iter=num_iter, mode=request.get("mode", "exp"), batch_size=cfg.batch_size,
                  optimizer=cfg.optimizer, optimizer_params=dict(cfg.optimizer_params))
        val = getattr(s, "val", None)
        if request.get("use_val") and val is not None:
            kw["val_ds"] = val
        trail = _Trail()
        lrs, losses = [], []
        state = {"last": 0.0, "repeat": 0, "params": params0}
        self._slice_range = None
        trail.add(0, self._watched_value(params0), math.nan, params0.copy() if self._watch_index is None else None)

        def callback(st) -> None:
            if st.step == 0 and lrs:  # the next seed of a repeated test begins
                state["repeat"] += 1
                lrs.clear()
                losses.clear()
            if not self.ui_gate.is_set():
                self.ui_gate.wait(GATE_TIMEOUT)
            lrs.append(float(st.lr))
            losses.append(float(st.loss))
            if state["repeat"] == 0:  # the first seed's steps walk on the loss-vs-weight view
                pp = np.asarray(st.params)
                state["params"] = pp
                trail.add(int(st.step) + 1, self._watched_value(pp), float(st.loss),
                          pp if self._watch_index is None else None)
            gate = self.frame_gate
            if gate is not None:
                gate.clear()
                self._emit_range_progress(lrs, losses, state["params"], trail, num_iter, state["repeat"], repeats)
                while not gate.wait(0.05) and not cancelled():
                    pass
                return
            now = time.perf_counter()
            if now - state["last"] >= self._emit_interval and self.credit.is_set():
                state["last"] = now
                self._emit_range_progress(lrs, losses, state["params"], trail, num_iter, state["repeat"], repeats)
            if pace > 0:
                end = time.perf_counter() + pace
                while not cancelled() and time.perf_counter() < end:
                    time.sleep(min(0.01, max(end - time.perf_counter(), 0.0)))

        t0 = time.perf_counter()
        repeat = None
        try:
            if repeats > 1:
                seeds = tuple(cfg.seed + i for i in range(repeats))
                repeat = lr_finder.repeat_range_test(s.model, s.train, params0, seeds=seeds, callback=callback,
                                                     cancel=cancelled, **kw)
                result = repeat.results[0]
            else:
                result = lr_finder.range_test(s.model, s.train, params0, seed=cfg.seed, callback=callback,
                                              cancel=cancelled, **kw)
        except Exception as exc:  # noqa: BLE001
            self._slice_range = None
            self._fail("range test", exc)
            self.rangeTestDone.emit(RangeTestOutcome(generation=self.generation, result=None, cancelled=True,
                                                     seconds=time.perf_counter() - t0))
            return
        # one last frame of the walk (a recording has had every one), then the result
        if lrs and self.frame_gate is None:
            self._emit_range_progress(lrs, losses, state["params"], trail, num_iter, state["repeat"], repeats)
        self._slice_range = None
        self.rangeTestDone.emit(RangeTestOutcome(generation=self.generation, result=result, repeat=repeat,
                                                 cancelled=bool(cancelled()), seconds=time.perf_counter() - t0))

    def _emit_range_progress(self, lrs, losses, params, trail, num_iter, repeat, repeats) -> None:
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
                weight = self._weight_view(params, lr_now, trail)
            except Exception:  # noqa: BLE001
                weight = None
        self.credit.clear()
        self.rangeTestProgress.emit(RangeTestProgress(
            generation=self.generation, lrs=frozen(x), losses=frozen(yv), smoothed=frozen(sm), weight=weight,
            num_iter=num_iter, repeat=repeat, repeats=repeats))


def _fit_loss_to_task(config: RunConfig, data) -> tuple[RunConfig, str]:
    """Switching between regression and classification data also switches an unfitting loss, and says so."""
    if data.task == "regression" and config.loss != "mse":
        return config.replace(loss="mse"), f"Loss set to mse: {data.name or 'this dataset'} is a regression dataset."
    if data.task == "classification" and config.loss == "mse":
        return (config.replace(loss="cross_entropy"),
                f"Loss set to cross entropy: {data.name or 'this dataset'} has {data.n_classes} classes.")
    return config, ""


def _initial_params(session, initial_state) -> np.ndarray:
    """The run's starting weights: the range test starts where a reset would."""
    return np.array(session.initial_params, dtype=np.float64, copy=True)


def _current_lr(runner, config) -> float:
    try:
        lr = float(runner.lr)
    except Exception:  # noqa: BLE001 - a schedule that cannot say: fall back to the configured LR
        lr = math.nan
    if math.isfinite(lr):
        return lr
    return float(config.lr) if config is not None else math.nan


def _describe_dataset(train, val) -> str:
    n = train.X.shape[0] + (0 if val is None else val.X.shape[0])
    name = getattr(train, "name", "") or getattr(train, "source", "") or "data"
    kind = (f"{train.n_classes} classes" if getattr(train, "task", "") == "classification"
            else "regression")
    split = f" ({train.X.shape[0]} train / {val.X.shape[0]} validation)" if val is not None else ""
    return f"{name}: {n} samples × {train.X.shape[1]} features, {kind}{split}"


class WorkerController(QObject):
    """Lives in the UI thread: owns the QThread, forwards commands as queued signals, hands snapshots on."""

    # commands (queued into the worker's thread)
    startRequested = Signal()
    pauseRequested = Signal()
    stepRequested = Signal(int)
    lrRequested = Signal(float)
    rangeTestRequested = Signal(object)
    reconfigureRequested = Signal(object)
    resetRequested = Signal()
    reseedRequested = Signal(int)
    watchRequested = Signal(str)
    speedRequested = Signal(object)
    stopRequested = Signal()
    stepBackRequested = Signal()
    jumpRequested = Signal(int)
    validateRequested = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # The UI thread needs the GIL back quickly after each C++ call while the worker computes; CPython's
        # default 5 ms switch interval made every hand-back cost up to 5 ms of event-loop latency.
        if sys.getswitchinterval() > SWITCH_INTERVAL:
            sys.setswitchinterval(SWITCH_INTERVAL)
        self._thread = QThread()
        self._thread.setObjectName("gdStudioWorkerThread")
        _THREADS.add(self._thread)
        self.worker = Worker()
        self.worker.moveToThread(self._thread)
        self._token = 0
        self._closed = False
        w = self.worker
        self.startRequested.connect(w.start)
        self.pauseRequested.connect(w.pause)
        self.stepRequested.connect(w.step)
        self.lrRequested.connect(w.setLr)
        self.rangeTestRequested.connect(w.rangeTest)
        self.reconfigureRequested.connect(w.reconfigure)
        self.resetRequested.connect(w.reset)
        self.reseedRequested.connect(w.reseed)
        self.watchRequested.connect(w.setWatch)
        self.speedRequested.connect(w.setSpeed)
        self.stopRequested.connect(w.stopAll)
        self.stepBackRequested.connect(w.stepBack)
        self.jumpRequested.connect(w.jumpTo)
        self.validateRequested.connect(w.validate)
        self._thread.finished.connect(w.deleteLater)
        self._thread.start()

    # the views call this once they have drawn a snapshot: the worker may send the next one
    def ack(self, ui_seconds: float | None = None) -> None:
        if ui_seconds is not None:
            self.worker.ui_cost = float(ui_seconds)
        self.worker.credit.set()

    def range_test(self, **request) -> int:
        self._token += 1
        request["token"] = self._token
        self.rangeTestRequested.emit(request)
        return self._token

    def validate(self, **request) -> int:
        """Short trainings at the suggestion's LRs (compare.py); cancelled like a range test."""
        self._token += 1
        request["token"] = self._token
        self.validateRequested.emit(request)
        return self._token

    def cancel(self) -> None:
        self.worker.cancel_upto = self._token  # plain attribute write: seen at the engine's next step
        self.pauseRequested.emit()

    def is_running(self) -> bool:
        return self._thread.isRunning()

    def shutdown(self, timeout_ms: int = 1500) -> bool:
        """Stop the worker and its thread; True when the thread has finished."""
        if self._closed:
            return not self._thread.isRunning()
        self._closed = True
        self.worker.shutdown.set()
        self.worker.cancel_upto = self._token
        self.stopRequested.emit()
        self._thread.quit()
        ok = self._thread.wait(timeout_ms)
        return bool(ok)
