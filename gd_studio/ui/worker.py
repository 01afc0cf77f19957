"""The engine's thread: a thin Worker QObject around a LiveRun, and its controller in the UI thread.

The Worker lives in a QThread and turns queued command slots into LiveRun calls and their results into
signals; the LiveRun (gd_studio.live, no Qt) is the one owner of the engine state. By default that LiveRun
lives in the engine's own process (live/host.py: the worker then calls a RemoteRun with the same methods), so
stepping never competes with the window for the GIL; the rest of this description is the thread mode. The UI receives
immutable snapshots, coalesced by time (≤ ~60 per second and never more than the UI has consumed), so
drawing speed does not depend on how fast the engine steps. Running at full speed the worker steps in
slices of a few milliseconds from a zero-interval timer, so its own event loop keeps answering commands.
Cancel and shutdown also travel through plain thread-safe values, because a range test, a validation or
a pre-run of many steps is one call that polls them at every engine step.
"""
from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
import time
import traceback
import weakref

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

from ..engine.config import RunConfig
from ..engine.errors import GDStudioError
from ..live import host
from ..live.run import AtFirstStep, LiveRun

MIN_EMIT = 1.0 / 60.0  # at most ~60 snapshots a second
SWITCH_INTERVAL = 0.001
VIEW_BUDGET = 0.45  # snapshots plus drawing may take at most this share of the time while running
GATE_TIMEOUT = 0.1  # longest the worker waits for the UI to finish drawing
STEP_SLICE = 0.008  # seconds of stepping between returns to the worker's event loop
# The GUI thread's heartbeat: a timer in the GUI thread writes the time every BEAT_MS. When a beat is
# overdue the GUI thread is waiting for the GIL (or busy): the worker sleeps between steps, which releases
# the GIL, until the beat catches up (at most MAX_YIELD s), so the event loop is never starved.
BEAT_MS = 4
BEAT_LATE = 0.010
MAX_YIELD = 0.025
SHUTDOWN_MS = 1000  # closing the window ends the worker within this
_STRAGGLERS: set = set()  # worker threads that were still busy when their window closed (see shutdown)


def engine_in_process() -> bool:
    """Whether the engine steps in its own process (the default) or in the worker's thread.

    GD_STUDIO_ENGINE=thread keeps it in the thread (tests that read the LiveRun itself, bench_ui's reference);
    the thread is also the fallback when a process cannot be started or dies.
    """
    if _ENGINE_HERE:
        return False
    return os.environ.get("GD_STUDIO_ENGINE", "process").strip().lower() != "thread"


_ENGINE_HERE = 0


@contextlib.contextmanager
def engine_in_thread():
    """Windows built inside keep the engine in the worker's thread: offscreen renderings step one frame at a
    time, gain nothing from a process, and their pictures must not depend on when its answers arrive."""
    global _ENGINE_HERE
    _ENGINE_HERE += 1
    try:
        yield
    finally:
        _ENGINE_HERE -= 1

# The window's process runs BLAS on one thread. With the engine's thread, the GUI thread and OpenBLAS's own
# pool on a 2-core machine, the pool's threads (which spin after each call) took the cores the GUI needed:
# bench_ui on the digits MLP, same loaded machine, same run: probe p99 41-42 ms and 8-11 frames/s with one
# BLAS thread against 91-110 ms and 1-2 frames/s with two; a snapshot's matrices (512 x 64) gain nothing
# from threads. Headless use (scripts, the command line) keeps the library's default.
_BLAS_LIMIT = None


def limit_blas_threads() -> None:
    global _BLAS_LIMIT
    if _BLAS_LIMIT is not None:
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # an optional speed-up: without it the window still works
        _BLAS_LIMIT = False
        return
    _BLAS_LIMIT = threadpool_limits(limits=1, user_api="blas")


# every controller's thread, so a test fixture can fail a test that leaves one running
_THREADS: "weakref.WeakSet[QThread]" = weakref.WeakSet()


# every controller not yet shut down: a script or embedder whose process ends with a window still open (never
# closed, no run_app) would otherwise destroy a running QThread while Python finalises ("Destroyed while thread
# is still running": SIGABRT at exit)
_OPEN: "weakref.WeakSet[WorkerController]" = weakref.WeakSet()


@atexit.register
def _shut_down_open_controllers() -> None:
    for controller in list(_OPEN):
        try:
            controller.shutdown()
        except RuntimeError:  # its C++ object is already gone, and its thread with it
            pass


def live_threads() -> list[QThread]:
    out = []
    for t in list(_THREADS):
        try:
            if t.isRunning():
                out.append(t)
        except RuntimeError:  # the C++ object is already gone
            pass
    return out


class WorkerThread(QThread):
    """The worker's QThread, with its event loop run from Python.

    One Python thread state then lives as long as the loop: the tracer that coverage and debuggers install
    for new threads (threading.settrace) is adopted once and stays, where a plain QThread gives every slot
    call a fresh thread state, so coverage never saw the worker's code.
    """

    def run(self) -> None:  # noqa: D401 - Qt's name
        trace, profile = threading.gettrace(), threading.getprofile()
        if trace is not None:
            sys.settrace(trace)
        if profile is not None:
            sys.setprofile(profile)
        self.exec()


class Worker(QObject):
    """Runs in its own thread; forwards commands to its LiveRun and reports through signals only."""

    configured = Signal(object)  # ConfigInfo
    snapshotReady = Signal(object)  # RunSnapshot
    rangeTestProgress = Signal(object)  # RangeTestProgress
    rangeTestDone = Signal(object)  # RangeTestOutcome
    failed = Signal(str, str)  # (what failed: "configure" | "lr" | "range test" | "run" | …, message)
    message = Signal(str)
    validationProgress = Signal(object)  # live.validation.ValidationProgress
    validationDone = Signal(object)  # live.validation.ValidationOutcome
    historyColumnsReady = Signal(int, object)  # (request id, (columns, validation columns) or None)
    _engineSent = Signal()  # from the engine's reader thread: frames wait (queued into this worker's thread)

    def __init__(self) -> None:
        super().__init__()
        # a rendering's pictures follow from the data alone: a fixed loss-surface grid, never refined later
        self.rendering = bool(_ENGINE_HERE)
        self.run = self._local_run()  # replaced by a host.RemoteRun on the first build when the engine has its process
        # bumped by the controller (UI thread) for every command it sends: unequal to what the worker saw last,
        # a command is waiting in this thread's queue (the idle test of the loss surface's refinement)
        self.commands_sent = 0
        self._commands_seen = 0
        self._refine_timer: QTimer | None = None
        self.use_process = engine_in_process()
        self._shared = None
        if self.use_process:
            try:
                self._ctx = host.context()
                self._shared = host.Shared(self._ctx)
            except Exception as exc:  # noqa: BLE001 - no processes here (a sandbox): step in the thread
                print(f"GD Studio: the engine runs in the window's process ({exc})", file=sys.stderr)
                self.use_process = False
        self.speed: float | None = None  # steps per second; None = as fast as the engine goes
        self.range_test_pace = 0.0  # seconds a range test is stretched to, so people can watch it
        self._stop_at: int | None = None
        # shared with the engine's process when it has one: the child reads them without a message
        self.shutdown = self._shared.shutdown if self._shared else threading.Event()
        self.cancel_upto = 0  # requests with an id ≤ this are cancelled (set from the UI thread)
        self.cancel_epoch = 0  # bumped by every cancel: a step loop under way stops (set from the UI thread)
        # set by a recording (ui/record.py): a range test then sends every step and waits for this event
        # (set once that frame is taken), so the animation has one frame per step, whatever the timing
        self.frame_gate: threading.Event | None = None
        self.credit = self._shared.credit if self._shared else threading.Event()  # set when the UI drew the last
        self.credit.set()
        # cleared by the UI thread while it draws: the worker waits between steps instead of fighting for
        # the GIL (see plots.common.GatedPlotWidget); a timeout keeps a forgotten gate from stalling the engine
        self.ui_gate = threading.Event()
        self.ui_gate.set()
        self._ui_cost = 0.0
        self.gui_beat = time.perf_counter()  # the GUI thread's last heartbeat (written by the UI thread)
        self.yield_to_gui = True  # benchmarks switch it off to measure what it buys
        self._timer: QTimer | None = None
        self._last_emit = 0.0
        self._emit_interval = MIN_EMIT
        self._throttle_start = 0.0
        self._throttle_done = 0
        self.steps_done = 0  # step commands finished (written here, read by the UI thread: WorkerController)

    def _local_run(self) -> LiveRun:
        """A LiveRun in this thread: yields to the GUI between steps; its loss surface adapts unless rendering."""
        run = LiveRun()
        run.before_step = self._wait_for_gui
        run.surface.adaptive = not self.rendering
        return run

    # written by the UI thread: plain values (shared memory when the engine has its process)
    @property
    def stop_at(self) -> int | None:
        """A running scenario pauses at this step."""
        return self._stop_at

    @stop_at.setter
    def stop_at(self, step: int | None) -> None:
        self._stop_at = None if step is None else int(step)
        if self._shared is not None:
            self._shared.stop_at.value = host.NO_STOP if step is None else int(step)

    @property
    def ui_cost(self) -> float:
        """Seconds the UI spent on the last frame."""
        return self._ui_cost

    @ui_cost.setter
    def ui_cost(self, seconds: float) -> None:
        self._ui_cost = float(seconds)
        if self._shared is not None:
            self._shared.ui_cost.value = float(seconds)

    @property
    def in_process(self) -> bool:
        """True once the engine steps in its own process."""
        return isinstance(self.run, host.RemoteRun)

    def _engine(self) -> None:
        """On the first build: move the engine into its own process (once; on failure it stays here)."""
        if not self.use_process or self.in_process:
            return
        self.use_process = False  # one try
        try:
            remote = host.RemoteRun(self._shared, self._ctx)
        except Exception as exc:  # noqa: BLE001 - a platform without processes: the thread still works
            print(f"GD Studio: the engine runs in the window's process ({exc})", file=sys.stderr)
            return
        if self.shutdown.is_set():  # the window closed while the process started: it has no one to serve
            remote.close()
            return
        self._engineSent.connect(self._pump, Qt.ConnectionType.QueuedConnection)
        self._pump_pending = threading.Event()
        remote.on_message = self._engine_sent
        self.run = remote

    def _engine_sent(self) -> None:
        """Called in the engine's reader thread: one queued pump at a time, however many frames arrive."""
        if not self._pump_pending.is_set():
            self._pump_pending.set()
            self._engineSent.emit()

    # read-only views of the run for the UI thread's tests and exports (read only while the worker is idle)
    @property
    def session(self):
        return self.run.session

    @property
    def config(self) -> RunConfig | None:
        return self.run.config

    @property
    def running(self) -> bool:
        return self.run.running

    @property
    def generation(self) -> int:
        return self.run.generation

    # -- plumbing -------------------------------------------------------------------------------
    def _wait_for_gui(self) -> None:
        if not self.ui_gate.is_set():
            self.ui_gate.wait(GATE_TIMEOUT)
            return
        if self.yield_to_gui and time.perf_counter() - self.gui_beat > BEAT_LATE:
            end = time.perf_counter() + MAX_YIELD
            # sleeping releases the GIL: the GUI thread runs its overdue events, and its beat ends the wait
            while (time.perf_counter() - self.gui_beat > BEAT_LATE and time.perf_counter() < end
                   and not self.shutdown.is_set()):
                time.sleep(0.0005)

    def _ensure_timer(self) -> QTimer:
        if self._timer is None:  # created in the worker's thread, on first use
            self._timer = QTimer(self)
            self._timer.setInterval(0)
            self._timer.timeout.connect(self._tick)
        return self._timer

    def _cancelled(self, request_id: int):
        return lambda: self.shutdown.is_set() or self.cancel_upto >= request_id

    def _fail(self, what: str, exc: BaseException) -> None:
        if isinstance(exc, host.EngineProcessError):
            self._lost_engine(exc)
            return
        if isinstance(exc, GDStudioError):
            self.failed.emit(what, str(exc))
        else:  # a bug, not the user's fault: say so plainly, keep the app alive
            traceback.print_exc()
            self.failed.emit(what, f"internal error ({type(exc).__name__}: {exc})")

    def _lost_engine(self, exc: BaseException) -> None:
        """The engine's process ended under us (killed, out of memory): carry on in this thread from step 0."""
        if self.shutdown.is_set() or not self.in_process:
            return
        config, generation = self.run.config, self.run.generation
        if self._timer is not None:
            self._timer.stop()
        self.run.close(0.1)
        self.run = self._local_run()
        self.run.generation = generation  # the window takes only newer builds: this one comes after the lost one
        self.message.emit(f"The engine's process stopped ({exc}); the run was rebuilt at step 0 in the window.")
        if config is None:
            return
        try:
            info = self.run.configure(config, "configured")
        except Exception as again:  # noqa: BLE001
            self._fail("configure", again)
            return
        self._configured(info)

    def _configured(self, info) -> None:
        if info is None:
            return
        self.configured.emit(info)
        self._emit(force=True)
        for note in info.notes:
            self.message.emit(note)

    # -- commands (slots run in the worker's thread) -------------------------------------------
    @Slot(object)
    def reconfigure(self, config: RunConfig) -> None:
        self._stop_running()
        self._engine()
        try:
            info = self.run.configure(config, "configured")
        except Exception as exc:  # noqa: BLE001 - the previous run stays in place
            self._fail("configure", exc)
            return
        self._configured(info)

    @Slot(object)
    def reset(self, config: RunConfig | None = None) -> None:
        self._stop_running()
        self._engine()
        try:
            info = self.run.reset(config)
        except Exception as exc:  # noqa: BLE001
            self._fail("configure", exc)
            return
        self._configured(info)

    @Slot(object)
    def reseed(self, config: RunConfig) -> None:
        """A new seed: ``config`` is the window's config with the next seed (its LR is the live one)."""
        self._stop_running()
        self._engine()
        try:
            info = self.run.reseed(config)
        except Exception as exc:  # noqa: BLE001
            self._fail("configure", exc)
            return
        self._configured(info)

    @Slot()
    def start(self) -> None:
        if self.run.session is None or self.shutdown.is_set():
            return
        if self.run.stopped:
            self._emit(force=True)
            return
        timer = self._ensure_timer()
        if self.in_process:  # the child runs on its own; its frames arrive through _engineSent
            try:
                self.run.start_running(self.speed)
            except Exception as exc:  # noqa: BLE001
                self._fail("run", exc)
            return
        self.run.running = True
        self.run.fast = self.speed is None
        self.run.rate.clear()
        self._throttle_start = time.perf_counter()
        self._throttle_done = 0
        timer.setInterval(0 if self.speed is None else 5)
        timer.start()
        self._emit(force=True)

    @Slot()
    def pause(self) -> None:
        was = self.run.running
        self._stop_running()
        if was:
            self._emit(force=True)

    @Slot(int)
    def step(self, n: int = 1) -> None:
        """``n`` steps (a scenario's pre-run may ask for hundreds): cancel and shutdown are polled every step.

        Every step command is answered: its count in ``steps_done`` goes up before the snapshot that shows it (or
        the failure that says why there is none), so the window knows when the steps it sent are done."""
        try:
            if self.run.session is None:
                if not self.shutdown.is_set():
                    self.failed.emit("run", "There is no run to step: the model and data could not be built")
                return
            self._stop_running()
            epoch = self.cancel_epoch
            try:
                self.run.step(max(1, int(n)), cancel=lambda: self.shutdown.is_set() or self.cancel_epoch != epoch)
            except Exception as exc:  # noqa: BLE001 - report, keep the app alive
                self._fail("run", exc)
        finally:
            self.steps_done += 1
        self._emit(force=True)

    @Slot(float)
    def setLr(self, lr: float) -> None:
        try:
            self.run.set_lr(lr)
        except Exception as exc:  # noqa: BLE001 - reported, previous LR kept
            self._fail("lr", exc)
            return
        if not self.run.running:
            self._emit(force=True)

    @Slot(object)
    def setSpeed(self, steps_per_second) -> None:
        self.speed = None if steps_per_second is None else max(0.1, float(steps_per_second))
        if self.in_process:
            if self.run.running:
                try:
                    self.run.set_speed(self.speed)
                except Exception as exc:  # noqa: BLE001
                    self._fail("run", exc)
            return
        self.run.fast = self.speed is None
        if self.run.running and self._timer is not None:
            self._timer.setInterval(0 if self.speed is None else 5)
            self._throttle_start = time.perf_counter()
            self._throttle_done = 0
            self.run.rate.clear()

    @Slot(float)
    def setRangeTestPace(self, seconds: float) -> None:
        self.range_test_pace = max(0.0, float(seconds))

    @Slot(str)
    def setWatch(self, name: str) -> None:
        if self.run.session is None:
            return
        try:
            self.run.set_watch(name)
        except Exception as exc:  # noqa: BLE001
            self._fail("watch", exc)
            return
        self._emit(force=True)

    @Slot(object)
    def setSurface(self, spec) -> None:
        """The loss-surface plane (a live.surface.SurfaceSpec or dict), or None when its view is hidden."""
        try:
            self.run.set_surface(spec)
        except Exception as exc:  # noqa: BLE001 - e.g. an unknown weight name: say so, keep the old plane
            self._fail("loss surface", exc)
            return
        if self.run.session is not None:
            self._emit(force=True)

    @Slot()
    def stopAll(self) -> None:
        """Last call before the thread quits: stop the timer from its own thread, end the engine's process."""
        self._stop_running()
        if self.in_process:
            self.run.close()

    def detach_engine(self) -> None:
        """From the UI thread, before this worker's thread ends (its end deletes this object): the engine's
        reader thread must not emit through it any more. Detaching later raced with the deletion: a frame
        arriving while the window closed was a segmentation fault."""
        run = self.run
        if isinstance(run, host.RemoteRun):
            run.detach()

    def close_engine(self) -> None:
        """From the UI thread, once this worker's thread has ended: make sure its process is gone too."""
        if self.in_process:
            if self.run.process.is_alive():
                self.run.process.kill()
                self.run.process.join(0.5)  # reaped, not left a zombie until the interpreter exits

    @Slot()
    def stepBack(self) -> None:
        if self.run.session is None:
            return
        self._stop_running()
        try:
            self.run.step_back()
        except AtFirstStep as note:
            self.message.emit(str(note))
        except Exception as exc:  # noqa: BLE001 - reported; the run stays where the restore left it
            self._fail("timeline", exc)
            return
        self._emit(force=True)

    @Slot(int)
    def jumpTo(self, step: int) -> None:
        if self.run.session is None:
            return
        self._stop_running()
        try:
            self.run.jump(int(step))
        except Exception as exc:  # noqa: BLE001
            self._fail("timeline", exc)
            return
        self._emit(force=True)

    @Slot(int)
    def historyColumns(self, token: int) -> None:
        """Copies of the run's recorded columns (the run-history CSV), taken here, by the run's owner."""
        try:
            out = self.run.history_columns() if self.run.session is not None else ({}, {})
        except Exception as exc:  # noqa: BLE001 - reported; the export says it got nothing
            self._fail("export", exc)
            out = None
        self.historyColumnsReady.emit(token, out)

    @Slot(object)
    def validate(self, request: dict) -> None:
        if self.run.session is None:
            return
        self._stop_running()

        def progress(prog) -> None:
            self.credit.clear()
            self.validationProgress.emit(prog)

        try:
            outcome = self.run.validate(request, progress=progress, cancel=self._cancelled(int(request.get("token", 0))),
                                        ready=self.credit.is_set)
        except Exception as exc:  # noqa: BLE001 - reported; the window leaves its busy state
            self._fail("validation", exc)
            from ..live.validation import ValidationOutcome

            outcome = ValidationOutcome(self.run.generation, (), int(request.get("steps", 1)), True, 0.0)
        if outcome is not None:
            self.validationDone.emit(outcome)

    @Slot(object)
    def rangeTest(self, request: dict) -> None:
        from ..live.snapshot import RangeTestOutcome

        if self.run.session is None:
            return
        self._stop_running()
        self._emit(force=True)

        gate = self.frame_gate
        cancel = self._cancelled(int(request.get("token", 0)))

        def progress(prog) -> None:
            self.credit.clear()
            if gate is not None:
                gate.clear()  # before the emit: the recorder sets it once this frame is taken
            self.rangeTestProgress.emit(prog)

        def lockstep() -> None:
            while not gate.wait(0.05) and not cancel():
                pass

        t0 = time.perf_counter()
        try:
            outcome = self.run.range_test(request, progress=progress, ready=self.credit.is_set, cancel=cancel,
                                          pace=self.range_test_pace, lockstep=lockstep if gate is not None else None)
        except Exception as exc:  # noqa: BLE001
            self._fail("range test", exc)
            outcome = RangeTestOutcome(generation=self.run.generation, result=None, cancelled=True,
                                       seconds=time.perf_counter() - t0)
        if outcome is not None:
            self.rangeTestDone.emit(outcome)

    # -- running --------------------------------------------------------------------------------
    def _stop_running(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        if self.in_process:
            if self.run.running and not self.run.closed:
                try:
                    self.run.stop_running()
                except Exception as exc:  # noqa: BLE001 - a process that is gone: say so once
                    self._fail("run", exc)
            self.run.frames.clear()  # the caller sends the newest state itself
            return
        self.run.running = False

    @Slot()
    def _pump(self) -> None:
        """The engine's process sent frames (or failed): hand the newest frame on, report the failures."""
        self._pump_pending.clear()
        run = self.run
        if not self.in_process:
            return
        run.pump()
        failures, run.failures = list(run.failures), []
        for what, exc in failures:
            self._fail(what, exc)
        if run.closed and not self.shutdown.is_set() and self.in_process:
            self._fail("run", host.EngineProcessError("the engine's process ended unexpectedly"))
            return
        if run.frames:
            snap = run.frames[-1]
            run.frames.clear()
            if not self.shutdown.is_set():
                self._last_emit = time.perf_counter()
                self.snapshotReady.emit(snap)

    @Slot()
    def _tick(self) -> None:
        run = self.run
        if not run.running or run.session is None or self.shutdown.is_set():
            self._stop_running()
            return
        now = time.perf_counter()
        cancel = self.shutdown.is_set
        try:
            if self.speed is None:
                run.step(1_000_000, cancel=cancel, stop_at=self.stop_at, deadline=now + STEP_SLICE)
            else:
                due = int((now - self._throttle_start) * self.speed) - self._throttle_done
                if due > 0:
                    run.step(min(due, 1000), cancel=cancel, stop_at=self.stop_at)
                    self._throttle_done += due
        except Exception as exc:  # noqa: BLE001 - report, stop, keep the app alive
            self._stop_running()
            self._fail("run", exc)
        if run.stopped or (self.stop_at is not None and run.step_count >= self.stop_at):
            self._stop_running()
        self._emit(force=not run.running)

    def _emit(self, force: bool = False) -> None:
        if self.run.session is None or self.shutdown.is_set():
            return
        now = time.perf_counter()
        if not force and (now - self._last_emit < self._emit_interval or not self.credit.is_set()):
            return
        t0 = time.perf_counter()
        snap = self.run.snapshot()
        cost = time.perf_counter() - t0
        # adapt: building snapshots and drawing them never take more than VIEW_BUDGET of the time
        self._emit_interval = max(MIN_EMIT, (cost + self.ui_cost) / VIEW_BUDGET)
        self._last_emit = time.perf_counter()
        self.credit.clear()
        self.snapshotReady.emit(snap)
        self._schedule_refine()

    # -- the loss surface, refined when idle (thread mode; the engine's process decides this itself) -----------
    def _schedule_refine(self) -> None:
        """A paused snapshot drew its loss surface coarse: refine it once no command has come for REFINE_DELAY.
        Every command restarts the wait, so a burst of steps refines once, after its last step."""
        if self.in_process or self.run.running or not self.run.surface_refine_due():
            return
        if self._refine_timer is None:  # created in the worker's thread, on first use
            self._refine_timer = QTimer(self)
            self._refine_timer.setSingleShot(True)
            self._refine_timer.timeout.connect(self._refine_surface)
        self._commands_seen = self.commands_sent
        self._refine_timer.start(round(self.run.surface.refine_delay * 1000))

    @Slot()
    def _refine_surface(self) -> None:
        if self.shutdown.is_set() or self.in_process or self.run.running:
            return
        if self.commands_sent != self._commands_seen:  # commands wait in the queue: they go first, then look again
            self._schedule_refine()
            return
        seen = self.commands_sent
        try:
            snap = self.run.refine_surface(cancel=lambda: self.commands_sent != seen or self.shutdown.is_set())
        except Exception as exc:  # noqa: BLE001 - the coarse picture stays
            self._fail("loss surface", exc)
            return
        if snap is None:  # given up for a command that came meanwhile: after it, look again
            self._schedule_refine()
            return
        self.snapshotReady.emit(snap)


class WorkerController(QObject):
    """Lives in the UI thread: owns the QThread, forwards commands as queued signals, hands snapshots on."""

    # commands (queued into the worker's thread)
    startRequested = Signal()
    pauseRequested = Signal()
    stepRequested = Signal(int)
    lrRequested = Signal(float)
    rangeTestRequested = Signal(object)
    reconfigureRequested = Signal(object)
    resetRequested = Signal(object)  # the window's config (its LR is the live one)
    reseedRequested = Signal(object)  # the window's config with the next seed
    watchRequested = Signal(str)
    speedRequested = Signal(object)
    stopRequested = Signal()
    stepBackRequested = Signal()
    jumpRequested = Signal(int)
    validateRequested = Signal(object)
    surfaceRequested = Signal(object)  # a SurfaceSpec, or None: the loss-surface view is hidden
    historyRequested = Signal(int)  # a request id; answered by worker.historyColumnsReady

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # The UI thread needs the GIL back quickly after each C++ call while the worker computes; CPython's
        # default 5 ms switch interval made every hand-back cost up to 5 ms of event-loop latency.
        if sys.getswitchinterval() > SWITCH_INTERVAL:
            sys.setswitchinterval(SWITCH_INTERVAL)
        limit_blas_threads()
        self._thread = WorkerThread()
        self._thread.setObjectName("gdStudioWorkerThread")
        _THREADS.add(self._thread)
        _OPEN.add(self)
        self.worker = Worker()
        self.worker.moveToThread(self._thread)
        self._token = 0
        self._closed = False
        w = self.worker
        for command in (self.startRequested, self.pauseRequested, self.stepRequested, self.lrRequested,
                        self.rangeTestRequested, self.reconfigureRequested, self.resetRequested, self.reseedRequested,
                        self.watchRequested, self.speedRequested, self.stopRequested, self.stepBackRequested,
                        self.jumpRequested, self.validateRequested, self.surfaceRequested, self.historyRequested):
            command.connect(self._command_sent)  # first, in this thread: counted before the worker can take it
        self.startRequested.connect(w.start)
        self.pauseRequested.connect(w.pause)
        self.stepRequested.connect(w.step)
        self.steps_sent = 0  # step commands sent, whoever emitted them (a direct connection: counted at once)
        self.stepRequested.connect(self._count_step)
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
        self.surfaceRequested.connect(w.setSurface)
        self.historyRequested.connect(w.historyColumns)
        w.historyColumnsReady.connect(self._on_history_columns)
        self._history: dict[int, object] = {}
        self._history_wait = None
        self._thread.finished.connect(w.deleteLater)
        self._beat = QTimer(self)  # the GUI thread's heartbeat (see BEAT_MS)
        self._beat.setTimerType(Qt.TimerType.PreciseTimer)
        self._beat.setInterval(BEAT_MS)
        self._beat.timeout.connect(self._heartbeat)
        self._beat.start()
        self._thread.start()

    @Slot(int)
    def _count_step(self, _n: int) -> None:
        self.steps_sent += 1

    def steps_pending(self) -> bool:
        """Step commands sent that the worker has not answered yet (they queue behind a start-up build, never lost)."""
        return self.worker.steps_done < self.steps_sent

    @Slot()
    def _command_sent(self, *_) -> None:
        self.worker.commands_sent += 1  # an int written by this thread only; the worker compares it (idle test)

    def _heartbeat(self) -> None:
        self.worker.gui_beat = time.perf_counter()  # a float write: no lock, no signal

    # the views call this once they have drawn a snapshot: the worker may send the next one
    def ack(self, ui_seconds: float | None = None) -> None:
        if ui_seconds is not None:
            self.worker.ui_cost = float(ui_seconds)
        self.worker.credit.set()

    @Slot(int, object)
    def _on_history_columns(self, token: int, columns) -> None:
        self._history[token] = columns
        if self._history_wait is not None and self._history_wait[0] == token:
            self._history_wait[1].quit()

    def history_columns(self, timeout_ms: int = 5000):
        """The run's (columns, validation columns), asked of the worker and waited for here (the worker thread
        is the only one that touches the run); None when it does not answer within ``timeout_ms``."""
        from PySide6.QtCore import QEventLoop

        self._token += 1
        token = self._token
        loop = QEventLoop()
        self._history_wait = (token, loop)
        QTimer.singleShot(timeout_ms, loop.quit)
        self.historyRequested.emit(token)
        try:
            loop.exec()  # the reply arrives as a queued call into this thread and ends the loop
        finally:
            self._history_wait = None
        return self._history.pop(token, None)

    def range_test(self, **request) -> int:
        self._token += 1
        request["token"] = self._token
        self.rangeTestRequested.emit(request)
        return self._token

    def step(self, n: int = 1) -> None:
        """``n`` steps in one command (a scenario's pre-run); Esc (cancel) stops the rest."""
        self.stepRequested.emit(int(n))

    def set_stop_at(self, step: int | None) -> None:
        """A running scenario pauses at this step (a plain value the worker reads at its next step)."""
        self.worker.stop_at = None if step is None else int(step)

    def validate(self, **request) -> int:
        """Short trainings at the suggestion's LRs (live/validation.py); cancelled like a range test."""
        self._token += 1
        request["token"] = self._token
        self.validateRequested.emit(request)
        return self._token

    def cancel(self) -> None:
        # plain attribute writes, seen at the engine's next step (the pause below waits in the queue)
        self.worker.cancel_upto = self._token
        self.worker.cancel_epoch += 1
        self.pauseRequested.emit()

    def is_running(self) -> bool:
        return self._thread.isRunning()

    def shutdown(self, timeout_ms: int = SHUTDOWN_MS) -> bool:
        """Stop the worker and its thread; True when the thread has finished."""
        if self._closed:
            return not self._thread.isRunning()
        self._closed = True
        _OPEN.discard(self)
        self._beat.stop()
        self.worker.detach_engine()
        self.worker.shutdown.set()
        self.worker.cancel_upto = self._token
        self.stopRequested.emit()
        self._thread.quit()
        ok = self._thread.wait(timeout_ms)
        self.worker.close_engine()
        if not ok:
            # still inside a call that cannot be interrupted (the engine's process starting under heavy load):
            # the thread must outlive its window, whose deletion would destroy a running QThread (SIGABRT); it is
            # deleted from this thread's event loop once it has finished
            thread = self._thread
            thread.setParent(None)
            _STRAGGLERS.add(thread)
            thread.finished.connect(thread.deleteLater)
        return bool(ok)
