"""Plain-words narration of one descent step from its numbers: the update with values, the loss, and what happened.

The update is written with the right sign, ``w ← w − r·dL/dw`` (the article's ``x(n+1) = x(n) + dy/dx · r``
has a + by mistake). Numbers use the Unicode minus sign so the equation reads as typeset maths.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import fmt as _fmt

MINUS = "\u2212"
OPTIMIZER_LABELS = {"sgd": "SGD", "momentum": "momentum", "nesterov": "Nesterov momentum",
                    "rmsprop": "RMSprop", "adam": "Adam"}

OVERSHOOT = "overshoot: the step crossed the minimum and the loss went up"
UPHILL = "mini-batch noise: this batch's gradient pointed the other way, so {n} moved uphill on the training-set loss"
CROSSED = "stepped past the minimum: the slope changed sign, but the loss still fell"
ZIGZAG = "zig-zag: the step went back across the minimum, and the loss still fell"
STEP_BACK = "step back towards the minimum"
LOSS_UP = "the loss went up"
FLAT = "converged: the loss no longer changes (the change is below float precision)"
DIVERGED = "diverged: the loss is no longer a finite number"
DIVERGE_STEPS = 3  # loss up this many steps in a row is called diverging (one or two can be batch noise)
_LOOK_BACK = 1000  # narrate() counts a rising streak this far back
# a loss change within this fraction of the loss is rounding, not a rise: far above float64's error on a mean of
# thousands of terms (~1e-14), far below any change the printed digits could show. At a minimum the same loss
# recomputed wobbles in its last bits, and "the loss went up" there would be false.
LOSS_RTOL = 1e-12


def rose(before: float, after: float) -> bool:
    """Whether the loss went from ``before`` to ``after`` by more than rounding."""
    before, after = float(before), float(after)
    return after - before > LOSS_RTOL * max(abs(before), abs(after))


def flat(before: float, after: float) -> bool:
    """Whether the two losses differ by rounding only."""
    before, after = float(before), float(after)
    return abs(after - before) <= LOSS_RTOL * max(abs(before), abs(after))


@dataclass(frozen=True)
class Narration:
    """What the narration panel shows for one step."""

    equation: str  # e.g. "w ← w − r·dL/dw = 1.20 − 0.5 × 0.84 = 0.78"
    loss_line: str  # e.g. "loss 0.98 → 0.61"
    events: tuple[str, ...] = ()  # plain-words remarks, most important first

    def lines(self) -> list[str]:
        return [self.equation, self.loss_line, *self.events]

    def __str__(self) -> str:
        return "\n".join(self.lines())


def fmt(x: float, extra: int = 0) -> str:
    """A weight, gradient or loss for reading aloud: two decimals, more for small values, e-notation at the ends.

    ``extra`` more digits (fmt_pair: two numbers that differ must not read the same)."""
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "∞" if x > 0 else MINUS + "∞"
    a = abs(x)
    if a == 0.0:
        return "0.00"
    if 1e-3 <= a < 1e4:
        decimals = 1 if a >= 100 else max(2, 1 - math.floor(math.log10(a)))  # at least two significant figures
        text = f"{a:.{decimals + extra}f}"
    else:
        text = _exp(f"{a:.{1 + extra}e}")
    if float(text) == 0.0:
        return "0.00"
    return (MINUS if x < 0 else "") + text


def fmt_pair(before: float, after: float) -> tuple[str, str]:
    """Two values read side by side ("loss 0.0752 → 0.0753"): as fmt, with just enough more digits that values
    which differ never read the same ("loss 0.075 → 0.075" beside "the loss went up")."""
    a, b = fmt(before), fmt(after)
    if a != b or float(before) == float(after) or not (math.isfinite(before) and math.isfinite(after)):
        return a, b
    for extra in range(1, 15):
        more = fmt(before, extra), fmt(after, extra)
        if more[0] != more[1]:
            return more
    return a, b  # a difference in the last bits: not worth sixteen digits


def fmt_lr(lr: float) -> str:
    """A learning rate as typed: up to three significant figures (0.5, 0.003, 1.2e-5)."""
    lr = float(lr)
    if not math.isfinite(lr):
        return fmt(lr)
    return _fmt.fmt_lr(lr)


def fmt_ratio(x: float) -> str:
    """A ratio of learning rates: 1.7, 0.01, 12."""
    return f"{x:.0f}" if x >= 10 else _exp(f"{x:.2g}")


def _exp(text: str) -> str:
    # "1.2e-05" -> "1.2e-5": the padded exponent is a C habit nobody reads aloud.
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    return f"{mantissa}e{int(exponent)}"


def _term(x: float) -> str:
    """A number as the second operand of a product: negatives in brackets."""
    text = fmt(x)
    return f"({text})" if text.startswith(MINUS) else text


def describe_step(
    *,
    lr: float,
    w_before: float,
    w_after: float,
    grad: float,
    loss_before: float,
    loss_after: float | None = None,
    grad_after: float | None = None,
    grad_prev: float | None = None,
    weight_name: str = "w",
    optimizer: str = "sgd",
    thresholds: tuple[float, float] | None = None,
    recent_losses: Sequence[float] = (),
    grad_tol: float = 1e-4,
    sharpness: float | None = None,
    limit: float | None = None,
    limit_label: str = "2/η",
    slope_before: float | None = None,
) -> Narration:
    """Narrate the step that moved ``weight_name`` from ``w_before`` to ``w_after``.

    ``grad`` is dL/dw at ``w_before`` and ``loss_before`` the loss there; ``loss_after`` and ``grad_after`` are
    the loss and slope where the step landed (None when not known yet), ``grad_prev`` the slope one step
    earlier. ``thresholds`` is ``(1/λ, 2/λ)`` from landscape.lr_thresholds, for the local curvature λ along
    the weight. ``recent_losses`` lists the losses so far, oldest first, ending with ``loss_after``.

    ``sharpness`` is the whole network's λ_max (hessian.sharpness, or the preconditioned one for Adam and
    RMSProp) and ``limit`` the optimizer's stability threshold on it (default 2/lr, labelled ``limit_label``).
    When it is given, every statement about divergence uses it (stability_remark); the curvature along the
    watched weight then only says how far a step goes along that weight, since a diagonal entry of the
    Hessian never exceeds λ_max and its 2/λ can only overstate the safe rate.

    ``slope_before`` is the slope of the *plotted* loss at ``w_before`` when the step's own gradient ``grad``
    is a mini-batch's: crossing the minimum is then judged by the plotted loss's slope before and after, and a
    step that the batch sent uphill along the weight is called that rather than an overshoot.
    """
    n = weight_name or "w"
    if optimizer == "sgd":
        equation = (f"{n} ← {n} {MINUS} r·dL/d{n} = {fmt(w_before)} {MINUS} {fmt_lr(lr)} × {_term(grad)}"
                    f" = {fmt(w_after)}")
    else:
        label = OPTIMIZER_LABELS.get(optimizer, optimizer)
        delta = float(w_after) - float(w_before)
        sign = MINUS if delta < 0 else "+"
        equation = (f"{n} ← {n} + Δ{n} = {fmt(w_before)} {sign} {fmt(abs(delta))} = {fmt(w_after)}"
                    f"  (Δ{n} is {label}'s step, not just r·dL/d{n}: r = {fmt_lr(lr)}, dL/d{n} = {fmt(grad)})")

    loss_line = f"loss {fmt(loss_before)}" if loss_after is None else "loss {} → {}".format(
        *fmt_pair(loss_before, loss_after))

    events: list[str] = []
    finite_after = loss_after is None or math.isfinite(loss_after)
    if not finite_after or not math.isfinite(w_after):
        events.append(DIVERGED)
    else:
        went_up = loss_after is not None and rose(loss_before, loss_after)
        slope = grad if slope_before is None else slope_before
        crossed = grad_after is not None and slope * grad_after < 0
        # the previous step crossed the minimum; with mini-batches the earlier slope of the plotted loss is unknown
        came_across = slope_before is None and grad_prev is not None and grad_prev * grad < 0
        uphill = (slope_before is not None and not crossed and slope_before != 0
                  and (float(w_after) - float(w_before)) * slope_before > 0)
        if crossed and went_up:
            events.append(OVERSHOOT)
        elif crossed:
            events.append(ZIGZAG if came_across else CROSSED)
        elif uphill:
            events.append(UPHILL.format(n=n) + (", and the loss went up" if went_up else ""))
        elif went_up:
            events.append(LOSS_UP)
        elif came_across:
            events.append(STEP_BACK)
        rising = _rising_steps(recent_losses)
        if went_up and rising >= DIVERGE_STEPS:
            events.insert(0, f"diverging: the loss went up {rising} steps in a row")
        slope = abs(grad_after) if grad_after is not None else abs(grad)
        if slope <= grad_tol and not went_up:
            events.insert(0, f"converged: the slope is almost flat (|dL/d{n}| = {fmt(slope)}), so the steps are tiny")
        elif loss_after is not None and flat(loss_before, loss_after) and not (crossed or came_across):
            events.insert(0, FLAT)
    if sharpness is None:
        remark = threshold_remark(lr, thresholds)
        if remark:
            events.append(remark)
        return Narration(equation, loss_line, tuple(events))
    network = stability_remark(lr, sharpness, limit=limit, label=limit_label, recent_losses=recent_losses)
    along = threshold_remark(lr, thresholds)
    if along and "2/λ" in along:
        along = None  # the whole network's remark speaks about divergence
    if network and network.startswith(WARNING):
        events.insert(0, network)
        network = None
    for remark in (along and f"along {n}: {along}", network):
        if remark:
            events.append(remark)
    return Narration(equation, loss_line, tuple(events))


def _rising_steps(losses: Sequence[float]) -> int:
    """How many of the last steps raised the loss, counting back from the newest."""
    count = 0
    values = [float(v) for v in losses]
    for newer, older in zip(reversed(values[1:]), reversed(values[:-1])):
        if not rose(older, newer):
            break
        count += 1
    return count


def threshold_remark(lr: float, thresholds: tuple[float, float] | None) -> str | None:
    """Where ``lr`` sits against 1/λ (a step lands on a quadratic's minimum) and 2/λ (steps stop shrinking).

    On a quadratic with curvature λ each plain step scales the distance to the minimum by (1 − r·λ).
    """
    if thresholds is None:
        return None
    osc, div = (float(t) for t in thresholds)
    if not (math.isfinite(osc) and math.isfinite(div) and osc > 0 and div > 0):
        return None  # flat or curving down: no LR oscillates here
    lr = float(lr)
    if lr > 1.02 * div:
        return (f"the LR is {fmt_ratio(lr / div)}× the 2/λ threshold: "
                "each step lands farther from the minimum than it started")
    if lr >= 0.98 * div:
        return "the LR is at the 2/λ threshold: the steps bounce from side to side without getting closer"
    ratio = lr / osc
    if ratio > 1.05:
        return (f"the LR is {fmt_ratio(ratio)}× the 1/λ threshold: "
                "each step goes past the minimum, but by less each time")
    if ratio >= 0.95:
        return "the LR is about the 1/λ threshold: one step lands almost on the minimum"
    share = f"{100 * ratio:.2g}%"
    if ratio < 0.1:
        return (f"crawling: the LR is {fmt_ratio(ratio)}× the 1/λ threshold, "
                f"so each step covers only {share} of the way to the minimum")
    return f"the LR is {fmt_ratio(ratio)}× the 1/λ threshold: each step covers about {share} of the way to the minimum"


WARNING = "⚠ "
EDGE_BAND = (0.9, 1.1)  # sharpness within this share of the limit is called the edge of stability


def _limit_text(value: float) -> str:
    # sharpness under Adam runs to thousands: whole numbers read better there than fmt's 3800.0
    return f"{value:.0f}" if 100 <= abs(value) < 1e6 else fmt(value)


def stability_remark(lr: float, sharpness: float, *, limit: float | None = None, label: str = "2/η",
                     recent_losses: Sequence[float] = ()) -> str | None:
    """The whole network against its stability limit, in the article's voice, with numbers.

    ``sharpness`` is λ_max (or λ_max of P⁻¹H for Adam/RMSProp), ``limit`` the optimizer's threshold on it
    (default 2/lr, SGD's, written ``label``). On a quadratic, sharpness above the limit means divergence
    along the sharpest direction; on a network, full-batch descent drives the sharpness up to the limit
    and hovers there while the loss keeps falling, unevenly: the edge of stability (Cohen et al., ICLR 2021).
    ``recent_losses`` (oldest first) lets the remark say whether the loss still falls.
    """
    lr, s = float(lr), float(sharpness)
    if limit is None:
        limit = 2.0 / lr if lr > 0 else math.inf
    limit = float(limit)
    if not (math.isfinite(s) and math.isfinite(limit) and limit > 0):
        return None
    if s <= 0:
        return "no positive curvature anywhere in the network here: no learning rate overshoots at this point"
    ratio = s / limit
    plain = label == "2/η"  # plain descent: the limit on λ_max is the limit 2/λ_max on the LR
    if ratio < EDGE_BAND[0]:
        if plain:
            return (f"the LR is {fmt_ratio(ratio)}× the 2/λ_max threshold (2/λ_max = {fmt(2.0 / s)}): "
                    "stable along every direction of the network")
        return (f"sharpness {_limit_text(s)}, limit {label} = {_limit_text(limit)}: "
                "below the limit, stable along every direction of the network")
    if ratio <= EDGE_BAND[1]:
        head = f"sharpness {_limit_text(s)}, limit {label} = {_limit_text(limit)}: at the edge of stability"
        values = [float(v) for v in recent_losses if math.isfinite(float(v))][-50:]
        if len(values) >= 3:
            falls = values[-1] < values[0]
            rises = any(rose(a, b) for a, b in zip(values[:-1], values[1:]))
            if falls and rises:
                return head + " — the loss still falls, but not monotonically"
            if falls:
                return head + " — the loss still falls"
            return head + " — the loss has stopped falling"
        return head + " — the sharpest direction is on the brink: steps along it bounce without shrinking"
    if plain:
        return (f"{WARNING}the LR is {fmt_ratio(ratio)}× the 2/λ_max threshold (2/λ_max = {fmt(2.0 / s)}): "
                "along the network's sharpest direction each step lands farther from the minimum than it started")
    return (f"{WARNING}sharpness {_limit_text(s)} is {fmt_ratio(ratio)}× the limit {label} = {_limit_text(limit)}: "
            "along the sharpest direction the steps grow")


def weight_caption(weight_name: str, curvature: float, sharpness: float, lr: float) -> str:
    """The loss-vs-weight caption: the watched weight's own 2/λ next to the whole network's 2/λ_max.

    e.g. "along W1[0,0]: 2/λ = 9.40; whole network: 2/λ_max = 0.90, this LR is 1.1× that". The first can
    only overstate the safe LR (a diagonal entry of the Hessian never exceeds λ_max); the second is the limit.
    """
    lam, lam_max, lr = float(curvature), float(sharpness), float(lr)
    along = (f"along {weight_name}: 2/λ = {fmt(2.0 / lam)}" if math.isfinite(lam) and lam > 0
             else f"along {weight_name}: no curvature (flat or bending down), no 2/λ")
    if not (math.isfinite(lam_max) and lam_max > 0):
        return f"{along}; whole network: no positive curvature, no 2/λ_max"
    limit = 2.0 / lam_max
    return f"{along}; whole network: 2/λ_max = {fmt(limit)}, this LR is {fmt_ratio(lr / limit)}× that"


def narrate(
    records: Sequence[Any],
    *,
    weight_name: str = "w",
    optimizer: str = "sgd",
    thresholds: tuple[float, float] | None = None,
    grad_tol: float = 1e-4,
    **network: Any,
) -> Narration | None:
    """Narrate the step of ``records[-2]``, whose landing point ``records[-1]`` describes (StepRecords, oldest first).

    A record holds the loss, the watched weight and its gradient where its step started, and the weight
    where it landed (``watched_next``); the next record holds the loss and slope there. None until there
    are two records. For the newest step alone, see ``narrate_last``. ``network`` takes describe_step's
    ``sharpness``, ``limit`` and ``limit_label``, so divergence is judged by the whole network's λ_max.
    """
    if len(records) < 2:
        return None
    after = records[-1]
    return _narrate(records[:-1], after.loss, after.watched_grad, weight_name=weight_name, optimizer=optimizer,
                    thresholds=thresholds, grad_tol=grad_tol, **network)


def narrate_last(
    records: Sequence[Any],
    *,
    loss_after: float | None = None,
    grad_after: float | None = None,
    weight_name: str = "w",
    optimizer: str = "sgd",
    thresholds: tuple[float, float] | None = None,
    grad_tol: float = 1e-4,
    **network: Any,
) -> Narration | None:
    """Narrate the newest step, ``records[-1]``; pass the loss and slope where it landed when known.

    The window can get them without stepping again (e.g. the full-batch loss at the new weights), so the
    narration keeps up with the step just taken. None when there are no records.
    """
    if not records:
        return None
    return _narrate(records, loss_after, grad_after, weight_name=weight_name, optimizer=optimizer,
                    thresholds=thresholds, grad_tol=grad_tol, **network)


def _narrate(records: Sequence[Any], loss_after: float | None, grad_after: float | None, **kw: Any) -> Narration:
    step = records[-1]
    prev = records[-2] if len(records) >= 2 else None
    recent = [r.loss for r in records[-_LOOK_BACK:]]
    if loss_after is not None:
        recent.append(loss_after)
    return describe_step(
        lr=step.lr,
        w_before=step.watched_value,
        w_after=step.watched_next,
        grad=step.watched_grad,
        loss_before=step.loss,
        loss_after=loss_after,
        grad_after=grad_after,
        grad_prev=None if prev is None else prev.watched_grad,
        recent_losses=recent,
        **kw,
    )
