"""The loss-vs-weight view: the loss along one weight, the steps drawn on it as points and arrows."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from ..adapters import fmt_lr
from .common import (BLUE, VERMILLION, ORANGE, GREY, pen, empty, set_xy, HoverReadout, ArrowsItem, Caption, titled,
                     StickyRange, new_plot, strip_legend)


class LossVsWeightView(QWidget):
    """The loss along the watched weight, every step a point and an arrow on it."""

    def __init__(self) -> None:
        super().__init__()
        self.plot = new_plot("lossVsWeightPlot")
        self.caption = Caption("")
        self.widget = titled("Loss vs weight", self.plot, self.caption)
        pi = self.plot.getPlotItem()
        pi.setLabel("left", "loss")
        self.curve = pg.PlotDataItem(pen=pen(GREY, 3.0))
        self.curve.setZValue(1)
        pi.addItem(self.curve)
        self.arrows = ArrowsItem()
        self.arrows.setZValue(5)
        pi.addItem(self.arrows)
        self.points = pg.ScatterPlotItem(size=9, brush=pg.mkBrush(BLUE), pen=pg.mkPen("#FFFFFF", width=1))
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
        self.legend.addItem(self.legend_down, "step: loss fell")
        self.legend.addItem(self.legend_up, "loss rose (dashed)")
        self.legend.fit_row()
        self.legend.setToolTip("Each step is an arrow from w_t to w_t+1. Where the loss rose (an overshoot) the "
                               "arrow is vermillion, dashed, with an open head; where it fell, blue and solid.")
        self.view = None
        self.mode = "run"  # or "range test"
        self.hover = HoverReadout(self.plot, self._hover_points)
        pi.vb.disableAutoRange()
        self.x_range = StickyRange(pi.vb, "x", pad=0.0, fill=0.0)
        # generous headroom: as training goes on the whole slice drifts, and every refit costs a repaint
        self.y_range = StickyRange(pi.vb, "y", pad=0.25, fill=0.3, min_interval=0.3)
        self.plot.sticky = [self.x_range, self.y_range]

    def arrow_count(self) -> int:
        return self.arrows.count()

    def clear(self) -> None:
        self.view = None
        self.plot.refit()
        self.curve.setData([], [])
        self.points.setData([], [])
        self.current.setData([], [])
        self.arrows.setArrows(empty(), empty(), np.zeros(0, bool))
        self.caption.setText("")

    def show_view(self, view, mode: str = "run", note: str = "", live: bool = False) -> None:
        if view is None:
            return
        self.view = view
        self.mode = mode
        set_xy(self.curve, view.curve_w, view.curve_loss)
        w, l = np.asarray(view.trail_w), np.asarray(view.trail_loss)
        ok = np.isfinite(w) & np.isfinite(l)
        w, l = w[ok], l[ok]
        went_up = np.zeros(max(len(l) - 1, 0), dtype=bool)
        crossed = went_up.copy()
        cl = np.asarray(view.curve_loss)
        if len(l) > 1 and cl.size:
            span = float(cl.max() - cl.min()) or 1.0
            w_min = float(np.asarray(view.curve_w)[int(np.argmin(cl))])
            # "went up" means visibly up on this curve, not float noise near a converged minimum
            went_up = (l[1:] - l[:-1]) > 2e-3 * span
            crossed = np.sign(w[1:] - w_min) * np.sign(w[:-1] - w_min) < 0
        self.arrows.setArrows(w, l, went_up)
        self.points.setData(x=w, y=l)
        if math.isfinite(view.current_w) and math.isfinite(view.current_loss):
            self.current.setData([view.current_w], [view.current_loss])
        else:
            self.current.setData([], [])
        pi = self.plot.getPlotItem()
        if pi.getAxis("bottom").labelText != view.axis_label:
            pi.setLabel("bottom", view.axis_label)
            self.plot.refit()
        cw = np.asarray(view.curve_w)
        if cw.size:
            # the worker keeps the slice window steady; the view shows exactly that window
            if self.x_range.range != (float(cw[0]), float(cw[-1])) and self.x_range.enabled:
                self.x_range.range = None
                self.x_range.fit(float(cw[0]), float(cw[-1]))
                self.x_range.range = (float(cw[0]), float(cw[-1]))
            ys = np.concatenate([np.asarray(view.curve_loss), l])
            if ys.size:
                self.y_range.fit(float(ys.min()), float(ys.max()), throttle=live)
        self.caption.setText(self._describe(view, mode, note or view.note, went_up & crossed, w))

    def _describe(self, view, mode: str, note: str, overshoot: np.ndarray, w: np.ndarray) -> str:
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
            if overshoot.size and overshoot[-1]:
                lines.append("Overshoot: the last step crossed the minimum and the loss went up (dashed arrow).")
            else:
                lines.append(f"Last step: {w[-2]:.4g} → {w[-1]:.4g} (Δ = {w[-1] - w[-2]:+.2g}).")
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
        return [(w, l, step_text),
                (cw, cl, lambda i: f"{v.axis_label} = {cw[i]:.6g}\nloss = {cl[i]:.6g} (other weights held)")]


# ---------------------------------------------------------------------------------------- loss vs lr
