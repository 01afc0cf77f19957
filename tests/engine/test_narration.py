"""Narration of one step: the update with its numbers (right sign), the loss, and plain-words events."""
from __future__ import annotations

import math
from collections import namedtuple

import pytest

from gd_studio.engine import narration
from gd_studio.engine.narration import (
    CROSSED,
    DIVERGED,
    LOSS_UP,
    OVERSHOOT,
    STEP_BACK,
    ZIGZAG,
    Narration,
    describe_step,
    fmt,
    fmt_lr,
    fmt_ratio,
    narrate,
    narrate_last,
    threshold_remark,
)

Record = namedtuple("Record", "step lr loss watched_value watched_grad watched_next")


def test_the_issue_example_reads_exactly():
    n = describe_step(lr=0.5, w_before=1.2, w_after=0.78, grad=0.84, loss_before=0.98, loss_after=0.61)
    assert n.equation == "w ← w − r·dL/dw = 1.20 − 0.5 × 0.84 = 0.78"
    assert n.loss_line == "loss 0.98 → 0.61"
    assert n.events == ()
    assert str(n) == "w ← w − r·dL/dw = 1.20 − 0.5 × 0.84 = 0.78\nloss 0.98 → 0.61"
    assert n.lines() == [n.equation, n.loss_line]


def test_negative_gradient_is_bracketed_and_descent_subtracts():
    # The article writes x(n+1) = x(n) + dy/dx · r; the narration must show the minus.
    n = describe_step(lr=0.5, w_before=-0.5, w_after=-0.08, grad=-0.84, loss_before=2.0)
    assert n.equation == "w ← w − r·dL/dw = −0.50 − 0.5 × (−0.84) = −0.080"
    assert n.loss_line == "loss 2.00"
    assert "+ r" not in n.equation


def test_weight_name_is_used_throughout():
    n = describe_step(lr=0.1, w_before=0.3, w_after=0.25, grad=0.5, loss_before=1.0, loss_after=0.9,
                      weight_name="W1[0,3]")
    assert n.equation == "W1[0,3] ← W1[0,3] − r·dL/dW1[0,3] = 0.30 − 0.1 × 0.50 = 0.25"


def test_other_optimizers_show_their_own_step():
    n = describe_step(lr=0.01, w_before=1.2, w_after=1.19, grad=0.84, loss_before=0.98, loss_after=0.97,
                      optimizer="adam")
    assert n.equation == ("w ← w + Δw = 1.20 − 0.010 = 1.19  "
                          "(Δw is Adam's step, not just r·dL/dw: r = 0.01, dL/dw = 0.84)")
    n = describe_step(lr=0.1, w_before=0.2, w_after=0.5, grad=-1.0, loss_before=1.0, optimizer="momentum")
    assert n.equation.startswith("w ← w + Δw = 0.20 + 0.30 = 0.50  (Δw is momentum's step")


# Loss (w − 2)²: slope 2(w − 2), curvature λ = 2, so 1/λ = 0.5 and 2/λ = 1.
def _parabola_step(w, lr, thresholds=(0.5, 1.0), grad_prev=None, recent=()):
    grad = 2 * (w - 2)
    w_after = w - lr * grad
    return describe_step(lr=lr, w_before=w, w_after=w_after, grad=grad, loss_before=(w - 2) ** 2,
                         loss_after=(w_after - 2) ** 2, grad_after=2 * (w_after - 2), grad_prev=grad_prev,
                         thresholds=thresholds, recent_losses=recent)


def test_overshoot_beyond_two_over_lambda():
    n = _parabola_step(1.0, 1.2)
    assert n.equation == "w ← w − r·dL/dw = 1.00 − 1.2 × (−2.00) = 3.40"
    assert n.loss_line == "loss 1.00 → 1.96"
    assert n.events == (OVERSHOOT, "the LR is 1.2× the 2/λ threshold: each step lands farther from the "
                                   "minimum than it started")
    assert OVERSHOOT == "overshoot: the step crossed the minimum and the loss went up"


def test_stepping_too_far_but_converging_then_zig_zag():
    first = _parabola_step(1.0, 0.8)  # lands at 2.6: past the minimum, loss 1 → 0.36
    assert first.events == (CROSSED, "the LR is 1.6× the 1/λ threshold: each step goes past the minimum, "
                                     "but by less each time")
    second = _parabola_step(2.6, 0.8, grad_prev=-2.0)
    assert second.events[0] == ZIGZAG


def test_step_back_after_an_overshoot():
    # The previous step crossed (slope was −1, now +0.4); this one stays on the near side.
    n = describe_step(lr=0.5, w_before=2.2, w_after=2.0, grad=0.4, loss_before=0.04, loss_after=0.0,
                      grad_after=0.0, grad_prev=-1.0)
    assert STEP_BACK in n.events
    assert STEP_BACK == "step back towards the minimum"


def test_threshold_wording_from_the_issue():
    assert threshold_remark(0.85, (0.25, 0.5)) == (
        "the LR is 1.7× the 2/λ threshold: each step lands farther from the minimum than it started")


@pytest.mark.parametrize("lr, expected", [
    (0.005, "crawling: the LR is 0.01× the 1/λ threshold, so each step covers only 1% of the way to the minimum"),
    (0.15, "the LR is 0.3× the 1/λ threshold: each step covers about 30% of the way to the minimum"),
    (0.5, "the LR is about the 1/λ threshold: one step lands almost on the minimum"),
    (0.8, "the LR is 1.6× the 1/λ threshold: each step goes past the minimum, but by less each time"),
    (1.0, "the LR is at the 2/λ threshold: the steps bounce from side to side without getting closer"),
    (3.0, "the LR is 3× the 2/λ threshold: each step lands farther from the minimum than it started"),
    (25.0, "the LR is 25× the 2/λ threshold: each step lands farther from the minimum than it started"),
])
def test_threshold_remarks(lr, expected):
    assert threshold_remark(lr, (0.5, 1.0)) == expected


def test_no_threshold_remark_without_positive_curvature():
    assert threshold_remark(0.1, None) is None
    assert threshold_remark(0.1, (math.inf, math.inf)) is None
    assert threshold_remark(0.1, (-1.0, -2.0)) is None


def test_crawling_on_the_parabola():
    n = _parabola_step(1.0, 0.005)
    assert n.events == ("crawling: the LR is 0.01× the 1/λ threshold, so each step covers only 1% of the way "
                        "to the minimum",)


def test_diverging_after_three_rising_steps():
    # From w = 1 at r = 1.2 the distance to the minimum grows 1.4× a step: 1 → 3.4 → 0.04 → 4.7 …
    n = describe_step(lr=1.2, w_before=0.04, w_after=4.744, grad=-3.92, loss_before=3.8416,
                      loss_after=7.529536, grad_after=5.488, recent_losses=[1.0, 1.96, 3.8416, 7.529536])
    assert n.events == ("diverging: the loss went up 3 steps in a row", OVERSHOOT)
    two = describe_step(lr=1.2, w_before=1.0, w_after=3.4, grad=-2.0, loss_before=1.96, loss_after=3.84,
                        recent_losses=[1.0, 1.96, 3.84])
    assert not any(e.startswith("diverging") for e in two.events)  # two rises can be noise


def test_loss_up_without_crossing_and_diverged():
    up = describe_step(lr=0.1, w_before=1.0, w_after=0.9, grad=1.0, loss_before=1.0, loss_after=1.1,
                       grad_after=0.5)
    assert up.events == (LOSS_UP,)
    gone = describe_step(lr=10.0, w_before=1e200, w_after=math.inf, grad=1e200, loss_before=1e300,
                         loss_after=math.inf)
    assert gone.events == (DIVERGED,)
    assert gone.equation.endswith("= ∞")
    assert gone.loss_line == "loss 1.0e300 → ∞"


def test_converged_when_the_slope_is_flat():
    n = describe_step(lr=0.15, w_before=2.00001, w_after=2.000007, grad=2e-5, loss_before=1e-10,
                      loss_after=4.9e-11, grad_after=1.4e-5)
    assert n.events == ("converged: the slope is almost flat (|dL/dw| = 1.4e-5), so the steps are tiny",)


@pytest.mark.parametrize("x, text", [
    (0.0, "0.00"), (-0.0, "0.00"), (1.2, "1.20"), (0.84, "0.84"), (-0.84, "−0.84"), (0.05, "0.050"),
    (-0.0042, "−0.0042"), (12.345, "12.35"), (1234.5, "1234.5"), (12345.6, "1.2e4"), (3.2e-5, "3.2e-5"),
    (math.nan, "NaN"), (math.inf, "∞"), (-math.inf, "−∞"),
])
def test_fmt(x, text):
    assert fmt(x) == text


@pytest.mark.parametrize("lr, text", [(0.5, "0.5"), (0.15, "0.15"), (0.001, "0.001"), (3e-5, "3e-5"),
                                      (1.2345, "1.23"), (10.0, "10")])
def test_fmt_lr(lr, text):
    assert fmt_lr(lr) == text


@pytest.mark.parametrize("x, text", [(1.7, "1.7"), (0.01, "0.01"), (1.0, "1"), (12.3, "12"), (3e-5, "3e-5")])
def test_fmt_ratio(x, text):
    assert fmt_ratio(x) == text


def test_narrate_uses_consecutive_records():
    records = [Record(1, 0.8, 1.0, 1.0, -2.0, 2.6), Record(2, 0.8, 0.36, 2.6, 1.2, 1.64),
               Record(3, 0.8, 0.1296, 1.64, -0.72, 2.216)]
    assert narrate(records[:1]) is None
    n = narrate(records[:2], thresholds=(0.5, 1.0))
    assert n.equation == "w ← w − r·dL/dw = 1.00 − 0.8 × (−2.00) = 2.60"
    assert n.loss_line == "loss 1.00 → 0.36"
    assert n.events[0] == CROSSED
    n = narrate(records)
    assert n.loss_line == "loss 0.36 → 0.13"
    assert n.events == (ZIGZAG,)
    last = narrate_last(records, loss_after=(2.216 - 2) ** 2)
    assert last.equation == "w ← w − r·dL/dw = 1.64 − 0.8 × (−0.72) = 2.22"
    assert last.loss_line == "loss 0.13 → 0.047"
    assert narrate_last([]) is None
    assert isinstance(narrate_last(records), Narration)


def test_narration_of_a_real_run_counts_the_rising_streak():
    from gd_studio.engine import descent
    from gd_studio.engine.config import RunConfig

    config = RunConfig(dataset="line", dataset_params={"n_samples": 60, "noise": 0.1}, model="one_weight",
                       hidden=(), loss="mse", lr=1.2, batch_size=0, seed=1, watch="w", standardize=False,
                       val_fraction=0.0)
    records = descent.build(config).runner.run(8)
    n = narrate(records, thresholds=(0.5, 1.0))  # the line data is scaled so that λ = 2 exactly
    assert n.events[0] == "diverging: the loss went up 7 steps in a row"
    assert OVERSHOOT in n.events
    r = records[-2]
    assert n.equation == (f"w ← w − r·dL/dw = {fmt(r.watched_value)} − 1.2 × {narration._term(r.watched_grad)}"
                          f" = {fmt(r.watched_next)}")


def test_a_converged_run_never_says_the_loss_went_up():
    """At the minimum the recomputed loss wobbles in its last bits (0.010252356533093551 → …554): that is not a rise."""
    from gd_studio.engine import descent
    from gd_studio.engine.config import RunConfig

    config = RunConfig(dataset="line", dataset_params={"n_samples": 60, "noise": 0.1}, model="one_weight",
                       hidden=(), loss="mse", lr=0.3, batch_size=0, seed=1, watch="w", standardize=False,
                       val_fraction=0.0)
    records = descent.build(config).runner.run(60)
    assert any(b.loss > a.loss for a, b in zip(records[:-1], records[1:]))  # the wobble is there
    for i in range(2, len(records) + 1):
        events = narrate(records[:i]).events
        assert not any("went up" in e or "diverging" in e for e in events), (i, events)
    assert narrate(records).events[0].startswith("converged")


def test_a_flat_loss_is_called_converged_not_a_rise():
    loss = 0.010252356533093551
    n = describe_step(lr=0.3, w_before=1.0, w_after=1.0 - 3e-4, grad=1e-3, loss_before=loss,
                      loss_after=loss + 3e-18, grad_after=1e-3)
    assert LOSS_UP not in n.events
    assert n.events[0] == narration.FLAT
    # a real rise, however small in print, is still named
    assert describe_step(lr=0.3, w_before=1.0, w_after=1.0 - 3e-4, grad=1e-3, loss_before=loss,
                         loss_after=loss * (1 + 1e-9), grad_after=1e-3).events == (LOSS_UP,)


def test_a_mini_batch_step_uphill_along_the_weight_is_noise_not_an_overshoot():
    """The batch's gradient says "go left" while the training-set loss slopes down to the right: the step moves
    uphill along the weight without crossing the minimum; judging the crossing by the batch's gradient against
    the training-set slope after the step called it "overshoot: crossed the minimum"."""
    kw = dict(lr=0.1, w_before=1.0, w_after=0.9, grad=1.0, loss_before=0.50, loss_after=0.52, grad_after=-0.6)
    assert narration.OVERSHOOT in narration.describe_step(**kw).events  # full batch: the slope did change sign
    told = narration.describe_step(**kw, slope_before=-0.5).events
    assert narration.OVERSHOOT not in told and narration.CROSSED not in told
    assert told[0] == narration.UPHILL.format(n="w") + ", and the loss went up"
    # the same batch gradient, but the plotted slope really changed sign: that is a crossing
    assert narration.OVERSHOOT in narration.describe_step(**kw, slope_before=0.4).events
    # downhill along the weight and no crossing: nothing about noise
    down = narration.describe_step(**{**kw, "loss_after": 0.45, "grad_after": 0.3}, slope_before=0.5).events
    assert not any("mini-batch noise" in e for e in down)


def test_a_loss_that_went_up_never_reads_the_same_before_and_after():
    """Scenario 6 said "loss 0.075 → 0.075" beside "⚠ the loss went up": the rise was in the fourth digit."""
    n = narration.describe_step(lr=1.0, w_before=1.20, w_after=1.21, grad=-0.0042, loss_before=0.075341,
                                loss_after=0.075362)
    assert narration.LOSS_UP in n.events
    assert n.loss_line == "loss 0.0753 → 0.0754"  # one digit more than usual: enough to tell them apart
    assert narration.fmt_pair(0.98, 0.61) == ("0.98", "0.61")  # the usual two decimals when they differ
    assert narration.fmt_pair(2.001e-5, 2.004e-5) == ("2.001e-5", "2.004e-5")
    assert narration.fmt_pair(0.5, 0.5) == ("0.50", "0.50")
    assert narration.fmt_pair(0.1, 0.10000000000000003) == ("0.10", "0.10")  # last bits: no sixteen digits
