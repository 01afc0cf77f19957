"""The loss-vs-step view: training and validation loss per step, the LR on the right axis."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from ..adapters import fmt_lr
from .common import (BLUE, VERMILLION, GREEN, plot_font, pen, empty, set_xy, HoverReadout, Caption, titled,
                     StickyRange, new_plot, strip_legend, PixelColumnCurve)


def level_runs(x, y) -> tuple[np.ndarray, np.ndarray]:
    """The polyline (x, y) without the inner points of runs of equal y: the same line (those points lie on a
    level segment between the run's ends), in 2 points instead of thousands for a constant LR."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = min(len(x), len(y))
    x, y = x[:n], y[:n]
    if n < 3:
        return x, y
    inner = (y[1:-1] == y[:-2]) & (y[1:-1] == y[2:])
    keep = np.concatenate(([True], ~inner, [True]))
    return x[keep], y[keep]


RANGE_TEST_CAPTION = "Range test: the LR (right axis) rises every mini-batch; the loss falls, then blows up."


class LossVsStepView(QWidget):
    """Training and validation loss against the step, with the learning rate on a second axis."""

    def __init__(self) -> None:
        super().__init__()
        self.plot = new_plot("lossVsStepPlot")
        self.caption = Caption("")
        self.widget = titled("Loss vs step", self.plot, self.caption)
        pi = self.plot.getPlotItem()
        pi.setLabel("bottom", "step")
        pi.setLabel("left", "loss")
        # long runs: each pixel column shows the mean of its steps, so mini-batch noise reads as a band
        pi.setDownsampling(auto=True, mode="mean")
        pi.setClipToView(True)
        self.legend = strip_legend(pi)  # above the data: it never hides the first steps
        # the caption's words ("batch loss 0.06; LR 0.5"), short enough for the title row of half a 720p window
        self.train = PixelColumnCurve(pen=pen(BLUE, 2.0), name="batch loss")
        self.val = pg.PlotDataItem(pen=pen(VERMILLION, 2.5, Qt.PenStyle.DashLine), symbol="s", symbolSize=7,
                                   symbolBrush=pg.mkBrush(VERMILLION), symbolPen=None, name="validation loss")
        pi.addItem(self.train)
        pi.addItem(self.val)
        # the validation loss is a smooth curve (evaluated every few steps on a fixed set): one mean a pixel column
        # draws the same line, and its dashed wide pen is costly per point (2,660 points of a digits run: 1.0 ms a
        # paint; ~900: 0.4 ms). The training loss keeps pyqtgraph's ~5 means a pixel column, its noise a band, of
        # which it draws each column's extremes (PixelColumnCurve: the same band in fewer points).
        self.val.opts["autoDownsampleFactor"] = 1.0
        # the LR lives on its own axis at the right, in a view box that shares the step axis
        self.lr_box = pg.ViewBox()
        pi.showAxis("right")
        pi.scene().addItem(self.lr_box)
        pi.getAxis("right").linkToView(self.lr_box)
        pi.getAxis("right").setLabel("learning rate", color=GREEN)
        pi.getAxis("right").setTickFont(plot_font(1.0))
        self.lr_box.setXLink(pi)
        self.lr_curve = pg.PlotDataItem(pen=pen(GREEN, 2.0, Qt.PenStyle.DotLine), name="learning rate")
        # its own view box is not the plot item's: downsampled and clipped like the loss (a dotted line through
        # all ~8,000 history rows cost the view a third of its paint), as min/max per bin so no peak is lost
        self.lr_curve.setDownsampling(auto=True, method="peak")
        self.lr_curve.setClipToView(True)
        self.lr_box.addItem(self.lr_curve)
        self.legend.addItem(self.lr_curve, "LR (right axis)")
        pi.vb.sigResized.connect(self._sync)
        self._h = None
        self.hover = HoverReadout(self.plot, self._hover_points)
        pi.vb.disableAutoRange()
        self.x_range = StickyRange(pi.vb, "x", pad=0.02, fill=0.0, grow=1.6)
        self.y_range = StickyRange(pi.vb, "y", pad=0.12, fill=0.3, min_interval=0.3)
        self.plot.sticky = [self.x_range, self.y_range]
        self._lr_top = None
        self._list_validation(False)  # listed once drawn

    def _sync(self) -> None:
        self.lr_box.setGeometry(self.plot.getPlotItem().vb.sceneBoundingRect())
        self.lr_box.linkedViewChanged(self.plot.getPlotItem().vb, self.lr_box.XAxis)

    DEFAULT_RANGE = ((0.0, 10.0), (0.0, 1.0))

    def clear(self) -> None:
        self._h = None
        self.plot.refit()
        self._lr_top = None
        # a new run starts from the axes of a fresh window, not from the last run's
        (x0, x1), (y0, y1) = self.DEFAULT_RANGE
        self.plot.getPlotItem().vb.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        self.lr_box.setYRange(0.0, 1.0, padding=0)
        for it in (self.train, self.val, self.lr_curve):
            it.setData([], [])
        self._list_validation(False)
        self.caption.setText("")

    def show_history(self, h, caption: str = "", live: bool = False) -> None:
        self._h = h
        set_xy(self.train, h.steps, h.loss)
        # markers only while they are few: thousands of symbols cost more per frame than the rest together
        few = len(h.val_steps) <= 80
        if few != (self.val.opts.get("symbol") is not None):
            self.val.setSymbol("s" if few else None)
        set_xy(self.val, h.val_steps, h.val_loss)
        vl = np.asarray(h.val_loss, dtype=np.float64)
        self._list_validation(bool(vl.size and np.isfinite(vl).any()))
        set_xy(self.lr_curve, *level_runs(h.steps, h.lr))
        lr = np.asarray(h.lr, dtype=np.float64)
        lr = lr[np.isfinite(lr)]
        if lr.size:
            top = float(lr.max())
            top = top * 1.6 if top > 0 else 1.0  # the LR line runs at ~60% height, clear of the legend
            steady = self.x_range.hysteresis and self._lr_top is not None
            if not steady or not (0.5 * self._lr_top <= top <= self._lr_top):
                self._lr_top = top
                self.lr_box.setYRange(0.0, top, padding=0)
        steps = np.asarray(h.steps)
        if steps.size:
            self.x_range.fit(0.0, max(float(steps[-1]), 10.0))
            ys = np.concatenate([np.asarray(h.loss), np.asarray(h.val_loss)])
            ys = ys[np.isfinite(ys)]
            if ys.size:
                # the first steps' loss can be far above the rest: use a robust top so the run stays readable
                top = float(np.percentile(ys, 99.5)) if ys.size > 200 else float(ys.max())
                self.y_range.fit(float(min(ys.min(), 0.0)) if ys.min() >= 0 else float(ys.min()), top,
                                 throttle=live)
        self._sync()
        if caption:
            self.caption.setText(caption)

    def _list_validation(self, drawn: bool) -> None:
        """The legend names the validation loss only while it is drawn (a run without a validation split, or
        before its first evaluation, has none), in its place between the training loss and the LR."""
        listed = any(getattr(sample, "item", None) is self.val for sample, _label in self.legend.items)
        if drawn == listed:
            return
        if drawn:
            self.legend.removeItem(self.lr_curve)
            self.legend.addItem(self.val, "validation loss")
            self.legend.addItem(self.lr_curve, "LR (right axis)")
        else:
            self.legend.removeItem(self.val)

    def show_range_test(self, lrs, losses) -> None:
        """During a range test this view shows its LR rising every batch (the article's Image 6)."""
        steps = np.arange(1, len(lrs) + 1, dtype=np.float64)
        from ...live.snapshot import History

        self.show_history(History(steps=steps, loss=np.asarray(losses), lr=np.asarray(lrs),
                                  val_steps=empty(), val_loss=empty()),
                          RANGE_TEST_CAPTION)

    def range_test_over(self, note: str) -> None:
        """The test has ended: its curve stays, the caption says so."""
        if self._h is not None and self.caption.text().startswith(RANGE_TEST_CAPTION):
            self.caption.setText(f"{RANGE_TEST_CAPTION}  {note}")

    def _hover_points(self):
        h = self._h
        if h is None or len(h.steps) == 0:
            return []
        steps, loss, lr = np.asarray(h.steps), np.asarray(h.loss), np.asarray(h.lr)
        out = [(steps, loss, lambda i: f"step {int(steps[i])}\nbatch loss = {loss[i]:.6g}\n"
                                      f"lr = {fmt_lr(lr[i]) if i < len(lr) else '—'}")]
        vs, vl = np.asarray(h.val_steps), np.asarray(h.val_loss)
        if len(vs):
            out.append((vs, vl, lambda i: f"step {int(vs[i])}\nvalidation loss = {vl[i]:.6g}"))
        return out
