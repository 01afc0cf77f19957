"""The live sharpness and loss surface (live/curvature.py, live/surface.py) against the engine, without Qt."""
from __future__ import annotations

import math

import numpy as np
import pytest

from gd_studio.engine import hessian, landscape, narration
from gd_studio.engine.config import RunConfig
from gd_studio.engine.errors import GDStudioError
from gd_studio.live.run import LiveRun
from gd_studio.live.surface import SurfaceSpec

# the edge-of-stability run of issue 11 (scenario 08): full-batch descent at η = 2 on the moons MLP
EDGE = RunConfig(dataset="moons", dataset_params={"n_samples": 400, "noise": 0.2}, model="mlp", hidden=(16,),
                 activation="tanh", loss="cross_entropy", optimizer="sgd", lr=2.0, batch_size=0, seed=0,
                 watch="W1[0,0]", val_fraction=0.0)
SMALL = RunConfig(dataset="moons", dataset_params={"n_samples": 120, "noise": 0.2, "seed": 1}, model="mlp",
                  hidden=(6,), activation="tanh", loss="cross_entropy", optimizer="sgd", lr=0.3, batch_size=0,
                  seed=2, watch="W2[0,0]")
# one feature, linear model: two parameters (W1[0,0], b1[0]), so the plane of the two is the whole space
TWO = RunConfig(dataset="line", dataset_params={"n_samples": 60, "noise": 0.1}, model="linear", loss="mse",
                optimizer="sgd", lr=0.3, batch_size=0, seed=0, watch="W1[0,0]")


def _run(config, steps=0, every=None):
    r = LiveRun()
    r.configure(config)
    snaps = [r.snapshot()]
    done = 0
    while done < steps:
        n = min(every or steps, steps - done)
        r.step(n)
        done += n
        snaps.append(r.snapshot())
    return r, snaps


def test_sharpness_in_the_snapshot_is_the_engines_lambda_max_on_the_full_set():
    r, (snap,) = _run(SMALL)
    s = r.session
    H = hessian.hessian(s.model, s.runner.params, s.train.X, s.train.y)
    exact = float(np.linalg.eigvalsh(H)[-1])
    info = snap.sharpness
    assert info.value == pytest.approx(exact, rel=2e-3)
    assert info.data.startswith("full training set")
    assert info.limit == pytest.approx(2.0 / SMALL.lr)
    assert np.all(np.isfinite(info.steps)) and np.all(np.isfinite(info.values)) and np.all(np.isfinite(info.limits))


def test_a_big_training_set_uses_a_fixed_subset_and_says_so():
    big = SMALL.replace(dataset_params={"n_samples": 900, "noise": 0.2, "seed": 1})
    _, (snap,) = _run(big)
    assert "subset of 512" in snap.sharpness.data


def test_edge_of_stability_sharpness_hovers_at_two_over_eta():
    r, snaps = _run(EDGE, 600, every=25)
    values = np.array([s.sharpness.value for s in snaps])
    assert values[0] > 2.0  # starts above the limit 2/η = 1 …
    late = values[-8:]  # … then after a few hundred steps hovers at it
    assert np.all((late > 0.8) & (late < 1.2)), late  # chaotic in detail (BLAS summation order), not in band
    assert snaps[-1].sharpness.limit == pytest.approx(1.0)
    loss = np.asarray(snaps[-1].history.loss)
    assert loss[-1] < 0.5 * loss[0]  # while the loss keeps falling


def test_the_limit_follows_the_lr_and_the_optimizer():
    r, _ = _run(SMALL, 5)
    r.set_lr(0.05)
    snap = r.snapshot()
    assert snap.sharpness.limit == pytest.approx(2.0 / 0.05)
    assert snap.sharpness.step == 5 and snap.sharpness.value is not None
    mom = SMALL.replace(optimizer="momentum", optimizer_params={"momentum": 0.9})
    r2, (s2,) = _run(mom)
    assert s2.sharpness.limit == pytest.approx(hessian.stability_threshold(r2.session.runner.optimizer, mom.lr))
    assert s2.sharpness.limit == pytest.approx(3.8 / mom.lr)


def test_step_back_forgets_the_sharpness_of_the_future():
    r, _ = _run(SMALL, 10, every=2)
    r.step_back()
    snap = r.snapshot()
    assert snap.step == 9
    assert snap.sharpness.steps.max() == 9 and snap.sharpness.step == 9


def test_weight_caption_and_narration_use_the_whole_network_threshold():
    r, (snap,) = _run(EDGE)
    s = r.session
    lam_max = hessian.sharpness(s.model, s.runner.params, s.train.X, s.train.y).value
    w = snap.weight
    assert w.network_caption == narration.weight_caption("W1[0,0]", w.curvature, snap.sharpness.value, EDGE.lr)
    assert f"2/λ_max = {narration.fmt(2.0 / lam_max)}" in w.network_caption
    r.step(1)
    after = r.snapshot()
    events = after.extra["narration"]["events"]
    said = narration.stability_remark(EDGE.lr, after.sharpness.value, limit=after.sharpness.limit)
    assert any(e.endswith(said.replace(narration.WARNING, "")) for e in events), events
    # on a quadratic (two weights, squared error) λ_max stays put: an LR 1.5× 2/λ_max is warned about
    q, (s0,) = _run(TWO)
    lr = 1.5 * 2.0 / s0.sharpness.value
    q.set_lr(lr)
    q.step(1)
    events = q.snapshot().extra["narration"]["events"]
    warned = [e for e in events if "2/λ_max threshold" in e]
    assert warned and warned[0].startswith("⚠ the LR is 1.5× the 2/λ_max threshold"), events


def test_range_test_outcome_carries_two_over_lambda_max_at_the_initial_weights():
    r, _ = _run(SMALL, 3)
    out = r.range_test({"num_iter": 20, "start_lr": 1e-4, "end_lr": 1.0})
    s = r.session
    lam = hessian.sharpness(s.model, s.initial_params, s.train.X, s.train.y).value
    assert out.initial_lr_limit == pytest.approx(2.0 / lam, rel=1e-6)


@pytest.mark.parametrize("plane", ["weights", "descent_random", "random", "path"])
def test_surface_is_finite_ordered_and_the_path_is_the_engines_projection(plane):
    r, _ = _run(SMALL, 12)
    spec = SurfaceSpec(plane, ("W1[0,0]", "W2[0,0]") if plane == "weights" else ())
    r.set_surface(spec)
    info = r.snapshot().surface
    assert np.all(np.isfinite(info.values)) and np.all(np.isfinite(info.levels))
    assert np.all(np.diff(info.levels) > 0)
    assert info.values.shape == (info.alphas.size, info.betas.size) and info.refined
    # the path shown is the engine's projection of the recorded weights on the engine's plane
    s = r.session
    pl = {"weights": lambda: landscape.weights_plane(s.model, s.runner.params, "W1[0,0]", "W2[0,0]"),
          "descent_random": lambda: landscape.descent_random_plane(s.model, s.runner.params, r.slice_X, r.slice_y),
          "random": lambda: landscape.random_plane(s.model, s.runner.params),
          "path": lambda: landscape.path_plane(r.surface.path.params[0], s.runner.params,
                                               r.surface.path.params[-1], model=s.model,
                                               others=r.surface.path.params, other_steps=r.surface.path.steps)}[plane]()
    expected = pl.project(np.asarray(r.surface.path.params))
    np.testing.assert_allclose(info.path, expected, atol=1e-12)
    assert list(info.path_steps) == list(range(13))
    if plane == "path":  # at the newest step: the plane of the path's widest turn, which holds it exactly
        assert "widest turn" in info.labels[1]
        k = int(info.labels[1].split("step ")[1].split(" ")[0])
        np.testing.assert_allclose(pl.point(*info.path[k]), r.surface.path.params[k], atol=1e-10)
    np.testing.assert_allclose(info.current, pl.project(s.runner.params[None])[0], atol=1e-12)
    # the grid values are the model's loss at those points (computed in float32: a few ulps of it)
    i, j = 3, info.betas.size - 2
    p = pl.point(info.alphas[i], info.betas[j])
    assert info.values[i, j] == pytest.approx(s.model.loss(p, r.slice_X, r.slice_y), rel=2e-6)


def test_two_weight_model_surface_is_exact_and_the_next_arrow_is_a_plain_step():
    r, _ = _run(TWO, 4)
    r.set_surface({"plane": "weights", "weights": ("W1[0,0]", "b1[0]")})
    info = r.snapshot().surface
    assert info.exact and "exactly" in info.note
    s = r.session
    p = s.runner.params
    _, g = s.model.loss_and_grad(p, r.slice_X, r.slice_y)
    np.testing.assert_allclose(info.next_point, -TWO.lr * g, atol=1e-12)  # α, β are the weights' changes
    last = info.alphas.size - 1  # the paused grid is as fine as its time budget allows: 61 a side, fewer under load
    for i, j in ((0, 0), (last // 6, 2 * last // 3), (last, last)):
        q = p + np.array([info.alphas[i], info.betas[j]])
        assert info.values[i, j] == pytest.approx(s.model.loss(q, s.train.X, s.train.y), rel=1e-9)


def test_the_arrow_is_the_optimizers_next_step_with_its_velocity_not_a_plain_step():
    """Tester's finding: with momentum the arrow still showed −η·∇L, pointing to α ≈ −0.75 while the run moved
    −0.48. It is now the run's optimizer's next step (on the training-set gradient), taken on a copy."""
    import copy
    from dataclasses import replace

    cfg = replace(TWO, optimizer="momentum", optimizer_params={"momentum": 0.7})
    r, _ = _run(cfg, 6)
    r.set_surface({"plane": "weights", "weights": ("W1[0,0]", "b1[0]")})
    info = r.snapshot().surface
    s = r.session
    p = s.runner.params.copy()
    _, g = s.model.loss_and_grad(p, r.slice_X, r.slice_y)
    np.testing.assert_allclose(info.next_point, copy.deepcopy(s.runner.optimizer).step(p, g, cfg.lr) - p, atol=1e-12)
    assert not np.allclose(info.next_point, -cfg.lr * g)  # the velocity counts
    assert info.next_rule == "momentum"
    # full batch: the arrow is where the next step lands, exactly
    r.step(1)
    np.testing.assert_allclose(s.runner.params - p, info.next_point, atol=1e-12)


def test_a_plane_of_weights_the_loss_never_sees_is_flat_and_says_so():
    """Tester's finding: digits with a blank pixel 0, plane W1[0,0]/W1[0,1]: every value 2.30, yet a colour bar
    from 5 to 20 and "contours 2.30 to 2.30". Such a plane is marked flat and has no contour lines."""
    cfg = RunConfig(dataset="digits", model="linear", loss="cross_entropy", optimizer="sgd", lr=0.1, batch_size=0,
                    seed=0, watch="W1[36,3]", val_fraction=0.0)
    r, _ = _run(cfg, 2)
    X = r.slice_X
    blank = int(np.flatnonzero(np.all(X == X[0], axis=0))[0])  # an input constant over the set (standardised: 0)
    names = r.session.model.param_names
    a, b = f"W1[{blank},0]", f"W1[{blank},1]"
    assert a in names and b in names
    r.set_surface({"plane": "weights", "weights": (a, b)})
    info = r.snapshot().surface
    assert info.flat and info.contours.size == 0 and np.ptp(info.values) == 0
    r.set_surface({"plane": "weights", "weights": ("W1[36,3]", "W1[36,4]")})
    info = r.snapshot().surface
    assert not info.flat and info.contours.size > 0


def test_a_diverging_path_keeps_its_room_on_the_map_when_the_next_step_is_far_bigger():
    """Tester's finding: scenario 09 at r = 1.42, step 4: the next step is ~5× the path, the grid was framed to hold
    it, and the recorded path shrank to a smudge under the arrow. The frame follows the arrow only as far as the
    path reaches: the path spans at least a third of the map; the arrow leaves it."""
    cfg = RunConfig(dataset="valley", dataset_params={"n_samples": 200, "noise": 0.3, "seed": 0}, model="linear",
                    loss="mse", optimizer="sgd", lr=1.42, batch_size=0, seed=0, watch="W1[0,0]", val_fraction=0.0)
    r, _ = _run(cfg, 4)
    r.set_surface({"plane": "weights", "weights": ("W1[0,0]", "W1[1,0]")})
    info = r.snapshot().surface
    path = np.asarray(info.path)
    span = np.array([np.ptp(info.alphas), np.ptp(info.betas)])
    assert np.max(np.ptp(path, axis=0) / span) >= 1 / 3
    nxt = np.asarray(info.next_point)
    inside = info.alphas[0] <= nxt[0] <= info.alphas[-1] and info.betas[0] <= nxt[1] <= info.betas[-1]
    assert not inside  # the arrow runs off the map: the step is bigger than the whole path so far
    assert np.all(np.isfinite(info.values))



@pytest.mark.parametrize("aspect", [0.4, 1.0, 2.6])
def test_a_spec_aspect_frames_the_grid_in_that_shape_around_the_same_path(aspect):
    r, _ = _run(SMALL, 12)
    r.set_surface(SurfaceSpec("weights", ("W1[0,0]", "W2[0,0]")))
    free = r.snapshot().surface
    r.set_surface(SurfaceSpec("weights", ("W1[0,0]", "W2[0,0]"), aspect=aspect))
    info = r.snapshot().surface
    assert info.aspect == aspect
    assert np.ptp(info.alphas) / np.ptp(info.betas) == pytest.approx(aspect, rel=1e-12)
    # only ever widened: the whole path and the free frame stay inside
    assert info.alphas[0] <= free.alphas[0] + 1e-12 and info.alphas[-1] >= free.alphas[-1] - 1e-12
    assert info.betas[0] <= free.betas[0] + 1e-12 and info.betas[-1] >= free.betas[-1] - 1e-12
    np.testing.assert_allclose(info.path, free.path, atol=1e-12)
    with pytest.raises(GDStudioError, match="aspect"):
        SurfaceSpec("weights", aspect=float("nan"))


def test_surface_values_are_float32_well_under_a_level_gap_and_float64_when_flat():
    from gd_studio.live.surface import surface_values

    r, _ = _run(SMALL, 12)
    s = r.session
    m, X, y = s.model, r.slice_X, r.slice_y
    pl = landscape.descent_random_plane(m, s.runner.params, X, y)
    a = np.linspace(-1.0, 1.0, 21)
    exact = pl.surface(m, X, y, a, a)
    shown = surface_values(pl, m, X, y, a, a)
    assert not np.array_equal(shown, exact)  # single precision ran
    gap = np.min(np.diff(landscape.contour_levels(exact, n=12, log=True)))
    assert np.max(np.abs(shown - exact)) < 1e-2 * gap  # invisible in the picture
    # a patch so small the loss barely changes: float32 rounding would be a sizeable part of the range
    tiny = a * 1e-6
    flat = surface_values(pl, m, X, y, tiny, tiny)
    np.testing.assert_array_equal(flat, pl.surface(m, X, y, tiny, tiny))
    assert np.ptp(flat) > 0
    # the exact surface of a two-weight model stays float64
    r2, _ = _run(TWO, 2)
    wp = landscape.weights_plane(r2.session.model, r2.session.runner.params, "W1[0,0]", "b1[0]")
    np.testing.assert_array_equal(surface_values(wp, r2.session.model, r2.slice_X, r2.slice_y, a, a, exact=True),
                                  wp.surface(r2.session.model, r2.slice_X, r2.slice_y, a, a))


def test_surface_stays_finite_during_divergence_and_follows_step_back():
    r, _ = _run(SMALL.replace(lr=60.0), 0)
    r.set_surface(SurfaceSpec("descent_random"))
    r.step(30)
    info = r.snapshot().surface
    if info is not None:  # weights that overflowed keep the last finite picture
        assert np.all(np.isfinite(info.values)) and np.all(np.isfinite(info.levels))
        assert np.all(np.diff(info.levels) > 0)
    r2, _ = _run(SMALL, 8)
    r2.set_surface(SurfaceSpec("path"))
    assert r2.snapshot().surface.step == 8
    r2.step_back()
    info = r2.snapshot().surface
    assert info.step == 7 and list(info.path_steps) == list(range(8))
    r2.step(1)  # a fork: the old step 8 is replaced
    assert r2.surface.path.steps[-1] == 8 and len(r2.surface.path.steps) == 9


def test_a_bad_plane_is_a_clear_error():
    r, _ = _run(SMALL)
    with pytest.raises(GDStudioError, match="unknown plane"):
        r.set_surface({"plane": "sideways"})
    r.set_surface({"plane": "weights", "weights": ("W1[0,0]", "nope")})
    snap = r.snapshot()
    assert snap.surface is None and r.surface.error


ONE = RunConfig(dataset="line", dataset_params={"n_samples": 60, "noise": 0.2, "slope": -1.0}, model="one_weight",
                loss="mse", optimizer="sgd", lr=0.15, batch_size=0, seed=4, watch="w", standardize=False)


@pytest.mark.parametrize("plane", ["weights", "descent_random", "random", "path"])
def test_a_one_weight_model_has_no_surface_and_the_snapshot_says_why(plane, recwarn):
    """Every plane needs two directions: a one-weight model's snapshot says so (it said "float division by zero",
    "not enough values to unpack", nothing, or drew a plane of NaN directions through start, now and end)."""
    r, _ = _run(ONE)
    r.set_surface({"plane": plane})
    for steps in (0, 3):
        r.step(steps)
        snap = r.snapshot()
        assert snap.surface is None
        assert "single weight (w)" in snap.surface_error and "loss-vs-weight view" in snap.surface_error
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_a_surface_that_cannot_be_drawn_keeps_the_last_and_the_snapshot_says_why(monkeypatch):
    """A plane that fails at some step (here: the weights stop being finite) keeps the last surface, and the
    snapshot carries the reason with the step it is at, so the view can say its picture is older."""
    import gd_studio.live.surface as surface_mod

    r, _ = _run(SMALL, 2)
    r.set_surface({"plane": "descent_random"})
    good = r.snapshot().surface
    assert good is not None and good.step == 2 and r.snapshot().surface_error == ""
    real = surface_mod.compute

    def failing(*args, **kw):
        raise FloatingPointError("the weights are no longer finite")

    monkeypatch.setattr(surface_mod, "compute", failing)
    r.step(1)
    snap = r.snapshot()
    assert snap.step == 3 and snap.surface is good and snap.surface_error == "the weights are no longer finite"
    monkeypatch.setattr(surface_mod, "compute", real)
    r.step(1)
    snap = r.snapshot()
    assert snap.surface.step == 4 and snap.surface_error == ""


def test_a_batch_of_steps_records_the_sharpness_every_ten_steps_like_track_run():
    r, (_, snap) = _run(EDGE, 100)
    assert list(snap.sharpness.steps) == list(range(0, 101, 10))
    ref = hessian.track_run(__import__("gd_studio.engine.descent", fromlist=["build"]).build(EDGE).runner, 100,
                            every=10)
    np.testing.assert_allclose(snap.sharpness.values, ref["sharpness"], rtol=5e-3)


def test_a_hidden_surface_records_no_path_and_shown_it_rebuilds_the_path_from_the_checkpoints(monkeypatch):
    """Hidden, the surface's path was a copy of the weights at every step (~8 % of the digits engine's speed, for a
    view nobody sees): nothing is recorded while it is hidden, and shown, the path is rebuilt from the timeline's
    checkpoints: the same steps and weights, bit for bit, as a run shown from the start recorded when stepped by
    hand; every FAST_EVERY-th step of a run at full speed."""
    from gd_studio.live import surface
    from gd_studio.live.timeline import FAST_EVERY

    shown = LiveRun()
    shown.configure(SMALL)
    shown.set_surface(SurfaceSpec("descent_random"))
    shown.step(30)
    adds = []
    original = surface.SurfacePath.add
    monkeypatch.setattr(surface.SurfacePath, "add", lambda self, step, p: (adds.append(step), original(self, step, p)))
    hidden = LiveRun()
    hidden.configure(SMALL)
    adds.clear()
    hidden.step(30)
    assert adds == []  # no weights copied while hidden
    hidden.set_surface(SurfaceSpec("descent_random"))
    assert hidden.surface.path.steps == shown.surface.path.steps == list(range(31))
    for a, b in zip(hidden.surface.path.params, shown.surface.path.params):
        np.testing.assert_array_equal(a, b)
    info = hidden.snapshot().surface
    assert list(info.path_steps) == list(range(31))
    hidden.step(2)  # shown: recorded every step again
    assert hidden.surface.path.steps[-3:] == [30, 31, 32]

    fast = LiveRun()
    fast.configure(SMALL)
    fast.running = fast.fast = True
    fast.step(100)
    fast.set_surface(SurfaceSpec("descent_random"))
    steps = fast.surface.path.steps
    assert steps[0] == 0 and steps[-1] == 100 and len(steps) >= 100 // FAST_EVERY
    np.testing.assert_array_equal(fast.surface.path.params[-1], fast.session.runner.params)
