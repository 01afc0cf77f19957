"""The sharpness view: the whole network's λ_max over the steps against the optimizer's limit 2/η."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from ...engine.narration import fmt, stability_remark
from .common import BLUE, VERMILLION, pen, set_xy, HoverReadout, Caption, titled, StickyRange, new_plot, strip_legend


class SharpnessView(QWidget):
    """λ_max (top Hessian eigenvalue) after each measured step, and the limit the LR sets on it.

    Full-batch descent drives λ_max up until it meets 2/η and then hovers there while the loss keeps
    falling (Cohen et al., ICLR 2021): seen here as the blue curve climbing to the dashed line.
    """

    def __init__(self) -> None:
        super().__init__()
        self.plot = new_plot("sharpnessPlot")
        self.caption = Caption("")
        self.widget = titled("Sharpness λ_max", self.plot, self.caption)
        self.widget.setObjectName("sharpnessView")
        pi = self.plot.getPlotItem()
        pi.setLabel("bottom", "step")
        pi.setLabel("left", "sharpness λ_max")
        self.curve = pg.PlotDataItem(pen=pen(BLUE, 2.5))
        self.limit = pg.PlotDataItem(pen=pen(VERMILLION, 2.5, Qt.PenStyle.DashLine))
        pi.addItem(self.curve)
        pi.addItem(self.limit)
        self.legend = strip_legend(pi)  # above the data: it hides neither the climb nor the limit
        self.legend.addItem(self.curve, "λ_max")
        self.legend.addItem(self.limit, "limit 2/η")
        self.info = None
        pi.vb.disableAutoRange()
        self.x_range = StickyRange(pi.vb, "x", pad=0.02, fill=0.0, grow=1.6)
        self.y_range = StickyRange(pi.vb, "y", pad=0.12, fill=0.3, min_interval=0.3)
        self.plot.sticky = [self.x_range, self.y_range]
        self.hover = HoverReadout(self.plot, self._hover_points)

    DEFAULT_RANGE = ((0.0, 10.0), (0.0, 1.0))

    def clear(self) -> None:
        self.info = None
        self.plot.refit()
        (x0, x1), (y0, y1) = self.DEFAULT_RANGE  # a new run starts from a fresh window's axes
        self.plot.getPlotItem().vb.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        self.curve.setData([], [])
        self.limit.setData([], [])
        self.caption.setText("")

    def limit_line(self) -> tuple[np.ndarray, np.ndarray]:
        """The limit as drawn: the threshold at each estimate, then the one in force now up to the current step."""
        x, y = self.limit.getData()
        return (np.zeros(0), np.zeros(0)) if x is None else (np.asarray(x), np.asarray(y))

    def show_sharpness(self, info, step: int | None = None, live: bool = False) -> None:
        if info is None:
            return
        self.info = info
        steps = np.asarray(info.steps, dtype=np.float64)
        values = np.asarray(info.values, dtype=np.float64)
        limits = np.asarray(info.limits, dtype=np.float64)
        set_xy(self.curve, steps, values)
        now = float(step if step is not None else info.step)
        # a step-wise line: the limit changes only when the LR does, and the last piece is the LR in force now
        lx, ly = [], []
        for s, l in zip(steps, limits):
            if ly and ly[-1] != l:
                lx.append(s)
                ly.append(ly[-1])
            lx.append(s)
            ly.append(l)
        if math.isfinite(info.limit):
            if ly and ly[-1] != info.limit:
                lx.append(max(now, lx[-1]))
                ly.append(ly[-1])
            lx.append(max(now, lx[-1] if lx else now))
            ly.append(info.limit)
            if len(lx) == 1:  # one point: draw the line a little way so it is seen
                lx.insert(0, lx[0] - 1.0)
                ly.insert(0, info.limit)
        set_xy(self.limit, np.asarray(lx, dtype=np.float64), np.asarray(ly, dtype=np.float64))
        label = self.legend.items[1][1]
        if label.text != f"limit {info.label}":
            label.setText(f"limit {info.label}")
        self.x_range.fit(0.0, max(now, float(steps[-1]) if steps.size else 0.0, 10.0))
        ys = np.concatenate([values, np.asarray(ly, dtype=np.float64)])
        ys = ys[np.isfinite(ys)]
        if ys.size:
            # the limit at a tiny LR is huge: do not let it squash the curve flat, cap at 3× the sharpness
            top = float(ys.max())
            if values.size and values.max() > 0:
                top = min(top, 3.0 * float(values.max()))
            lo = min(0.0, float(ys.min()))  # from 0 (the legend has its own row above the plot)
            self.y_range.fit(lo, max(top, 1e-9), throttle=live)
        self.caption.setText(self.describe(info))

    @staticmethod
    def describe(info) -> str:
        """The engine's words for where the sharpness stands against the limit (narration.stability_remark)."""
        what = "λ_max of P⁻¹H (preconditioned sharpness)" if info.preconditioned else "λ_max"
        data = f"Hessian over the {info.data}."
        if info.value is None:
            return f"{info.note or 'No sharpness estimate at this step.'} {data}"
        v, lim = info.value, info.limit
        head = f"Step {info.step}: {what} = {fmt(v)}"
        if not (math.isfinite(lim) and lim > 0):
            return f"{head}. {data}"
        remark = stability_remark(2.0 / lim if info.label == "2/η" else math.nan, v, limit=lim, label=info.label)
        if remark and remark.startswith("sharpness ") and not info.preconditioned:
            return f"Step {info.step}: {remark}. {data}"  # the remark already gives both numbers
        if remark and "limit" not in remark:
            head += f", limit {info.label} = {fmt(lim)}"
        return f"{head}; {remark or ''}. {data}"

    def _hover_points(self):
        info = self.info
        if info is None or len(info.steps) == 0:
            return []
        s, v, l = np.asarray(info.steps), np.asarray(info.values), np.asarray(info.limits)
        return [(s, v, lambda i: f"step {int(s[i])}\nλ_max = {v[i]:.5g}\nlimit {info.label} = {l[i]:.5g}")]
