"""The data view: the training points in a 2-D plane, with the decision regions or the fitted curve."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from .. import theme as th
from ...live.snapshot import finite_xy
from .common import (BLUE, VERMILLION, GREY, pen, set_xy, HoverReadout, Caption, titled, new_plot, strip_legend)


class DataView(QWidget):
    """The 2-D data with the model's decision regions, or the fitted curve for regression."""

    def __init__(self) -> None:
        super().__init__()
        self.plot = new_plot("dataPlot")
        self.caption = Caption("")
        self.widget = titled("Data and model", self.plot, self.caption)
        self.info = None
        self.image = pg.ImageItem()
        self.image.setZValue(-10)
        self.plot.addItem(self.image)
        self.scatters: list[pg.ScatterPlotItem] = []
        self.curve = pg.PlotDataItem(pen=pen(VERMILLION, 3.0))
        self.plot.addItem(self.curve)
        self.identity = pg.PlotDataItem(pen=pen(GREY, 1.5, Qt.PenStyle.DashLine))
        self.plot.addItem(self.identity)
        # the legend sits in a strip above the data (one row, right-aligned), so it never hides a point
        self.legend = strip_legend(self.plot.getPlotItem())
        self._pred = None
        self._last_regions = None
        self.hover = HoverReadout(self.plot, self._hover_points)

    def set_info(self, info) -> None:
        self.info = info
        pi = self.plot.getPlotItem()
        for s in self.scatters:
            pi.removeItem(s)
        self.scatters = []
        self.legend.clear()
        self.image.clear()
        self.curve.setData([], [])
        self.identity.setData([], [])
        self._pred = None
        self._last_regions = None
        if info is None:
            self.caption.setText("")
            return
        pts = np.asarray(info.points)
        if info.task == "classification":
            labels = np.asarray(info.labels)
            k = max(len(info.class_names), 1)
            for c in range(k):
                sel = labels == c
                x, y = finite_xy(pts[sel, 0], pts[sel, 1])
                color = th.series_color(c)
                s = pg.ScatterPlotItem(x=x, y=y, size=9 if len(pts) < 600 else 6, symbol=th.series_symbol(c),
                                       brush=pg.mkBrush(color), pen=pg.mkPen("#FFFFFF", width=0.8),
                                       name=str(info.class_names[c]) if c < len(info.class_names) else str(c))
                pi.addItem(s)
                self.scatters.append(s)
            self.caption.setText(f"Shown: {info.plane}. Shaded: the class the model predicts.")
        else:
            x, y = finite_xy(pts[:, 0], pts[:, 1])
            s = pg.ScatterPlotItem(x=x, y=y, size=7, brush=pg.mkBrush(BLUE), pen=pg.mkPen("#FFFFFF", width=0.8),
                                   name="data")
            pi.addItem(s)
            self.scatters.append(s)
            if info.kind == "curve":
                self.curve.opts["name"] = "model"
                self.legend.addItem(self.curve, "model")
                self.caption.setText("Shown: the input and the target; the line is the model's prediction.")
            else:
                lo, hi = (float(np.min(x)), float(np.max(x))) if x.size else (0.0, 1.0)
                self.identity.setData([lo, hi], [lo, hi])
                self.caption.setText("Shown: each sample's prediction against its true target (on the dashed "
                                     "line the model is exact).")
        pi.setLabel("bottom", info.x_label)
        pi.setLabel("left", info.y_label)
        self.legend.fit_row()
        # the data do not move: fit once, then no range work per frame
        if info.grid_x is not None and info.kind == "regions":
            pi.vb.setRange(xRange=(info.grid_x[0], info.grid_x[-1]), yRange=(info.grid_y[0], info.grid_y[-1]),
                           padding=0.02)
        else:
            # from the data's own bounds (autoRange adds the markers' size in pixels at the range and size the view
            # had before, so the same data framed differently after another scenario)
            x, y = finite_xy(np.asarray(pts[:, 0]), np.asarray(pts[:, 1]))
            if x.size:
                x0, x1, y0, y1 = float(x.min()), float(x.max()), float(y.min()), float(y.max())
                dx, dy = (x1 - x0) or 1.0, (y1 - y0) or 1.0
                pi.vb.setRange(xRange=(x0 - 0.05 * dx, x1 + 0.05 * dx), yRange=(y0 - 0.05 * dy, y1 + 0.05 * dy),
                               padding=0)
        pi.vb.disableAutoRange()

    def update_snapshot(self, snap) -> None:
        info = self.info
        if info is None or snap.regions is None or snap.regions is self._last_regions:
            return
        self._last_regions = snap.regions
        if info.kind == "regions":
            cls = np.asarray(snap.regions)
            conf = np.asarray(snap.confidence) if snap.confidence is not None else np.ones(cls.shape)
            k = max(len(info.class_names), 2)
            colors = np.array([QColor(th.series_color(c)).getRgb() for c in range(k)], dtype=np.float64)
            rgba = colors[np.clip(cls, 0, k - 1)]
            strength = np.clip((conf - 1.0 / k) / (1.0 - 1.0 / k), 0.0, 1.0)
            rgba[..., 3] = 25 + 95 * strength
            img = np.ascontiguousarray(rgba.transpose(1, 0, 2).astype(np.ubyte))
            self.image.setImage(img, autoLevels=False, levels=(0, 255))
            gx, gy = np.asarray(info.grid_x), np.asarray(info.grid_y)
            dx = (gx[-1] - gx[0]) / max(len(gx) - 1, 1)
            dy = (gy[-1] - gy[0]) / max(len(gy) - 1, 1)
            self.image.setRect(QRectF(gx[0] - dx / 2, gy[0] - dy / 2, gx[-1] - gx[0] + dx, gy[-1] - gy[0] + dy))
        elif info.kind == "curve":
            set_xy(self.curve, info.grid_x, snap.regions)
        else:
            pred = np.asarray(snap.regions)
            self._pred = pred
            y = np.asarray(info.labels)
            if self.scatters:
                x2, p2 = finite_xy(y, pred)
                self.scatters[0].setData(x=x2, y=p2)

    def _hover_points(self):
        info = self.info
        if info is None:
            return []
        pts = np.asarray(info.points)
        if info.task == "classification":
            labels = np.asarray(info.labels)

            def text(i):
                name = info.class_names[labels[i]] if labels[i] < len(info.class_names) else labels[i]
                return f"sample {i}: class {name}\n{info.x_label} = {pts[i, 0]:.4g}, {info.y_label} = {pts[i, 1]:.4g}"
            return [(pts[:, 0], pts[:, 1], text)]
        if info.kind == "pred_vs_true" and self._pred is not None:
            y = np.asarray(info.labels)
            return [(y, self._pred, lambda i: f"sample {i}: true {y[i]:.4g}, predicted {self._pred[i]:.4g}")]
        return [(pts[:, 0], pts[:, 1], lambda i: f"sample {i}: {info.x_label} = {pts[i, 0]:.4g}, "
                                                   f"target = {pts[i, 1]:.4g}")]


# ------------------------------------------------------------------------------------ loss vs weight
