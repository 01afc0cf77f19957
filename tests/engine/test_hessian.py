"""Exact Hessian-vector products, sharpness against eigvalsh and closed forms, stability thresholds on quadratics."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from gd_studio.engine import descent, hessian, landscape, models, optimizers
from gd_studio.engine.config import RunConfig

CASES = [
    ("one_weight", 1, 1, (), "tanh", "mse"),
    ("linear", 3, 1, (), "tanh", "mse"),
    ("linear", 3, 1, (), "tanh", "squared_error"),
    ("linear", 3, 3, (), "tanh", "cross_entropy"),
    ("linear", 3, 3, (), "tanh", "squared_error"),
    ("logistic", 3, 3, (), "tanh", "cross_entropy"),
    ("logistic", 3, 2, (), "tanh", "squared_error"),
] + [("mlp", 3, k, hidden, act, loss)
     for hidden, act, (k, loss) in itertools.product(((5,), (5, 4)), ("tanh", "relu", "sigmoid"),
                                                     ((3, "cross_entropy"), (3, "squared_error"), (1, "mse")))]


def _problem(kind, d, k, hidden, act, loss, n=23, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = rng.normal(size=n) if k == 1 else rng.integers(0, k, size=n)
    m = models.make(kind, d, k, hidden=hidden, activation=act, loss=loss)
    p = m.init_params(3) + rng.normal(scale=0.3, size=m.n_params)
    return m, p, X, y


def _fd_hessian(m, p, X, y, h=1e-5):
    cols = []
    for i in range(m.n_params):
        e = np.zeros(m.n_params)
        e[i] = h
        cols.append((m.loss_and_grad(p + e, X, y)[1] - m.loss_and_grad(p - e, X, y)[1]) / (2 * h))
    return np.column_stack(cols)


@pytest.mark.parametrize("kind,d,k,hidden,act,loss", CASES)
def test_hvp_is_the_exact_hessian(kind, d, k, hidden, act, loss):
    m, p, X, y = _problem(kind, d, k, hidden, act, loss)
    op = m.hessian_operator(p, X, y)
    H = np.column_stack([m.hvp(p, X, y, e) for e in np.eye(m.n_params)])  # column by column, fresh each time
    scale = np.abs(H).max()
    assert scale > 0
    # a Hessian is symmetric; the R-operator builds each column independently, so this is a real check
    assert np.abs(H - H.T).max() / scale < 1e-12
    # central differences of the analytic gradient: O(h²) truncation, so agreement to 1e-6 needs H exact
    assert np.abs(H - _fd_hessian(m, p, X, y)).max() / scale < 1e-6
    np.testing.assert_allclose(op.matrix(), H, rtol=0, atol=1e-14 * scale)
    v = np.random.default_rng(7).normal(size=m.n_params)
    np.testing.assert_allclose(op(v), H @ v, rtol=0, atol=1e-12 * scale * np.abs(v).sum())
    loss_value, grad = m.loss_and_grad(p, X, y)
    assert op.loss == pytest.approx(loss_value, rel=1e-14)
    np.testing.assert_allclose(op.grad, grad, rtol=0, atol=1e-15 * max(1.0, np.abs(grad).max()))


def test_hvp_closed_forms_for_linear_regression_and_softmax_regression():
    rng = np.random.default_rng(0)
    n, d, k = 31, 3, 4
    X = rng.normal(size=(n, d))
    Xt = np.hstack([X, np.ones((n, 1))])  # [x, 1]: W rows then the bias, as the flat layout stores them
    reg = models.make("linear", d, 1, loss="mse")
    p = rng.normal(size=reg.n_params)
    y = rng.normal(size=n)
    np.testing.assert_allclose(hessian.hessian(reg, p, X, y), 2.0 / n * Xt.T @ Xt, rtol=1e-13, atol=1e-14)
    clf = models.make("logistic", d, k, loss="cross_entropy")
    p = rng.normal(size=clf.n_params)
    y = rng.integers(0, k, n)
    probs = clf.predict(p, X)
    expected = sum(np.kron(np.outer(x, x), np.diag(q) - np.outer(q, q)) for x, q in zip(Xt, probs)) / n
    # the flat layout is W (d×k, row-major) then b (k): index i·k + j for W[i, j], d·k + j for b[j]
    np.testing.assert_allclose(hessian.hessian(clf, p, X, y), expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("hidden,act,k,loss", [
    ((8,), "tanh", 2, "cross_entropy"), ((6, 5), "relu", 3, "squared_error"),
    ((7,), "sigmoid", 1, "mse"), ((4, 4), "tanh", 3, "cross_entropy"),
])
def test_sharpness_matches_eigvalsh(hidden, act, k, loss):
    m, p, X, y = _problem("mlp", 3, k, hidden, act, loss, n=40)
    exact = np.linalg.eigvalsh(hessian.hessian(m, p, X, y))[-1]
    est = hessian.sharpness(m, p, X, y, tol=1e-10, max_iter=m.n_params)
    assert est.converged and est.value == pytest.approx(exact, rel=1e-8)
    default = hessian.sharpness(m, p, X, y)  # default tolerance: the residual bounds the error
    assert abs(default.value - exact) <= max(default.residual, 1e-12 * abs(exact)) + 1e-12
    assert abs(default.value - exact) <= 1e-3 * abs(exact)
    H = hessian.hessian(m, p, X, y)
    assert np.linalg.norm(H @ est.vector - est.value * est.vector) < 1e-6 * abs(exact)
    assert est.data == "full training set (40 samples)" and est.subset_seed is None


def test_sharpness_closed_forms_one_weight_and_linear():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(50, 1)) * 1.7
    y = 0.3 * X[:, 0] + rng.normal(size=50)
    one = models.make("one_weight", 1, 1)
    est = hessian.sharpness(one, np.array([0.4]), X, y)
    assert est.value == pytest.approx(2.0 * np.mean(X[:, 0] ** 2), rel=1e-13)  # L = mean (wx − y)²
    assert est.lr_limit == pytest.approx(1.0 / np.mean(X[:, 0] ** 2), rel=1e-13)
    X3 = rng.normal(size=(60, 3)) @ np.array([[1.0, 0.8, 0.0], [0.0, 0.6, 0.0], [0.0, 0.0, 2.0]])
    lin = models.make("linear", 3, 1, loss="mse")
    Xt = np.hstack([X3, np.ones((60, 1))])
    closed = np.linalg.eigvalsh(2.0 / 60 * Xt.T @ Xt)[-1]
    est = hessian.sharpness(lin, rng.normal(size=4), X3, rng.normal(size=60), tol=1e-12, max_iter=4)
    assert est.value == pytest.approx(closed, rel=1e-12)


def test_per_weight_threshold_overstates_the_network_threshold():
    # the issue's numbers: moons MLP 2→16→2 at initialisation, W1[0,0]'s own 2/λ is ~10× 2/λ_max
    s = descent.build(RunConfig(dataset_params={"n_samples": 400, "noise": 0.2}, lr=2.0, batch_size=0,
                                val_fraction=0.0))
    m, p, X, y = s.model, s.initial_params, s.train.X, s.train.y
    H = hessian.hessian(m, p, X, y)
    lam_max = np.linalg.eigvalsh(H)[-1]
    assert hessian.sharpness(m, p, X, y).value == pytest.approx(lam_max, rel=1e-3)
    diag = np.diag(H)
    assert np.all(diag <= lam_max * (1 + 1e-12))  # a diagonal entry never exceeds λ_max
    assert landscape.curvature(m, p, X, y, 0) == pytest.approx(diag[0], rel=1e-6)
    per_weight = 2.0 / diag[diag > 0]
    assert 2.0 / diag[0] > 5 * (2.0 / lam_max)
    assert np.mean(per_weight > 10 * 2.0 / lam_max) > 0.5


def test_lanczos_finds_the_largest_not_the_largest_in_size():
    # power iteration would return −5 here; the sharpness is the largest algebraic eigenvalue, 2
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.normal(size=(30, 30)))
    eig = np.concatenate([[-5.0, 2.0, 1.9], rng.uniform(-1, 1, 27)])
    A = Q @ np.diag(eig) @ Q.T
    value, vec, its, converged, _ = hessian.top_eigen(lambda v: A @ v, 30, tol=1e-10, max_iter=30)
    assert converged and value == pytest.approx(2.0, rel=1e-9)
    assert abs(vec @ Q[:, 1]) == pytest.approx(1.0, rel=1e-8)


def test_warm_start_needs_fewer_products():
    m, p, X, y = _problem("mlp", 3, 3, (16,), "tanh", "cross_entropy", n=80)
    cold = hessian.sharpness(m, p, X, y, tol=1e-6)
    p2 = p - 0.01 * m.loss_and_grad(p, X, y)[1]
    cold2 = hessian.sharpness(m, p2, X, y, tol=1e-6)
    warm2 = hessian.sharpness(m, p2, X, y, tol=1e-6, v0=cold.vector)
    assert warm2.value == pytest.approx(cold2.value, rel=1e-5)
    assert warm2.iterations < cold2.iterations


def test_subset_is_fixed_seeded_and_said():
    m, p, X, y = _problem("mlp", 3, 3, (6,), "tanh", "cross_entropy", n=100)
    a = hessian.sharpness(m, p, X, y, subset=30, seed=5)
    b = hessian.sharpness(m, p, X, y, subset=30, seed=5)
    assert a.value == b.value and a.n_samples == 30 and a.n_total == 100
    assert a.data == "a fixed random subset of 30 of 100 samples (seed 5)"
    rows = hessian.subset_rows(100, 30, 5)
    exact = np.linalg.eigvalsh(hessian.hessian(m, p, X[rows], y[rows]))[-1]
    assert a.value == pytest.approx(exact, rel=1e-3)
    assert hessian.sharpness(m, p, X, y, subset=500).data == "full training set (100 samples)"


def test_preconditioned_sharpness_is_the_top_eigenvalue_of_p_inverse_h():
    m, p, X, y = _problem("mlp", 3, 3, (5,), "tanh", "cross_entropy", n=40)
    H = hessian.hessian(m, p, X, y)
    for name, hyper in (("adam", {}), ("rmsprop", {}), ("rmsprop", {"centered": True, "momentum": 0.5}),
                        ("adam", {"weight_decay": 0.01})):
        opt = optimizers.make(name, m.n_params, **hyper)
        q = p.copy()
        for _ in range(3):
            q = opt.step(q, m.loss_and_grad(q, X, y)[1], 1e-3)
        P = hessian.preconditioner(opt)
        Hq = hessian.hessian(m, q, X, y) + opt.hyper["weight_decay"] * np.eye(m.n_params)
        exact = np.max(np.linalg.eigvals(np.diag(1.0 / P) @ Hq).real)
        est = hessian.optimizer_sharpness(m, q, X, y, opt, tol=1e-10, max_iter=m.n_params)
        assert est.preconditioned and est.value == pytest.approx(exact, rel=1e-7)
    # the P of the next step, from the gradient it will use, without touching the optimizer
    opt = optimizers.make("adam", m.n_params)
    assert hessian.preconditioner(opt) is None
    g = m.loss_and_grad(p, X, y)[1]
    P_next = hessian.preconditioner(opt, g)
    assert opt.step_count == 0
    opt.step(p, g, 1e-3)
    np.testing.assert_allclose(hessian.preconditioner(opt), P_next, rtol=1e-15)
    assert hessian.preconditioner(optimizers.make("momentum", 3)) is None
    assert H.shape == (m.n_params, m.n_params)


# ------------------------------------------------------------------------- thresholds on a quadratic

OPTIMIZER_CASES = [
    ("sgd", {}, 2.0),
    ("momentum", {"momentum": 0.9}, 3.8),
    ("momentum", {"momentum": 0.5, "dampening": 0.5}, 6.0),
    ("nesterov", {"momentum": 0.9}, 3.8 / 2.8),
    ("rmsprop", {}, 2.0),
    ("rmsprop", {"momentum": 0.5}, 3.0),
    ("adam", {}, 38.0),
    ("adam", {"betas": (0.5, 0.999)}, 6.0),
]


def _frozen_run(name, hyper, lr, m, p0, X, y, steps):
    """Run the real optimizer on a quadratic with its preconditioner held fixed (Adam/RMSProp): the state
    that sets P is restored after every step, so the threshold on P⁻¹H is exact."""
    opt = optimizers.make(name, m.n_params, **hyper)
    frozen = None
    if name in ("adam", "rmsprop"):
        g = np.abs(np.random.default_rng(3).normal(size=m.n_params)) + 0.5
        state = opt.state_dict()
        key = "exp_avg_sq" if name == "adam" else "square_avg"
        for k in state["buffers"]:
            state["buffers"][k] = np.zeros(m.n_params)
        state["buffers"][key] = g ** 2
        state["step_count"] = 1_000_000  # bias corrections are exactly 1 from here on
        if name == "rmsprop" and not hyper.get("momentum"):
            state["buffers"]["momentum_buffer"] = None
        if name == "rmsprop" and not hyper.get("centered"):
            state["buffers"]["grad_avg"] = None
        opt.load_state_dict(state)
        frozen = g ** 2
    p = p0.copy()
    decay = opt.hyper["betas"][1] if name == "adam" else opt.hyper.get("alpha")
    for _ in range(steps):
        g = m.loss_and_grad(p, X, y)[1]
        if frozen is not None:
            # the step first mixes g² into the average and then divides by it: start it where the mix
            # lands exactly on the frozen value
            st = opt.state_dict()
            st["buffers"]["exp_avg_sq" if name == "adam" else "square_avg"] = (frozen - (1 - decay) * g * g) / decay
            opt.load_state_dict(st)
        p = opt.step(p, g, lr)
        if not np.all(np.isfinite(p)) or np.abs(p).max() > 1e5:  # diverged (and the freeze would lose digits)
            break
    return opt, p


@pytest.mark.parametrize("name,hyper,constant", OPTIMIZER_CASES)
def test_stability_threshold_on_a_quadratic(name, hyper, constant):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3)) @ np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 0.3], [0.0, 0.0, 0.4]])
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=64)
    m = models.make("linear", 3, 1, loss="mse")  # mean squared error of a linear model: exactly quadratic
    best = np.linalg.lstsq(np.hstack([X, np.ones((64, 1))]), y, rcond=None)[0]
    best = np.concatenate([best[:3], best[3:]])
    p0 = best + rng.normal(size=4)
    opt = optimizers.make(name, m.n_params, **hyper)
    assert hessian.stability_threshold(opt, 1.0) == pytest.approx(constant, rel=1e-12)
    assert hessian.stability_threshold(opt, 0.5) == pytest.approx(2 * constant, rel=1e-12)
    # the sharpness the threshold applies to, with the run's (frozen) preconditioner
    probe, _ = _frozen_run(name, hyper, 1e-9, m, p0, X, y, 0)
    lam = hessian.optimizer_sharpness(m, p0, X, y, probe, tol=1e-12, max_iter=4).value
    if name in ("adam", "rmsprop"):
        P = hessian.preconditioner(probe)
        np.testing.assert_allclose(P, np.abs(np.random.default_rng(3).normal(size=4)) + 0.5, rtol=1e-7)
    limit_lr = constant / lam  # the LR at which threshold(lr) = λ
    d0 = np.linalg.norm(p0 - best)
    _, p_below = _frozen_run(name, hyper, 0.95 * limit_lr, m, p0, X, y, 3000)
    _, p_above = _frozen_run(name, hyper, 1.05 * limit_lr, m, p0, X, y, 3000)
    assert np.linalg.norm(p_below - best) < 1e-3 * d0  # just below: converges
    assert not np.linalg.norm(p_above - best) < 1e3 * d0  # just above: diverges (or overflows)


def test_threshold_labels():
    assert hessian.threshold_label(optimizers.make("sgd", 2)) == "2/η"
    assert hessian.threshold_label(optimizers.make("adam", 2)) == "38/η"
    assert hessian.threshold_label(optimizers.make("momentum", 2)) == "3.8/η"
    assert math.isinf(hessian.stability_threshold(optimizers.make("sgd", 2), 0.0))


# ------------------------------------------------------------------------- tracking and the edge of stability


def test_tracker_cadence_warm_start_and_step_back():
    s = descent.build(RunConfig(dataset_params={"n_samples": 120, "noise": 0.2}, lr=0.5, batch_size=0,
                                val_fraction=0.0))
    r = s.runner
    tracker = hessian.SharpnessTracker(s.model, r.train.X, r.train.y, every=5)
    iterations = []
    for _ in range(40):
        r.step()
        est = tracker.update(r.step_count, r.params, lr=r.lr)
        assert (est is not None) == (r.step_count % 5 == 0)
        if est is not None:
            iterations.append(est.iterations)
            exact = np.linalg.eigvalsh(hessian.hessian(s.model, r.params, r.train.X, r.train.y))[-1]
            assert est.value == pytest.approx(exact, rel=1e-3)
    assert tracker.steps == list(range(5, 41, 5))
    assert np.mean(iterations[1:]) < iterations[0]  # warm starts after the first
    assert tracker.thresholds == [pytest.approx(4.0)] * 8
    tracker.truncate(20)
    assert tracker.steps == [5, 10, 15, 20] and len(tracker.values) == 4
    arrays = tracker.arrays()
    assert set(arrays) == {"step", "sharpness", "limit"} and np.all(np.isfinite(arrays["sharpness"]))
    with pytest.raises(Exception, match="cadence"):
        hessian.SharpnessTracker(s.model, r.train.X, r.train.y, every=0)


def _edge_of_stability_run(lr=2.0, steps=1500):
    s = descent.build(RunConfig(dataset="moons", dataset_params={"n_samples": 400, "noise": 0.2}, hidden=(16,),
                                lr=lr, batch_size=0, val_fraction=0.0, seed=0))
    return hessian.track_run(s.runner, steps, every=10)


def test_edge_of_stability_moons_mlp():
    # Cohen et al., ICLR 2021: full-batch descent at η = 2 brings λ_max to 2/η = 1 and holds it there
    out = _edge_of_stability_run()
    steps, sharp, loss = out["step"], out["sharpness"], out["loss"]
    assert steps[-1] == 1500 and np.all(out["limit"] == 1.0)
    assert sharp[0] > 2.0  # starts well above the limit
    late = steps >= 400
    assert np.all((sharp[late] > 0.85) & (sharp[late] < 1.15))  # hovers at the limit
    assert 0.9 < np.mean(sharp[late]) < 1.05
    assert loss[-1] < 0.9 * loss[steps == 400][0] and loss[-1] < 0.1 * loss[0]  # while the loss keeps falling
    step_loss = out["step_loss"][400:]
    assert np.any(np.diff(step_loss) > 0)  # … but not monotonically
    again = _edge_of_stability_run(steps=200)
    np.testing.assert_array_equal(again["sharpness"], sharp[: again["sharpness"].size])  # deterministic


def test_small_lr_stays_below_its_limit():
    out = _edge_of_stability_run(lr=0.2, steps=300)
    assert np.all(out["sharpness"] < 0.9 * out["limit"])


def test_track_run_with_adam_measures_the_preconditioned_sharpness_against_38_over_eta():
    s = descent.build(RunConfig(dataset="moons", dataset_params={"n_samples": 100, "noise": 0.2}, hidden=(4,),
                                optimizer="adam", lr=0.01, batch_size=0, val_fraction=0.0, seed=0))
    r = s.runner
    out = hessian.track_run(r, 40, every=20, tol=1e-10, max_iter=s.model.n_params)
    assert list(out["step"]) == [0, 20, 40]
    np.testing.assert_allclose(out["limit"], 3800.0)
    # the last estimate is the top eigenvalue of P⁻¹H with the P of the step that comes next
    p = r.params
    g = s.model.loss_and_grad(p, r.train.X, r.train.y)[1]
    P = hessian.preconditioner(r.optimizer, g)
    H = hessian.hessian(s.model, p, r.train.X, r.train.y)
    exact = np.max(np.linalg.eigvals(H / P[:, None]).real)
    assert out["sharpness"][-1] == pytest.approx(exact, rel=1e-7)
    assert np.all(np.isfinite(out["sharpness"]))


def test_tracker_survives_diverged_weights():
    m, p, X, y = _problem("mlp", 3, 3, (5,), "tanh", "cross_entropy")
    tracker = hessian.SharpnessTracker(m, X, y, every=1)
    assert tracker.update(1, p, lr=0.1) is not None
    bad = p.copy()
    bad[0] = np.nan
    assert tracker.update(2, bad, lr=0.1) is None
    assert "no sharpness at step 2" in tracker.problem and tracker.steps == [1]
    assert tracker.update(3, p, lr=0.1) is not None and tracker.problem is None
    with pytest.raises(FloatingPointError):
        hessian.sharpness(m, bad, X, y)


def test_huge_weights_give_a_number_or_a_clear_error_never_a_warning():
    # warnings are errors in this suite: overflow inside the products must not escape as one
    m, p, X, y = _problem("mlp", 3, 3, (5,), "tanh", "squared_error")
    saturated = hessian.sharpness(m, p * 1e306, X, y)  # every unit saturated: flat, so λ_max ≈ 0
    assert np.isfinite(saturated.value) and abs(saturated.value) < 1e-6
    reg = models.make("linear", 3, 1, loss="mse")
    with pytest.raises(FloatingPointError, match="diverged"):
        hessian.sharpness(reg, np.zeros(4), X * 1e160, y)  # curvature beyond the float range
