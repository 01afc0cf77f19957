"""The four live views: data with decision regions, loss vs weight, loss vs learning rate, loss vs step.

Views only draw snapshots they are handed; every array is cleaned of NaN/inf before it reaches
pyqtgraph, and each view can say the exact numbers under the mouse.
"""
from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen, QPolygonF, QTextLayout, QTextOption
from PySide6.QtWidgets import QCheckBox, QGraphicsItem, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from . import theme as th
from .adapters import fmt_lr, fmt_num
from ..live.snapshot import finite_xy

BLUE = th.OKABE_ITO["blue"]
VERMILLION = th.OKABE_ITO["vermillion"]
GREEN = th.OKABE_ITO["bluish_green"]
ORANGE = th.OKABE_ITO["orange"]
PURPLE = th.OKABE_ITO["reddish_purple"]
SKY = th.OKABE_ITO["sky_blue"]
GREY = "#6E6E6E"
CAPTION_LINES = 3  # a view's caption in the normal view
PRESENTATION_CAPTION_LINES = 1  # on a projector: the plots keep the room; the whole text is in the tooltip


def _font(scale: float = 1.0, bold: bool = False) -> QFont:
    from PySide6.QtWidgets import QApplication

    f = QFont(QApplication.font())
    f.setPointSizeF(max(6.0, f.pointSizeF() * scale))
    f.setBold(bold)
    return f


def _pen(color: str, width: float = 2.0, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    pen = pg.mkPen(color, width=width)
    pen.setStyle(style)
    pen.setCosmetic(True)
    return pen


def _empty() -> np.ndarray:
    return np.zeros(0)


def _set(item: pg.PlotDataItem, x, y) -> None:
    x, y = finite_xy(x, y)
    item.setData(x, y, skipFiniteCheck=True)


class HoverReadout:
    """Shows the exact numbers of the data point nearest the mouse (within a few pixels) in a label."""

    RADIUS_PX = 14

    def __init__(self, plot: pg.PlotWidget, source) -> None:
        self.plot = plot
        self.source = source  # () -> list of (xs_view, ys_view, text_fn(i) -> str)
        self.text = pg.TextItem("", anchor=(0, 1), color="#111111", fill=pg.mkBrush(255, 255, 240, 235),
                                border=pg.mkPen("#333333"))
        self.text.setFont(_font(0.95))
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


class ArrowsItem(pg.GraphicsObject):
    """All the steps as arrows w_t → w_{t+1} in one item, drawn in screen pixels so heads keep their shape."""

    def __init__(self) -> None:
        super().__init__()
        self._x = np.zeros(0)
        self._y = np.zeros(0)
        self._up = np.zeros(0, dtype=bool)
        self._rect = QRectF()
        self.width = 2.5
        self.head = 13.0
        self.down_color = QColor(BLUE)
        self.up_color = QColor(VERMILLION)

    def setArrows(self, x: np.ndarray, y: np.ndarray, went_up: np.ndarray) -> None:
        """Points x[0..k], y[0..k] give k arrows; went_up[k] marks an arrow whose loss rose (overshoot)."""
        self.prepareGeometryChange()
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

    def paint(self, painter: QPainter, *args) -> None:
        n = self.count()
        if n == 0:
            return
        tr = painter.transform()
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pts = [tr.map(QPointF(float(a), float(b))) for a, b in zip(self._x, self._y)]
        for k in range(n):
            a, b = pts[k], pts[k + 1]
            dx, dy = b.x() - a.x(), b.y() - a.y()
            length = math.hypot(dx, dy)
            # older arrows fade so the latest steps stand out
            alpha = int(70 + 185 * (k + 1) / n) if n > 1 else 255
            up = bool(self._up[k])
            color = QColor(self.up_color if up else self.down_color)
            color.setAlpha(alpha)
            pen = QPen(color, self.width)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            if length < 1.0:  # a step too small to see: its point is drawn by the scatter anyway
                continue
            ux, uy = dx / length, dy / length
            head = min(self.head, 0.6 * length + 4)
            base = QPointF(b.x() - ux * head, b.y() - uy * head)
            # an overshoot (the loss rose) is told by more than its colour: a dashed shaft and an open head
            shaft = QPen(pen)
            if up:
                shaft.setStyle(Qt.PenStyle.CustomDashLine)
                shaft.setDashPattern([2.2, 1.8])
                shaft.setCapStyle(Qt.PenCapStyle.FlatCap)
            painter.setPen(shaft)
            painter.drawLine(a, base)
            half = head * 0.45
            poly = QPolygonF([b, QPointF(base.x() - uy * half, base.y() + ux * half),
                              QPointF(base.x() + uy * half, base.y() - ux * half)])
            painter.setPen(pen)
            painter.setBrush(QColor(255, 255, 255, alpha) if up else color)
            painter.drawPolygon(poly)
        painter.restore()


def elide_lines(text: str, font: QFont, width: float, lines: int) -> tuple[str, bool]:
    """``text`` word-wrapped to ``width`` pixels in at most ``lines`` lines (the last one elided with "…"),
    as lines joined by newlines; and whether anything was cut."""
    if not text or width <= 0 or lines <= 0:
        return text, False
    layout = QTextLayout(text.replace("\n", "\u2028"), font)
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
    rows = [text[a:a + n].replace("\n", "").rstrip() for a, n in spans]
    if len(rows) <= lines:
        return "\n".join(rows), False
    rest = " ".join(text[spans[lines - 1][0]:].split())
    last = QFontMetricsF(font).elidedText(rest, Qt.TextElideMode.ElideRight, width)
    return "\n".join(rows[: lines - 1] + [last]), True


class Caption(QLabel):
    """A view's caption: a fixed number of lines (so new text every frame never re-lays out the window),
    elided with "…" when the text is longer; then the whole text is in the tooltip. ``text()`` is the whole text.
    """

    def __init__(self, text: str = "", lines: int = CAPTION_LINES) -> None:
        super().__init__()
        self._full = ""
        self._lines = lines
        self.elided = False
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(False)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._fix_height()
        self.setText(text)

    def lines(self) -> int:
        return self._lines

    def set_lines(self, lines: int) -> None:
        if lines != self._lines:
            self._lines = max(1, int(lines))
            self._fix_height()
            self._layout_text()

    def _fix_height(self) -> None:
        self.setFixedHeight(math.ceil(QFontMetricsF(self.font()).lineSpacing() * self._lines) + 4)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        text = text or ""
        if text == self._full:
            return  # the same text: no layout, no repaint
        self._full = text
        self._layout_text()

    def text(self) -> str:
        return self._full

    def _layout_text(self) -> None:
        shown, cut = elide_lines(self._full, self.font(), self.contentsRect().width() - 2, self._lines)
        self.elided = cut
        self.setToolTip(self._full if cut else "")
        super().setText(shown)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._layout_text()

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fix_height()
            self._layout_text()


def _titled(title: str, plot: QWidget, caption: Caption, extra: QWidget | None = None) -> QWidget:
    box = QWidget()
    lay = QVBoxLayout(box)
    lay.setContentsMargins(4, 2, 4, 2)
    lay.setSpacing(2)
    head = QHBoxLayout()
    t = QLabel(title)
    t.setObjectName("viewTitle")
    t.setFont(_font(1.15, bold=True))
    head.addWidget(t)
    head.addStretch(1)
    if extra is not None:
        head.addWidget(extra)
    lay.addLayout(head)
    lay.addWidget(caption)
    lay.addWidget(plot, 1)
    box.setProperty("gdCaptionInline", False)
    box._gd_rows = (lay, head, caption)  # for set_caption_inline
    return box


def set_caption_inline(box: QWidget, on: bool) -> None:
    """Put a view's caption on its title's row (presentation mode: one row of text above each plot) or back
    under the title."""
    rows = getattr(box, "_gd_rows", None)
    if rows is None or bool(box.property("gdCaptionInline")) == bool(on):
        return
    lay, head, caption = rows
    if on:
        lay.removeWidget(caption)
        head.takeAt(1)  # the stretch: the caption takes the room instead
        head.insertWidget(1, caption, 1)
        head.insertSpacing(1, 12)
        caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
    else:
        head.removeWidget(caption)
        head.takeAt(1)  # the spacing
        head.insertStretch(1, 1)
        lay.insertWidget(1, caption)
    box.setProperty("gdCaptionInline", bool(on))


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
        cur = self.range
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


def _new_plot(object_name: str) -> pg.PlotWidget:
    pw = GatedPlotWidget()
    pw.setObjectName(object_name)
    pw.setMinimumSize(240, 140)  # small screens: the window must fit (captions compact first)
    pi = pw.getPlotItem()
    pi.showGrid(x=True, y=True, alpha=0.25)
    pi.setMenuEnabled(True)
    pi.hideButtons()
    for name in ("left", "bottom", "right"):
        ax = pi.getAxis(name)
        # axes (with their grid lines and big tick labels) are the costliest part of a frame; cached as a
        # pixmap they are re-rendered only when their range changes, not for every new point
        ax.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        ax.enableAutoSIPrefix(False)  # "loss (x0.001)" confuses more than it saves
        ax.setTickFont(_font(1.0))
        ax.label.setFont(_font(1.0))
    return pw


def _strip_legend(pi: pg.PlotItem, columns: int = 5) -> pg.LegendItem:
    """A legend in a strip above the data (the plot's empty title row, right-aligned), so it hides nothing.

    Its entries sit in one row when the plot is wide enough, in fewer columns (up to ``columns``) when not. In a
    plot too short to give up a strip (a small projector) it sits in the data's top-right corner instead, on
    the theme's translucent background.
    """
    legend = pi.addLegend(offset=None, labelTextSize="11pt", colCount=1)
    state = {"h": None, "busy": False, "inside": None}

    def place(inside: bool) -> None:
        if state["inside"] is inside:
            return
        state["inside"] = inside
        if inside:
            legend.setParentItem(pi.vb)
            legend.anchor(itemPos=(1, 0), parentPos=(1, 0), offset=(-8, 8))
        else:
            legend.setParentItem(pi)
            legend.anchor(itemPos=(1, 0), parentPos=(1, 0), offset=(-8, 1))

    def fit(*_):
        if state["busy"]:
            return
        state["busy"] = True
        try:
            n = len(legend.items)
            if n:
                room = max(pi.vb.width(), 1.0)
                widths = [s.boundingRect().width() + lab.boundingRect().width() + 12 for s, lab in legend.items]
                cols = 1
                for c in range(min(n, columns), 0, -1):
                    rows = [sum(widths[i:i + c]) for i in range(0, n, c)]
                    if max(rows) <= room:
                        cols = c
                        break
                if legend.columnCount != cols:
                    legend.setColumnCount(cols)
            # the share of the plot's height the strip would take (the plot's own height does not depend on it)
            share = legend.height() / max(pi.height(), 1.0)
            place(bool(state["inside"]) and share > 0.16 or share > 0.2)
            h = int(math.ceil(legend.height())) + 2 if n and not state["inside"] else 0
            if state["h"] != h:
                state["h"] = h
                pi.layout.setRowFixedHeight(0, h)
        finally:
            state["busy"] = False

    place(False)
    legend.geometryChanged.connect(fit)
    pi.vb.sigResized.connect(fit)
    pi.geometryChanged.connect(fit)
    legend.fit_row = fit
    legend.is_inside = lambda: bool(state["inside"])
    return legend


# ---------------------------------------------------------------------------------------- data view
class DataView(QWidget):
    """The 2-D data with the model's decision regions, or the fitted curve for regression."""

    def __init__(self) -> None:
        super().__init__()
        self.plot = _new_plot("dataPlot")
        self.caption = Caption("")
        self.widget = _titled("Data and model", self.plot, self.caption)
        self.info = None
        self.image = pg.ImageItem()
        self.image.setZValue(-10)
        self.plot.addItem(self.image)
        self.scatters: list[pg.ScatterPlotItem] = []
        self.curve = pg.PlotDataItem(pen=_pen(VERMILLION, 3.0))
        self.plot.addItem(self.curve)
        self.identity = pg.PlotDataItem(pen=_pen(GREY, 1.5, Qt.PenStyle.DashLine))
        self.plot.addItem(self.identity)
        # the legend sits in a strip above the data (one row, right-aligned), so it never hides a point
        self.legend = _strip_legend(self.plot.getPlotItem())
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
            pi.vb.autoRange(padding=0.05)
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
            _set(self.curve, info.grid_x, snap.regions)
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
class LossVsWeightView(QWidget):
    """The loss along the watched weight, every step a point and an arrow on it."""

    def __init__(self) -> None:
        super().__init__()
        self.plot = _new_plot("lossVsWeightPlot")
        self.caption = Caption("")
        self.widget = _titled("Loss vs weight", self.plot, self.caption)
        pi = self.plot.getPlotItem()
        pi.setLabel("left", "loss")
        self.curve = pg.PlotDataItem(pen=_pen(GREY, 3.0))
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
        self.legend = _strip_legend(pi)
        self.legend_down = pg.PlotDataItem(pen=_pen(BLUE, 2.5))
        up_pen = _pen(VERMILLION, 2.5, Qt.PenStyle.CustomDashLine)
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
        self.arrows.setArrows(_empty(), _empty(), np.zeros(0, bool))
        self.caption.setText("")

    def show_view(self, view, mode: str = "run", note: str = "", live: bool = False) -> None:
        if view is None:
            return
        self.view = view
        self.mode = mode
        _set(self.curve, view.curve_w, view.curve_loss)
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
        if view.diverge_lr is not None and view.oscillate_lr is not None and math.isfinite(view.lr):
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
NO_DESCENT = ("No clear descent: over this LR range the loss did not clearly fall, so there is no steepest "
              "slope to suggest. Try more steps, a different LR range, or a larger batch (a less noisy curve).")


class LossVsLrView(QWidget):
    """The range test's loss against the LR (log axis), its suggestions, and a click that picks an LR."""

    lrPicked = Signal(float)

    SUGGESTION_STYLE = {  # name: (colour, dash, label)
        "valley": (GREEN, Qt.PenStyle.DashLine, "valley"),
        "minimum/10": (PURPLE, Qt.PenStyle.DashDotLine, "min/10"),
        "base_lr": (ORANGE, Qt.PenStyle.DotLine, "Smith base_lr"),
        "max_lr": (ORANGE, Qt.PenStyle.DotLine, "Smith max_lr"),
    }

    def __init__(self) -> None:
        super().__init__()
        self.plot = _new_plot("lossVsLrPlot")
        self.caption = Caption("Press L (or Range test) to sweep the LR from tiny to huge, one step each.")
        self.show_others = QCheckBox("other suggestions")
        self.show_others.setObjectName("showOtherSuggestions")
        self.show_bounds = QCheckBox("Smith's bounds")
        self.show_bounds.setObjectName("showSmithBounds")
        toggles = QWidget()
        tl = QHBoxLayout(toggles)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.show_others)
        tl.addWidget(self.show_bounds)
        self.widget = _titled("Loss vs learning rate", self.plot, self.caption, toggles)
        pi = self.plot.getPlotItem()
        pi.setLogMode(x=True, y=False)
        pi.setLabel("bottom", "learning rate (log scale)")
        pi.setLabel("left", "loss")
        self.band_low = pg.PlotDataItem(pen=pg.mkPen(None))
        self.band_high = pg.PlotDataItem(pen=pg.mkPen(None))
        self.band = pg.FillBetweenItem(self.band_low, self.band_high, brush=pg.mkBrush(86, 180, 233, 70))
        for it in (self.band_low, self.band_high, self.band):
            pi.addItem(it)
        self.band.hide()
        self.raw = pg.PlotDataItem(pen=_pen(SKY, 1.5), name="raw loss")
        self.smoothed = pg.PlotDataItem(pen=_pen(BLUE, 3.5), name="smoothed (zero-phase)")
        pi.addItem(self.raw)
        pi.addItem(self.smoothed)
        self.legend = pi.addLegend(offset=(8, -8), labelTextSize="11pt")  # bottom left: below the flat start
        self.legend.addItem(self.raw, "raw loss")
        self.legend.addItem(self.smoothed, "smoothed")
        self.marker = pg.InfiniteLine(angle=90, movable=False, pen=_pen(VERMILLION, 3.0),
                                      label="", labelOpts={"position": 0.93, "color": VERMILLION,
                                                           "fill": pg.mkBrush(255, 255, 255, 225),
                                                           "anchors": [(1, 0.5), (1, 0.5)]})
        self.marker.setObjectName("steepestLrMarker")
        self.marker.label.setFont(_font(1.1, bold=True))
        self.marker.setZValue(20)
        self.marker.hide()
        pi.addItem(self.marker, ignoreBounds=True)
        self.current_lr = pg.InfiniteLine(angle=90, movable=False, pen=_pen(GREY, 2.0, Qt.PenStyle.DashLine),
                                          label="LR in use", labelOpts={"position": 0.06, "color": GREY,
                                                                       "anchors": [(0, 1), (0, 1)]})
        self.current_lr.setObjectName("currentLrLine")
        self.current_lr.label.setFont(_font(0.9))
        pi.addItem(self.current_lr, ignoreBounds=True)
        self.others: dict[str, pg.InfiniteLine] = {}
        for name, (color, dash, label) in self.SUGGESTION_STYLE.items():
            line = pg.InfiniteLine(angle=90, movable=False, pen=_pen(color, 2.0, dash), label=label,
                                   labelOpts={"position": 0.7 if name != "max_lr" else 0.6, "color": color,
                                              "anchors": [(0, 0.5), (0, 0.5)]})
            line.label.setFont(_font(0.9))
            line.setObjectName(f"suggestion_{name.replace('/', '_')}")
            line.hide()
            pi.addItem(line, ignoreBounds=True)
            self.others[name] = line
        self.result = None
        self.repeat = None
        self._lrs = _empty()
        self._losses = _empty()
        self._smoothed = _empty()
        self.show_others.toggled.connect(self._apply_toggles)
        self.show_bounds.toggled.connect(self._apply_toggles)
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        self.hover = HoverReadout(self.plot, self._hover_points)
        pi.vb.disableAutoRange()
        self.x_range = StickyRange(pi.vb, "x", pad=0.03, fill=0.0)
        self.y_range = StickyRange(pi.vb, "y", pad=0.0, fill=0.5)
        self.plot.sticky = [self.x_range, self.y_range]
        pi.vb.setRange(xRange=(-7.2, 1.2), yRange=(0.0, 1.0), padding=0)  # the default sweep, before any test
        self.plot.setToolTip("Click to use that learning rate")

    # -- drawing -------------------------------------------------------------------------------
    def clear(self) -> None:
        self.result = None
        self.repeat = None
        self._lrs = self._losses = self._smoothed = _empty()
        self.raw.setData([], [])
        self.smoothed.setData([], [])
        self.band.hide()
        self.band_low.setData([], [])
        self.band_high.setData([], [])
        self.marker.hide()
        for line in self.others.values():
            line.hide()

    def start_test(self, num_iter: int, repeats: int, start_lr: float = 1e-7, end_lr: float = 10.0) -> None:
        self.clear()
        extra = f" ({repeats} seeds)" if repeats > 1 else ""
        self.caption.setText(f"Range test running{extra}: {num_iter} steps, the LR rising every mini-batch…")
        self.plot.refit()
        # the whole LR sweep is known in advance: the x axis stays put while the curve grows into it
        self.x_range.fit(math.log10(start_lr), math.log10(end_lr))

    def show_progress(self, prog) -> None:
        lrs, losses, sm = np.asarray(prog.lrs), np.asarray(prog.losses), np.asarray(prog.smoothed)
        ok = np.isfinite(lrs) & (lrs > 0)
        self._lrs, self._losses = lrs[ok], losses[ok]
        self._smoothed = sm[ok] if sm.size == lrs.size else _empty()
        _set(self.raw, self._lrs, self._losses)
        if self._smoothed.size:
            _set(self.smoothed, self._lrs, self._smoothed)
        which = f"seed {prog.repeat + 1} of {prog.repeats}: " if prog.repeats > 1 else ""
        self._fit_y()
        self.caption.setText(f"Range test running: {which}step {len(self._lrs)} of {prog.num_iter}, "
                             f"lr = {fmt_lr(float(self._lrs[-1])) if self._lrs.size else '—'}")

    def show_result(self, result, repeat=None) -> None:
        self.result = result
        self.repeat = repeat
        if repeat is not None:
            lrs = np.asarray(repeat.lrs, dtype=np.float64)
            med = np.asarray(repeat.median, dtype=np.float64)
            low = np.asarray(repeat.low, dtype=np.float64)
            high = np.asarray(repeat.high, dtype=np.float64)
            ok = np.isfinite(lrs) & (lrs > 0) & np.isfinite(med) & np.isfinite(low) & np.isfinite(high)
            self._lrs, self._losses = lrs[ok], med[ok]
            self._smoothed = _empty()
            self.band_low.setData(lrs[ok], low[ok], skipFiniteCheck=True)
            self.band_high.setData(lrs[ok], high[ok], skipFiniteCheck=True)
            self.band.show()
            _set(self.raw, lrs[ok], med[ok])
            # the engine's smoothed median (with its LRs and blow-up cut), the curve its suggestions come from;
            # smoothing again here drew a curve whose steepest point was not where the marker is
            sm = np.asarray(repeat.smoothed, dtype=np.float64)
            sm = sm[ok] if sm.shape == lrs.shape else np.full(int(ok.sum()), np.nan)
            self._smoothed = sm
            fin = np.isfinite(sm)
            if fin.any():
                _set(self.smoothed, self._lrs[fin], sm[fin])
            else:
                self.smoothed.setData([], [])
        else:
            self._lrs = np.asarray(result.lrs, dtype=np.float64)
            self._losses = np.asarray(result.losses, dtype=np.float64)
            self._smoothed = np.asarray(result.smoothed, dtype=np.float64)
            _set(self.raw, self._lrs, self._losses)
            _set(self.smoothed, self._lrs, self._smoothed)
        sugg = dict(getattr(repeat, "suggestions", None) or result.suggestions) if repeat is not None \
            else dict(result.suggestions)
        steepest = sugg.get("steepest")
        if steepest is not None and math.isfinite(steepest) and steepest > 0:
            self.marker.show()  # first: a hidden line's label ignores new text
            self.marker.setValue(math.log10(steepest))
            self.marker.label.setFormat(f"steepest slope: {fmt_lr(steepest)}")
        else:
            self.marker.hide()
        for name, line in self.others.items():
            v = sugg.get(name)
            if v is not None and math.isfinite(v) and v > 0:
                line.show()
                line.setValue(math.log10(v))
                line.label.setFormat(f"{self.SUGGESTION_STYLE[name][2]} {fmt_lr(v)}")
                line.setProperty("has_value", True)
            else:
                line.setProperty("has_value", False)
        self._apply_toggles()
        self._fit_y()
        self.caption.setText(self.describe(result, repeat, sugg))

    def _fit_y(self) -> None:
        """Keep the interesting part in view: from just below the lowest loss to a little above the start,
        so the final blow-up does not flatten the fall (Smith's plots are clipped the same way)."""
        y = self._smoothed if self._smoothed.size == self._losses.size and self._smoothed.size else self._losses
        y = y[np.isfinite(y)]
        if y.size < 2:
            return
        start = float(np.median(y[: min(5, y.size)]))
        low = float(y.min())
        fall = start - low
        span = fall if fall > 0.05 * abs(start) else max(0.5 * abs(start), 1e-6)
        top = start + 0.6 * span
        raw = self._losses[np.isfinite(self._losses)]
        if raw.size and raw.max() < top:
            top = float(raw.max()) + 0.05 * span
        self.y_range.fit(low - 0.12 * span, top)
        if self._lrs.size:
            self.x_range.fit(float(np.log10(self._lrs.min())), float(np.log10(self._lrs.max())))

    def describe(self, result, repeat, sugg) -> str:
        steepest = sugg.get("steepest")
        parts = []
        if steepest:
            spread = ""
            if repeat is not None:
                try:
                    spread = f" ({repeat.describe('steepest')} over {len(repeat.results)} seeds)"
                except Exception:  # noqa: BLE001
                    spread = ""
            parts.append(f"Steepest descent of the loss at lr = {fmt_lr(steepest)}{spread}: Enter uses it.")
        else:
            parts.append(NO_DESCENT)
        others = [f"{n} {fmt_lr(sugg.get(n))}" for n in ("valley", "minimum/10") if sugg.get(n)]
        if others:
            parts.append("Also: " + ", ".join(others) + ".")
        if sugg.get("base_lr") and sugg.get("max_lr"):
            parts.append(f"Smith's bounds {fmt_lr(sugg['base_lr'])} … {fmt_lr(sugg['max_lr'])}.")
        if getattr(result, "stop_reason", ""):
            parts.append(f"Stopped: {result.stop_reason}.")
        return " ".join(parts)

    def _apply_toggles(self) -> None:
        for name, line in self.others.items():
            bounds = name in ("base_lr", "max_lr")
            wanted = self.show_bounds.isChecked() if bounds else self.show_others.isChecked()
            line.setVisible(bool(wanted and line.property("has_value")))

    def set_current_lr(self, lr: float) -> None:
        if lr is not None and math.isfinite(lr) and lr > 0:
            self.current_lr.show()
            if self.current_lr.value() != math.log10(lr):
                self.current_lr.setValue(math.log10(lr))
                self.current_lr.label.setFormat(f"LR in use {fmt_lr(lr)}")

    # -- interaction -------------------------------------------------------------------------------
    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.double():
            return
        vb = self.plot.getPlotItem().vb
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        # only a click on a range test's curve picks an LR: a click on an empty view (perhaps just to focus
        # the window) must not change the run
        lrs = self._lrs[np.isfinite(self._lrs) & (self._lrs > 0)]
        if lrs.size < 2:
            return
        x = vb.mapSceneToView(event.scenePos()).x()
        if math.isfinite(x) and math.log10(lrs.min()) <= x <= math.log10(lrs.max()):
            self.lrPicked.emit(float(10.0 ** x))

    def _hover_points(self):
        out = []
        if self._lrs.size:
            lx = np.log10(self._lrs)
            losses, lrs = self._losses, self._lrs
            out.append((lx, losses, lambda i: f"lr = {fmt_lr(lrs[i])}\nloss = {losses[i]:.6g}"))
            if self._smoothed.size == self._lrs.size:
                sm = self._smoothed
                out.append((lx, sm, lambda i: f"lr = {fmt_lr(lrs[i])}\nsmoothed loss = {sm[i]:.6g}"))
        return out


# -------------------------------------------------------------------------------------- loss vs step
class LossVsStepView(QWidget):
    """Training and validation loss against the step, with the learning rate on a second axis."""

    def __init__(self) -> None:
        super().__init__()
        self.plot = _new_plot("lossVsStepPlot")
        self.caption = Caption("")
        self.widget = _titled("Loss vs step", self.plot, self.caption)
        pi = self.plot.getPlotItem()
        pi.setLabel("bottom", "step")
        pi.setLabel("left", "loss")
        # long runs: each pixel column shows the mean of its steps, so mini-batch noise reads as a band
        pi.setDownsampling(auto=True, mode="mean")
        pi.setClipToView(True)
        self.legend = pi.addLegend(offset=(-8, 8), labelTextSize="11pt")
        self.train = pg.PlotDataItem(pen=_pen(BLUE, 2.0), name="training loss (batch)")
        self.val = pg.PlotDataItem(pen=_pen(VERMILLION, 2.5, Qt.PenStyle.DashLine), symbol="s", symbolSize=7,
                                   symbolBrush=pg.mkBrush(VERMILLION), symbolPen=None, name="validation loss")
        pi.addItem(self.train)
        pi.addItem(self.val)
        # the LR lives on its own axis at the right, in a view box that shares the step axis
        self.lr_box = pg.ViewBox()
        pi.showAxis("right")
        pi.scene().addItem(self.lr_box)
        pi.getAxis("right").linkToView(self.lr_box)
        pi.getAxis("right").setLabel("learning rate", color=GREEN)
        pi.getAxis("right").setTickFont(_font(1.0))
        self.lr_box.setXLink(pi)
        self.lr_curve = pg.PlotDataItem(pen=_pen(GREEN, 2.0, Qt.PenStyle.DotLine), name="learning rate")
        self.lr_box.addItem(self.lr_curve)
        self.legend.addItem(self.lr_curve, "learning rate (right axis)")
        pi.vb.sigResized.connect(self._sync)
        self._h = None
        self.hover = HoverReadout(self.plot, self._hover_points)
        pi.vb.disableAutoRange()
        self.x_range = StickyRange(pi.vb, "x", pad=0.02, fill=0.0, grow=1.6)
        self.y_range = StickyRange(pi.vb, "y", pad=0.12, fill=0.3, min_interval=0.3)
        self.plot.sticky = [self.x_range, self.y_range]
        self._lr_top = None

    def _sync(self) -> None:
        self.lr_box.setGeometry(self.plot.getPlotItem().vb.sceneBoundingRect())
        self.lr_box.linkedViewChanged(self.plot.getPlotItem().vb, self.lr_box.XAxis)

    def clear(self) -> None:
        self._h = None
        self.plot.refit()
        self._lr_top = None
        for it in (self.train, self.val, self.lr_curve):
            it.setData([], [])
        self.caption.setText("")

    def show_history(self, h, caption: str = "", live: bool = False) -> None:
        self._h = h
        _set(self.train, h.steps, h.loss)
        # markers only while they are few: thousands of symbols cost more per frame than the rest together
        few = len(h.val_steps) <= 80
        if few != (self.val.opts.get("symbol") is not None):
            self.val.setSymbol("s" if few else None)
        _set(self.val, h.val_steps, h.val_loss)
        _set(self.lr_curve, h.steps, h.lr)
        lr = np.asarray(h.lr, dtype=np.float64)
        lr = lr[np.isfinite(lr)]
        if lr.size:
            top = float(lr.max())
            top = top * 1.6 if top > 0 else 1.0  # the LR line runs at ~60% height, clear of the legend
            if self._lr_top is None or not (0.5 * self._lr_top <= top <= self._lr_top):
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

    def show_range_test(self, lrs, losses) -> None:
        """During a range test this view shows its LR rising every batch (the article's Image 6)."""
        steps = np.arange(1, len(lrs) + 1, dtype=np.float64)
        from ..live.snapshot import History

        self.show_history(History(steps=steps, loss=np.asarray(losses), lr=np.asarray(lrs),
                                  val_steps=_empty(), val_loss=_empty()),
                          "Range test: the LR (right axis) rises every mini-batch; the loss falls, then blows up.")

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


__all__ = ["Caption", "set_caption_inline", "elide_lines", "DataView", "LossVsWeightView", "LossVsLrView", "LossVsStepView", "HoverReadout", "ArrowsItem",
           "fmt_num"]
