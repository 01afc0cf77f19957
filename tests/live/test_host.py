"""The engine's process (live/host.py): the same run, step for step, as a LiveRun in this process; calls, callbacks,
errors and closing behave as in one process."""
from __future__ import annotations

import time

import numpy as np
import pytest

from gd_studio.engine.config import RunConfig
from gd_studio.engine.errors import GDStudioError
from gd_studio.live import host
from gd_studio.live.run import AtFirstStep, LiveRun

MOONS = RunConfig(dataset="moons", dataset_params={"n_samples": 120, "noise": 0.2, "seed": 1}, model="mlp",
                  hidden=(6,), activation="tanh", loss="cross_entropy", optimizer="momentum",
                  optimizer_params={"momentum": 0.9}, lr=0.05, batch_size=16, seed=2, watch="W2[0,0]")


@pytest.fixture(scope="module")
def remote():
    r = host.RemoteRun()
    yield r
    r.close()
    assert not r.process.is_alive()


def _run_remote_until(remote, step: int) -> None:
    remote.shared.stop_at.value = step
    remote.start_running(None)
    deadline = time.monotonic() + 20
    while remote.running and time.monotonic() < deadline:
        remote.pump(0.05)
    remote.shared.stop_at.value = host.NO_STOP
    assert not remote.running and remote.step_count == step


def test_running_in_the_process_is_bit_identical_to_stepping_here(remote):
    info = remote.configure(MOONS)
    assert info.generation == remote.generation and remote.session is not None
    local = LiveRun()
    local.configure(MOONS)
    _run_remote_until(remote, 150)  # at full speed, frames sent as the window asks for them
    assert remote.frames and remote.frames[-1].step == 150 and not remote.frames[-1].running
    remote.frames.clear()
    local.step(150)
    cols_r, vals_r = remote.history_columns()
    cols_l, vals_l = local.history_columns()
    assert cols_r.keys() == cols_l.keys()
    for k in cols_l:
        np.testing.assert_array_equal(cols_r[k], cols_l[k])  # every recorded number, bit for bit
    np.testing.assert_array_equal(vals_r["val_loss"], vals_l["val_loss"])
    # a new LR, a step back and a jump: still the same run
    remote.set_lr(0.02)
    local.set_lr(0.02)
    assert remote.step(7) == local.step(7) == 7
    assert remote.step_back() == local.step_back() == 156
    assert remote.jump(100) == local.jump(100) == 100
    snap_r, snap_l = remote.snapshot(), local.snapshot()
    assert snap_r.step == snap_l.step == 100
    assert snap_r.weight.current_w == snap_l.weight.current_w
    assert snap_r.lr == snap_l.lr


def test_callbacks_run_here_and_cancel_a_range_test(remote):
    remote.configure(MOONS)
    seen = []
    outcome = remote.range_test({"num_iter": 40}, progress=seen.append, ready=lambda: True,
                                cancel=lambda: False)
    local = LiveRun()
    local.configure(MOONS)
    ref = local.range_test({"num_iter": 40})
    np.testing.assert_array_equal(outcome.result.losses, ref.result.losses)
    assert seen and seen[-1].lrs.size == 40
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 10  # the window's Esc, seen at the next step

    stopped = remote.range_test({"num_iter": 200}, cancel=cancel)
    assert stopped.cancelled and len(stopped.result.lrs) < 20


def test_errors_come_back_as_the_same_errors_and_keep_the_run(remote):
    remote.configure(MOONS)
    gen = remote.generation
    with pytest.raises(GDStudioError, match="moons"):
        remote.configure(MOONS.replace(dataset="no such dataset"))
    assert remote.generation == gen
    with pytest.raises(AtFirstStep):
        remote.step_back()
    with pytest.raises(GDStudioError):
        remote.set_lr(float("nan"))
    assert remote.snapshot().lr == MOONS.lr


def test_closing_a_running_process_ends_it_within_a_second():
    r = host.RemoteRun()
    r.configure(MOONS)
    r.start_running(None)
    r.pump(0.05)
    t0 = time.monotonic()
    r.shared.shutdown.set()
    r.close()
    assert not r.process.is_alive() and time.monotonic() - t0 < 1.0
    with pytest.raises(host.EngineProcessError):
        r.snapshot()


def test_running_frames_send_unchanged_parts_once_and_the_window_gets_the_same_objects_back():
    import pickle
    from dataclasses import replace

    run = LiveRun()
    run.configure(MOONS)
    run.step(5)
    first = run.snapshot()
    run.step(1)
    later = run.snapshot()
    # the next frame repeats the region grid (the same object, as LiveRun reuses it between refreshes) and the
    # slice (equal arrays built anew); its step, trail and history are new
    second = replace(later, regions=first.regions, confidence=first.confidence,
                     weight=replace(later.weight, curve_w=first.weight.curve_w.copy(),
                                    curve_loss=first.weight.curve_loss.copy()))
    child, window = host.FrameDelta(), host.FrameDelta()
    packed = [child.pack(s) for s in (first, second)]
    assert packed[0].regions is first.regions  # the first frame carries everything
    assert packed[1].regions is host.SAME and packed[1].confidence is host.SAME
    assert packed[1].weight.curve_w is host.SAME and packed[1].weight.curve_loss is host.SAME
    assert packed[1].step == second.step and packed[1].history is second.history
    assert pickle.loads(pickle.dumps(host.SAME)) is host.SAME
    got = [window.unpack(pickle.loads(pickle.dumps(p))) for p in packed]
    # the window rebuilds every frame in full; a part that did not change is the very object it had before
    for snap, back in zip((first, second), got):
        np.testing.assert_array_equal(back.regions, snap.regions)
        np.testing.assert_array_equal(back.weight.curve_loss, snap.weight.curve_loss)
        np.testing.assert_array_equal(back.weight.trail_w, snap.weight.trail_w)
        assert back.step == snap.step
    assert got[1].regions is got[0].regions and got[1].confidence is got[0].confidence
    assert got[1].weight.curve_w is got[0].weight.curve_w
    # parts that changed cross in full
    third = replace(later, regions=first.regions + 1)
    sent = child.pack(third)
    assert not np.array_equal(later.weight.curve_loss, first.weight.curve_loss)  # a step later: a new slice
    assert sent.regions is not host.SAME and sent.weight.curve_loss is not host.SAME
    back = window.unpack(pickle.loads(pickle.dumps(sent)))
    np.testing.assert_array_equal(back.regions, first.regions + 1)
    np.testing.assert_array_equal(back.weight.curve_w, later.weight.curve_w)
    np.testing.assert_array_equal(back.weight.curve_loss, later.weight.curve_loss)


class _Pipe:
    """The child's end of the pipe, as a list of what it sent."""

    def __init__(self) -> None:
        self.sent: list = []

    def send(self, msg) -> None:
        self.sent.append(msg)


def test_the_frame_pace_follows_the_engines_cpu_time_not_the_time_another_process_had_the_core():
    """A frame that took long on the wall clock but little CPU (the engine's process waited for a core the window
    had: its priority is lowered) does not slow the frames after it: the interval is what building and sending a
    frame cost this process, over SNAPSHOT_SHARE. Measured by the wall clock, the wait counted (and on a busy
    machine tripled the digits MLP's cost)."""
    import multiprocessing as mp

    child = host._Child(_Pipe(), host.Shared(mp.get_context("spawn")))
    child.run.configure(MOONS)
    build = child.run.snapshot
    waited = 0.04

    def preempted():
        time.sleep(waited)  # another process had the core: the wall clock runs on, this thread spends nothing
        return build()

    child.run.snapshot = preempted
    for _ in range(3):
        child.shared.credit.set()
        child.emit(force=True)
    assert [m[0] for m in child.conn.sent] == ["snapshot"] * 3
    assert child.interval == host.MIN_EMIT  # the window's pace: it drew nothing yet
    assert child.cpu_interval < 0.5 * waited / host.SNAPSHOT_SHARE, child.cpu_interval


def test_a_throttled_runs_wait_counts_towards_the_snapshots_share():
    """At 20 steps/s a run spends almost no CPU between steps: a gate on the engine's CPU time alone held the frames
    back until enough stepping had been done (3 frames a second where each step should be drawn). Time spent
    waiting for the next step is taken from nobody, so it counts like stepping; a run stepping flat out is gated
    by its CPU time as before."""
    import multiprocessing as mp

    child = host._Child(_Pipe(), host.Shared(mp.get_context("spawn")))
    child.run.configure(MOONS)
    child.run.running = True
    child.cpu_interval = 0.05  # 50 ms of the engine's time between frames (a 12.5 ms snapshot at a 20 % share)
    child.interval = host.MIN_EMIT

    def ready(idle: float) -> bool:
        child.conn.sent.clear()
        child.shared.credit.set()  # the window drew the last frame
        child.last_emit = time.perf_counter() - 1.0  # a second ago on the wall clock
        child.last_emit_cpu = time.thread_time()  # and no CPU spent since
        child.idle = idle
        child.emit(force=False)
        return [m[0] for m in child.conn.sent] == ["snapshot"]

    assert not ready(idle=0.0)  # stepping flat out: the CPU it spent is what counts
    assert ready(idle=0.9)  # waited for the throttle most of that second: the frame goes
    assert child.idle == 0.0  # counted afresh from this frame


def test_frames_are_spaced_from_the_start_of_one_to_the_start_of_the_next(monkeypatch):
    """The window's pace is a frame every ``interval`` seconds: counted from the end of building a frame, its build
    time (digits: ~4 ms on average, 48 ms when it took a sharpness estimate) was added to every interval, and a
    window that draws 60 frames a second got 49. A frame is due ``interval`` after the previous one started."""
    import multiprocessing as mp

    clock = [100.0]
    monkeypatch.setattr(host.time, "perf_counter", lambda: clock[0])
    child = host._Child(_Pipe(), host.Shared(mp.get_context("spawn")))
    child.run.configure(MOONS)
    child.run.running = True
    build = child.run.snapshot

    def slow():  # 12 ms on the wall clock to build
        clock[0] += 0.012
        return build()

    child.run.snapshot = slow
    child.shared.credit.set()
    child.emit(force=True)
    assert child.last_emit == 100.0
    child.interval = host.MIN_EMIT
    child.cpu_interval = 0.0
    child.shared.credit.set()  # the window drew it
    clock[0] = 100.0 + host.MIN_EMIT + 1e-6  # 4.7 ms after the build ended, an interval after it started
    child.idle = 1.0
    child.conn.sent.clear()
    child.emit(force=False)
    assert [m[0] for m in child.conn.sent] == ["snapshot"]
