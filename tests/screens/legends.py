"""Where the plots' legends lie (issue 12): shared by the screen suite's probe and the plot display tests."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF

from gd_studio.ui.plots.common import ArrowsItem

VIEWS = ("data_view", "weight_view", "lr_view", "step_view")


def _scene_points(vb: pg.ViewBox, x, y) -> np.ndarray:
    """View coordinates → scene pixels (the view box's transform is a scale and a shift), only the points the
    view shows."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    p0, p1 = vb.mapViewToScene(QPointF(0, 0)), vb.mapViewToScene(QPointF(1, 1))
    sx, sy = p1.x() - p0.x(), p1.y() - p0.y()
    pts = np.column_stack([p0.x() + sx * x, p0.y() + sy * y])
    r = vb.sceneBoundingRect()
    inside = (pts[:, 0] >= r.left()) & (pts[:, 0] <= r.right()) & (pts[:, 1] >= r.top()) & (pts[:, 1] <= r.bottom())
    return pts[inside]


def _data_items(view):
    pi = view.plot.getPlotItem()
    boxes = [(pi.vb, list(pi.items))]
    lr_box = getattr(view, "lr_box", None)
    if lr_box is not None:
        boxes.append((lr_box, list(lr_box.addedItems)))
    for vb, items in boxes:
        for item in items:
            if not item.isVisible():
                continue
            if isinstance(item, (pg.PlotDataItem, pg.ScatterPlotItem)):
                x, y = item.getData()
                if x is not None and len(x):
                    size = item.opts.get("size", 0) if isinstance(item, pg.ScatterPlotItem) else 0
                    yield vb, item, x, y, float(size or 0)
            elif isinstance(item, ArrowsItem) and item.count():
                yield vb, item, item._x, item._y, 0.0


def legend_covers(window) -> list[str]:
    """What a visible legend covers in each shown view: data points, curve samples, the ball (with its radius)."""
    bad = []
    for name in VIEWS:
        view = getattr(window, name)
        pi = view.plot.getPlotItem()
        legend = pi.legend
        if not view.plot.isVisible() or legend is None or not legend.isVisible() or not legend.items:
            continue
        rect = legend.sceneBoundingRect()
        for vb, item, x, y, size in _data_items(view):
            pts = _scene_points(vb, x, y)
            if not len(pts):
                continue
            # the ball keeps its whole disc clear; any other point is clipped by the data box at its centre
            r = size / 2 if item is getattr(view, "current", None) else 0.0
            hit = ((pts[:, 0] + r >= rect.left()) & (pts[:, 0] - r <= rect.right())
                   & (pts[:, 1] + r >= rect.top()) & (pts[:, 1] - r <= rect.bottom()))
            if hit.any():
                bad.append(f"{name}: legend {rect.getRect()} covers {int(hit.sum())} point(s) of "
                           f"{type(item).__name__} {getattr(item, 'name', lambda: '')() or ''}")
    return bad


def legend_problems(window) -> list[str]:
    """What a legend covers (:func:`legend_covers`), and a legend strip that is not above its data box or is cut
    by the plot's edges."""
    problems = legend_covers(window)
    for n in VIEWS:
        view = getattr(window, n)
        pi = view.plot.getPlotItem()
        if view.plot.isVisible() and pi.legend is not None and pi.legend.isVisible():
            # the strip lies above the data box and inside the plot: nothing of it is cut off
            lr, box, plot = pi.legend.sceneBoundingRect(), pi.vb.sceneBoundingRect(), pi.sceneBoundingRect()
            if not (lr.bottom() <= box.top() + 1 and plot.left() - 1 <= lr.left() and lr.right() <= plot.right() + 1):
                problems.append(f"{n}'s legend {lr.getRect()} is not above {box.getRect()} in {plot.getRect()}")
    return problems
