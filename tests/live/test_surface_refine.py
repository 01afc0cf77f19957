"""The loss surface while paused: coarse after each step, refined once when idle (the window), a fixed grid for
scripts and renderings; in this process and in the engine's process (live/surface.py, live/run.py, live/host.py)."""
from __future__ import annotations

import time

import numpy as np
import pytest

from gd_studio.engine.config import RunConfig
from gd_studio.live import host
from gd_studio.live.run import LiveRun
from gd_studio.live.surface import FINE, SurfaceSpec

SMALL = RunConfig(dataset="moons", dataset_params={"n_samples": 120, "noise": 0.2, "seed": 1}, model="mlp",
                  hidden=(6,), activation="tanh", loss="cross_entropy", optimizer="sgd", lr=0.3, batch_size=0,
                  seed=2, watch="W2[0,0]")
SPEC = SurfaceSpec("descent_random", grid=41)


def _window_run() -> LiveRun:
    """A LiveRun as the window has it, whose first surface after a step is always the coarse one."""
    r = LiveRun()
    r.configure(SMALL)
    r.surface.adaptive = True
    r.tune_surface(step_seconds=0.0, refine_seconds=10.0)
    r.set_surface(SPEC)
    return r


def test_a_burst_of_steps_while_paused_draws_coarse_and_refines_the_last_step_once():
    r = _window_run()
    sizes = []
    for _ in range(6):  # six presses of → while paused
        r.step(1)
        snap = r.snapshot()
        sizes.append(snap.surface.values.shape[0])
        assert not snap.surface.refined and r.surface_refine_due()
    assert max(sizes) < 41 and r.surface.refines == 0
    again = r.snapshot()  # the same state asked again (a watch change): the coarse surface is kept, still due
    assert again.surface is snap.surface and r.surface_refine_due()
    fine = r.refine_surface()
    assert fine is not None and fine.surface.refined and fine.surface.values.shape == (41, 41)
    assert fine.step == 6 and fine.surface.step == 6 and fine.surface.serial != snap.surface.serial
    assert fine.history is again.history and fine.weight is again.weight  # only the surface is new
    assert r.surface.refines == 1 and not r.surface_refine_due() and r.refine_surface() is None
    assert r.snapshot().surface is fine.surface  # paused at the same step: the refined one stays
    # the path drawn on the coarse and the refined grid is the same projection
    np.testing.assert_allclose(fine.surface.path, snap.surface.path, atol=1e-12)


def test_a_refinement_gives_way_to_a_waiting_command_and_stays_due():
    r = _window_run()
    r.step(2)
    r.snapshot()
    asked = []

    def cancel_on_third() -> bool:
        asked.append(1)
        return len(asked) >= 3

    assert r.refine_surface(cancel=cancel_on_third) is None
    assert len(asked) == 3 and r.surface_refine_due() and r.surface.refines == 0
    assert r.refine_surface(cancel=lambda: False).surface.refined and r.surface.refines == 1
    # a step, a jump, a new LR or plane: the pending refinement is for a state that is gone
    r.step(1)
    r.snapshot()
    r.set_lr(0.1)
    assert not r.surface_refine_due() and r.refine_surface() is None


def test_scripts_and_renderings_get_the_same_grid_whatever_the_timing():
    pictures = []
    for budget in (0.0, 10.0):
        r = LiveRun()
        r.configure(SMALL)
        r.tune_surface(step_seconds=budget, refine_seconds=budget)  # the window's budgets: not used here
        r.set_surface(SurfaceSpec("descent_random"))
        r.step(5)
        info = r.snapshot().surface
        assert info.refined and info.values.shape == (FINE, FINE) and not r.surface_refine_due()
        pictures.append(info)
    a, b = pictures
    for name in ("alphas", "betas", "values", "levels", "path", "contours"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.contours.shape[1:] == (2, 2) and len(a.contours)


def test_a_scenario_span_and_grid_set_the_window_and_the_points():
    r = LiveRun()
    r.configure(SMALL)
    r.step(3)
    r.set_surface(SurfaceSpec("random", seed=1, span=2.5, grid=21))
    info = r.snapshot().surface
    cx, cy = info.current
    assert info.values.shape == (21, 21)
    assert info.alphas[0] <= cx - 2.5 and info.alphas[-1] >= cx + 2.5
    assert info.betas[0] <= cy - 2.5 and info.betas[-1] >= cy + 2.5
    r.set_surface(SurfaceSpec("random", seed=1))  # without: the window frames the path (smaller here)
    assert r.snapshot().surface.alphas[-1] - r.snapshot().surface.alphas[0] < 5.0
    with pytest.raises(Exception, match="grid must be a whole number of points from 5 to 201"):
        SurfaceSpec("random", grid=500)
    with pytest.raises(Exception, match="span must be a positive"):
        SurfaceSpec("random", span=float("nan"))


# ------------------------------------------------------------------------------- in the engine's process
@pytest.fixture(scope="module")
def remote():
    r = host.RemoteRun()
    yield r
    r.close()


def _frames(remote, timeout: float) -> list:
    deadline = time.monotonic() + timeout
    while not remote.frames and time.monotonic() < deadline:
        remote.pump(0.02)
    out, remote.frames = list(remote.frames), []
    return out


def test_the_engine_process_refines_once_after_a_burst_and_sends_it_as_a_frame(remote):
    remote.configure(SMALL)
    # a long idle wait, so a test process descheduled between two requests cannot pass for an idle user
    remote._call("tune_surface", step_seconds=0.0, refine_seconds=10.0, refine_delay=0.3)
    remote.set_surface(SPEC)
    for _ in range(5):
        remote.step(1)
        coarse = remote.snapshot()
        assert not coarse.surface.refined
    frames = _frames(remote, 5.0)
    assert len(frames) == 1
    fine = frames[0]
    assert fine.surface.refined and fine.step == 5 and fine.surface.values.shape == (41, 41)
    assert remote.get("surface").refines == 1
    assert not _frames(remote, 0.2)  # and nothing more while idle


def test_a_refined_frame_overtaken_by_a_command_is_dropped(remote):
    remote.configure(SMALL)
    remote._call("tune_surface", step_seconds=0.0, refine_seconds=10.0, refine_delay=0.05)
    remote.set_surface(SPEC)
    remote.step(1)
    remote.snapshot()
    deadline = time.monotonic() + 5
    while remote.inbox.empty() and time.monotonic() < deadline:  # the refined frame is on its way, not taken
        time.sleep(0.01)
    assert not remote.inbox.empty()
    remote.step(1)  # a command sent after it: the frame shows a state the window has left
    assert remote.frames == [] and remote.step_count == 2


def test_a_flat_surface_is_refined_in_float64_at_once_not_in_float32_first(monkeypatch):
    """A surface too flat for float32 is computed again in float64. The coarse grid after a step has found that out:
    its refinement (same run, same point) goes straight to float64 instead of paying for a float32 grid it would
    throw away (on the 2→64→64→2 MLP, 0.35 s of float32 before 0.95 s of float64)."""
    from gd_studio.engine import landscape
    from gd_studio.live import surface

    monkeypatch.setattr(surface, "FLAT", 10.0)  # every surface counts as flat
    calls = []
    real = landscape.Plane.surface

    def counted(self, *args, precision="float64", **kw):
        calls.append(precision)
        return real(self, *args, precision=precision, **kw)

    monkeypatch.setattr(landscape.Plane, "surface", counted)
    r = _window_run()
    r.step(1)
    calls.clear()
    snap = r.snapshot()
    assert not snap.surface.refined and "float64" in calls  # the coarse grid: float32, found flat, float64
    calls.clear()
    refined = r.refine_surface()
    assert refined is not None and refined.surface.refined
    assert calls and set(calls) == {"float64"}, calls
