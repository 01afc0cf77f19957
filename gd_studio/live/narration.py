"""The narration of the latest step, computed in the worker: the update with its numbers and what happened.

Built from the engine's narration module, the runner's history and the loss where the step landed; the
narration panel only shows the dict it returns.
"""
from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from ..engine import narration

Record = namedtuple("Record", "step lr loss watched_value watched_grad watched_next")
LOOK_BACK = 16  # rows handed to the narrator: enough to count a rising streak ("diverging")
RUNNING_EVERY = 0.25  # seconds between narrations while running (nobody reads faster)
WARN = "⚠ "  # events that mean trouble carry a sign, not only a colour


def _records(runner, since: int) -> list[Record]:
    history = getattr(runner, "history", None)
    if history is None or not len(history):
        return []
    fields = history.fields
    rows = history.last(LOOK_BACK)
    idx = [fields.index(f) for f in Record._fields]
    i_step = fields.index("step")
    rows = rows[(rows[:, i_step] > since) & (rows[:, i_step] <= runner.step_count)]
    out = [Record(*(float(r[i]) for i in idx)) for r in rows]
    # only consecutive steps ending at the current one belong to this narration
    while len(out) >= 2 and int(out[-1].step) - int(out[-2].step) != 1:
        out = out[-1:]
    return out


def narrate_latest(session, runner, *, watch_index: int | None, watch_name: str, since: int, optimizer: str,
                   thresholds: tuple[float, float] | None, p_before: np.ndarray | None = None,
                   X=None, y=None, network: dict | None = None) -> dict | None:
    """What the panel shows for the newest step (None before the first step since ``since``).

    Full batch: the loss after the step and the slope there are the exact ones the next step would see.
    Mini-batch: with the weights before the step (a checkpoint), the loss before and after are both taken on
    the training set (or its fixed sample ``X, y``), so the two numbers compare; without them, the previous
    step is narrated from the two batch losses.
    """
    records = _records(runner, since)
    if not records:
        return None
    last = records[-1]
    step = int(last.step)
    name = "α" if watch_index is None else (watch_name or "w")
    model, train = session.model, session.train
    p_after = runner.params
    full_batch = bool(getattr(runner.sampler, "full_batch", False))
    note = ""
    landed = None  # the loss where the step landed, when it is known
    kw = dict(weight_name=name, optimizer=optimizer, thresholds=thresholds)
    if network:  # the whole network's λ_max and limit: what divergence statements are judged by
        kw.update(network)
    with np.errstate(all="ignore"):
        try:
            if full_batch:
                loss_after, g = model.loss_and_grad(p_after, train.X, train.y)
                grad_after = None if watch_index is None else float(g[watch_index])
                landed = float(loss_after)
                n = narration.narrate_last(records, loss_after=landed, grad_after=grad_after, **kw)
            elif p_before is not None and X is not None:
                loss_before, g0 = model.loss_and_grad(p_before, X, y)
                loss_after, g = model.loss_and_grad(p_after, X, y)
                grad_after = None if watch_index is None else float(g[watch_index])
                if watch_index is not None:  # the batch's gradient may point against the plotted loss's slope
                    kw["slope_before"] = float(g0[watch_index])
                recs = records[:-1] + [last._replace(loss=float(loss_before))]
                landed = float(loss_after)
                n = narration.narrate_last(recs, loss_after=float(loss_after), grad_after=grad_after, **kw)
                note = "loss on the training set; the step itself used one mini-batch's gradient"
            elif len(records) >= 2:
                n = narration.narrate(records, **kw)
                step -= 1
                note = "mini-batch: the previous step, from its batch loss to the next batch's"
            else:
                n = narration.narrate_last(records, **kw)
                note = "mini-batch: the loss of this step's batch"
        except Exception:  # noqa: BLE001 - a model that cannot say: narrate the step without the landing loss
            n = narration.narrate_last(records, **kw)
    if n is None:
        return None
    trouble = (narration.OVERSHOOT, narration.DIVERGED, narration.LOSS_UP)
    events = []
    for e in n.events:
        if e.startswith(narration.WARNING):  # the engine already marked it (the whole network's threshold)
            events.append(WARN + e[len(narration.WARNING):])
            continue
        bad = e in trouble or e.startswith("diverging") or "2/λ threshold:" in e
        events.append((WARN if bad else "• ") + e)
    return {"step": step, "equation": n.equation, "loss": n.loss_line, "events": tuple(events), "note": note,
            "lr": float(last.lr), "loss_after": landed if landed is not None and math.isfinite(landed) else None}


def thresholds_of(weight) -> tuple[float, float] | None:
    """(1/λ, 2/λ) from a snapshot's WeightView, when the slice curves up."""
    if weight is None or weight.oscillate_lr is None or weight.diverge_lr is None:
        return None
    osc, div = float(weight.oscillate_lr), float(weight.diverge_lr)
    return (osc, div) if math.isfinite(osc) and math.isfinite(div) else None


__all__ = ["narrate_latest", "thresholds_of", "Record", "RUNNING_EVERY"]
