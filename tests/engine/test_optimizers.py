"""Optimizers: closed forms on quadratics, torch.optim semantics, exact state round trips, bad settings."""
from __future__ import annotations

import numpy as np
import pytest

from gd_studio.engine import optimizers
from gd_studio.engine.errors import ConfigError


def quad_grad(p: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Gradient of L(w) = ½ Σ a_i w_i²."""
    return a * p


def run(opt, p, a, lr, n):
    out = [p]
    for _ in range(n):
        p = opt.step(p, quad_grad(p, a), lr)
        out.append(p)
    return np.array(out)


def test_sgd_on_a_quadratic_follows_the_closed_form():
    a = np.array([1.0, 3.0, 0.5])
    p0 = np.array([1.0, -2.0, 4.0])
    lr = 0.1
    path = run(optimizers.make("sgd", 3), p0, a, lr, 20)
    t = np.arange(21)[:, None]
    np.testing.assert_allclose(path, p0 * (1 - lr * a) ** t, rtol=1e-12)


def test_sgd_subtracts_the_gradient():
    # The article's update has a + sign by mistake; descent goes against the slope.
    p = optimizers.make("sgd", 1).step(np.array([1.0]), np.array([2.0]), 0.1)
    assert p[0] == pytest.approx(0.8)


def test_momentum_matches_the_hand_computed_sequence():
    # L = ½ w², w0 = 1, lr = 0.1, μ = 0.9: v = g, then v = μ v + g.
    # g0 = 1, v = 1, w1 = 0.9; g1 = 0.9, v = 1.8, w2 = 0.72; g2 = 0.72, v = 2.34, w3 = 0.486
    path = run(optimizers.make("momentum", 1, momentum=0.9), np.array([1.0]), np.array([1.0]), 0.1, 3)
    np.testing.assert_allclose(path[:, 0], [1.0, 0.9, 0.72, 0.486], rtol=1e-12)


def test_nesterov_matches_the_hand_computed_sequence():
    # v = μ v + g, update g + μ v: w1 = 1 − 0.1·1.9 = 0.81; g1 = 0.81, v = 1.71, w2 = 0.81 − 0.1·2.349
    path = run(optimizers.make("nesterov", 1, momentum=0.9), np.array([1.0]), np.array([1.0]), 0.1, 2)
    np.testing.assert_allclose(path[:, 0], [1.0, 0.81, 0.5751], rtol=1e-12)


def test_momentum_with_dampening_starts_from_the_raw_gradient_like_torch():
    opt = optimizers.make("momentum", 1, momentum=0.5, dampening=0.5)
    p1 = opt.step(np.array([0.0]), np.array([1.0]), 1.0)  # v = g (no dampening on the first step)
    p2 = opt.step(p1, np.array([1.0]), 1.0)  # v = 0.5·1 + 0.5·1 = 1
    assert (p1[0], p2[0]) == (-1.0, -2.0)


def test_adam_first_step_is_lr_times_the_sign_of_the_gradient():
    g = np.array([3.0, -0.02, 1e-3, -50.0])
    p = optimizers.make("adam", 4).step(np.zeros(4), g, 0.01)
    np.testing.assert_allclose(p, -0.01 * np.sign(g), rtol=1e-4)


def test_adam_with_a_constant_gradient_moves_lr_per_step():
    # With bias correction m̂ = g and v̂ = g² at every step, so each step is lr·g/(|g| + ε).
    opt = optimizers.make("adam", 2, eps=1e-8)
    g = np.array([2.0, -0.5])
    p = np.zeros(2)
    for _ in range(10):
        p = opt.step(p, g, 0.1)
    np.testing.assert_allclose(p, -10 * 0.1 * g / (np.abs(g) + 1e-8), rtol=1e-12)


def test_rmsprop_first_step_is_about_ten_lr_times_the_sign():
    # s = (1 − α) g² = 0.01 g², so g / √s = 10 sign(g)
    p = optimizers.make("rmsprop", 2).step(np.zeros(2), np.array([4.0, -0.3]), 0.01)
    np.testing.assert_allclose(p, [-0.1, 0.1], rtol=1e-6)


def test_weight_decay_is_added_to_the_gradient():
    p = optimizers.make("sgd", 1, weight_decay=0.5).step(np.array([2.0]), np.array([1.0]), 0.1)
    assert p[0] == pytest.approx(2.0 - 0.1 * (1.0 + 0.5 * 2.0))


@pytest.mark.parametrize("name", optimizers.NAMES)
def test_step_returns_new_parameters_and_leaves_its_inputs_alone(name):
    opt = optimizers.make(name, 3)
    p, g = np.array([1.0, 2.0, 3.0]), np.array([0.1, -0.2, 0.3])
    p_copy, g_copy = p.copy(), g.copy()
    for _ in range(3):
        new = opt.step(p, g, 0.1)
    assert new is not p and not np.shares_memory(new, p)
    assert np.array_equal(p, p_copy) and np.array_equal(g, g_copy)


PARAMS = {
    "sgd": {"weight_decay": 1e-3},
    "momentum": {"momentum": 0.8, "dampening": 0.1},
    "nesterov": {"momentum": 0.95},
    "rmsprop": {"momentum": 0.5, "centered": True},
    "adam": {"betas": (0.8, 0.99), "weight_decay": 1e-2},
}


@pytest.mark.parametrize("name", optimizers.NAMES)
@pytest.mark.parametrize("hyper", [False, True], ids=["defaults", "custom"])
def test_state_round_trip_continues_bit_identically(name, hyper):
    rng = np.random.default_rng(0)
    a = rng.uniform(0.5, 2.0, 5)
    opt = optimizers.make(name, 5, **(PARAMS[name] if hyper else {}))
    p = run(opt, rng.normal(size=5), a, 0.05, 7)[-1]
    state, p_mid = opt.state_dict(), p.copy()
    reference = run(opt, p, a, 0.05, 9)

    fresh = optimizers.make(name, 5, **(PARAMS[name] if hyper else {}))
    fresh.load_state_dict(state)
    assert np.array_equal(run(fresh, p_mid, a, 0.05, 9), reference)
    # the same object, restored after it moved on, also continues exactly
    opt.load_state_dict(state)
    assert np.array_equal(run(opt, p_mid, a, 0.05, 9), reference)


@pytest.mark.parametrize("name", ["momentum", "rmsprop", "adam"])
def test_state_dict_is_a_deep_copy_both_ways(name):
    opt = optimizers.make(name, 2)
    p = opt.step(np.ones(2), np.ones(2), 0.1)
    state = opt.state_dict()
    before = {k: (None if v is None else v.copy()) for k, v in state["buffers"].items()}
    opt.step(p, np.ones(2), 0.1)  # moving on must not change the snapshot
    for k, v in state["buffers"].items():
        if v is not None:
            assert np.array_equal(v, before[k])
    opt.load_state_dict(state)
    for v in state["buffers"].values():
        if v is not None:
            v[:] = 1e9  # scribbling on the dict afterwards must not reach the optimizer
    assert all(v is None or (v < 1e9).all() for v in opt.state_dict()["buffers"].values())


def test_reset_forgets_the_state():
    opt = optimizers.make("adam", 2)
    first = opt.step(np.zeros(2), np.ones(2), 0.1)
    opt.step(first, np.ones(2), 0.1)
    opt.reset()
    assert opt.step_count == 0
    assert np.array_equal(opt.step(np.zeros(2), np.ones(2), 0.1), first)


@pytest.mark.parametrize(
    "name, hyper",
    [
        ("sgdd", {}),
        ("sgd", {"momentum": 0.9}),
        ("momentum", {"momentum": 1.0}),
        ("momentum", {"momentum": -0.1}),
        ("momentum", {"momentum": float("nan")}),
        ("momentum", {"momentum": "lots"}),
        ("nesterov", {"momentum": 0.0}),
        ("rmsprop", {"alpha": 1.5}),
        ("rmsprop", {"eps": 0.0}),
        ("rmsprop", {"centered": "yes"}),
        ("adam", {"betas": (1.0, 0.999)}),
        ("adam", {"betas": 0.9}),
        ("adam", {"eps": -1e-8}),
        ("adam", {"weight_decay": float("inf")}),
    ],
)
def test_bad_names_and_hyper_parameters_raise_config_error(name, hyper):
    with pytest.raises(ConfigError) as info:
        optimizers.make(name, 3, **hyper)
    assert isinstance(info.value, ValueError)
    assert str(info.value)


def test_bad_steps_and_states_raise_config_error():
    opt = optimizers.make("sgd", 3)
    with pytest.raises(ConfigError, match="length 3"):
        opt.step(np.zeros(2), np.zeros(2), 0.1)
    for lr in (-0.1, float("nan"), float("inf")):
        with pytest.raises(ConfigError, match="learning rate"):
            opt.step(np.zeros(3), np.zeros(3), lr)
    with pytest.raises(ConfigError, match="cannot load"):
        opt.load_state_dict(optimizers.make("adam", 3).state_dict())
    with pytest.raises(ConfigError, match="parameters"):
        opt.load_state_dict(optimizers.make("sgd", 4).state_dict())
    with pytest.raises(ConfigError):
        optimizers.make("sgd", 0)


@pytest.mark.parametrize("name", optimizers.NAMES)
def test_matches_torch_optim(name):
    torch = pytest.importorskip("torch")
    torch_opts = {
        "sgd": lambda w: torch.optim.SGD([w], lr=0.05, weight_decay=1e-3),
        "momentum": lambda w: torch.optim.SGD([w], lr=0.05, momentum=0.8, dampening=0.1),
        "nesterov": lambda w: torch.optim.SGD([w], lr=0.05, momentum=0.95, nesterov=True),
        "rmsprop": lambda w: torch.optim.RMSprop([w], lr=0.05, momentum=0.5, centered=True),
        "adam": lambda w: torch.optim.Adam([w], lr=0.05, betas=(0.8, 0.99), weight_decay=1e-2),
    }
    rng = np.random.default_rng(1)
    a, p0 = rng.uniform(0.5, 2.0, 6), rng.normal(size=6)
    ours = run(optimizers.make(name, 6, **PARAMS[name]), p0, a, 0.05, 25)[-1]
    w = torch.tensor(p0, dtype=torch.float64, requires_grad=True)
    t_opt = torch_opts[name](w)
    for _ in range(25):
        t_opt.zero_grad()
        (0.5 * (torch.tensor(a) * w * w).sum()).backward()
        t_opt.step()
    np.testing.assert_allclose(ours, w.detach().numpy(), rtol=1e-10, atol=1e-12)
