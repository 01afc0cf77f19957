"""The engine's own process: a LiveRun served over a pipe, so stepping never competes with the window for the GIL.

Why a process (measured with tests/benchmarks/bench_ui.py, see the README's performance section): in one
interpreter every frame's Python work (building the snapshot, handing it to the views, pyqtgraph's paint)
holds the one GIL the engine needs; with ~14 ms of it per frame even for the one-weight parabola, 50 frames
a second leave the engine under a third of its headless speed. Here the engine steps in its own interpreter
and only a pickled snapshot crosses the pipe.

The parent side is ``RemoteRun``: the same methods as LiveRun (configure, step, snapshot, jump, range_test,
validate, …), called from the worker thread only. Callbacks a call takes (``progress``, ``ready``,
``cancel``, ``lockstep``) are called back in the parent, synchronously, so a long call is cancelled and
reports progress exactly as in one process. Running continuously (``start_running``) is done by the child
on its own: it steps in short slices, checks the pipe between them, and sends a snapshot whenever the
window has drawn the previous one (the shared ``credit`` event) and the frame interval has passed.
"""
from __future__ import annotations

import collections
import multiprocessing as mp
import os
import signal
import pickle
import queue
import sys
import threading
import time
import traceback
from typing import Any, Callable

import numpy as np

MIN_EMIT = 1.0 / 60.0  # at most ~60 snapshots a second
SNAPSHOT_SHARE = 0.2  # building snapshots may take at most this share of the engine's time while running
# the window's drawing (its apply and paint of a frame, measured by the window) may take at most this share of
# its time: the rest keeps its event loop answering timers, keys and the mouse when the machine is busy
UI_SHARE = 0.75
STEP_SLICE = 0.004  # seconds of stepping between looks at the pipe (commands, the frame clock)
CALLBACKS = ("progress", "ready", "cancel", "lockstep")
NO_STOP = -1
# The engine's process yields the CPU to the window when the machine is busy: on a shared 2-core machine the
# window's paint, not the engine, is what a person notices (an idle core is used in full either way).
ENGINE_NICE = 5


class _Same:
    """Stands in a streamed frame for a part equal to the one the previous frame sent (one instance, pickled by
    name)."""

    def __reduce__(self):
        return "SAME"

    def __repr__(self) -> str:
        return "SAME"


SAME = _Same()


class FrameDelta:
    """Parts of running frames that did not change cross the pipe once: the child sends ``SAME`` in their place
    and the window puts back the object it already has, so a view that sees the same object skips its redraw.

    While running, the region grid, the weight's slice and the sharpness are refreshed only within a share of the
    engine's time (``LiveRun``): most frames repeat them. Pickled anew, each frame's copy was a new object to the
    window, and the data view re-rendered its region image every frame (the digits MLP: ~2.5 ms of the window's
    thread each). Both ends hold the last value of each part; the pipe keeps frames in order, so they agree.
    """

    PARTS = ("regions", "confidence", "sharpness", "surface")
    CURVE = ("curve_w", "curve_loss")  # of the weight view

    def __init__(self) -> None:
        self.last: dict[str, Any] = {}

    def _same(self, key: str, value) -> bool:
        old = self.last.get(key)
        if value is None or old is None:
            return False
        if value is old:
            return True
        if isinstance(value, np.ndarray) and isinstance(old, np.ndarray):
            return value.shape == old.shape and value.dtype == old.dtype and bool(np.array_equal(value, old))
        return False

    def pack(self, snap):
        """The frame to send (in the child): unchanged parts replaced by ``SAME``."""
        return self._through(snap, lambda key, value: SAME if self._same(key, value) else self._keep(key, value))

    def unpack(self, snap):
        """The frame as built (in the window): ``SAME`` parts replaced by the objects received before."""
        return self._through(snap, lambda key, value: self.last[key] if value is SAME else self._keep(key, value))

    def _keep(self, key: str, value) -> None:
        self.last[key] = value  # the part as it is now: the next frame is compared with it

    def _through(self, snap, part):
        """``snap`` with each of its PARTS and its weight's CURVE passed through ``part(key, value)``: a
        replacement, or None to keep the value."""
        from dataclasses import replace

        def changes(obj, keys) -> dict:
            out = {}
            for key in keys:
                new = part(key, getattr(obj, key))
                if new is not None:
                    out[key] = new
            return out

        found = changes(snap, self.PARTS)
        weight = snap.weight
        if weight is not None:
            curve = changes(weight, self.CURVE)
            if curve:
                found["weight"] = replace(weight, **curve)
        return replace(snap, **found) if found else snap


class EngineProcessError(RuntimeError):
    """The engine's process is gone or did not answer; the worker then falls back to its own thread."""


class Shared:
    """Values both processes see without a message: written by the window, read by the stepping child."""

    def __init__(self, ctx) -> None:
        self.credit = ctx.Event()  # set once the window has drawn the last snapshot
        self.credit.set()
        self.shutdown = ctx.Event()  # the window is closing: stop at the next step
        self.stop_at = ctx.RawValue("q", NO_STOP)  # a scenario pauses the run at this step
        self.ui_cost = ctx.RawValue("d", 0.0)  # seconds the window spent on its last frame


def _state(run) -> tuple:
    return (run.generation, run.config, bool(run.running), bool(run.stopped), int(run.step_count),
            run.session is not None)


def _picklable_error(exc: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - an exception that cannot cross: keep its type name and message
        return RuntimeError(f"{type(exc).__name__}: {exc}")


class _Child:
    """The child's side: one LiveRun, commands from the pipe, and the running loop."""

    def __init__(self, conn, shared: Shared) -> None:
        from .run import LiveRun

        self.conn = conn
        self.shared = shared
        self.run = LiveRun()
        self.speed: float | None = None
        self.throttle_start = 0.0
        self.throttle_done = 0
        self.last_emit = 0.0
        self.last_emit_cpu = 0.0  # this thread's CPU clock after the last frame was sent
        self.interval = MIN_EMIT  # wall-clock seconds between frames: the window's pace
        self.cpu_interval = 0.0  # CPU seconds of stepping between frames: the snapshots' share of the engine
        # seconds spent waiting for a throttled run's next step since the last frame: time the snapshots take
        # from nobody, so it counts towards their share like stepping (at 20 steps/s a run spends almost no CPU,
        # and a gate on CPU time alone let through 3 frames a second instead of one a step)
        self.idle = 0.0
        self.costs: collections.deque = collections.deque(maxlen=8)  # recent snapshot costs (s)
        self.run.surface.adaptive = True  # the window's run: a paused loss surface comes coarse, then refined
        self.handled = 0  # requests answered (RemoteRun counts those it sent: a refined frame names the count)
        self.delta = FrameDelta()  # what the window already has of the running frames

    def send(self, msg) -> None:
        self.conn.send(msg)

    def stub(self, name: str) -> Callable:
        def call_back(*args):
            self.send(("callback", name, args))
            while True:  # only the answer can come: the parent is inside this call
                msg = self.conn.recv()
                if msg[0] == "cbresult":
                    return msg[1]
                if msg[0] == "quit":
                    raise SystemExit(0)
        return call_back

    def call(self, name: str, args, kwargs, callbacks) -> None:
        for cb in callbacks:
            kwargs[cb] = self.stub(cb)
        try:
            if name == "_get":
                value = getattr(self.run, args[0])
            else:
                value = getattr(self.run, name)(*args, **kwargs)
        except SystemExit:
            raise
        except BaseException as exc:  # noqa: BLE001 - every error goes back to the caller, as in one process
            if not isinstance(exc, Exception):
                raise
            tb = traceback.format_exc()
            self.send(("error", _picklable_error(exc), tb, _state(self.run)))
            return
        try:
            self.send(("result", value, _state(self.run)))
        except Exception as exc:  # noqa: BLE001 - a result that cannot be pickled is a bug: say which
            self.send(("error", RuntimeError(f"{name}: result cannot cross processes ({exc})"), "",
                       _state(self.run)))

    def start(self, speed) -> None:
        run = self.run
        if run.session is None or run.stopped:
            return
        self.speed = speed
        run.running = True
        run.fast = speed is None
        run.rate.clear()
        self.throttle_start = time.perf_counter()
        self.throttle_done = 0

    def stop(self) -> None:
        self.run.running = False

    def handle(self, msg) -> bool:
        kind = msg[0]
        if kind == "quit":
            return False
        self.handled += 1
        if kind == "call":
            self.call(*msg[1:])
        elif kind == "start":
            self.start(msg[1])
            self.send(("result", None, _state(self.run)))
        elif kind == "stop":
            self.stop()
            self.send(("result", None, _state(self.run)))
        elif kind == "speed":
            self.speed = msg[1]
            self.run.fast = self.speed is None
            self.throttle_start = time.perf_counter()
            self.throttle_done = 0
            self.run.rate.clear()
            self.send(("result", None, _state(self.run)))
        return True

    def stop_at(self) -> int | None:
        v = int(self.shared.stop_at.value)
        return None if v == NO_STOP else v

    def tick(self) -> None:
        """One slice of running: step until the slice (or the frame) is due, then maybe send a frame."""
        run = self.run
        shutdown = self.shared.shutdown.is_set
        if shutdown():
            run.running = False
            return
        now = time.perf_counter()
        stop_at = self.stop_at()
        try:
            if self.speed is None:
                frame_due = self.last_emit + self.interval
                end = now + STEP_SLICE
                if self.shared.credit.is_set() and frame_due > now:
                    end = min(end, frame_due)
                # no per-step look at the shared event (a lock each time): a slice ends within STEP_SLICE anyway
                run.step(1_000_000, stop_at=stop_at, deadline=end)
            else:
                due = int((now - self.throttle_start) * self.speed) - self.throttle_done
                if due > 0:
                    run.step(min(due, 1000), cancel=shutdown, stop_at=stop_at)
                    self.throttle_done += due
                else:  # nothing due: wait for a command rather than spin
                    waited = time.perf_counter()
                    self.conn.poll(min(0.005, 1.0 / self.speed))
                    self.idle += time.perf_counter() - waited
        except Exception as exc:  # noqa: BLE001 - report, stop, keep the process alive
            run.running = False
            self.send(("failed", "run", _picklable_error(exc), traceback.format_exc()))
        if run.stopped or (stop_at is not None and run.step_count >= stop_at):
            run.running = False
        self.emit(force=not run.running)

    def emit(self, force: bool) -> None:
        now = time.perf_counter()
        if not force and (now - self.last_emit < max(self.interval, self.cpu_interval) or not self.shared.credit.is_set()
                          or time.thread_time() - self.last_emit_cpu + self.idle < self.cpu_interval):
            return  # (the CPU clock, a system call, only once the wall clock allows: CPU time never runs ahead)
        cpu0 = time.thread_time()
        try:
            snap = self.run.snapshot()
        except Exception as exc:  # noqa: BLE001
            self.run.running = False
            self.send(("failed", "run", _picklable_error(exc), traceback.format_exc()))
            return
        # frames are spaced from the start of one to the start of the next: counted from the end, every frame's own
        # build time was added to the window's pace (digits: 16.7 ms + ~4 ms on average, 49 frames/s for a window
        # that draws 60)
        self.last_emit = now
        self.idle = 0.0
        self.shared.credit.clear()
        self.send(("snapshot", self.delta.pack(snap), _state(self.run)))
        # what building and sending it (the comparison with the last frame, pickling, the pipe) cost this process,
        # in CPU time: the wall clock also counts the time the window (or another process) had the core, and on a
        # busy 2-core machine that tripled the digits MLP's measured cost (11.6 against 3.7 ms at load 6), so the
        # frames slowed for a cost the engine never paid
        self.last_emit_cpu = time.thread_time()
        cost = max(0.0, self.last_emit_cpu - cpu0)
        # the engine's share of snapshot building (in its CPU time: the share stays SNAPSHOT_SHARE whatever CPU the
        # machine's load leaves it) and the window's share of drawing (in wall time: its pace) are both kept in
        # bounds; on the median of recent frames, because a frame that refreshed the slice, the region grid or the
        # sharpness (tens to hundreds of ms on digits, each budgeted on its own in LiveRun) must not hold back
        # the frames after it
        self.costs.append(cost)
        typical = sorted(self.costs)[len(self.costs) // 2]
        self.cpu_interval = typical / SNAPSHOT_SHARE - typical  # stepping between frames: cost / all = the share
        self.interval = max(MIN_EMIT, float(self.shared.ui_cost.value) / UI_SHARE)

    def refine_surface(self) -> None:
        """Paused and idle (no command for surface.REFINE_DELAY): the coarse loss surface on its full grid, sent as
        a frame of its own. A command arriving meanwhile stops it (between bands of grid rows) and goes first."""
        seen = self.handled
        try:
            snap = self.run.refine_surface(cancel=lambda: self.conn.poll(0) or self.shared.shutdown.is_set())
        except Exception as exc:  # noqa: BLE001 - the coarse picture stays
            self.run.surface.pending = None
            self.send(("failed", "loss surface", _picklable_error(exc), traceback.format_exc()))
            return
        if snap is not None:
            self.send(("refined", snap, _state(self.run), seen))

    def loop(self) -> None:
        conn = self.conn
        while True:
            try:
                if self.run.running:
                    while conn.poll(0):
                        if not self.handle(conn.recv()):
                            return
                    if self.run.running:
                        self.tick()
                else:
                    # a burst of steps while paused draws each step's surface coarse; the last one is refined once
                    # no command has come for surface.REFINE_DELAY
                    if self.run.surface_refine_due() and not conn.poll(self.run.surface.refine_delay):
                        self.refine_surface()
                        continue
                    if not self.handle(conn.recv()):
                        return
            except (EOFError, OSError, BrokenPipeError):  # the window's process is gone
                return


def serve(conn, shared: Shared, nice: int = 0) -> None:
    """The child process's main: one BLAS thread (as in the window: identical numbers), then the loop."""
    if hasattr(signal, "SIGTERM"):
        # Ctrl+C in a terminal (and a session's SIGTERM) reach the whole process group: the window decides, and
        # closes this process itself (an engine that died first would look like a crash and start the thread
        # fallback while the window closes); if the window dies, the pipe's end-of-file ends this process
        for name in ("SIGINT", "SIGTERM"):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    if nice and hasattr(os, "nice"):
        try:
            os.nice(int(nice))
        except OSError:
            pass
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")
    except ImportError:
        pass
    try:
        _Child(conn, shared).loop()
    except SystemExit:
        pass
    except KeyboardInterrupt:
        pass


ENGINE_NAME = "gd-studio-engine"


def _without_main(get_preparation_data):
    """The engine's process needs only gd_studio: it must not re-import the parent's main script, which
    multiprocessing does by default (an unguarded script that opens a window would then run again in it)."""
    if getattr(get_preparation_data, "_gd_studio", False):
        return get_preparation_data

    def prepare(name):
        data = get_preparation_data(name)
        if name == ENGINE_NAME:
            data.pop("init_main_from_path", None)
            data.pop("init_main_from_name", None)
        return data

    prepare._gd_studio = True
    return prepare


def context():
    """forkserver where it exists (a clean, single-threaded parent to fork from); spawn elsewhere."""
    from multiprocessing import spawn

    spawn.get_preparation_data = _without_main(spawn.get_preparation_data)
    if sys.platform.startswith("linux") and not getattr(sys, "frozen", False):
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["gd_studio.live.host", "gd_studio.live.run"])
        return ctx
    return mp.get_context("spawn")


def start_engine_server() -> None:
    """Start the fork server now, from the main thread, with Ctrl+C ignored while it starts.

    A process started with SIGINT ignored keeps it ignored, and the fork server hands the handler it found to
    every process it forks: the engine's process then ignores Ctrl+C from its first instruction, where one still
    starting (before serve) printed a KeyboardInterrupt traceback, and the fork server's own imports are not cut
    short either. The window closes both. Nothing to do where engines are spawned.
    """
    ctx = context()
    if ctx.get_start_method() != "forkserver" or threading.current_thread() is not threading.main_thread():
        return
    from multiprocessing import forkserver

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, previous)


class RemoteRun:
    """A LiveRun in the engine's process, driven from one thread of the window's process.

    Mirrors what the worker reads without a call (generation, config, running, stopped, step_count) from the
    state every answer carries. Snapshots the child sends on its own while running are queued in ``frames``.

    A reader thread blocks on the pipe and puts every message in ``inbox``; for a message nobody waits for (a
    frame, a failure) it calls ``on_message`` (the worker turns that into a queued call of its pump). So the
    worker's thread never polls: a thread that woke every few milliseconds to look at the pipe took the GIL
    from the window's paint each time, and under load every such hand-over cost a scheduler delay.
    """

    def __init__(self, shared: Shared | None = None, ctx=None, start_timeout: float = 20.0) -> None:
        self.ctx = ctx or context()
        self.shared = shared or Shared(self.ctx)
        parent, child = self.ctx.Pipe(duplex=True)
        self.process = self.ctx.Process(target=serve, args=(child, self.shared, int(os.environ.get("GD_STUDIO_ENGINE_NICE", ENGINE_NICE))), name=ENGINE_NAME,
                                        daemon=True)
        self.process.start()
        child.close()
        self.conn = parent
        self.generation = 0
        self.config = None
        self.running = False
        self.stopped = False
        self.step_count = 0
        self.has_session = False
        self.fast = False
        self.before_step = None  # no GIL to share with the window: nothing to wait for between steps
        self.frames: list = []  # (snapshot) sent by the running child, oldest first
        self.requests = 0  # requests sent: a refined frame computed before the newest of them is out of date
        self.failures: list = []  # (what, exception) reported by the running child
        self.closed = False
        self.inbox: queue.Queue = queue.Queue()
        self.delta = FrameDelta()  # the parts of running frames received so far (read by the reader thread only)
        self.on_message: Callable[[], None] | None = None  # called from the reader thread
        self._notify_lock = threading.Lock()  # detach() waits for a call of on_message in flight
        self._reader = threading.Thread(target=self._read, name="gd-studio-engine-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        conn = self.conn
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError, TypeError, ValueError):  # closed or gone
                self.inbox.put(("eof",))
                self._notify()
                return
            except Exception as exc:  # noqa: BLE001 - a message that cannot be unpickled: a bug, reported
                msg = ("failed", "run", RuntimeError(f"a message from the engine could not be read ({exc})"))
            if msg[0] == "snapshot":
                try:
                    msg = ("snapshot", self.delta.unpack(msg[1]), msg[2])
                except Exception as exc:  # noqa: BLE001 - a part the window never received: a bug, reported
                    msg = ("failed", "run", RuntimeError(f"a frame from the engine could not be rebuilt ({exc})"))
            self.inbox.put(msg)
            if msg[0] in ("snapshot", "failed", "refined"):
                self._notify()

    def _notify(self) -> None:
        with self._notify_lock:
            notify = self.on_message
            if notify is not None:
                try:
                    notify()
                except RuntimeError:  # its owner (a Qt object) is already gone: nobody is waiting
                    pass

    def detach(self) -> None:
        """Stop calling ``on_message``; returns once a call in flight has finished, so its owner (a QObject the
        reader thread emits through) can be deleted safely. Before, an engine that ended while the window
        closed (a SIGTERM to the process group) could emit on a deleted worker: a segmentation fault."""
        with self._notify_lock:
            self.on_message = None

    # -- plumbing -----------------------------------------------------------------------------------
    def _take_state(self, state) -> None:
        (self.generation, self.config, self.running, self.stopped, self.step_count, self.has_session) = state

    def _dispatch(self, msg, callbacks: dict | None = None):
        """Handle one message; returns ("done", value) for an answer, None otherwise."""
        kind = msg[0]
        if kind == "result":
            self._take_state(msg[2])
            return ("done", msg[1])
        if kind == "error":
            self._take_state(msg[3])
            return ("raise", msg[1])
        if kind == "snapshot":
            self._take_state(msg[2])
            self.frames.append(msg[1])
        elif kind == "refined":
            if msg[3] == self.requests:  # nothing asked since it was drawn: still the state the window shows
                self._take_state(msg[2])
                self.frames.append(msg[1])
        elif kind == "eof":
            self.closed = True
            self.running = False
        elif kind == "failed":
            self.failures.append((msg[1], msg[2]))
        elif kind == "callback":
            fn = (callbacks or {}).get(msg[1])
            try:
                value = fn(*msg[2]) if fn is not None else None
            except Exception:  # noqa: BLE001 - a failing callback must not leave the child waiting
                traceback.print_exc()
                value = None
            self.conn.send(("cbresult", value))
        return None

    def _request(self, msg, callbacks: dict | None = None):
        if self.closed:
            raise EngineProcessError("the engine's process has been closed")
        t0 = time.perf_counter()
        self.requests += 1
        try:
            self.conn.send(msg)
        except (EOFError, OSError, ValueError) as exc:
            self.closed = True
            raise EngineProcessError(f"the engine's process is gone ({exc})") from None
        while True:
            try:
                got = self.inbox.get(timeout=0.25)
            except queue.Empty:
                if not self.process.is_alive():
                    self.closed = True
                    raise EngineProcessError("the engine's process ended unexpectedly") from None
                if self.shared.shutdown.is_set() and time.perf_counter() - t0 > 0.5:
                    raise EngineProcessError("the window is closing") from None  # never hold up a close
                continue
            if got[0] == "eof":
                self._dispatch(got)
                raise EngineProcessError("the engine's process ended unexpectedly")
            try:
                out = self._dispatch(got, callbacks)
            except (EOFError, OSError, ValueError) as exc:  # answering a callback to a process that is gone
                self.closed = True
                raise EngineProcessError(f"the engine's process is gone ({exc})") from None
            if out is not None:
                if out[0] == "raise":
                    raise out[1]
                return out[1]

    def _call(self, name: str, *args, **kwargs):
        callbacks = {k: kwargs.pop(k) for k in CALLBACKS if callable(kwargs.get(k))}
        for k in CALLBACKS:
            if k in kwargs and kwargs[k] is None:
                kwargs.pop(k)
        return self._request(("call", name, args, kwargs, tuple(callbacks)), callbacks)

    # -- LiveRun's methods --------------------------------------------------------------------------
    @property
    def session(self):
        return True if self.has_session else None  # the session itself stays in the child

    def configure(self, config, reason: str = "configured"):
        return self._call("configure", config, reason)

    def reset(self, config=None):
        return self._call("reset", config)

    def reseed(self, seed_or_config):
        return self._call("reseed", seed_or_config)

    def set_lr(self, lr: float) -> None:
        self._call("set_lr", lr)

    def set_surface(self, spec) -> None:
        self._call("set_surface", spec)

    def set_watch(self, name: str) -> None:
        self._call("set_watch", name)

    def step(self, n: int = 1, *, cancel=None, stop_at=None, deadline=None) -> int:
        return self._call("step", n, cancel=cancel, stop_at=stop_at, deadline=deadline)

    def step_back(self) -> int:
        return self._call("step_back")

    def jump(self, target: int) -> int:
        return self._call("jump", target)

    def snapshot(self):
        return self._call("snapshot")

    def history_columns(self):
        return self._call("history_columns")

    def range_test(self, request: dict, **kwargs):
        return self._call("range_test", request, **kwargs)

    def validate(self, request: dict, **kwargs):
        return self._call("validate", request, **kwargs)

    def get(self, name: str) -> Any:
        """A copy of one of the LiveRun's attributes (tests and diagnostics)."""
        return self._request(("call", "_get", (name,), {}, ()))

    # -- running in the child -----------------------------------------------------------------------
    def start_running(self, speed: float | None) -> None:
        self._request(("start", speed))

    def stop_running(self) -> None:
        if not self.closed:
            self._request(("stop",))

    def set_speed(self, speed: float | None) -> None:
        self._request(("speed", speed))

    def pump(self, timeout: float = 0.0) -> None:
        """Take what the running child sent (frames, failures), waiting at most ``timeout`` s for the first."""
        try:
            msg = self.inbox.get(timeout=timeout) if timeout > 0 else self.inbox.get_nowait()
        except queue.Empty:
            return
        while True:
            self._dispatch(msg)
            try:
                msg = self.inbox.get_nowait()
            except queue.Empty:
                return

    def close(self, timeout: float = 0.5) -> None:
        """Ask the child to end; kill it if it does not within ``timeout`` s."""
        self.detach()  # the owner of that callback may be going away
        if not self.closed:
            self.closed = True
            try:
                self.conn.send(("quit",))
            except (OSError, ValueError):
                pass
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(0.5)
        try:
            self.conn.close()
        except OSError:
            pass

