"""LR schedules against their closed forms; live base-LR changes; JSON round trips; bad settings."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from gd_studio.engine import schedules
from gd_studio.engine.errors import ConfigError

EXAMPLES = [
    ("constant", 0.1, {}),
    ("step", 0.1, {"step_size": 10, "gamma": 0.5}),
    ("exponential", 0.1, {"gamma": 0.97}),
    ("linear", 0.1, {"end_lr": 0.001, "total_steps": 50}),
    ("triangular", 0.001, {"max_lr": 0.1, "step_size": 8}),
    ("triangular", 0.001, {"max_lr": 0.1, "step_size": 8, "mode": "triangular2"}),
    ("triangular", 0.001, {"max_lr": 0.1, "step_size": 8, "mode": "exp_range", "gamma": 0.99}),
    ("one_cycle", 0.004, {"max_lr": 0.1, "total_steps": 100}),
    ("one_cycle", 0.01, {"total_steps": 60, "div_factor": 10, "anneal": "linear", "three_phase": True}),
]


def test_constant():
    s = schedules.make("constant", 0.3)
    assert [s(t) for t in (0, 1, 1000)] == [0.3, 0.3, 0.3]


def test_step_decay():
    s = schedules.make("step", 0.1, step_size=10, gamma=0.5)
    assert [s(t) for t in (0, 9, 10, 19, 20, 35)] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.0125])


def test_exponential():
    s = schedules.make("exponential", 0.2, gamma=0.9)
    np.testing.assert_allclose(s.values(30), 0.2 * 0.9 ** np.arange(30), rtol=1e-12)


def test_linear_reaches_end_lr_and_holds_it():
    s = schedules.make("linear", 0.1, end_lr=0.02, total_steps=8)
    np.testing.assert_allclose(s.values(12), [0.1 - 0.01 * t for t in range(9)] + [0.02] * 3, rtol=1e-12)


def test_triangular_is_smiths_triangle():
    base, top, half = 0.001, 0.006, 5
    s = schedules.make("triangular", base, max_lr=top, step_size=half)
    t = np.arange(40)
    # distance to the nearest peak at odd multiples of the half period, as a fraction of it
    frac = 1 - np.abs((t % (2 * half)) - half) / half
    np.testing.assert_allclose(s.values(40), base + (top - base) * frac, rtol=1e-12)
    assert s(0) == base and s(half) == pytest.approx(top) and s(2 * half) == pytest.approx(base)
    assert s(2) == pytest.approx(base + (top - base) * 2 / half)


def test_triangular2_halves_the_amplitude_each_cycle_and_exp_range_decays():
    s = schedules.make("triangular", 0.01, max_lr=1.01, step_size=4, mode="triangular2")
    assert [s(4), s(12), s(20)] == pytest.approx([1.01, 0.51, 0.26])
    e = schedules.make("triangular", 0.01, max_lr=1.01, step_size=4, mode="exp_range", gamma=0.9)
    assert e(12) == pytest.approx(0.01 + 0.9**12)


def one_cycle_reference(t, initial, peak, total, pct, final_div):
    """Closed form of torch's OneCycleLR (two phases, cosine)."""
    up = pct * total - 1
    final = initial / final_div
    if t <= up:
        x = t / up
        return peak + (initial - peak) / 2 * (1 + math.cos(math.pi * x))
    x = (t - up) / (total - 1 - up)
    return final + (peak - final) / 2 * (1 + math.cos(math.pi * x))


def test_one_cycle_warms_up_then_anneals_with_a_cosine():
    s = schedules.make("one_cycle", 0.004, max_lr=0.1, total_steps=100, pct_start=0.25, final_div_factor=1e3)
    assert s.params["div_factor"] == pytest.approx(25)
    expected = [one_cycle_reference(t, 0.004, 0.1, 100, 0.25, 1e3) for t in range(100)]
    np.testing.assert_allclose(s.values(100), expected, rtol=1e-12)
    assert s(0) == 0.004 and s(24) == pytest.approx(0.1) and s(99) == pytest.approx(4e-6)
    assert s(500) == s(99)  # after the cycle it holds its final value
    values = s.values(100)
    assert (np.diff(values[:25]) > 0).all() and (np.diff(values[24:]) < 0).all()


def test_one_cycle_from_div_factor_and_the_three_phase_variant():
    s = schedules.make("one_cycle", 0.01, total_steps=40, div_factor=10, three_phase=True, anneal="linear")
    assert s.params["max_lr"] == pytest.approx(0.1)
    up = 0.3 * 40 - 1  # 11: peak; 22: back at the start; 39: final
    assert s(0) == pytest.approx(0.01) and s(11) == pytest.approx(0.1) and s(22) == pytest.approx(0.01)
    assert s(39) == pytest.approx(0.01 / 1e4)
    assert s(5) == pytest.approx(0.01 + (0.1 - 0.01) * 5 / up)


def test_one_cycle_matches_torch():
    torch = pytest.importorskip("torch")
    w = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.1)
    ref = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=50, pct_start=0.3)
    theirs = []
    for t in range(50):
        theirs.append(opt.param_groups[0]["lr"])
        opt.step()
        if t < 49:  # torch refuses to step past total_steps
            ref.step()
    ours = schedules.make("one_cycle", 0.1 / 25, max_lr=0.1, total_steps=50).values(50)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parametrize("name, base, params", EXAMPLES)
def test_every_schedule_starts_at_base_lr(name, base, params):
    assert schedules.make(name, base, **params)(0) == pytest.approx(base)


@pytest.mark.parametrize("name, base, params", EXAMPLES)
def test_with_base_lr_keeps_the_shape(name, base, params):
    s = schedules.make(name, base, **params)
    t = s.with_base_lr(base * 3)
    assert t.name == s.name and t.base_lr == base * 3
    np.testing.assert_allclose(t.values(120), 3 * s.values(120), rtol=1e-12)
    assert s.base_lr == base  # the original is unchanged


@pytest.mark.parametrize("name, base, params", EXAMPLES)
def test_to_dict_round_trips_through_json(name, base, params):
    s = schedules.make(name, base, **params)
    d = json.loads(json.dumps(s.to_dict()))
    back = schedules.from_dict(d)
    assert back == s
    assert np.array_equal(back.values(120), s.values(120))


@pytest.mark.parametrize(
    "name, base, params, match",
    [
        ("cosine", 0.1, {}, "unknown"),
        ("step", 0.1, {}, "missing"),
        ("step", 0.1, {"step_size": 0}, "step_size"),
        ("step", 0.1, {"step_size": 2.5}, "step_size"),
        ("step", 0.1, {"step_size": 10, "gamma": -0.1}, "gamma"),
        ("exponential", 0.1, {"gamma": float("nan")}, "gamma"),
        ("exponential", 0.1, {"gamma": 0.9, "decay": 1}, "unknown parameter"),
        ("linear", 0.1, {"end_lr": 0.0, "total_steps": 10}, "end_lr"),
        ("triangular", 0.1, {"max_lr": 0.01, "step_size": 5}, "max_lr"),
        ("triangular", 0.1, {"max_lr": 1.0, "step_size": 5, "mode": "sawtooth"}, "mode"),
        ("one_cycle", 0.1, {"max_lr": 1.0}, "missing"),
        ("one_cycle", 0.1, {"max_lr": 1.0, "total_steps": 100, "pct_start": 1.0}, "pct_start"),
        ("one_cycle", 0.1, {"max_lr": 1.0, "total_steps": 100, "div_factor": 25}, "contradicts"),
        ("one_cycle", 0.1, {"max_lr": 1.0, "total_steps": 100, "anneal": "cubic"}, "anneal"),
        ("constant", -0.1, {}, "base_lr"),
        ("constant", float("inf"), {}, "base_lr"),
    ],
)
def test_bad_settings_raise_config_error(name, base, params, match):
    with pytest.raises(ConfigError, match=match):
        schedules.make(name, base, **params)


def test_bad_steps_raise_config_error():
    s = schedules.make("constant", 0.1)
    for step in (-1, 1.5, True):
        with pytest.raises(ConfigError, match="step"):
            s(step)
    with pytest.raises(ConfigError):
        s.with_base_lr(0)


def test_whole_number_floats_from_json_are_accepted():
    s = schedules.make("step", 0.1, step_size=10.0)
    assert s.params["step_size"] == 10 and isinstance(s.params["step_size"], int)
