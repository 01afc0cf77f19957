"""What the four live views share: the gated plot widget, captions, the hover readout, arrows, pens, legends.

Views only draw snapshots they are handed; every array is cleaned of NaN/inf before it reaches
pyqtgraph, and each view can say the exact numbers under the mouse.
"""
from __future__ import annotations

import math
import time

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

    ALPHA_LEVELS = 6  # older arrows fade in this many steps

    def paint(self, painter: QPainter, *args) -> None:
        """All arrows in a few QPainterPaths (by colour, fade level and style), built with NumPy.

        One Python call into Qt per arrow part made a 200-arrow frame cost ~3,000 transitions, each of
        which may wait for the GIL while the worker steps; grouped, a frame makes a few dozen.
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
        k = np.arange(1, n + 1)
        # older arrows fade so the latest steps stand out (in a few levels, one path each)
        level = np.ceil(k * self.ALPHA_LEVELS / n).astype(int) if n > 1 else np.full(n, self.ALPHA_LEVELS)
        up = self._up[:n] if self._up.size >= n else np.zeros(n, bool)
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for lev in range(1, self.ALPHA_LEVELS + 1):
            alpha = int(70 + 185 * lev / self.ALPHA_LEVELS) if n > 1 else 255
            for rose in (False, True):
                sel = ok & (level == lev) & (up == rose)
                if not sel.any():
                    continue
                color = QColor(self.up_color if rose else self.down_color)
                color.setAlpha(alpha)
                pen = QPen(color, self.width)
                pen.setCapStyle(Qt.PenCapStyle.RoundCap)
                shaft = QPen(pen)
                if rose:  # an overshoot (the loss rose) is told by more than its colour: dashed, open head
                    shaft.setStyle(Qt.PenStyle.CustomDashLine)
                    shaft.setDashPattern([2.2, 1.8])
                    shaft.setCapStyle(Qt.PenCapStyle.FlatCap)
                m = int(sel.sum())
                sx = np.column_stack([ax[sel], basex[sel]]).ravel()
                sy = np.column_stack([ay[sel], basey[sel]]).ravel()
                painter.setPen(shaft)
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawPath(pg.arrayToQPath(sx, sy, connect="pairs"))
                bxs, bys, bsx, bsy = bx[sel], by[sel], basex[sel], basey[sel]
                uxs, uys, hs = ux[sel], uy[sel], half[sel]
                hx = np.column_stack([bxs, bsx - uys * hs, bsx + uys * hs, bxs]).ravel()
                hy = np.column_stack([bys, bsy + uxs * hs, bsy - uxs * hs, bys]).ravel()
                connect = np.tile(np.array([1, 1, 1, 0], dtype=np.int32), m)  # one closed triangle each
                painter.setPen(pen)
                painter.setBrush(QColor(255, 255, 255, alpha) if rose else color)
                painter.drawPath(pg.arrayToQPath(hx, hy, connect=connect))
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
    """A view's caption: word-wrapped, never elided while the text fits in ``max_lines``. It keeps at least ``lines``
    lines of height and is as tall as its text needs; new text of the same number of lines (every frame while
    running) does not re-lay out the window. ``text()`` is the whole text."""

    def __init__(self, text: str = "", lines: int = CAPTION_LINES, max_lines: int | None = None) -> None:
        super().__init__()
        self._full = ""
        self._lines = lines
        self._shown_lines = lines
        self.max_lines = max_lines or MAX_CAPTION_LINES
        self.elided = False
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
        # texts shown before it, so the same step renders the same picture however it was reached
        if need != self._shown_lines:
            self._shown_lines = need
            self._fix_height()
        self.elided = cut
        self.setToolTip(self._full if cut else "")
        super().setText(shown)

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


def titled(title: str, plot: QWidget, caption: Caption, extra: QWidget | None = None) -> QWidget:
    box = QWidget()
    lay = QVBoxLayout(box)
    lay.setContentsMargins(4, 2, 4, 2)
    lay.setSpacing(2)
    head = QHBoxLayout()
    t = QLabel(title)
    t.setObjectName("viewTitle")
    t.setFont(plot_font(1.15, bold=True))
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


def new_plot(object_name: str) -> pg.PlotWidget:
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
        ax.setTickFont(plot_font(1.0))
        ax.label.setFont(plot_font(1.0))
    return pw


def strip_legend(pi: pg.PlotItem, columns: int = 5) -> pg.LegendItem:
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
            # the share of the plot's height the strip would take (the plot's own height does not depend on it,
            # so no hysteresis is needed): a function of the size alone, whatever size the plot had before
            share = legend.height() / max(pi.height(), 1.0)
            place(share > 0.2)
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
