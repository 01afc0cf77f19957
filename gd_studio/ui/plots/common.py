"""What the four live views share: the gated plot widget, captions, the hover readout, arrows, pens, legends.

Views only draw snapshots they are handed; every array is cleaned of NaN/inf before it reaches
pyqtgraph, and each view can say the exact numbers under the mouse.
"""
from __future__ import annotations

import math
import time
from typing import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen, QTextLayout, QTextOption
from PySide6.QtWidgets import QGraphicsItem, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from .. import theme as th
from ...live.snapshot import finite_xy

BLUE = th.OKABE_ITO["blue"]
VERMILLION = th.OKABE_ITO["vermillion"]
GREEN = th.OKABE_ITO["bluish_green"]
ORANGE = th.OKABE_ITO["orange"]
PURPLE = th.OKABE_ITO["reddish_purple"]
SKY = th.OKABE_ITO["sky_blue"]
GREY = "#6E6E6E"
CAPTION_LINES = 3  # a view's caption in the normal view
PRESENTATION_CAPTION_LINES = 1  # on a projector: the plots keep the room (a longer text still wraps)
MAX_CAPTION_LINES = 10  # a caption longer than this (never one the app writes) is elided, the rest in its tooltip


def plot_font(scale: float = 1.0, bold: bool = False) -> QFont:
    from PySide6.QtWidgets import QApplication

    f = QFont(QApplication.font())
    f.setPointSizeF(max(6.0, f.pointSizeF() * scale))
    f.setBold(bold)
    return f


def pen(color: str, width: float = 2.0, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    pen = pg.mkPen(color, width=width)
    pen.setStyle(style)
    pen.setCosmetic(True)
    return pen


def empty() -> np.ndarray:
    return np.zeros(0)


def set_xy(item: pg.PlotDataItem, x, y) -> None:
    x, y = finite_xy(x, y)
    item.setData(x, y, skipFiniteCheck=True)


def column_extremes(x: np.ndarray, y: np.ndarray, left: float, per_px: float) -> np.ndarray:
    """Indices of the points of a polyline (x increasing) that draw it at one pixel per ``per_px`` of x: in
    each pixel column its lowest and highest point, in their order, plus the line's first and last point.

    A line through hundreds of points in a column covers that column from their least to their greatest y, and
    so does the line through those two: drawn with the same pen, the picture is the same with a few points a
    column however dense the data.
    """
    n = len(x)
    if n < 3 or not per_px > 0:
        return np.arange(n)
    y = np.asarray(y)
    col = np.floor((np.asarray(x, dtype=np.float64) - left) / per_px)
    # x increases, so each column is one run of indices (no sort: this runs on every frame's new data)
    starts = np.concatenate(([0], np.flatnonzero(col[1:] != col[:-1]) + 1))
    counts = np.diff(np.append(starts, n))
    if counts.max() <= 2:
        return np.arange(n)
    seg = np.repeat(np.arange(starts.size), counts)
    keep = np.zeros(n, dtype=bool)
    keep[[0, -1]] = True
    for extreme in (np.minimum.reduceat(y, starts), np.maximum.reduceat(y, starts)):
        at = np.flatnonzero(y == extreme[seg])  # every point at its column's extreme; the first of each column
        first = np.concatenate(([True], seg[at[1:]] != seg[at[:-1]]))
        keep[at[first]] = True
    return np.flatnonzero(keep)


class PixelColumnCurve(pg.PlotDataItem):
    """A PlotDataItem that sends its curve at most about two points a device pixel column (``column_extremes``).

    pyqtgraph's automatic downsampling assumes evenly spaced x: a run's history is dense for its recent steps
    and thinned before (engine.descent.History), so the recent steps were drawn at ~30 points a pixel column,
    3,000 points (3 ms) a paint of which half fell in a few dozen columns. Its downsampling still applies first
    (the line looks as before); this keeps, of what it gives, the points a pixel column can show. Columns are the
    screen's device pixels (a HiDPI screen has twice as many); an export (an image at twice the size) gets every
    point, as it did before.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._columns = None  # (what pyqtgraph gave, the column grid, the reduced dataset)
        self._exporting = False

    def setExportMode(self, export, opts=None):  # noqa: N802 - pyqtgraph's name
        super().setExportMode(export, opts)
        if bool(export) != self._exporting:
            self._exporting = bool(export)
            self.updateItems(styleUpdate=False)  # the curve gets every point for the export, and back

    def _getDisplayDataset(self):  # noqa: N802 - pyqtgraph's name; it builds what the curve draws from here
        full = super()._getDisplayDataset()
        vb = self.getViewBox()
        if full is None or vb is None or self._exporting or full.connect is not None or len(full.x) < 3:
            return full
        rect = vb.viewRect()
        views = self.scene().views() if self.scene() is not None else []
        width = float(vb.width()) * (views[0].devicePixelRatioF() if views else 1.0)
        if not width > 0 or not rect.width() > 0:
            return full
        key = (rect.left(), rect.width(), width)
        cached = self._columns
        if cached is not None and cached[0] is full and cached[1] == key:
            return cached[2]
        keep = column_extremes(full.x, full.y, rect.left(), rect.width() / width)
        reduced = full if len(keep) == len(full.x) else type(full)(
            full.x[keep], full.y[keep], full.xAllFinite, full.yAllFinite)
        self._columns = (full, key, reduced)
        return reduced


class HoverReadout:
    """Shows the exact numbers of the data point nearest the mouse (within a few pixels) in a label."""

    RADIUS_PX = 14

    def __init__(self, plot: pg.PlotWidget, source) -> None:
        self.plot = plot
        self.source = source  # () -> list of (xs_view, ys_view, text_fn(i) -> str)
        self.text = pg.TextItem("", anchor=(0, 1), color="#111111", fill=pg.mkBrush(255, 255, 240, 235),
                                border=pg.mkPen("#333333"))
        self.text.setFont(plot_font(0.95))
        self.text.setZValue(1000)
        self.text.hide()
        self.dot = pg.ScatterPlotItem(size=16, pen=pg.mkPen("#000000", width=2), brush=pg.mkBrush(0, 0, 0, 0))
        self.dot.setZValue(999)
        self.dot.hide()
        plot.addItem(self.text, ignoreBounds=True)
        plot.addItem(self.dot, ignoreBounds=True)
        self._proxy = pg.SignalProxy(plot.scene().sigMouseMoved, rateLimit=40, slot=self._moved)
        self.last_text = ""

    def _moved(self, event) -> None:
        pos = event[0]
        vb = self.plot.getPlotItem().vb
        if not vb.sceneBoundingRect().contains(pos):
            self.hide()
            return
        best = None
        for xs, ys, text_fn in self.source():
            xs = np.asarray(xs, dtype=np.float64)
            ys = np.asarray(ys, dtype=np.float64)
            n = min(len(xs), len(ys))
            if n == 0:
                continue
            ok = np.isfinite(xs[:n]) & np.isfinite(ys[:n])
            if not ok.any():
                continue
            px, py = vb.viewPixelSize()
            if px <= 0 or py <= 0:
                continue
            p = vb.mapSceneToView(pos)
            d2 = ((xs[:n] - p.x()) / px) ** 2 + ((ys[:n] - p.y()) / py) ** 2
            d2[~ok] = np.inf
            i = int(np.argmin(d2))
            if best is None or d2[i] < best[0]:
                best = (float(d2[i]), xs[i], ys[i], text_fn, i)
        if best is None or best[0] > self.RADIUS_PX ** 2:
            self.hide()
            return
        _, x, y, text_fn, i = best
        self.show_at(x, y, text_fn(i))

    def show_at(self, x: float, y: float, text: str) -> None:
        self.last_text = text
        self.text.setText(text)
        # keep the label inside the view: flip its anchor near the right/top edges
        (x0, x1), (y0, y1) = self.plot.getPlotItem().vb.viewRange()
        ax = 1.0 if x > x0 + 0.6 * (x1 - x0) else 0.0
        ay = 0.0 if y > y0 + 0.7 * (y1 - y0) else 1.0
        self.text.setAnchor((ax, ay))
        self.text.setPos(x, y)
        self.text.show()
        self.dot.setData([x], [y])
        self.dot.show()

    def hide(self) -> None:
        self.text.hide()
        self.dot.hide()


def set_line_label(line: pg.InfiniteLine, text: str) -> None:
    """A marker line's label text, also while the label is hidden: pyqtgraph's InfLineLabel ignores a new
    format while hidden (a decluttered label, a line not shown yet) and shows the old text when shown again."""
    line.label.setFormat(text)
    line.label.setText(text)


class DotsItem(pg.ScatterPlotItem):
    """Points of one style (the steps on the loss-vs-weight view) set as two arrays: ScatterPlotItem's look, options,
    theming and export, without its per-point records.

    ScatterPlotItem keeps a record per point (its style, its place in the symbol atlas) and builds them in Python on
    every setData: for the ~200 trail points of a frame that was ~1 ms of the window's thread. Here setData only
    keeps the arrays, and the paint stamps one pre-rendered symbol (pyqtgraph's own renderSymbol, the image its
    atlas holds) at every point in one drawPixmapFragments call, in order, so later points cover earlier ones as
    before. Exports (SVG, PNG) draw each symbol as vectors, as ScatterPlotItem does.
    """

    def __init__(self, **opts) -> None:
        self._x = np.zeros(0)
        self._y = np.zeros(0)
        self._rect = QRectF()
        self._sprite = None  # (style key, QPixmap)
        from pyqtgraph.Qt import internals

        self._fragments = internals.PrimitiveArray(QPainter.PixmapFragment, 10)
        super().__init__(**opts)

    def setData(self, *args, **kargs) -> None:  # noqa: N802 - pyqtgraph's name
        if len(args) == 2:
            kargs["x"], kargs["y"] = args
            args = ()
        x, y = kargs.pop("x", None), kargs.pop("y", None)
        if args or "pos" in kargs or "spots" in kargs:
            raise TypeError("DotsItem.setData takes x and y arrays")
        if kargs:  # style options (at construction): ScatterPlotItem's own handling, without points
            super().setData(**kargs)
        x, y = finite_xy(np.zeros(0) if x is None else x, np.zeros(0) if y is None else y)
        self.prepareGeometryChange()
        self._x, self._y = x, y
        if x.size:
            x0, x1, y0, y1 = float(x.min()), float(x.max()), float(y.min()), float(y.max())
            self._rect = QRectF(x0, y0, x1 - x0, y1 - y0)
        else:
            self._rect = QRectF()
        self.bounds = [None, None]
        self.update()

    def getData(self):  # noqa: N802
        return self._x, self._y

    def __len__(self) -> int:
        return int(self._x.size)

    def _restyled(self) -> None:
        self.prepareGeometryChange()  # the symbol's radius is part of the bounding rect
        self.update()

    def setSize(self, *args, **kargs):  # noqa: N802
        super().setSize(*args, **kargs)
        self._restyled()

    def setPen(self, *args, **kargs):  # noqa: N802
        super().setPen(*args, **kargs)
        self._restyled()

    def setBrush(self, *args, **kargs):  # noqa: N802
        super().setBrush(*args, **kargs)
        self._restyled()

    def setSymbol(self, *args, **kargs):  # noqa: N802
        super().setSymbol(*args, **kargs)
        self._restyled()

    def dataBounds(self, ax, frac=1.0, orthoRange=None):  # noqa: N802
        d = self._x if ax == 0 else self._y
        if not d.size:
            return (None, None)
        return (float(d.min()), float(d.max()))

    def pixelPadding(self):  # noqa: N802
        return 0.5 * float(self.opts["size"]) + _spot_pen(self.opts["pen"]).widthF()

    def boundingRect(self) -> QRectF:  # noqa: N802
        if self._rect.isNull() and not self._x.size:
            return QRectF()
        px = self.pixelLength(pg.Point(1, 0)) or 0.0
        py = self.pixelLength(pg.Point(0, 1)) or 0.0
        m = self.pixelPadding() + 1
        return self._rect.adjusted(-m * px, -m * py, m * px, m * py)

    def _sprite_for(self, dpr: float):
        o = self.opts
        pen, brush = _spot_pen(o["pen"]), pg.mkBrush(o["brush"])
        key = (o["symbol"], float(o["size"]), pen.color().rgba(), pen.widthF(), int(pen.style().value),
               brush.color().rgba(), float(dpr))
        if self._sprite is None or self._sprite[0] != key:
            from PySide6.QtGui import QPixmap
            from pyqtgraph.graphicsItems.ScatterPlotItem import renderSymbol

            img = renderSymbol(o["symbol"], float(o["size"]), pen, brush, dpr=dpr)
            pm = QPixmap.fromImage(img)
            pm.setDevicePixelRatio(1.0)  # the fragments scale it by 1/dpr, as ScatterPlotItem's atlas
            self._sprite = (key, pm)
        return self._sprite[1]

    def paint(self, p, option=None, widget=None) -> None:
        n = self._x.size
        if not n:
            return
        tr = p.transform()
        x = tr.m11() * self._x + tr.m21() * self._y + tr.dx()
        y = tr.m12() * self._x + tr.m22() * self._y + tr.dy()
        np.clip(x, -2.0 ** 30, 2.0 ** 30, out=x)  # (Qt misbehaves on huge coordinates)
        np.clip(y, -2.0 ** 30, 2.0 ** 30, out=y)
        if self._exportOpts is not False:  # an export: each symbol as vectors, as ScatterPlotItem draws them
            from pyqtgraph.graphicsItems.ScatterPlotItem import drawSymbol

            o = self.opts
            size = float(o["size"]) * float(self._exportOpts.get("resolutionScale", 1.0))
            pen, brush = _spot_pen(o["pen"]), pg.mkBrush(o["brush"])
            p.save()
            p.setRenderHint(QPainter.RenderHint.Antialiasing, bool(self._exportOpts.get("antialias", True)))
            for px, py in zip(x.tolist(), y.tolist()):
                p.resetTransform()
                p.translate(px, py)
                drawSymbol(p, o["symbol"], size, pen, brush)
            p.restore()
            return
        dpr = widget.devicePixelRatioF() if widget is not None else 1.0
        pm = self._sprite_for(dpr)
        self._fragments.resize(n)
        frags = self._fragments.ndarray()
        frags[:, 0] = x
        frags[:, 1] = y
        frags[:, 2:6] = (0.0, 0.0, float(pm.width()), float(pm.height()))
        frags[:, 6:10] = (1.0 / dpr, 1.0 / dpr, 0.0, 1.0)
        p.save()
        p.resetTransform()
        p.drawPixmapFragments(*self._fragments.drawargs(), pm)
        p.restore()


def _spot_pen(value) -> QPen:
    return value if isinstance(value, QPen) else pg.mkPen(value)


class ArrowsItem(pg.GraphicsObject):
    """All the steps as arrows w_t → w_{t+1} in one item, drawn in screen pixels so heads keep their shape."""

    def __init__(self) -> None:
        super().__init__()
        self._x = np.zeros(0)
        self._y = np.zeros(0)
        self._up = np.zeros(0, dtype=bool)
        self._version = 0  # counts setArrows calls: what the fade groups were computed for
        self._rect = QRectF()
        self.width = 2.5
        self.head = 13.0
        self.down_color = QColor(BLUE)
        self.up_color = QColor(VERMILLION)
        # Antialiasing halves the speed of these paths (the loss-vs-weight view's largest cost at full speed:
        # 8.7 against 4.5 ms a paint for the parabola), so frames that come in quick succession are drawn
        # without it and the picture is drawn smooth again once they stop (``calm``).
        self.live = False
        self._last_set = -math.inf
        from PySide6.QtCore import QTimer

        self._calm = QTimer(self)
        self._calm.setSingleShot(True)
        self._calm.setInterval(self.CALM_MS)
        self._calm.timeout.connect(self._calmed)

    CALM_MS = 150  # frames closer than this are "running": drawn without antialiasing until they stop

    def _calmed(self) -> None:
        self.live = False
        self.update()

    def setArrows(self, x: np.ndarray, y: np.ndarray, went_up: np.ndarray) -> None:
        """Points x[0..k], y[0..k] give k arrows; went_up[k] marks an arrow whose loss rose (overshoot)."""
        now = time.monotonic()
        self.live = now - self._last_set < self.CALM_MS / 1000.0
        self._last_set = now
        if self.live:
            self._calm.start()  # restarted by every frame: fires once the frames stop
        self.prepareGeometryChange()
        self._version += 1
        self._x, self._y = np.asarray(x, float), np.asarray(y, float)
        self._up = np.asarray(went_up, bool)
        if self._x.size:
            x0, x1 = float(self._x.min()), float(self._x.max())
            y0, y1 = float(self._y.min()), float(self._y.max())
            self._rect = QRectF(x0, y0, max(x1 - x0, 1e-12), max(y1 - y0, 1e-12))
        else:
            self._rect = QRectF()
        self.update()

    def count(self) -> int:
        return max(0, self._x.size - 1)

    def boundingRect(self) -> QRectF:
        # widen by the head size in data units so heads at the edges are repainted too
        px = self.pixelLength(pg.Point(1, 0)) or 0.0
        py = self.pixelLength(pg.Point(0, 1)) or 0.0
        m = self.head + 4
        return self._rect.adjusted(-m * px, -m * py, m * px, m * py)

    ALPHA_LEVELS = 6  # older arrows fade in this many steps

    def _groups(self, n: int) -> list[tuple[int, bool, np.ndarray]]:
        """(fade level, rose, indices of those arrows) for each non-empty group: a function of the data alone,
        kept until the next setArrows (a repaint for a new view range only maps the points anew)."""
        key = (n, self._version)
        cached = getattr(self, "_group_cache", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        k = np.arange(1, n + 1)
        level = np.ceil(k * self.ALPHA_LEVELS / n).astype(int) if n > 1 else np.full(n, self.ALPHA_LEVELS)
        up = self._up[:n] if self._up.size >= n else np.zeros(n, bool)
        groups = []
        for lev in range(1, self.ALPHA_LEVELS + 1):
            for rose in (False, True):
                idx = np.flatnonzero((level == lev) & (up == rose))
                if idx.size:
                    groups.append((lev, rose, idx))
        self._group_cache = (key, groups)
        return groups

    def _pens(self, alpha: int, rose: bool) -> tuple[QPen, QPen, QColor]:
        """(head pen, shaft pen, colour) of one group, made once per colour, width and fade level."""
        key = (alpha, rose, self.width, self.down_color.rgba(), self.up_color.rgba())
        cache = self.__dict__.setdefault("_pen_cache", {})
        got = cache.get(key)
        if got is None:
            color = QColor(self.up_color if rose else self.down_color)
            color.setAlpha(alpha)
            pen = QPen(color, self.width)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            shaft = QPen(pen)
            if rose:  # an overshoot (the loss rose) is told by more than its colour: dashed, open head
                shaft.setStyle(Qt.PenStyle.CustomDashLine)
                shaft.setDashPattern([2.2, 1.8])
                shaft.setCapStyle(Qt.PenCapStyle.FlatCap)
            got = cache[key] = (pen, shaft, color)
        return got

    def _live_shapes(self, ax, ay, ux, uy, basex, basey, half, bx, by):
        """Every arrow as one filled outline for frames that come fast: its shaft a quad as wide as the pen,
        its head a triangle grown by the outline it is drawn without (9 points a row, the same orientation for
        all, so the winding rule fills where arrows cross); and the path's connect array for up to n arrows."""
        # (both shapes are traced clockwise on screen for any direction: a rotation keeps the orientation)
        hw = grow = 0.5 * self.width
        px, py = -uy, ux  # the unit normal
        tipx, tipy = bx + ux * grow, by + uy * grow
        bax, bay = basex - ux * grow, basey - uy * grow
        hs = half + grow
        qx = np.column_stack([ax + px * hw, bax + px * hw, bax - px * hw, ax - px * hw, ax + px * hw,
                              tipx, bax - px * hs, bax + px * hs, tipx])
        qy = np.column_stack([ay + py * hw, bay + py * hw, bay - py * hw, ay - py * hw, ay + py * hw,
                              tipy, bay - py * hs, bay + py * hs, tipy])
        n = len(ax)
        cached = self.__dict__.get("_connect9")
        if cached is None or cached.size < 9 * n:
            cached = self._connect9 = np.tile(np.array([1, 1, 1, 1, 0, 1, 1, 1, 0], dtype=np.int32), max(n, 64))
        return qx, qy, cached

    def paint(self, painter: QPainter, *args) -> None:
        """All arrows in a few QPainterPaths (by colour, fade level and style), built with NumPy.

        One Python call into Qt per arrow part made a 200-arrow frame cost ~3,000 transitions, each of
        which may wait for the GIL while the worker steps; grouped, a frame makes a few dozen. While frames
        come fast (``live``) each fade level's solid arrows are one filled path (``_live_shapes``): stroking
        wide pens and outlining heads cost 2.9 ms a paint for 200 arrows of the parabola, one fill a level
        ~1 ms.
        """
        n = self.count()
        if n == 0:
            return
        tr = painter.transform()  # the view's transform is affine: map every point at once
        x = tr.m11() * self._x + tr.m21() * self._y + tr.dx()
        y = tr.m12() * self._x + tr.m22() * self._y + tr.dy()
        ax, ay, bx, by = x[:-1], y[:-1], x[1:], y[1:]
        dx, dy = bx - ax, by - ay
        with np.errstate(invalid="ignore", divide="ignore"):
            length = np.hypot(dx, dy)
            ok = np.isfinite(length) & (length >= 1.0)  # a step too small to see: the scatter shows its point
            ux, uy = dx / length, dy / length
        head = np.minimum(self.head, 0.6 * length + 4)
        basex, basey = bx - ux * head, by - uy * head
        half = head * 0.45
        shapes = self._live_shapes(ax, ay, ux, uy, basex, basey, half, bx, by) if self.live else None
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, not self.live)
        for lev, rose, idx in self._groups(n):
            sel = idx[ok[idx]]
            if not sel.size:
                continue
            alpha = int(70 + 185 * lev / self.ALPHA_LEVELS) if n > 1 else 255
            pen, shaft, color = self._pens(alpha, rose)
            m = sel.size
            uxs, uys = ux[sel], uy[sel]
            if shapes is not None and not rose:
                px, py, connect = shapes
                path = pg.arrayToQPath(px[sel].ravel(), py[sel].ravel(), connect=connect[:m * 9])
                path.setFillRule(Qt.FillRule.WindingFill)
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(color)
                painter.drawPath(path)
                continue
            sx = np.column_stack([ax[sel], basex[sel]]).ravel()
            sy = np.column_stack([ay[sel], basey[sel]]).ravel()
            painter.setPen(shaft)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(pg.arrayToQPath(sx, sy, connect="pairs"))
            bxs, bys, bsx, bsy, hs = bx[sel], by[sel], basex[sel], basey[sel], half[sel]
            painter.setPen(pen)
            hx = np.column_stack([bxs, bsx - uys * hs, bsx + uys * hs, bxs]).ravel()
            hy = np.column_stack([bys, bsy + uxs * hs, bsy - uxs * hs, bys]).ravel()
            connect = np.tile(np.array([1, 1, 1, 0], dtype=np.int32), m)  # one closed triangle each
            painter.setBrush(QColor(255, 255, 255, alpha) if rose else color)
            painter.drawPath(pg.arrayToQPath(hx, hy, connect=connect))
        painter.restore()


def elide_lines(text: str, font: QFont, width: float, lines: int) -> tuple[str, bool]:
    """``text`` word-wrapped to ``width`` pixels in at most ``lines`` lines (the last one elided with "…"),
    as lines joined by newlines; and whether anything was cut."""
    if not text or width <= 0 or lines <= 0:
        return text, False
    # no line break after a slash: "2/λ_max" and "dL/dW" are one symbol each, and Unicode lets a line end at "2/"
    flow = text.replace("\n", "\u2028").replace("/", "/\u2060")
    layout = QTextLayout(flow, font)
    opt = QTextOption()
    opt.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    layout.setTextOption(opt)
    spans = []
    layout.beginLayout()
    while True:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(width)
        spans.append((line.textStart(), line.textLength()))
    layout.endLayout()
    rows = [flow[a:a + n].replace("\u2028", "").replace("\u2060", "").rstrip() for a, n in spans]
    if len(rows) <= lines:
        return "\n".join(rows), False
    rest = " ".join(flow[spans[lines - 1][0]:].replace("\u2060", "").split())
    last = QFontMetricsF(font).elidedText(rest, Qt.TextElideMode.ElideRight, width)
    return "\n".join(rows[: lines - 1] + [last]), True


class Caption(QLabel):
    """A view's caption: word-wrapped, never elided while the text fits in ``max_lines``. It keeps at least ``lines``
    lines of height and is as tall as its text needs; new text of the same number of lines (every frame while
    running) does not re-lay out the window. ``text()`` is the whole text."""

    def __init__(self, text: str = "", lines: int = CAPTION_LINES, max_lines: int | None = None) -> None:
        super().__init__()
        self._full = ""
        self._lines = lines
        self._shown_lines = lines
        self.max_lines = max_lines or MAX_CAPTION_LINES
        self._hold = False  # while held, the height only grows (see hold)
        self.elided = False
        self._detail = ""  # the tooltip of a caption its owner shortened (else the whole text, when elided)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(False)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._fix_height()
        self.setText(text)

    def lines(self) -> int:
        """The least number of lines this caption keeps room for."""
        return self._lines

    def shown_lines(self) -> int:
        """The lines it has room for now (its text may have needed more than :meth:`lines`)."""
        return self._shown_lines

    def set_lines(self, lines: int) -> None:
        if lines != self._lines:
            self._lines = max(1, int(lines))
            self._shown_lines = self._lines
            self._fix_height()
            self._layout_text()

    def hold(self, on: bool) -> None:
        """While held (a run going), the caption keeps the most lines it needed since: text that changes every few
        frames between two and three lines (the narration's events) re-laid out the whole window, and repainted every
        view two or three times, each time. Released, it is as tall as its text again."""
        on = bool(on)
        if on != self._hold:
            self._hold = on
            if not on:
                self._layout_text()

    def set_max_lines(self, lines: int) -> None:
        """The most lines the text wraps to before the last one is elided (the whole text then in the tooltip)."""
        lines = max(1, int(lines))
        if lines != self.max_lines:
            self.max_lines = lines
            self._refit()

    def _fix_height(self) -> None:
        self.setFixedHeight(math.ceil(QFontMetricsF(self.font()).lineSpacing() * self._shown_lines) + 4)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        text = text or ""
        if text == self._full:
            return  # the same text: no layout, no repaint
        self._full = text
        self._layout_text()

    def text(self) -> str:
        return self._full

    def _layout_text(self) -> None:
        width = self.contentsRect().width() - 2
        shown, cut = elide_lines(self._full, self.font(), width, self.max_lines)
        need = max(self._lines, min(self.max_lines, shown.count("\n") + 1 if shown else 1))
        # exactly the lines this text needs (at least ``lines``): the layout follows the text shown, not the
        # texts shown before it, so the same step renders the same picture however it was reached (held, while a
        # run goes, it does not shrink)
        if self._hold:
            need = max(need, self._shown_lines)
        if need != self._shown_lines:
            self._shown_lines = need
            self._fix_height()
        self.elided = cut
        self.setToolTip(self._full if cut else self._detail)
        super().setText(shown)

    def set_detail(self, text: str) -> None:
        """The longer text this caption's owner left out for room: shown as its tooltip."""
        text = text or ""
        if text != self._detail:
            self._detail = text
            if not self.elided:
                self.setToolTip(text)

    def _refit(self) -> None:
        self._shown_lines = self._lines
        self._fix_height()
        self._layout_text()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._refit()

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._refit()


class ElidedLabel(QLabel):
    """One line of text that elides with "…" when its room is short (the whole text is then its tooltip), and
    never asks the layout for more width than it has."""

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self._full = ""
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(0)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        text = text or ""
        if text != self._full:
            self._full = text
            self._elide()

    def text(self) -> str:
        return self._full

    def sizeHint(self):  # noqa: N802 - the whole text's width, when there is room for it
        hint = super().sizeHint()
        hint.setWidth(math.ceil(QFontMetricsF(self.font()).horizontalAdvance(self._full)) + 4)
        return hint

    def _elide(self) -> None:
        shown = QFontMetricsF(self.font()).elidedText(self._full, Qt.TextElideMode.ElideRight,
                                                      max(0.0, self.contentsRect().width() - 2.0))
        self.setToolTip(self._full if shown != self._full else "")
        super().setText(shown)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._elide()

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._elide()


def titled(title: str, plot: QWidget, caption: Caption, extra: QWidget | None = None,
           note: QWidget | None = None) -> QWidget:
    """A view's box: its title row (title, ``note`` taking the free room or a stretch, ``extra`` at the right),
    its caption, its plot."""
    box = QWidget()
    lay = QVBoxLayout(box)
    lay.setContentsMargins(4, 2, 4, 2)
    lay.setSpacing(2)
    head = QHBoxLayout()
    t = QLabel(title)
    t.setObjectName("viewTitle")
    t.setFont(plot_font(1.15, bold=True))
    head.addWidget(t)
    if note is not None:
        head.addSpacing(12)
        head.addWidget(note, 1)
        head.addSpacing(10)
    else:
        head.addStretch(1)
    legend = HeadLegend(box, plot, t, extra)
    head.addWidget(legend)
    if extra is not None:
        head.addWidget(extra)
    lay.addLayout(head)
    lay.addWidget(caption)
    lay.addWidget(plot, 1)
    box.setProperty("gdCaptionInline", False)
    box._gd_rows = (lay, head, caption)  # for set_caption_inline
    box._gd_note = note
    box._gd_legend = legend
    return box


def set_caption_inline(box: QWidget, on: bool) -> None:
    """Put a view's caption on its title's row (presentation mode: one row of text above each plot) or back
    under the title."""
    rows = getattr(box, "_gd_rows", None)
    if rows is None or bool(box.property("gdCaptionInline")) == bool(on):
        return
    lay, head, caption = rows
    note = getattr(box, "_gd_note", None)
    if on:
        lay.removeWidget(caption)
        if note is None:
            head.takeAt(1)  # the stretch: the caption takes the room instead
        head.insertWidget(1, caption, 1)
        head.insertSpacing(1, 12)
        caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
    else:
        head.removeWidget(caption)
        head.takeAt(1)  # the spacing
        if note is None:
            head.insertStretch(1, 1)
        lay.insertWidget(1, caption)
    box.setProperty("gdCaptionInline", bool(on))
    legend = getattr(box, "_gd_legend", None)
    if legend is not None:
        legend.fit()


class StickyRange:
    """Axis limits that follow the data but move rarely.

    Every range change re-renders an axis (ticks, labels, grid), the most expensive part of a frame; a
    range that only moves when the data leaves it (or fills too little of it) keeps frames cheap and the
    picture calm. Zooming or panning by hand stops the fitting; a double-click on the plot restarts it.
    """

    def __init__(self, vb: pg.ViewBox, axis: str, pad: float = 0.08, fill: float = 0.3, grow: float = 1.0,
                 min_interval: float = 0.0):
        self.vb, self.axis, self.pad, self.fill, self.grow = vb, axis, pad, fill, grow
        self.min_interval = min_interval  # while the data still overlap the range, refit at most this often
        self.range: tuple[float, float] | None = None
        self.enabled = True
        # off in a rendering: the range is then a function of the data shown, not of the frames before it
        self.hysteresis = True
        self._changed_at = 0.0

    def reset(self) -> None:
        self.range = None
        self.enabled = True

    def fit(self, lo: float, hi: float, throttle: bool = True) -> None:
        if not self.enabled or not (math.isfinite(lo) and math.isfinite(hi)):
            return
        if hi < lo:
            lo, hi = hi, lo
        span = hi - lo
        if span <= 1e-12 * max(abs(lo), abs(hi), 1e-300):
            span = max(abs(hi) * 0.1, 1e-9)
            lo, hi = lo - span / 2, hi + span / 2
        cur = self.range if self.hysteresis else None
        if cur is not None:
            width = cur[1] - cur[0]
            if cur[0] <= lo and hi <= cur[1] and span >= self.fill * width:
                return
            overlaps = lo < cur[1] and hi > cur[0]
            if throttle and overlaps and time.perf_counter() - self._changed_at < self.min_interval:
                return
        if self.grow > 1.0 and cur is not None and lo >= cur[0] and hi > cur[1]:
            new = (cur[0], cur[0] + max(self.grow * (cur[1] - cur[0]), (hi - cur[0]) * (1 + self.pad)))
        else:
            new = (lo - self.pad * span, hi + self.pad * span)
        self.range = new
        self._changed_at = time.perf_counter()
        # (setXRange does not emit sigRangeChangedManually: only the mouse does, which stops the fitting)
        if self.axis == "x":
            self.vb.setXRange(*new, padding=0)
        else:
            self.vb.setYRange(*new, padding=0)


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def decade_label(exponent: int, mantissa: int = 1) -> str:
    """10 to an integer power in one style: 10⁻⁶, 10⁰, 10¹ (with a mantissa: 2·10³)."""
    power = "10" + str(int(exponent)).translate(_SUPERSCRIPT)
    return power if mantissa == 1 else f"{mantissa}·{power}"


class EdgeLabelAxis(pg.AxisItem):
    """An axis that labels the ticks at its very ends too, spaced so that no two labels run into each other."""

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802, N803 - pyqtgraph's names
        """pyqtgraph picks the spacing from the axis length alone: on a narrow axis ("-1.0 -0.5 0 0.5 1.0" under a
        130-px surface map, "0.66 0.68 0.70 0.72" under a small loss-vs-weight view) neighbouring labels touched
        once the end ones were drawn. The major spacing steps up (1, 2, 5, 10 …) until the widest label fits."""
        levels = super().tickSpacing(minVal, maxVal, size)
        if (self.orientation not in ("top", "bottom") or self.logMode or not levels or not size
                or not (math.isfinite(minVal) and math.isfinite(maxVal)) or maxVal <= minVal):
            return levels
        major = float(levels[0][0])
        per_px = (maxVal - minVal) / float(size)
        metrics = QFontMetricsF(self.style.get("tickFont") or self.font())
        scale = self.autoSIPrefixScale * self.scale
        for _ in range(8):
            first = math.ceil(minVal / major) * major
            values = [first + k * major for k in range(int((maxVal - first) / major + 1e-9) + 1)][:50]
            widest = max((metrics.horizontalAdvance(t) for t in self.tickStrings(values, scale, major)), default=0.0)
            if major / per_px >= widest + 10 or len(values) <= 2:
                break
            mantissa = major / 10 ** math.floor(math.log10(major) + 1e-9)
            major *= 2.5 if 1.9 < mantissa < 2.1 else 2.0  # 1 → 2 → 5 → 10
        if major == levels[0][0]:
            return levels
        return [(major, 0)] + [lvl for lvl in levels[1:] if lvl[0] < major][:1]

    def boundingRect(self):  # noqa: N802 - Qt's name
        """pyqtgraph draws only the tick labels that lie wholly inside this rect: a tick within half a label's width
        of the axis's end lost its label (the LR axis's leftmost decade, a sweep from exactly 10⁻⁶ or 10⁻⁷; the
        loss-vs-step view's last step, "10", when presenting). A horizontal axis's labels may spill into the empty
        corners beside it, inside its plot."""
        rect = super().boundingRect()
        parent = self.parentItem()
        if self.orientation not in ("top", "bottom") or parent is None:
            return rect
        g = self.geometry()
        left = max(0.0, g.left() - parent.boundingRect().left())
        right = max(0.0, parent.boundingRect().right() - g.right())
        return rect.adjusted(-left, 0, right, 0)

    def length_px(self) -> float | None:
        """The axis's length as pyqtgraph's generateDrawSpecs measures it to choose the ticks: in device pixels, from a
        pixel before its start to a pixel past its end (None without a view)."""
        b = self.mapRectFromParent(self.geometry())
        P = pg.Point  # noqa: N806
        ends = {"left": (b.topRight() + P(-1, -1), b.bottomRight() + P(-1, 1)),
                "right": (b.topLeft() + P(1, -1), b.bottomLeft() + P(1, 1)),
                "top": (b.bottomLeft() + P(-1, -1), b.bottomRight() + P(1, -1)),
                "bottom": (b.topLeft() + P(-1, 1), b.topRight() + P(1, 1))}[self.orientation]
        points = [self.mapToDevice(e) for e in ends]
        if None in points:
            return None
        return float(pg.Point(points[1] - points[0]).length())

    def tick_levels(self) -> list:
        """The tick levels (spacing, values) the axis draws now, chosen for the length pyqtgraph chooses them for.
        Asked for at the axis's width instead (2 px shorter), the end labels came at another spacing on a span where
        the spacing changes between the two lengths: "0.2 0.40.50.6 … 1.41.5" under the loss surface, presenting."""
        length = self.length_px()
        if not length or self.range[1] == self.range[0] or self._tickLevels is not None:
            return []
        return self.tickValues(self.range[0], self.range[1], length)

    def generateDrawSpecs(self, p):  # noqa: N802 - pyqtgraph's name
        """A labelled tick at an end with no room beside the axis (the plot's right edge: "10¹" at the end of a range
        test's sweep) gets its label too, moved in just enough to be whole."""
        specs = super().generateDrawSpecs(p)
        if specs is None or self.orientation not in ("top", "bottom") or not self.style["showValues"] \
                or self._tickLevels is not None:  # fixed ticks (setTicks) come with their own strings
            return specs
        axis_spec, tick_specs, text_specs = specs
        view = self.linkedView()
        if not text_specs or view is None:
            return specs
        lo, hi = self.range if self.range[0] <= self.range[1] else self.range[::-1]
        bounds = self.mapRectFromParent(self.geometry())
        levels = self.tick_levels()
        if not levels or hi <= lo:
            return specs
        spacing, values = levels[0]
        values = [v for v in values if lo <= v <= hi]
        strings = self.tickStrings(values, self.autoSIPrefixScale * self.scale, spacing)
        shown = {t[2] for t in text_specs}
        room = self.boundingRect()
        top, height, flags = text_specs[0][0].top(), text_specs[0][0].height(), text_specs[0][1]
        for v, s in zip(values, strings):
            if s in shown:
                continue
            x = bounds.left() + (v - self.range[0]) / (self.range[1] - self.range[0]) * bounds.width()
            width = p.boundingRect(QRectF(0, 0, 100, 100), Qt.AlignmentFlag.AlignCenter, s).width()
            left = min(max(x - width / 2, room.left()), room.right() - width)
            text_specs.append((QRectF(left, top, width, height), flags, s))
        return axis_spec, tick_specs, text_specs


class _LinearStep(float):
    """The spacing a log axis hands its tick labels when its ticks are evenly spaced losses (a range within a
    decade): its value is nominal, ``step`` is the gap between the ticks in data units."""

    def __new__(cls, step: float) -> "_LinearStep":
        out = super().__new__(cls, 1.0)
        out.step = float(step)
        return out


def _is_one_two_five(v: float) -> bool:
    """Whether a log10 value is 1, 2 or 5 times a power of ten (a decade axis's own ticks)."""
    m = 10 ** (v - math.floor(v + 1e-9))
    return any(abs(m - k) < 1e-6 * k for k in (1, 2, 5, 10))


def linear_tick_labels(values, step: float) -> list[str]:
    """Evenly spaced losses ``values`` (data units, ``step`` apart) as labels with just the decimals the step needs:
    0.72, 0.74; between 10⁻³ and 10⁴ as plain numbers, else with one power of ten for them all (2.41·10⁻⁷)."""
    values = [float(v) for v in values]
    if not values:
        return []
    top = max(abs(v) for v in values) or abs(step) or 1.0
    k = math.floor(math.log10(abs(step)) + 1e-9) if step > 0 and math.isfinite(step) else -3
    if 1e-3 <= top < 1e4:
        places = max(0, -k)
        return [f"{v:.{places}f}" for v in values]
    e = math.floor(math.log10(top) + 1e-9)
    places = max(0, e - k)
    power = "10" + str(e).translate(_SUPERSCRIPT)
    return [f"{v / 10 ** e:.{places}f}·{power}" for v in values]


class LogDecadeAxis(EdgeLabelAxis):
    """A log axis whose every label reads 10ⁿ (pyqtgraph's own mixes "10¹" with "0.1" and "0.0001" as the span
    changes, which reads as two scales). With ``minor`` and less than two decades in view, 2·10ⁿ and 5·10ⁿ are
    labelled too, in the same style, so a zoomed-in view still has numbers; a range holding fewer than two of those
    (the loss between 0.15 and 0.31: only 0.2) is labelled with evenly spaced losses instead, 0.20, 0.25, 0.30,
    all in that plain style, so a loss axis always has two labelled ticks or more. Without ``minor`` (the LR axis)
    the ticks stay whole decades."""

    def __init__(self, orientation: str, minor: bool = False, **kw) -> None:
        super().__init__(orientation, **kw)
        self.minor = minor

    def tickValues(self, minVal, maxVal, size):  # noqa: N802, N803 - pyqtgraph's names
        if not self.logMode or not (math.isfinite(minVal) and math.isfinite(maxVal)) or maxVal <= minVal:
            return super().tickValues(minVal, maxVal, size)
        lo, hi = math.ceil(minVal - 1e-9), math.floor(maxVal + 1e-9)
        per = 70.0 if self.orientation in ("top", "bottom") else 40.0  # pixels per label
        if self.minor and hi - lo + 1 < 2:
            values = [e + math.log10(m) for e in range(math.floor(minVal), math.ceil(maxVal) + 1) for m in (1, 2, 5)]
            values = [v for v in values if minVal - 1e-9 <= v <= maxVal + 1e-9]
            if len(values) >= 2:
                return [(1.0, values)]
            return self._linear_ticks(minVal, maxVal, size, per)
        if hi < lo:  # less than a decade in view: still one style, at the nearest decade
            return [(1.0, [float(round((minVal + maxVal) / 2))])]
        step = max(1, math.ceil((hi - lo + 1) / max(1.0, size / per)))
        if self.minor and hi > lo:
            step = min(step, hi - lo)  # two labelled decades at least, on a short axis too
        first = lo + (-lo) % step  # keep 10⁰ on the grid when it is in view
        if self.minor and first + step > hi:
            first = lo
        return [(float(step), [float(v) for v in range(first, hi + 1, step)])]

    @staticmethod
    def _linear_ticks(minVal, maxVal, size, per):  # noqa: N803 - pyqtgraph's names
        """Evenly spaced round losses (a step of 1, 2 or 5 times a power of ten): as many as the axis has room for
        at ``per`` pixels a label, and never fewer than two."""
        a, b = 10.0 ** minVal, 10.0 ** maxVal
        if not (math.isfinite(a) and math.isfinite(b)) or b <= a:
            return [(1.0, [])]
        room = max(2, int(size / per) if size and math.isfinite(size) else 2)

        def ticks(step: float) -> list[float]:
            i0, i1 = math.ceil(a / step - 1e-9), math.floor(b / step + 1e-9)
            return [i * step for i in range(max(i0, 1), i1 + 1)]

        k = math.floor(math.log10((b - a) / 3))  # a third of the range: three ticks or more at the first step
        steps = [m * 10.0 ** e for e in (k, k + 1, k + 2) for m in (1, 2, 5)]
        best = steps[0]
        for step in steps:  # the finest step that fits the room; the one before when it would leave one tick
            if len(ticks(step)) < 2:
                break
            best = step
            if len(ticks(step)) <= room:
                break
        values = [math.log10(v) for v in ticks(best)]
        return [(_LinearStep(best), [v for v in values if minVal - 1e-9 <= v <= maxVal + 1e-9])]

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph's name
        if not self.logMode:
            return super().tickStrings(values, scale, spacing)
        values = list(values)
        step = getattr(spacing, "step", None)
        if step is None and values and not all(_is_one_two_five(v) for v in values):
            # a caller that did not pass the spacing tickValues gave: the gap between the losses says the decimals
            lin = sorted(10.0 ** v for v in values)
            gaps = [b - a for a, b in zip(lin, lin[1:]) if b > a]
            step = min(gaps) if gaps else 10.0 ** (math.floor(math.log10(lin[0])) - 1)
        if step is not None:
            return linear_tick_labels([10.0 ** v for v in values], step)
        out = []
        for v in values:
            e = math.floor(v + 1e-9)
            m = round(10 ** (v - e))
            out.append(decade_label(e + 1 if m >= 10 else e, 1 if m >= 10 else m))
        return out


def margin_pad(span: float, px: float, margin_px: float) -> float:
    """What to add on each side of a ``span`` shown on a ``px``-pixel axis so that ``margin_px`` pixels are left
    beside it (0 where the axis is too short for that)."""
    if margin_px <= 0 or px <= 4 * margin_px:
        return 0.0
    return span * margin_px / (px - 2 * margin_px)


def with_margin(lo: float, hi: float, px: float, margin_px: float) -> tuple[float, float]:
    """``lo..hi`` widened by ``margin_px`` pixels on each side of a ``px``-pixel axis (as is when it cannot)."""
    pad = margin_pad(hi - lo, px, margin_px)
    return lo - pad, hi + pad


class FollowRange:
    """Both axes of a view fitted to a box that follows the action (the recent steps), with smooth moves.

    The box changes only when the target leaves it or fills too little of it (``fill``), so a calm run keeps
    calm axes; each change glides over ``duration`` ms (QVariantAnimation on the view rectangle) so the eye
    keeps track of the points. Without ``hysteresis`` the range is exactly the target (a rendering, whose
    picture must follow from the data alone, not from which frames came before); without ``animate`` it
    jumps. Like StickyRange: a zoom or pan by hand stops it, a double-click restarts it.
    """

    MIN_GLIDE_MS = 60  # shorter than this (frames closer than 75 ms): jump

    def __init__(self, vb: pg.ViewBox, pad: float = 0.1, fill: float = 0.45, duration: int = 260) -> None:
        from PySide6.QtCore import QEasingCurve, QVariantAnimation

        self.vb, self.pad, self.fill = vb, pad, fill
        # at least this many pixels around the box (a marker's radius: a point is never cut at an edge)
        self.margin_px: Callable[[], float] = lambda: 0.0
        self._box: tuple[float, float, float, float] | None = None  # the last box asked for, unpadded
        self._held: tuple[float, float, float, float] | None = None  # a scene's fixed box (hold), if any
        self.range: QRectF | None = None  # the target the view is at or moving to (x, y, w, h)
        self.hysteresis = True
        self.animate = True
        self._enabled = True
        self.anim = QVariantAnimation(vb)  # owned by the view box: no glide outlives the plot
        self.duration = duration
        self._last_fit = -math.inf  # time.monotonic() of the last fit: frames far apart glide in full
        self._last_call = -math.inf  # time.monotonic() of the last frame framed (moved or not)
        self.anim.setDuration(duration)
        self.anim.setEasingCurve(QEasingCurve.Type.OutCubic)
        self.anim.valueChanged.connect(self._show)
        vb.sigResized.connect(self._resized)

    def hold(self, x0: float, x1: float, y0: float, y1: float) -> None:
        """Show this box (a scene's fixed axes) and its marker margin, whatever the data do, until ``reset`` or a
        zoom by hand. The margin is in pixels, so it is framed anew at every size: the picture follows from the
        box and the plot's size, not from the size the plot had when the box came."""
        self.anim.stop()
        self._enabled = True
        self._held = (x0, x1, y0, y1)
        self._show_held()

    def _show_held(self) -> None:
        x0, x1, y0, y1 = self._held
        margin = float(self.margin_px())
        x0, x1 = with_margin(x0, x1, self.vb.width(), margin)
        y0, y1 = with_margin(y0, y1, self.vb.height(), margin)
        self.range = QRectF(x0, y0, x1 - x0, y1 - y0)
        self.vb.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)

    def _resized(self, *_) -> None:
        # the margins are in pixels: a plot that changed size frames the same box anew
        if self._enabled and self._held is not None:
            self._show_held()
            return
        if self._enabled and self._box is not None and self.range is not None:
            self.range = None
            animate, self.animate = self.animate, False
            try:
                self.fit(*self._box)
            finally:
                self.animate = animate

    @property
    def enabled(self) -> bool:
        return self._enabled

    @enabled.setter
    def enabled(self, on: bool) -> None:
        self._enabled = bool(on)
        if not on:
            self.anim.stop()  # a range set by hand (or a scenario's) is not overwritten by a glide in flight

    def reset(self) -> None:
        self.anim.stop()
        self.range = None
        self._box = None
        self._held = None
        self._enabled = True

    def _show(self, rect) -> None:
        if self._enabled and isinstance(rect, QRectF) and rect.width() > 0 and rect.height() > 0:
            self.vb.setRange(rect=rect, padding=0)

    def finish(self) -> None:
        """Jump to the end of a glide in progress."""
        if self.anim.state() == self.anim.State.Running:
            self.anim.stop()
            if self.range is not None:
                self._show(self.range)

    LIVE_GLIDE_GAP = 1.0  # running: frames closer than this (s) are the motion themselves, no glide
    LIVE_ZOOM_IN_S = 0.5  # running: the view closes in on a smaller box at most this often (s)

    def fit(self, x0: float, x1: float, y0: float, y1: float, live: bool = False) -> None:
        """Frame the box; ``live``: a frame of a running run (glides only between frames far apart)."""
        if not self._enabled or self._held is not None or not all(math.isfinite(v) for v in (x0, x1, y0, y1)):
            return
        called = time.monotonic()
        frame_gap, self._last_call = called - self._last_call, called
        self._box = (x0, x1, y0, y1)
        margin = float(self.margin_px())
        cur = self.range
        spans, needed = [], []
        shown = ((cur.width(), cur.height()) if cur is not None else (0.0, 0.0))
        for (lo, hi), px, now in (((x0, x1), self.vb.width(), shown[0]), ((y0, y1), self.vb.height(), shown[1])):
            span = hi - lo
            if span <= 1e-12 * max(abs(lo), abs(hi), 1e-300):
                span = max(abs(hi) * 0.1, 1e-9)
                lo, hi = lo - span / 2, hi + span / 2
            # the margin in pixels, whatever the plot's size
            pad = max(self.pad * span, margin_pad(span, px, margin))
            edge = now * margin / px if px > 4 * margin > 0 else 0.0  # the marker's radius at the scale shown now
            spans.append((lo - pad, hi + pad))
            needed.append((lo - edge, hi + edge))
        (x0, x1), (y0, y1) = spans
        if self.hysteresis and cur is not None:
            # the box itself (with the marker's margin) must be in view; the padding is the slack that lets a
            # slowly drifting box (SGD's jitter around a minimum) keep the axes still for many frames
            (nx0, nx1), (ny0, ny1) = needed
            inside = cur.left() <= nx0 and nx1 <= cur.right() and cur.top() <= ny0 and ny1 <= cur.bottom()
            full = (x1 - x0) >= self.fill * cur.width() and (y1 - y0) >= self.fill * cur.height()
            if inside and full:
                return
            if inside and live and called - self._last_fit < self.LIVE_ZOOM_IN_S:
                # running: a box that is in view but small (SGD's jitter at a minimum shrinks and widens it from
                # frame to frame) zooms in at most this often; leaving the view always refits at once
                return
            if live and not inside:
                # running: a box that left the view widens it to take in both, as long as the box still fills
                # enough of it, so the view settles on the jitter's extent instead of following every frame's
                ux0, ux1 = min(cur.left(), x0), max(cur.right(), x1)
                uy0, uy1 = min(cur.top(), y0), max(cur.bottom(), y1)
                if (x1 - x0) >= self.fill * (ux1 - ux0) and (y1 - y0) >= self.fill * (uy1 - uy0):
                    (x0, x1), (y0, y1) = (ux0, ux1), (uy0, uy1)
        new = QRectF(x0, y0, x1 - x0, y1 - y0)  # (QRectF's top is the smaller y: view coordinates)
        self.range = new
        # a glide never outlasts the time between frames: at full speed a glide restarted on every frame
        # repainted the view and its axes ~6 times a frame (a third of the window's time for the parabola),
        # and there the frames themselves are the motion
        now = time.monotonic()
        gap, self._last_fit = now - self._last_fit, now
        glide = self.duration if gap > 1.0 else min(self.duration, int(800 * gap))
        if live:
            # a glide repaints the view at 60 Hz: with frames 80-300 ms apart (full speed on a busy machine) it
            # took most of the window's time, which slowed the frames, which lengthened the glides; a run slowed
            # to a step a second or less still glides
            glide = min(glide, int(500 * min(frame_gap, 1.0))) if frame_gap > self.LIVE_GLIDE_GAP else 0
        if self.animate and cur is not None and glide >= self.MIN_GLIDE_MS:
            (vx0, vx1), (vy0, vy1) = self.vb.viewRange()
            self.anim.stop()
            self.anim.setDuration(glide)
            self.anim.setStartValue(QRectF(vx0, vy0, vx1 - vx0, vy1 - vy0))
            self.anim.setEndValue(new)
            self.anim.start()
        else:
            self.anim.stop()
            self._show(new)


def draw_axis_picture(axis: pg.AxisItem) -> None:
    """What AxisItem.paint draws when its picture is out of date (its ticks, labels and grid as a QPicture, measured
    on the way), drawn ahead of the paint, which then only plays it."""
    from PySide6.QtGui import QPicture

    picture = QPicture()
    painter = QPainter(picture)
    try:
        if axis.style["tickFont"]:
            painter.setFont(axis.style["tickFont"])
        specs = axis.generateDrawSpecs(painter)
        if specs is not None:
            axis.drawPicture(painter, *specs)
    finally:
        painter.end()
    axis.picture = picture


class GatedPlotWidget(pg.PlotWidget):
    """A PlotWidget that parks the engine thread while it paints.

    Painting a pyqtgraph plot switches between C++ and Python hundreds of times; with the worker thread
    competing for the GIL, every switch back waits for it, and a 10 ms frame took 80 ms. Closing the
    worker's gate (a threading.Event it checks between steps) for the few milliseconds of a paint makes
    frames cheap and the worker loses only that time.
    """

    gate = None  # threading.Event of the worker, set by the window
    paint_seconds = 0.0  # time spent painting, read (and reset) by the window to pace snapshots

    def __init__(self) -> None:
        super().__init__()
        self.sticky: list[StickyRange] = []
        self.getPlotItem().vb.sigRangeChangedManually.connect(self._manual_range)

    def _manual_range(self, *_) -> None:
        for r in self.sticky:
            r.enabled = False

    def refit(self) -> None:
        for r in self.sticky:
            r.reset()

    def refresh_axes(self, *_, text_space: bool = False, repaint: bool = True) -> bool:
        """Re-place each axis' label and redraw its ticks and grid from the current size and text: an axis whose
        range did not change keeps a cached picture (grid lines as long as the plot was before, a label centred
        for the previous text), so the same data were drawn differently after another scenario.

        ``text_space``: also size each axis for the tick labels it shows now (pyqtgraph widens an axis for the
        widest label it has drawn and narrows it only by more than 10 px, so its width depended on earlier frames).
        ``repaint=False`` leaves the redraw to the next paint (a grab). Returns whether an axis changed size.
        """
        changed = False
        painter = None
        if text_space:
            from PySide6.QtGui import QImage

            scratch = QImage(4, 4, QImage.Format.Format_ARGB32)
            painter = QPainter(scratch)
        try:
            for name in ("left", "bottom", "right"):
                axis = self.getPlotItem().getAxis(name)
                if painter is not None and axis.isVisible():
                    before = (axis.maximumWidth(), axis.maximumHeight())
                    axis.textWidth, axis.textHeight = 30, 18  # pyqtgraph's initial room, then measured afresh
                    axis.generateDrawSpecs(painter)  # (measures the labels and sizes the axis, as a paint would)
                    axis._updateWidth() if name != "bottom" else axis._updateHeight()
                    changed |= before != (axis.maximumWidth(), axis.maximumHeight())
                axis.resizeEvent()
                if repaint:
                    axis.update()
        finally:
            if painter is not None:
                painter.end()
        return changed

    def settle(self, live: bool = False) -> None:
        """Apply this frame's range changes now, before the paint: pyqtgraph moves the items to a new view range
        only when the paint starts (ViewBox.prepareForPaint), and items moved inside a paint queue a second
        paint of the same frame. While ``live``, the axes only widen for their tick labels (labels whose width
        changes from frame to frame made the plot re-lay out, and paint again, after every other frame)."""
        pi = self.getPlotItem()
        axes = [pi.getAxis(name) for name in ("left", "bottom", "right")]
        for axis in axes:
            axis.style["autoReduceTextSpace"] = not live
        scene = self.scene()
        scene.prepareForPaint()
        # An axis whose range changed draws its ticks anew in the paint, and measures its labels there: labels wider
        # than before widen it inside the paint, the plot re-lays out and the view painted 2-3 times that frame.
        # Drawn here instead, with the layout settled before the paint if an axis changed size (at most twice:
        # a resize redraws the axes), the paint only plays the pictures.
        for _ in range(3):
            sizes = [(a.maximumWidth(), a.maximumHeight()) for a in axes]
            for axis in axes:
                if axis.isVisible() and axis.picture is None:
                    draw_axis_picture(axis)
            if sizes == [(a.maximumWidth(), a.maximumHeight()) for a in axes]:
                break
            pi.layout.activate()  # the new axis sizes now, not in a layout request after this frame's paint
            scene.prepareForPaint()

    def mouseDoubleClickEvent(self, ev) -> None:
        self.refit()
        self.getPlotItem().vb.autoRange()
        super().mouseDoubleClickEvent(ev)

    def paintEvent(self, ev) -> None:
        t0 = time.perf_counter()
        gate = self.gate
        if gate is not None:
            gate.clear()
        try:
            return super().paintEvent(ev)
        finally:
            if gate is not None:
                gate.set()
            GatedPlotWidget.paint_seconds += time.perf_counter() - t0


def new_plot(object_name: str) -> pg.PlotWidget:
    pw = GatedPlotWidget()
    pw.setObjectName(object_name)
    pw.getPlotItem().vb.sigResized.connect(pw.refresh_axes)
    pw.setMinimumSize(240, 140)  # small screens: the window must fit (captions compact first)
    pi = pw.getPlotItem()
    pi.setAxisItems({"bottom": EdgeLabelAxis("bottom")})
    pi.showGrid(x=True, y=True, alpha=0.25)
    pi.setMenuEnabled(True)
    pi.hideButtons()
    for name in ("left", "bottom", "right"):
        ax = pi.getAxis(name)
        # axes (with their grid lines and big tick labels) are the costliest part of a frame; cached as a
        # pixmap they are re-rendered only when their range changes, not for every new point
        ax.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        ax.enableAutoSIPrefix(False)  # "loss (x0.001)" confuses more than it saves
        ax.setTickFont(plot_font(1.0))
        ax.label.setFont(plot_font(1.0))
    return pw


class HeadLegend(QWidget):
    """A view's legend in its title row, beside the title, when the row has room for it on one line: the plot then
    gives its data the strip above them (about 35 px of a 720p screen's plot). The entries are the plot's
    :class:`StripLegend`'s (one list of what is drawn), painted here with the same samples; outside the data, so
    they hide no point and never the ball. Where the row is short (a narrow view, a caption on the title's row while
    presenting) the strip above the data shows them instead. A function of the entries, the font and the row's
    width alone: the same picture however the frames arrived."""

    GAP = 12  # between entries, at least

    def __init__(self, box: QWidget, plot: QWidget, title: QLabel, extra: QWidget | None) -> None:
        super().__init__()
        self.setObjectName("headLegend")
        self._box, self._plot, self._title, self._extra = box, plot, title, extra
        self._legend = None
        self._short = False  # showing the strip's short names (a narrow row)
        self._key = None  # what the row was last laid out for (entries, short names, font)
        # it may shrink: the window's minimum width must never follow a legend shown while the window was wide (fit
        # hides it before it is cut)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.hide()
        box.installEventFilter(self)

    def strip(self):
        """The plot's StripLegend (made after the box, by the view), or None."""
        if self._legend is None:
            legend = getattr(self._plot.getPlotItem(), "legend", None)
            if isinstance(legend, StripLegend):
                self._legend = legend
                legend.head = self
                self.setToolTip(legend.toolTip())
        return self._legend

    def _entries(self, short: bool | None = None) -> list:
        """(sample, text) of each entry; with ``short`` (else as now) the strip's ``short_names`` where it has one."""
        legend = self.strip()
        if legend is None:
            return []
        names = legend.short_names if (self._short if short is None else short) else {}
        return [(sample, names.get(label.text, label.text)) for sample, label in legend.items]

    def _sample_length(self) -> float:
        return max(24.0, 1.4 * QFontMetricsF(self.font()).height())

    def _gap(self) -> float:
        """Between entries (and before the row's controls): wider with the type, as on a projector."""
        return max(float(self.GAP), 0.45 * QFontMetricsF(self.font()).height())

    def _lead(self) -> float:
        """From the title (the row's spacing already parts them at the normal type size; on a projector a little)."""
        return max(0.0, 0.35 * QFontMetricsF(self.font()).height() - 6)

    def _pad(self) -> float:
        """Between a sample and its text: a quarter of the text's height (on a projector 4 px ran them together)."""
        return max(4.0, 0.25 * QFontMetricsF(self.font()).height())

    def _head_spacing(self) -> int:
        rows = getattr(self._box, "_gd_rows", None)
        spacing = rows[1].spacing() if rows is not None else -1
        style = self.style()
        return spacing if spacing >= 0 else style.pixelMetric(style.PixelMetric.PM_LayoutHorizontalSpacing)

    def sizeHint(self, short: bool | None = None):  # noqa: N802 - Qt's name
        from PySide6.QtCore import QSize

        fm = QFontMetricsF(self.font())
        entries = self._entries(short)
        width = sum(self._sample_length() + self._pad() + fm.horizontalAdvance(text) for _s, text in entries)
        width += self._gap() * max(0, len(entries) - 1)
        # and a gap from the title before it, and before the controls at the row's end (the weight view's "log loss")
        return QSize(math.ceil(width + 2 + self._lead() + self._gap()), math.ceil(max(fm.height(), 20.0)))

    def minimumSizeHint(self):  # noqa: N802 - Qt's name
        from PySide6.QtCore import QSize

        return QSize(0, self.sizeHint().height())

    def fit(self) -> None:
        """In the title row if the row holds it whole beside the title, the row's right-hand controls and a
        little room for the note; else in the strip above the data."""
        legend = self.strip()
        if legend is None:
            return
        entries = legend.items
        on = bool(entries) and not self._box.property("gdCaptionInline")
        short = False
        if on:
            lay = self._box.layout()
            m = lay.contentsMargins()
            used = self._title.sizeHint().width() + (self._extra.sizeHint().width() if self._extra is not None else 0)
            note = getattr(self._box, "_gd_note", None)
            items = 3 + (self._extra is not None) + (2 if note is not None else 0)  # title, note or stretch, legend
            used += (22 if note is not None else 0) + (items - 1) * self._head_spacing() + 4  # the spacings, a margin
            room = self._box.width() - m.left() - m.right() - used
            # the whole names, else the short ones beside the title they complete ("Loss vs weight — fell - - rose")
            on = self.sizeHint(False).width() <= room
            if not on and legend.short_names:
                short = on = self.sizeHint(True).width() <= room
        changed = short != self._short
        if changed:
            self._short = short
            self._key = None
        if on != self.isVisibleTo(self._box) or on != legend.in_head:
            self.setVisible(on)
            legend.set_in_head(on)
            changed = True
        if on and changed:  # (only then: the strip calls this on every resize of its plot)
            self.updateGeometry()
            self.update()

    def entries_changed(self) -> None:
        # the strip re-arranges on every resize of its plot: only new entries or a new font change this row
        key = (tuple(text for _s, text in self._entries()), self._short, self.font().key())
        if key != self._key:
            self._key = key
            self.updateGeometry()
            self.update()
        self.fit()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        t = event.type()
        if (t == QEvent.Type.Resize and event.size().width() != event.oldSize().width()) or t == QEvent.Type.Show:
            self.fit()
        return False

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._key = None
            self.entries_changed()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = QFontMetricsF(self.font())
        length = self._sample_length()
        x = 1.0 + self._lead()
        h = float(self.height())
        p.setFont(self.font())
        for sample, text in self._entries():
            p.save()
            p.translate(x, (h - 20.0) / 2)
            if isinstance(sample, StripSample):
                old = sample.length
                sample.length = length  # (its strip's length, for this paint only: no geometry change there)
                sample.paint(p)
                sample.length = old
            else:
                sample.paint(p)
            p.restore()
            x += length + self._pad()
            p.setPen(self.palette().windowText().color())
            p.drawText(QRectF(x, 0, fm.horizontalAdvance(text) + 2, h),
                       int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), text)
            x += fm.horizontalAdvance(text) + self._gap()
        p.end()


class StripSample(pg.ItemSample):
    """A legend sample as long as its text is tall (pyqtgraph's is 20 px whatever the type size), so a dashed or
    dotted line shows its pattern on a projector too."""

    def __init__(self, item) -> None:
        super().__init__(item)
        self.length = 20.0

    def set_length(self, length: float) -> None:
        if abs(length - self.length) > 0.5:
            self.prepareGeometryChange()
            self.length = float(length)
            self.setFixedWidth(self.length)
            self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        return QRectF(0, 0, self.length, 20)

    def paint(self, p, *args) -> None:
        from pyqtgraph.graphicsItems.ScatterPlotItem import drawSymbol

        if not self.item.isVisible():  # pyqtgraph's "hidden" eye
            return super().paint(p, *args)
        opts = self.item.opts
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        if not isinstance(self.item, pg.ScatterPlotItem):
            p.setPen(pg.mkPen(opts["pen"]))
            p.drawLine(pg.QtCore.QPointF(0, 11), pg.QtCore.QPointF(self.length, 11))
        symbol = opts.get("symbol", None)
        if symbol is not None:
            if isinstance(self.item, pg.PlotDataItem):
                opts = self.item.scatter.opts
            p.translate(self.length / 2, 11)
            drawSymbol(p, symbol, opts["size"], pg.mkPen(opts["pen"]), pg.mkBrush(opts["brush"]))


class StripLegend(pg.LegendItem):
    """A legend in a strip above the data (the plot's empty title row), so it never hides a point, a curve or
    the ball, whatever the plot's size, the font or the number of entries.

    Entries are placed here from their text's size (not by a grid layout, which sizes itself from its
    children's geometry and lags behind a new text or font), in as many columns as the plot's width allows
    and as many rows as they need; the strip's row grows to fit, so no entry overflows the frame. A function
    of the entries, the font and the plot's width alone, the picture is the same however the frames and
    resizes arrived.
    """

    GAP = 14.0  # between entries
    PAD = 3.0  # inside the frame

    def __init__(self, pi: pg.PlotItem, label_size: str = "11pt") -> None:
        super().__init__(offset=None, labelTextSize=label_size, colCount=1, verSpacing=0, sampleType=StripSample)
        self.frame = False  # outside the data: a frame would only add ink
        self.plot_item = pi
        self._row_h = None
        self._busy = False
        self.head = None  # the view's HeadLegend, which shows the entries in the title row when it has room
        self.short_names: dict[str, str] = {}  # an entry's name in a narrow title row, beside the view's title
        self.in_head = False
        pi.legend = self  # PlotItem.addItem(item with a name) adds it here
        self.setParentItem(pi)
        self.setZValue(50)
        pi.geometryChanged.connect(self.arrange)
        pi.vb.sigResized.connect(self.arrange)

    def _addItemToLayout(self, sample, label):  # noqa: N802 - pyqtgraph's name
        sample.setParentItem(self)
        label.setParentItem(self)

    def _removeItemFromLayout(self, *items):  # noqa: N802
        for item in items:
            scene = item.scene()
            item.setParentItem(None)
            if scene is not None:
                scene.removeItem(item)

    def setColumnCount(self, columnCount):  # noqa: N802, N803 - the columns follow the plot's width
        self.arrange()

    def updateSize(self):  # noqa: N802 - LegendItem and theme.style_plot call it after a change
        self.arrange()

    def fit_row(self) -> None:
        self.arrange()

    def set_in_head(self, on: bool) -> None:
        """The entries shown in the view's title row (the strip and its row then take no room), or here."""
        if bool(on) != self.in_head:
            self.in_head = bool(on)
            self.arrange()

    def columns_for(self, widths: list[float], room: float) -> int:
        """The most columns (entries per row, in order) whose grid fits in ``room`` pixels."""
        n = len(widths)
        for c in range(n, 1, -1):
            # entries sit in a grid: each column as wide as its widest entry
            cols = [max(widths[j::c]) for j in range(c)]
            if sum(cols) + self.GAP * (c - 1) <= room:
                return c
        return 1

    def arrange(self, *_) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            pi = self.plot_item
            sizes = []
            for sample, label in self.items:
                rect = label.item.boundingRect()  # the text's own size, known as soon as it is set
                if isinstance(sample, StripSample):
                    sample.set_length(max(24.0, 1.6 * rect.height()))
                sr = sample.boundingRect()
                sizes.append((sr.width(), rect.width(), max(rect.height(), sr.height())))
            shown = bool(sizes) and not self.in_head
            self.setVisible(shown)
            room = max(40.0, pi.width() - 8.0 - 2 * self.PAD)  # the strip spans the plot, axes included
            widths = [sw + 4 + lw for sw, lw, _h in sizes]
            cols = self.columns_for(widths, room) if sizes else 1
            self.columnCount = cols
            col_w = [0.0] * cols
            for i, wd in enumerate(widths):
                col_w[i % cols] = max(col_w[i % cols], wd)
            entries_w = sum(col_w) + self.GAP * (cols - 1) if sizes else 0.0
            y = self.PAD
            for r0 in range(0, len(sizes), cols):
                row = sizes[r0:r0 + cols]
                h = max(e[2] for e in row)
                x = self.PAD
                for j, (sw, lw, _h) in enumerate(row):
                    sample, label = self.items[r0 + j]
                    th_ = label.item.boundingRect().height()
                    sample.setPos(x, y + (h - sample.boundingRect().height()) / 2)
                    label.setGeometry(QRectF(x + sw + 4, y + (h - th_) / 2, lw, th_))
                    x += col_w[j] + self.GAP
                y += h
            width = entries_w + 2 * self.PAD if shown else 0.0
            height = y + self.PAD if shown else 0.0
            self.setGeometry(QRectF(0, 0, width, height))
            # right-aligned with the data's right edge, in the plot's title row (otherwise empty)
            vb = pi.vb.geometry()
            right = vb.right() if vb.width() > 0 else pi.width() - 4.0
            self.setPos(max(4.0, min(right, pi.width() - 4.0) - width), 1.0)
            row_h = int(math.ceil(height)) + 3 if shown else 0
            if self.in_head:
                # the entries are in the title row: the strip's row keeps only room for half the top tick label,
                # which stands out above the data box (at 0 px a right axis' top label was cut)
                tick = pi.getAxis("left").style.get("tickFont") or QFont()
                row_h = int(math.ceil(QFontMetricsF(tick).height() / 2)) + 2
            if self._row_h != row_h:
                self._row_h = row_h
                pi.layout.setRowFixedHeight(0, row_h)
            self.update()
        finally:
            self._busy = False
        if self.head is not None:
            self.head.entries_changed()


def axis_draw_specs(axis):
    """pyqtgraph's layout of an axis as a paint would make it now, on a scratch image: (line, ticks, labels), or None
    when it draws nothing. The labels are measured on the way, as in a paint; tests and probes read the labels an
    axis shows here instead of in a screenshot."""
    from PySide6.QtGui import QImage

    scratch = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(scratch)
    try:
        return axis.generateDrawSpecs(painter)
    finally:
        painter.end()


def strip_legend(pi: pg.PlotItem, label_size: str = "11pt") -> StripLegend:
    """A :class:`StripLegend` for ``pi`` (its legend from now on)."""
    legend = StripLegend(pi, label_size)
    legend.arrange()
    return legend


# ---------------------------------------------------------------------------------------- data view
