"""Loss slices against a plain loop, curvature against closed forms, and the 1/λ, 2/λ thresholds."""
from __future__ import annotations

import math

import numpy as np
import pytest

from gd_studio.engine import landscape, models


def _problem(kind="mlp", hidden=(6, 5), k=3, loss="cross_entropy", act="tanh", n=40, d=3):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d))
    y = rng.normal(size=n) if k == 1 else rng.integers(0, k, n)
    m = models.make(kind, d, k, hidden=hidden, activation=act, loss=loss)
    return m, m.init_params(1), X, y


@pytest.mark.parametrize("hidden,k,loss,act", [
    ((6, 5), 3, "cross_entropy", "tanh"),
    ((6,), 3, "squared_error", "relu"),
    ((4, 4, 3), 1, "mse", "sigmoid"),
    ((), 3, "cross_entropy", "tanh"),
])
def test_weight_slice_equals_loop_for_every_weight(hidden, k, loss, act):
    m, p, X, y = _problem("mlp" if hidden else "logistic", hidden, k, loss, act)
    offsets = np.linspace(-2, 2, 9)
    for index in range(m.n_params):
        expected = []
        for off in offsets:
            q = p.copy()
            q[index] += off
            expected.append(m.loss(q, X, y))
        got = landscape.weight_slice(m, p, X, y, index, offsets)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14, err_msg=m.param_names[index])


def test_weight_slice_chunks_agree_with_one_piece(monkeypatch):
    m, p, X, y = _problem()
    offsets = np.linspace(-1, 1, 201)
    whole = landscape.weight_slice(m, p, X, y, 0, offsets)
    monkeypatch.setattr(landscape, "_CHUNK_ELEMENTS", 64)
    np.testing.assert_allclose(landscape.weight_slice(m, p, X, y, 0, offsets), whole, rtol=1e-14)


def test_one_weight_curvature_and_thresholds_closed_form():
    x = np.linspace(-1.5, 1.5, 31)[:, None]
    y = 2.0 * x[:, 0]
    m = models.make("one_weight", 1, 1, loss="mse")
    lam = landscape.curvature(m, np.array([0.3]), x, y, 0)
    assert lam == pytest.approx(2 * np.mean(x ** 2), rel=1e-9)
    osc, div = landscape.lr_thresholds(lam)
    assert osc == pytest.approx(1 / lam) and div == pytest.approx(2 / lam)
    assert landscape.lr_thresholds(-1.0) == (math.inf, math.inf)
    assert "1.7× the divergence threshold" in landscape.describe_lr(1.7 * div, lam)


def test_curvature_along_direction_matches_second_difference_of_slice():
    m, p, X, y = _problem()
    d = landscape.random_direction(m, p, seed=3)
    unit = d / np.linalg.norm(d)
    h = 1e-3
    f = landscape.direction_slice(m, p, X, y, unit, [-h, 0.0, h])
    second = (f[0] - 2 * f[1] + f[2]) / h ** 2
    assert landscape.curvature(m, p, X, y, d) == pytest.approx(second, rel=1e-4)


def test_descent_direction_lowers_the_loss_and_filter_normalisation():
    m, p, X, y = _problem()
    d = landscape.descent_direction(m, p, X, y)
    assert np.linalg.norm(d) == pytest.approx(1.0)
    f = landscape.direction_slice(m, p, X, y, d, [0.0, 1e-3])
    assert f[1] < f[0]
    r = landscape.random_direction(m, p, seed=5)
    for layer, (W, _) in zip(m.layers, m.unpack(p)):
        R = r[layer.w_start:layer.w_stop].reshape(W.shape)
        np.testing.assert_allclose(np.linalg.norm(R, axis=0), np.linalg.norm(W, axis=0))
    np.testing.assert_array_equal(r, landscape.random_direction(m, p, seed=5))
