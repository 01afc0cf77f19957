"""The loss-vs-weight view: the loss along one weight, the steps drawn on it as points and arrows."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QWidget

from ..adapters import fmt_lr
from .common import (DotsItem, ElidedLabel, BLUE, VERMILLION, ORANGE, GREY, pen, empty, set_xy, HoverReadout, ArrowsItem, Caption, titled,
                     FollowRange, LogDecadeAxis, new_plot, plot_font, strip_legend)

FOLLOW_STEPS = 5  # the view keeps this many recent steps (and the bowl's bottom) in sight
MIN_WIDTH_SHARE = 0.3  # of the slice: around tiny steps the bowl's shape still shows
# the widest header the title row must hold for the header to stay there (3 significant digits each): where the row
# has less room the header joins the caption, which wraps, so where it goes follows from the width, not from digits
WIDEST_STEP_TEXT = "|Δw| 0.000123 · Δloss −0.000123"


class LossVsWeightView(QWidget):
    """The loss along the watched weight, every step a point and an arrow on it.

    The axes follow the action: the last few steps, the current point and the bowl's bottom stay in view (with
    smooth moves), so overshoot and divergence are seen while the loss grows by orders of magnitude; "log loss"
    shows the loss on a log axis; the header names the last step's size and the loss change.
    """

    logLossChanged = Signal(bool)

    def __init__(self) -> None:
        super().__init__()
        self.plot = new_plot("lossVsWeightPlot")
        old_axis = self.plot.getPlotItem().getAxis("left")
        axis = LogDecadeAxis("left", minor=True)
        axis.setCacheMode(old_axis.cacheMode())
        axis.enableAutoSIPrefix(False)
        axis.setTickFont(plot_font(1.0))
        axis.label.setFont(plot_font(1.0))
        self.plot.getPlotItem().setAxisItems({"left": axis})
        self.caption = Caption("")
        self.log_loss = QCheckBox("log loss")
        self.log_loss.setObjectName("logLossToggle")
        self.log_loss.setToolTip("Loss on a log axis: a loss growing by orders of magnitude stays readable (Y)")
        extra = QWidget()
        el = QHBoxLayout(extra)
        el.setContentsMargins(0, 0, 0, 0)
        el.addWidget(self.log_loss)
        # the last step's size and loss change: in the title row's free room, outside the data and without a row of
        # its own; where that room is too short for it (a narrow view at 720p elided it to "…"), it ends the
        # caption instead, which wraps
        self.step_label = ElidedLabel("")
        self.step_label.setObjectName("weightStepLabel")
        self.step_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._step_text_now = ""
        self._caption_now = ""
        self.header_inline = True
        self.compact = False
        self._caption_detail = ""
        self._room_watch = _RoomWatch(self._place_step_text)
        self.step_label.installEventFilter(self._room_watch)
        self.widget = titled("Loss vs weight", self.plot, self.caption, extra, note=self.step_label)
        pi = self.plot.getPlotItem()
        pi.setLabel("left", "loss")
        self.curve = pg.PlotDataItem(pen=pen(GREY, 3.0))
        self.curve.setZValue(1)
        pi.addItem(self.curve)
        self.arrows = ArrowsItem()
        self.arrows.setZValue(5)
        pi.addItem(self.arrows)
        self.points = DotsItem(size=9, brush=pg.mkBrush(BLUE), pen=pg.mkPen("#FFFFFF", width=1))
        self.points.setZValue(6)
        pi.addItem(self.points)
        self.current = pg.ScatterPlotItem(size=17, symbol="o", brush=pg.mkBrush(ORANGE),
                                          pen=pg.mkPen("#000000", width=2))
        self.current.setZValue(7)
        pi.addItem(self.current)
        # the overshoot differs by more than colour (dashed shaft, open head): the legend says so (its tooltip
        # names the open head, too)
        self.legend = strip_legend(pi)
        self.legend_down = pg.PlotDataItem(pen=pen(BLUE, 2.5))
        up_pen = pen(VERMILLION, 2.5, Qt.PenStyle.CustomDashLine)
        up_pen.setDashPattern([2.2, 1.8])  # as the arrows' shafts: short dashes, visible in a 20 px sample
        self.legend_up = pg.PlotDataItem(pen=up_pen)
        self.legend.addItem(self.legend_down, "loss fell")
        self.legend.addItem(self.legend_up, "loss rose (dashed)")
        # in a narrow title row, beside "Loss vs weight" (half a 720p window's grid): the samples show the styles
        self.legend.short_names = {"loss fell": "fell", "loss rose (dashed)": "rose"}
        self.legend.fit_row()
        self.legend.setToolTip("Each step is an arrow from w_t to w_t+1. Where the loss rose (an overshoot) the "
                               "arrow is vermillion, dashed, with an open head; where it fell, blue and solid.")
        self.view = None
        self._curve_key = None  # how the curve item's slice is shown: (log axis, log floor)
        self._curve_src = None  # the slice's arrays it shows
        self.mode = "run"  # or "range test"
        self.hover = HoverReadout(self.plot, self._hover_points)
        pi.vb.disableAutoRange()
        self.follow = FollowRange(pi.vb, pad=0.08, fill=0.4)
        self.plot.sticky = [self.follow]
        self.follow.margin_px = lambda: 0.5 * float(self.current.opts.get("size", 17)) + 3  # the ball's radius
        self.log_loss.toggled.connect(self._log_toggled)

    def arrow_count(self) -> int:
        return self.arrows.count()

    def _log_toggled(self, on: bool) -> None:
        self.plot.getPlotItem().getAxis("left").setLogMode(bool(on))
        self.plot.refit()
        if self.view is not None:
            self.show_view(self.view, self.mode)
        self.logLossChanged.emit(bool(on))

    def y_of(self, loss) -> np.ndarray:
        """Losses in view coordinates: log10 on the log axis (from a floor below the smallest positive loss)."""
        loss = np.asarray(loss, dtype=np.float64)
        if not self.log_loss.isChecked():
            return loss
        floor = getattr(self, "_floor", 1e-12)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log10(np.maximum(loss, floor))

    DEFAULT_RANGE = ((-1.0, 1.0), (0.0, 1.0))

    def clear(self) -> None:
        self.view = None
        self.plot.refit()
        # a new run starts from the same axes as a fresh window, not the last run's (a diverged one's ±300)
        (x0, x1), (y0, y1) = self.DEFAULT_RANGE
        self.plot.getPlotItem().vb.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        self._step_text_now = self._caption_now = ""
        self._place_step_text()
        self._curve_key = self._curve_src = None
        self.curve.setData([], [])
        self.points.setData([], [])
        self.current.setData([], [])
        self.arrows.setArrows(empty(), empty(), np.zeros(0, bool))

    def show_view(self, view, mode: str = "run", note: str = "", live: bool = False) -> None:
        if view is None:
            return
        if mode != self.mode:
            self.plot.refit()  # a range test's walk and the run's steps are framed each on their own
        self.view = view
        self.mode = mode
        cw_all, cl_all = np.asarray(view.curve_w, dtype=np.float64), np.asarray(view.curve_loss, dtype=np.float64)
        w, l = np.asarray(view.trail_w, dtype=np.float64), np.asarray(view.trail_loss, dtype=np.float64)
        ok = np.isfinite(w) & np.isfinite(l)
        w, l = w[ok], l[ok]
        positive = np.concatenate([cl_all[cl_all > 0], l[l > 0]])
        self._floor = float(positive.min()) * 1e-3 if positive.size else 1e-12
        # the slice is refreshed only now and then while running: the same arrays (and the same log floor) are
        # not handed to the curve again, which would rebuild its path and repaint it for nothing
        curve_key = (self.log_loss.isChecked(), self._floor if self.log_loss.isChecked() else None)
        src = self._curve_src
        if curve_key != self._curve_key or src is None or src[0] is not view.curve_w or src[1] is not view.curve_loss:
            set_xy(self.curve, cw_all, self.y_of(cl_all))
            self._curve_key, self._curve_src = curve_key, (view.curve_w, view.curve_loss)
        went_up = np.zeros(max(len(l) - 1, 0), dtype=bool)
        crossed = went_up.copy()
        cl = cl_all
        if len(l) > 1 and cl.size:
            span = float(cl.max() - cl.min()) or 1.0
            w_min = float(cw_all[int(np.argmin(cl))])
            # "went up" means visibly up on this curve, not float noise near a converged minimum
            went_up = (l[1:] - l[:-1]) > 2e-3 * span
            crossed = np.sign(w[1:] - w_min) * np.sign(w[:-1] - w_min) < 0
        ly = self.y_of(l)
        self.arrows.setArrows(w, ly, went_up)
        self.points.setData(x=w, y=ly)
        cur_ok = math.isfinite(view.current_w) and math.isfinite(view.current_loss)
        if cur_ok:
            self.current.setData([view.current_w], list(self.y_of([view.current_loss])))
        else:
            self.current.setData([], [])
        pi = self.plot.getPlotItem()
        if pi.getAxis("bottom").labelText != view.axis_label:
            pi.setLabel("bottom", view.axis_label)
            self.plot.refit()
        box = self.focus_box(view, w, l, cur_ok)
        if box is not None:
            self.follow.fit(*box, live=live)
        self._step_text_now = self._step_text(w, l)
        self._caption_now = self._describe(view, mode, note or view.note, went_up & crossed, w)
        # the last step's values are the step-by-step equation's and its size the header's: a short window's caption
        # leaves them out (a line of a 720p plot), its tooltip keeps them
        self._caption_detail = ""
        if self.compact:
            short = self._describe(view, mode, note or view.note, went_up & crossed, w, last=False)
            if short != self._caption_now:
                self._caption_detail, self._caption_now = self._caption_now, short
        self._place_step_text()

    def set_compact(self, on: bool) -> None:
        """A short window (the short-screen layout): the caption without the last step's values (see show_view)."""
        if bool(on) != self.compact:
            self.compact = bool(on)
            if self.view is not None:
                self.show_view(self.view, self.mode)

    def _place_step_text(self) -> None:
        """The header in the title row when the row's free room holds the widest header, else at the caption's end."""
        fm = QFontMetricsF(self.step_label.font())
        room = self.step_label.contentsRect().width() - 2
        need = max(fm.horizontalAdvance(WIDEST_STEP_TEXT), fm.horizontalAdvance(self._step_text_now))
        self.header_inline = room >= need
        text = self._step_text_now
        self.step_label.setText(text if self.header_inline else "")
        caption = self._caption_now
        if text and not self.header_inline:
            caption = f"{caption}  {text}." if caption else f"{text}."
        self.caption.setText(caption)
        self.caption.set_detail(getattr(self, "_caption_detail", ""))

    def focus_box(self, view, w: np.ndarray, l: np.ndarray, cur_ok: bool = True):
        """(x0, x1, y0, y1) in view coordinates: the last FOLLOW_STEPS steps, the current point and the bowl's
        bottom, at least MIN_WIDTH_SHARE of the slice wide; the curve over that width up to half again above the
        highest of those points. None without a curve."""
        cw, cl = np.asarray(view.curve_w, dtype=np.float64), np.asarray(view.curve_loss, dtype=np.float64)
        if cw.size < 2:
            return None
        pw, pl = list(w[-(FOLLOW_STEPS + 1):]), list(l[-(FOLLOW_STEPS + 1):])
        if cur_ok:
            pw.append(float(view.current_w))
            pl.append(float(view.current_loss))
        i = int(np.argmin(cl))
        pw.append(float(cw[i]))
        pl.append(float(cl[i]))
        pw, pl = np.asarray(pw), np.asarray(pl)
        x0, x1 = float(pw.min()), float(pw.max())
        lo, hi = float(cw[0]), float(cw[-1])
        least = MIN_WIDTH_SHARE * (hi - lo)
        if x1 - x0 < least:  # widened around the points, within the slice where it can
            mid = 0.5 * (x0 + x1)
            a, b = mid - least / 2, mid + least / 2
            shift = max(lo - a, 0.0) - max(b - hi, 0.0)
            x0, x1 = min(x0, a + shift), max(x1, b + shift)
        inside = (cw >= x0) & (cw <= x1)
        ys = self.y_of(cl[inside] if inside.any() else cl)
        yp = self.y_of(pl)
        ys, yp = ys[np.isfinite(ys)], yp[np.isfinite(yp)]
        if not yp.size:
            return None
        if self.log_loss.isChecked():
            # on the log axis the last three steps' decades are the story: the bowl's bottom, decades below, is not
            recent = self.y_of(np.concatenate([l[-4:], [view.current_loss] if cur_ok else []]))
            recent = recent[np.isfinite(recent)]
            y0 = float(recent.min()) if recent.size else float(yp.min())
            ys = ys[ys >= y0]
        else:
            y0 = float(min(ys.min(), yp.min())) if ys.size else float(yp.min())
        top = float(yp.max())
        y1 = float(min(ys.max(), top + 0.5 * (top - y0))) if ys.size else top
        y1 = max(y1, top)
        if not self.log_loss.isChecked() and y0 > 0 and y0 < 0.5 * y1:
            y0 = 0.0  # a loss axis from 0 when the bottom is near it: heights compare at a glance
        return x0, x1, y0, y1

    def range_test_over(self, note: str) -> None:
        """The test has ended: its last frame stays (where its steps left the trough), saying so in the caption."""
        if self.mode == "range test" and self.view is not None:
            self.show_view(self.view, "range test", note=note)

    def _step_text(self, w: np.ndarray, l: np.ndarray) -> str:
        if len(w) < 2 or len(l) < 2:
            return ""
        from ...engine.fmt import fmt_num

        dw, l0, l1 = w[-1] - w[-2], l[-2], l[-1]
        change = (f"loss ×{fmt_num(l1 / l0, 3)}" if l0 > 0 and l1 > 0 and (l1 / l0 >= 1.5 or l1 / l0 <= 1 / 1.5)
                  else f"Δloss {'+' if l1 >= l0 else '−'}{fmt_num(abs(l1 - l0), 3)}")
        return f"|Δw| {fmt_num(abs(dw), 3)} · {change}"

    def _describe(self, view, mode: str, note: str, overshoot: np.ndarray, w: np.ndarray, last: bool = True) -> str:
        """The caption; ``last=False`` (a short window): without the last step's values, the verdict in short."""
        lines = []
        if mode == "range test":
            lines.append(f"Range test: each step uses a larger LR (now {fmt_lr(view.lr)}) — "
                         f"the steps grow until they jump out of the trough.")
        network = getattr(view, "network_caption", "")
        if network and mode == "run":
            # divergence is judged by the whole network's 2/λ_max; the weight's own 2/λ only overstates it
            limit = getattr(view, "lr_limit", None)
            verdict = ""
            if limit is not None and math.isfinite(view.lr) and limit > 0:
                from ...engine.narration import EDGE_BAND

                ratio = view.lr / limit
                if not last:  # a short window: the verdict's first words (the whole in the tooltip)
                    verdict = (": stable" if ratio < EDGE_BAND[0] else ": at the edge" if ratio <= EDGE_BAND[1]
                               else ": steps grow")
                else:
                    verdict = (": stable along every direction" if ratio < EDGE_BAND[0] else
                               ": at the edge of stability" if ratio <= EDGE_BAND[1] else
                               ": along the sharpest direction the steps grow")
            lines.append(network[0].upper() + network[1:] + verdict + ".")
        elif view.diverge_lr is not None and view.oscillate_lr is not None and math.isfinite(view.lr):
            ratio = view.lr / view.diverge_lr
            if view.lr > view.diverge_lr:
                verdict = "steps grow: descent on this weight diverges"
            elif view.lr > view.oscillate_lr:
                verdict = "steps overshoot the minimum and oscillate"
            else:
                verdict = "steps stay on one side of the minimum"
            lines.append(f"LR = {ratio:.2g}× the divergence threshold 2/λ = {fmt_lr(view.diverge_lr)} "
                         f"(1/λ = {fmt_lr(view.oscillate_lr)}): {verdict}.")
        elif view.curvature is not None:
            lines.append("Here the slice is flat or bends down: no LR threshold applies.")
        if mode == "run" and len(w) > 1:
            if overshoot.size and overshoot[-1] and getattr(view, "whole_loss", False):
                lines.append("Overshoot: the last step crossed the minimum and the loss went up (dashed arrow).")
            elif overshoot.size and overshoot[-1]:
                # the other weights moved too: the narration says what the loss itself did
                lines.append("On this slice the last step crossed the minimum and went up (dashed arrow).")
            elif last:
                # written as the narration's equation writes the same numbers ("−1.16 → −0.92"): digits enough
                # that two values which differ never read the same, and the same minus sign
                from ...engine import narration

                before, after = narration.fmt_pair(w[-2], w[-1])
                step = float(w[-1] - w[-2])
                lines.append(f"Last step: {before} → {after} (Δ = {'+' if step > 0 else ''}{narration.fmt(step)}).")
        if note:
            lines.append(note)
        return "  ".join(lines)

    def _hover_points(self):
        v = self.view
        if v is None:
            return []
        w, l = np.asarray(v.trail_w), np.asarray(v.trail_loss)
        steps, batch = np.asarray(v.trail_step), np.asarray(v.trail_batch_loss)

        def step_text(i):
            s = f"step {int(steps[i])}" if i < len(steps) else "point"
            lines = [f"{s}: {v.axis_label} = {w[i]:.6g}", f"loss on this slice = {l[i]:.6g}"]
            if i < len(batch) and math.isfinite(batch[i]):
                lines.append(f"batch loss at this step = {batch[i]:.6g}")
            if i + 1 < len(w):
                lines.append(f"next: {w[i + 1]:.6g} (Δ = {w[i + 1] - w[i]:+.4g})")
            return "\n".join(lines)

        cw, cl = np.asarray(v.curve_w), np.asarray(v.curve_loss)
        # matched in view coordinates (log10 on the log axis), told in losses
        return [(w, self.y_of(l), step_text),
                (cw, self.y_of(cl), lambda i: f"{v.axis_label} = {cw[i]:.6g}\nloss = {cl[i]:.6g} (other weights held)")]


class _RoomWatch(QObject):
    """Calls ``fn`` when the watched label's width changes (the title row's free room)."""

    def __init__(self, fn) -> None:
        super().__init__()
        self._fn = fn

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Resize and event.size().width() != event.oldSize().width():
            self._fn()
        elif event.type() == QEvent.Type.FontChange:
            self._fn()
        return False
