"""Property tests: every suggestion rule on random short, noisy and diverging curves returns a usable answer."""
from __future__ import annotations

import math

import numpy as np

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gd_studio.engine import lr_finder

# Curves as a range test records them: learning rates rising geometrically (with jitter), losses anywhere
# from smooth to pure noise, sometimes ending in a diverged NaN/inf tail.
_loss = st.one_of(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False),
    st.floats(min_value=0.0, max_value=10.0),
)


@st.composite
def curves(draw):
    n = draw(st.integers(min_value=0, max_value=60))
    start = draw(st.floats(min_value=-8, max_value=1))
    span = draw(st.floats(min_value=0.5, max_value=8))
    steps = np.array(draw(st.lists(st.floats(min_value=0.05, max_value=1.0), min_size=n, max_size=n)))
    x = start + span * np.cumsum(steps) / max(float(steps.sum()), 1e-9) if n else np.zeros(0)
    lrs = 10.0 ** x
    shape = draw(st.sampled_from(["noise", "valley", "flat", "step", "late drop"]))
    t = np.linspace(0, 1, n)
    if shape == "late drop":  # a plateau, a fall near the end, and the last point back up
        begin = draw(st.floats(min_value=0.3, max_value=0.95))
        seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
        losses = np.where(t < begin, 1.0, 1 - (t - begin) / (1 - begin) * 0.6)
        losses = losses + draw(st.floats(0.0, 0.05)) * np.random.default_rng(seed).standard_normal(n)
        if n:
            losses[-1] += draw(st.floats(0.0, 1.0))
    elif shape == "noise":
        losses = np.array(draw(st.lists(_loss, min_size=n, max_size=n)), dtype=float)
    else:
        base = {"valley": 1 - np.sin(np.pi * t * 0.9) * 0.8, "flat": np.ones(n),
                "step": np.where(t < 0.5, 1.0, 0.2)}[shape]
        noise = draw(st.floats(min_value=0.0, max_value=2.0))
        seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
        losses = base + noise * np.random.default_rng(seed).standard_normal(n)
    if n and draw(st.booleans()):
        cut = draw(st.integers(min_value=0, max_value=n - 1))
        losses[cut:] = draw(st.sampled_from([math.nan, math.inf]))
    keep = np.concatenate([[True], np.diff(lrs) > 0]) if n else np.zeros(0, bool)  # strictly rising rates
    return lrs[keep], losses[keep]


# `gd-studio range-test --iters 20 --seed 33` recorded this: a noisy plateau, a late drop, a last point
# back up. The heavily smoothed minimum is the last point, where the lightly smoothed curve is above the
# base_lr level, and the crossing search ran off the end. Random search meets such curves about once in
# 200, so the recorded one is always tried.
SEED_33 = (
    [1e-07, 2.6e-07, 7e-07, 1.83e-06, 4.83e-06, 1.274e-05, 3.36e-05, 8.859e-05, 0.00023357, 0.00061585,
     0.00162378, 0.00428133, 0.01128838, 0.02976351, 0.078476, 0.20691381, 0.54555948, 1.43844989, 3.79269019,
     10.0],
    [0.6118, 0.5868, 0.5971, 0.6062, 0.6083, 0.6134, 0.6326, 0.6174, 0.6125, 0.6128, 0.6071, 0.5827, 0.619,
     0.5885, 0.5464, 0.4842, 0.3245, 0.2802, 0.3054, 0.6233],
)


# Failed before issue 10 (IndexError in _crossing on short curves).
@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@example((np.array(SEED_33[0]), np.array(SEED_33[1])))
@given(curves())
def test_every_rule_gives_none_or_a_rate_inside_the_curve(curve):
    lrs, losses = curve
    all_of_them = lr_finder.suggest_all(lrs, losses)
    assert set(all_of_them) == set(lr_finder.SUGGESTIONS)
    for method in lr_finder.SUGGESTIONS:
        value = lr_finder.suggest(lrs, losses, method)
        assert value == all_of_them[method]
        if value is not None:
            assert math.isfinite(value) and value > 0
            lo, hi = float(lrs[0]), float(lrs[-1])
            # minimum/10 may sit a decade below the curve; the rest lie on it
            floor = lo / 10 if method == "minimum/10" else lo
            assert floor * (1 - 1e-9) <= value <= hi * (1 + 1e-9), (method, value, lo, hi)
