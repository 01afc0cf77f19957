"""The loss surface in a plane: values against model.loss, path projection, plane constructions, contour levels."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from gd_studio.engine import descent, landscape, models
from gd_studio.engine.config import RunConfig

MODELS = [
    ("mlp", (6, 5), 3, "cross_entropy", "tanh"),
    ("mlp", (6,), 3, "squared_error", "relu"),
    ("mlp", (4, 4, 3), 1, "mse", "sigmoid"),
    ("logistic", (), 3, "cross_entropy", "tanh"),
    ("logistic", (), 2, "squared_error", "tanh"),
    ("linear", (), 1, "mse", "tanh"),
]


def _problem(kind, hidden, k, loss, act, n=30, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = rng.normal(size=n) if k == 1 else rng.integers(0, k, n)
    m = models.make(kind, d, k, hidden=hidden, activation=act, loss=loss)
    return m, m.init_params(1) + 0.1 * rng.normal(size=m.n_params), X, y


def _loop(m, p, X, y, d1, d2, alphas, betas):
    return np.array([[m.loss(p + a * d1 + b * d2, X, y) for b in betas] for a in alphas])


ALPHAS = np.linspace(-1.5, 1.0, 6)
BETAS = np.linspace(-0.7, 2.0, 5)


@pytest.mark.parametrize("kind,hidden,k,loss,act", MODELS)
def test_plane_equals_model_loss_for_dense_directions(kind, hidden, k, loss, act):
    m, p, X, y = _problem(kind, hidden, k, loss, act)
    rng = np.random.default_rng(1)
    d1, d2 = rng.normal(size=m.n_params), rng.normal(size=m.n_params)
    Z = landscape.plane(m, p, X, y, d1, d2, ALPHAS, BETAS)
    assert Z.shape == (ALPHAS.size, BETAS.size)
    np.testing.assert_allclose(Z, _loop(m, p, X, y, d1, d2, ALPHAS, BETAS), rtol=1e-12, atol=1e-13)
    # directions that leave a layer alone take a shortcut: still exact
    d1[: m.layers[0].b_stop] = 0.0
    np.testing.assert_allclose(landscape.plane(m, p, X, y, d1, d2, ALPHAS, BETAS),
                               _loop(m, p, X, y, d1, d2, ALPHAS, BETAS), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("kind,hidden,k,loss,act", MODELS)
def test_plane_of_two_weights_of_one_layer_equals_model_loss(kind, hidden, k, loss, act):
    # the rank-one path: every pair of weights in the same layer (same unit, different units, biases)
    m, p, X, y = _problem(kind, hidden, k, loss, act, n=12)
    for layer in m.layers:
        idx = range(layer.w_start, layer.b_stop)
        pairs = list(itertools.permutations(idx, 2))
        same_unit = (layer.w_start, layer.w_start + layer.fan_out)  # W[0,0] and W[1,0]: one unit, both moved
        with_bias = (layer.w_start, layer.w_stop)  # W[0,0] and b[0]
        for i, j in [same_unit, with_bias, *pairs[:: max(1, len(pairs) // 25)]]:
            d1, d2 = np.zeros(m.n_params), np.zeros(m.n_params)
            d1[i], d2[j] = 0.8, -1.3
            np.testing.assert_allclose(landscape.plane(m, p, X, y, d1, d2, ALPHAS, BETAS),
                                       _loop(m, p, X, y, d1, d2, ALPHAS, BETAS), rtol=1e-12, atol=1e-13,
                                       err_msg=f"{m.param_names[i]} & {m.param_names[j]}")


def test_plane_chunks_agree_with_one_piece(monkeypatch):
    m, p, X, y = _problem("mlp", (6, 5), 3, "cross_entropy", "tanh")
    rng = np.random.default_rng(2)
    d1, d2 = rng.normal(size=m.n_params), rng.normal(size=m.n_params)
    a = np.linspace(-1, 1, 13)
    whole = landscape.plane(m, p, X, y, d1, d2, a, a)
    e1, e2 = landscape.weight_direction(m, "W1[0,0]"), landscape.weight_direction(m, "W1[2,4]")
    pair = landscape.plane(m, p, X, y, e1, e2, a, a)
    monkeypatch.setattr(landscape, "_PLANE_CHUNK_BYTES", 7 * 8)
    np.testing.assert_allclose(landscape.plane(m, p, X, y, d1, d2, a, a), whole, rtol=1e-14)
    np.testing.assert_allclose(landscape.plane(m, p, X, y, e1, e2, a, a), pair, rtol=1e-14)


def test_plane_stays_finite_or_inf_into_divergence():
    m, p, X, y = _problem("mlp", (6,), 3, "cross_entropy", "tanh")
    d = np.random.default_rng(0).normal(size=m.n_params)
    Z = landscape.plane(m, p, X, y, d * 1e200, d, [0.0, 1.0, 1e300], [0.0])
    assert np.isfinite(Z[0, 0]) and not np.any(np.isnan(Z[:2]))
    assert landscape.plane(m, p, X, y, d, d, [], [1.0]).shape == (0, 1)
    with pytest.raises(ValueError, match="directions must have"):
        landscape.plane(m, p, X, y, d[:-1], d, [0.0], [0.0])


def test_path_projection_is_exact_for_points_in_the_plane():
    m, p, X, y = _problem("mlp", (6, 5), 3, "cross_entropy", "tanh")
    rng = np.random.default_rng(4)
    start, now, end = p, p + rng.normal(size=m.n_params), p + rng.normal(size=m.n_params)
    pl = landscape.path_plane(start, now, end, model=m)
    assert pl.orthonormal and pl.note == ""
    assert abs(pl.d1 @ pl.d2) < 1e-14 and np.linalg.norm(pl.d1) == pytest.approx(1) \
        and np.linalg.norm(pl.d2) == pytest.approx(1)
    coords = pl.project([start, now, end])
    for c, q in zip(coords, [start, now, end]):
        np.testing.assert_allclose(pl.point(*c), q, atol=1e-12)
    assert coords[0] == pytest.approx([0.0, 0.0], abs=1e-14)
    assert coords[2][1] == pytest.approx(0.0, abs=1e-12) and coords[2][0] == pytest.approx(np.linalg.norm(end - start))
    inside = [pl.point(a, b) for a, b in [(0.3, -1.2), (2.0, 0.5)]]
    np.testing.assert_allclose(pl.project(inside), [[0.3, -1.2], [2.0, 0.5]], atol=1e-12)
    off = now + 0.5 * rng.normal(size=m.n_params)
    a, b = pl.project(off)[0]
    residual = off - pl.point(a, b)
    assert abs(residual @ pl.d1) < 1e-12 and abs(residual @ pl.d2) < 1e-12  # orthogonal projection
    # a non-orthogonal basis projects exactly too
    d1, d2 = rng.normal(size=m.n_params), rng.normal(size=m.n_params)
    pts = [p + 0.7 * d1 - 0.2 * d2, p - 1.1 * d1 + 3.0 * d2]
    np.testing.assert_allclose(landscape.project(pts, p, d1, d2), [[0.7, -0.2], [-1.1, 3.0]], atol=1e-12)
    # the surface at the projected path goes through the recorded losses
    Z = pl.surface(m, X, y, coords[:, 0], coords[:, 1])
    np.testing.assert_allclose(np.diag(Z), [m.loss(q, X, y) for q in (start, now, end)], rtol=1e-12)


def test_path_plane_on_one_line_falls_back_and_says_so():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=10), rng.normal(size=10)
    pl = landscape.path_plane(a, a + 0.5 * (b - a), b)
    assert "one line" in pl.note and abs(pl.d1 @ pl.d2) < 1e-12
    with pytest.raises(ValueError, match="same"):
        landscape.path_plane(a, a, a)
    np.testing.assert_array_equal(landscape.path_plane(a, a, b).d1, (b - a) / np.linalg.norm(b - a))


def test_descent_random_plane_and_weights_plane():
    m, p, X, y = _problem("mlp", (6, 5), 3, "cross_entropy", "tanh")
    pl = landscape.descent_random_plane(m, p, X, y, seed=3)
    g = m.loss_and_grad(p, X, y)[1]
    r = landscape.random_direction(m, p, 3)
    assert np.linalg.norm(pl.d1) == pytest.approx(np.linalg.norm(r)) == pytest.approx(np.linalg.norm(pl.d2))
    assert pl.d1 @ g < 0 and abs(pl.d1 @ pl.d2) < 1e-10 * np.linalg.norm(r) ** 2
    assert pl.labels == ("descent direction", "random direction (filter-normalised, seed 3)")
    Z = pl.surface(m, X, y, [0.0, 1e-4], [0.0])
    assert Z[1, 0] < Z[0, 0]  # downhill along the first axis
    wp = landscape.weights_plane(m, p, "W1[0,0]", "W2[3,1]")
    assert wp.labels == ("W1[0,0]", "W2[3,1]") and wp.orthonormal
    np.testing.assert_allclose(wp.surface(m, X, y, [0.5], [-0.25])[0, 0],
                               m.loss(p + 0.5 * wp.d1 - 0.25 * wp.d2, X, y), rtol=1e-13)
    with pytest.raises(ValueError, match="two different"):
        landscape.weights_plane(m, p, "W1[0,0]", 0)


def test_grid_around_covers_the_path():
    coords = np.array([[0.0, 0.0], [2.0, 0.1], [3.0, -0.05], [np.nan, 1.0]])
    a, b = landscape.grid_around(coords, size=21)
    assert a.size == b.size == 21
    assert a[0] < 0 < 3.0 < a[-1] and b[0] < -0.05 and b[-1] > 0.1
    assert (b[-1] - b[0]) >= 0.25 * (a[-1] - a[0]) - 1e-12  # a thin path keeps a readable aspect


def test_contour_levels_finite_ordered_and_robust():
    a = np.linspace(-2, 2, 41)
    Z = 0.05 + np.add.outer(a ** 2, 10 * a ** 2)
    levels = landscape.contour_levels(Z, 12)
    assert levels.size == 12 and np.all(np.isfinite(levels)) and np.all(np.diff(levels) > 0)
    assert levels[0] > Z.min() and levels[-1] < Z.max()
    gaps = np.diff(levels)
    assert gaps[-1] > 5 * gaps[0]  # log spacing: rings close together near the minimum
    # divergence: NaN, inf and astronomically large values in part of the grid
    bad = Z.copy()
    bad[:5] = np.inf
    bad[5:8] = np.nan
    bad[8:10] = 1e300
    lv = landscape.contour_levels(bad, 12)
    assert np.all(np.isfinite(lv)) and np.all(np.diff(lv) > 0)
    assert lv[0] < 1.0  # the interesting part still gets rings, not squashed under 1e300
    for degenerate in (np.full((3, 3), np.nan), np.full((3, 3), 0.7), np.array([[np.inf]]), np.zeros((0, 0))):
        lv = landscape.contour_levels(degenerate, 8)
        assert lv.size >= 2 and np.all(np.isfinite(lv)) and np.all(np.diff(lv) > 0)
    lin = landscape.contour_levels(Z, 5, log=False)
    assert np.allclose(np.diff(lin), np.diff(lin)[0])
    shown = landscape.display_values(bad, lv)
    assert np.all(np.isfinite(shown)) and shown.max() <= lv[-1] + (lv[-1] - lv[0]) + 1e-12


def test_one_weight_and_two_weight_surfaces_are_the_exact_quadratic():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2))
    y = X @ np.array([1.0, -0.5]) + 0.3
    m = models.make("linear", 2, 1, loss="mse")
    p = np.array([0.2, 0.1, 0.3])
    pl = landscape.weights_plane(m, p, "W1[0,0]", "W1[1,0]")
    a = np.linspace(-1, 1, 5)
    Z = pl.surface(m, X, y, a, a)
    A, B = np.meshgrid(a, a, indexing="ij")
    w0, w1 = p[0] + A, p[1] + B
    closed = np.mean((w0[..., None] * X[:, 0] + w1[..., None] * X[:, 1] + 0.3 - y) ** 2, axis=-1)
    np.testing.assert_allclose(Z, closed, rtol=1e-12)


def test_plane_on_a_bundled_run():
    s = descent.build(RunConfig(dataset_params={"n_samples": 120, "noise": 0.2}, lr=0.5, batch_size=0,
                                val_fraction=0.0))
    r = s.runner
    start = r.params
    r.run(20)
    now = r.params
    r.run(20)
    end = r.params
    pl = landscape.path_plane(start, now, end, model=s.model)
    alphas, betas = landscape.grid_around(pl.project([start, now, end]), size=9)
    Z = pl.surface(s.model, r.train.X, r.train.y, alphas, betas)
    rng = np.random.default_rng(0)
    for i, j in rng.integers(0, 9, size=(6, 2)):
        assert Z[i, j] == pytest.approx(s.model.loss(pl.point(alphas[i], betas[j]), r.train.X, r.train.y),
                                        rel=1e-12)


def test_make_plane_dispatches_and_random_plane_is_filter_normalised():
    m, p, X, y = _problem("mlp", (6, 5), 3, "cross_entropy", "tanh")
    assert landscape.make_plane("weights", m, p, weights=("W1[0,0]", "b1[2]")).labels == ("W1[0,0]", "b1[2]")
    assert landscape.make_plane("descent_random", m, p, X, y, seed=2).kind == "descent_random"
    rp = landscape.make_plane("random", m, p, seed=4)
    assert abs(rp.d1 @ rp.d2) < 1e-10 * (rp.d1 @ rp.d1)
    np.testing.assert_array_equal(rp.d1, landscape.random_direction(m, p, 4))
    q = p + 1.0
    path = landscape.make_plane("path", m, q, start=p)
    assert "one line" in path.note
    with pytest.raises(ValueError, match="unknown plane"):
        landscape.make_plane("saddle", m, p)
    with pytest.raises(ValueError, match="needs the data"):
        landscape.make_plane("descent_random", m, p)
    with pytest.raises(Exception, match="not a parameter"):
        landscape.make_plane("weights", m, p, weights=("W9[0,0]", "W1[0,0]"))


@pytest.mark.parametrize("pair", [False, True])
@pytest.mark.parametrize("kind,hidden,k,loss,act", MODELS)
def test_float32_surface_is_close(kind, hidden, k, loss, act, pair):
    # what the view draws: every model kind, loss and activation, dense directions and the two-weight path
    # (first-layer weights, so the layers above run batched too)
    m, p, X, y = _problem(kind, hidden, k, loss, act)
    if pair:
        d1, d2 = landscape.weight_direction(m, 0), landscape.weight_direction(m, m.layers[0].fan_out + 1)
    else:
        rng = np.random.default_rng(1)
        d1, d2 = rng.normal(size=m.n_params), rng.normal(size=m.n_params)
    exact = landscape.plane(m, p, X, y, d1, d2, ALPHAS, BETAS)
    quick = landscape.plane(m, p, X, y, d1, d2, ALPHAS, BETAS, precision="float32")
    assert quick.dtype == np.float64
    # float32 rounds to ~6e-8; a loss is a mean of sums of a few products: a few ulps of its size
    np.testing.assert_allclose(quick, exact, rtol=2e-6, atol=1e-7)
    assert not np.array_equal(quick, exact)  # it did run in single precision
    with pytest.raises(ValueError, match="precision"):
        landscape.plane(m, p, X, y, d1, d2, ALPHAS, BETAS, precision="half")


# ---------------------------------------------------------------------------------------- contour lines
def test_contour_segments_of_a_linear_surface_lie_exactly_on_its_level_line():
    a, b = np.linspace(-2, 2, 31), np.linspace(-1, 3, 25)
    Z = 0.5 + a[:, None] - 2.0 * b[None, :]
    seg = landscape.contour_segments(a, b, Z, [0.3, 1.7])
    assert seg.shape[1:] == (2, 2) and len(seg)
    value = 0.5 + seg[..., 0] - 2.0 * seg[..., 1]
    # each segment's two ends on one of the two lines, both in the grid
    assert np.all((np.abs(value - 0.3) < 1e-12) | (np.abs(value - 1.7) < 1e-12))
    assert np.all(np.abs(value[:, 0] - value[:, 1]) < 1e-12)
    assert seg[..., 0].min() >= a[0] and seg[..., 0].max() <= a[-1] and seg[..., 1].min() >= b[0]
    # the line 0.5 + α − 2β = 0.3 crosses the whole window: its pieces add up to its length there
    length = np.hypot(*(seg[:, 1] - seg[:, 0]).T)[np.abs(value[:, 0] - 0.3) < 1e-9].sum()
    lo, hi = max(a[0], -0.2 + 2 * b[0]), min(a[-1], -0.2 + 2 * b[-1])
    assert length == pytest.approx((hi - lo) * np.hypot(1, 0.5), rel=1e-9)


def test_contour_segments_of_a_bowl_close_into_a_circle_and_skip_non_finite_cells():
    a = b = np.linspace(-2, 2, 61)
    Z = a[:, None] ** 2 + b[None, :] ** 2
    seg = landscape.contour_segments(a, b, Z, [1.1])  # (no grid point lies on this ring)
    r = np.hypot(seg[..., 0], seg[..., 1])
    h = a[1] - a[0]
    assert np.all(np.abs(r - np.sqrt(1.1)) < h * h)  # linear interpolation of a quadratic along an edge
    ends = np.round(seg.reshape(-1, 2), 12)
    _, counts = np.unique(ends, axis=0, return_counts=True)
    assert np.all(counts == 2)  # closed: every end joins exactly two segments
    assert np.hypot(*(seg[:, 1] - seg[:, 0]).T).sum() == pytest.approx(2 * np.pi * np.sqrt(1.1), rel=2e-3)
    Z[30, 30] = np.nan  # the centre (far inside the ring) and one point next to it
    Z[30 + 16, 30] = np.inf
    seg2 = landscape.contour_segments(a, b, Z, [1.1, np.nan])
    assert np.all(np.isfinite(seg2)) and 0 < len(seg2) < len(seg)
    assert landscape.contour_segments(a, b, np.full_like(Z, 2.0), [1.0]).shape == (0, 2, 2)


def test_contour_segments_resolve_a_saddle_by_the_cell_mean():
    a = b = np.array([0.0, 1.0])
    Z = np.array([[1.0, 0.0], [0.0, 1.0]])  # corners 0 and 2 above 0.5 (case 5)
    for centre_above, level in ((True, 0.4), (False, 0.6)):
        seg = landscape.contour_segments(a, b, Z, [level])
        assert seg.shape == (2, 2, 2)
        # above: the two high corners are joined, so each line cuts off a low corner ((1, 0) and (0, 1))
        mids = seg.mean(axis=1)
        cut = [(1.0, 0.0), (0.0, 1.0)] if centre_above else [(0.0, 0.0), (1.0, 1.0)]
        for corner in cut:
            assert np.min(np.hypot(*(mids - corner).T)) < 0.5


def test_path_plane_at_the_newest_step_goes_through_the_widest_turn_not_a_random_cut():
    """At the newest step now is the end: the plane took a random second direction (and still named it "towards the
    current point"). It now goes through the recorded point farthest from the start-end line, whose projection is
    exact, and says which step that is."""
    rng = np.random.default_rng(3)
    start, end = rng.normal(size=12), rng.normal(size=12)
    bend = 0.5 * (start + end) + rng.normal(size=12)
    pts = [start, 0.7 * start + 0.3 * bend, bend, 0.5 * (bend + end), end]
    pl = landscape.path_plane(start, end, end, others=pts, other_steps=[0, 3, 6, 9, 12])
    assert pl.labels == ("start → end", "towards step 6 (the path's widest turn)") and "step 6" in pl.note
    for q in (start, bend, end):  # all three in the plane: projected exactly onto themselves
        a, b = pl.project(q)[0]
        np.testing.assert_allclose(pl.point(a, b), q, atol=1e-12)
    assert abs(pl.d1 @ pl.d2) < 1e-12
    # every point on one line: the random fallback, named as such
    line = [start, 0.5 * (start + end), end]
    pl = landscape.path_plane(start, end, end, others=line, seed=4)
    assert pl.labels[1] == "random direction ⟂ (seed 4)" and "one line" in pl.note
