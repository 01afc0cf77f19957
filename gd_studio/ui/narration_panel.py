"""The narration panel: the latest step's update with its numbers, the loss before and after, and what happened.

The text is computed in the worker thread (``narrate_latest``, from the engine's narration module, the
runner's history and the loss where the step landed) and travels in the snapshot; the panel only shows it.
"""
from __future__ import annotations

import math
import time
from collections import namedtuple

import numpy as np
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout

from ..engine import narration
from .views import Caption

Record = namedtuple("Record", "step lr loss watched_value watched_grad watched_next")
LOOK_BACK = 16  # rows handed to the narrator: enough to count a rising streak ("diverging")
PLACEHOLDER = "Take a step (→) and its update is written out here, with the numbers."
RUNNING_EVERY = 0.25  # seconds between narrations while running (nobody reads faster)
SIZES = (0.95, 1.55, 1.35, 1.35)  # title, equation, loss, events: × the panel's font
COMPACT_SIZES = (0.95, 1.2, 1.0, 1.0)
FULL_EVENT_LINES = 3
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
                   X=None, y=None) -> dict | None:
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
    kw = dict(weight_name=name, optimizer=optimizer, thresholds=thresholds)
    with np.errstate(all="ignore"):
        try:
            if full_batch:
                loss_after, g = model.loss_and_grad(p_after, train.X, train.y)
                grad_after = None if watch_index is None else float(g[watch_index])
                n = narration.narrate_last(records, loss_after=float(loss_after), grad_after=grad_after, **kw)
            elif p_before is not None and X is not None:
                loss_before = float(model.loss(p_before, X, y))
                loss_after, g = model.loss_and_grad(p_after, X, y)
                grad_after = None if watch_index is None else float(g[watch_index])
                recs = records[:-1] + [last._replace(loss=loss_before)]
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
        bad = e in trouble or e.startswith("diverging") or "2/λ threshold:" in e
        events.append((WARN if bad else "• ") + e)
    return {"step": step, "equation": n.equation, "loss": n.loss_line, "events": tuple(events), "note": note,
            "lr": float(last.lr)}


class NarrationPanel(QFrame):
    """Large, plain text: the update with its numbers, the loss, and the events in words."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("narrationPanel")
        self.setAccessibleName("narration of the latest step")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 4, 10, 6)
        lay.setSpacing(2)
        self.title = QLabel("")
        self.title.setObjectName("narrationTitle")
        self.equation = QLabel(PLACEHOLDER)
        self.equation.setObjectName("narrationEquation")
        self.loss = QLabel("")
        self.loss.setObjectName("narrationLoss")
        # the events elide to their lines (the whole text in the tooltip): compact mode keeps one line
        self.events = Caption("", lines=3)
        self.events.setObjectName("narrationEvents")
        self.compact = False
        self._event_lines = FULL_EVENT_LINES
        self._set_fonts()
        # compact mode has no title row: the step number sits at the right of the loss line instead
        self.step_tag = QLabel("")
        self.step_tag.setObjectName("narrationStep")
        self.step_tag.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.step_tag.hide()
        for lab in (self.title, self.equation, self.loss, self.events):
            lab.setTextFormat(Qt.TextFormat.PlainText)
            lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            lab.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            if lab is self.loss:
                row = QHBoxLayout()
                row.setSpacing(12)
                row.addWidget(lab, 1)
                row.addWidget(self.step_tag)
                lay.addLayout(row)
            else:
                lay.addWidget(lab)
        lay.addStretch(1)
        self.data: dict | None = None

    def _set_fonts(self) -> None:
        # sizes relative to the panel's font, so a theme or presentation scale change carries over
        base = QFont(self.font())
        pt = base.pointSizeF() if base.pointSizeF() > 0 else 10.0
        # compact (presentation mode, short windows): the equation, the loss and one line of events
        sizes = COMPACT_SIZES if self.compact else SIZES
        for lab, k, bold in ((self.title, sizes[0], False), (self.equation, sizes[1], True),
                             (self.loss, sizes[2], False), (self.events, sizes[3], False)):
            f = QFont(base)
            f.setPointSizeF(pt * k)
            f.setBold(bold)
            lab.setFont(f)
        self.events.set_lines(self._event_lines)
        self.title.setVisible(not self.compact)
        if hasattr(self, "step_tag"):
            self.step_tag.setFont(self.loss.font())
            self.step_tag.setVisible(self.compact)

        # fixed heights: new text must not re-layout (and so repaint) the whole window while running
        for lab, lines in ((self.title, 1), (self.equation, 1), (self.loss, 1), (self.events, self.events.lines())):
            lab.setFixedHeight(lab.fontMetrics().lineSpacing() * lines + 4)

    def set_compact(self, on: bool, event_lines: int = 1) -> None:
        """Fewer, smaller lines: the panel takes less height from the plots (the whole text stays in tooltips)."""
        lines = event_lines if on else FULL_EVENT_LINES
        if bool(on) != self.compact or lines != self._event_lines:
            self.compact = bool(on)
            self._event_lines = lines
            self._set_fonts()
            self._render()

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.FontChange:
            self._set_fonts()
        super().changeEvent(event)

    def show_narration(self, data: dict | None) -> None:
        if data == self.data:
            return  # identical text: no relayout, no repaint
        self.data = data
        self._render()

    def _render(self) -> None:
        data = self.data
        if data is None:
            self.clear()
            return
        head = f"Step {data['step']}"
        if data.get("note"):
            head += f" ({data['note']})"
        self.title.setText(head)
        self.title.setToolTip(head)
        self.equation.setText(data["equation"])
        self.loss.setText(data["loss"])
        self.step_tag.setText(f"step {data['step']}")
        self.step_tag.setToolTip(head)  # with the note, which compact mode has no room for
        self.events.setText("\n".join(data["events"]))

    def clear(self) -> None:
        self.data = None
        self.title.setText("")
        self.step_tag.setText("")
        self.equation.setText(PLACEHOLDER)
        self.loss.setText("")
        self.events.setText("")

    def text(self) -> str:
        """Everything shown, as plain text (tests and screen readers)."""
        return "\n".join(t for t in (self.title.text(), self.equation.text(), self.loss.text(),
                                     self.events.text()) if t)


def narration_for(worker, weight) -> dict | None:
    """The worker's narration for its snapshot (in its thread); a few times a second while running."""
    runner = worker.session.runner
    tl = worker._timeline
    key = (worker.generation, int(runner.step_count), worker._watch_name, tl.watch_since)
    cache = worker._narration_cache
    now = time.perf_counter()
    if cache is not None and (cache[1] == key or (worker.running and now - cache[0] < RUNNING_EVERY)):
        return cache[2]
    try:
        data = narrate_latest(worker.session, runner, watch_index=worker._watch_index,
                              watch_name=worker._watch_name, since=tl.watch_since,
                              optimizer=worker.config.optimizer if worker.config is not None else "sgd",
                              thresholds=thresholds_of(weight), p_before=tl.store.params_at(runner.step_count - 1),
                              X=worker._slice_X, y=worker._slice_y)
    except Exception:  # noqa: BLE001 - narration must never stop a run
        data = None
    worker._narration_cache = (now, key, data)
    return data


def thresholds_of(weight) -> tuple[float, float] | None:
    """(1/λ, 2/λ) from a snapshot's WeightView, when the slice curves up."""
    if weight is None or weight.oscillate_lr is None or weight.diverge_lr is None:
        return None
    osc, div = float(weight.oscillate_lr), float(weight.diverge_lr)
    return (osc, div) if math.isfinite(osc) and math.isfinite(div) else None


__all__ = ["NarrationPanel", "narrate_latest", "thresholds_of"]
