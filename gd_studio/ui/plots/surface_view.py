"""The loss-surface view: the loss in a plane through the run, its contours, the path of the steps and the next step."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QFontMetricsF
from PySide6.QtWidgets import QWidget

from ...engine.fmt import fmt_num
from ...live.surface import log_shade as shade
from .common import ORANGE, pen, HoverReadout, ArrowsItem, Caption, titled, new_plot, strip_legend, axis_draw_specs

COLORMAP = "cividis"  # perceptually uniform and readable with every common colour-vision deficiency


def _nice_step(span: float, count: int) -> float:
    raw = span / max(count, 1)
    mag = 10.0 ** math.floor(math.log10(raw))
    return next((m * mag for m in (1.0, 2.0, 2.5, 5.0) if m * mag >= raw), 10.0 * mag)


def bar_loss_values(lo: float, hi: float, most: int) -> list[float]:
    """Losses to label on a log₁₀ colour bar from 10**lo to 10**hi, at most ``most`` of them, evenly apart in the
    picture: 1, 2, 5 times powers of ten over a wide range (thinned to whole decades, then every other one), a linear
    run of round numbers over a narrow one (a basin a few per cent deep)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo or most < 1:
        return []
    a, b = 10.0 ** lo, 10.0 ** hi
    if hi - lo >= 0.6:
        for mantissas, every in (((1, 2, 5), 1), ((1, 3), 1), ((1,), 1), ((1,), 2), ((1,), 5)):
            vals = [m * 10.0 ** k for k in range(math.floor(lo) - 1, math.ceil(hi) + 1) if k % every == 0
                    for m in mantissas if a <= m * 10.0 ** k <= b]
            if len(vals) <= most:
                if len(vals) >= 2 or every > 1:
                    return vals
                break
    step = _nice_step(b - a, max(2, min(most, 5)))
    while True:
        vals = [k * step for k in range(math.ceil(a / step), math.floor(b / step) + 1) if k * step > 0]
        if len(vals) <= most:
            return vals
        step = _nice_step(b - a, max(1, len(vals) // 2))


def distinct(a: float, b: float) -> tuple[str, str]:
    """Two losses written with the digits that tell them apart ("0.0879 to 0.0884", not "0.088 to 0.088")."""
    for digits in range(2, 8):
        x, y = fmt_num(a, digits), fmt_num(b, digits)
        if x != y:
            return x, y
    return x, y


def loss_ticks(axis):
    """``axis.tickValues`` for a colour bar in log₁₀ loss: positions of :func:`bar_loss_values`, as many as its
    length holds with a line and a half of its tick font between labels."""
    def tick_values(minVal, maxVal, size):  # noqa: N803 - pyqtgraph's names
        font = axis.style.get("tickFont")
        line = QFontMetricsF(font).height() if font is not None else 14.0
        most = max(1, int(size // (1.5 * line)))
        vals = bar_loss_values(float(minVal), float(maxVal), most)
        return [(1.0, [math.log10(v) for v in vals])]
    return tick_values


def loss_tick_strings(values, scale, spacing):  # noqa: ARG001 - pyqtgraph's signature
    """Each log₁₀ position as the loss it stands for, with the digits that tell neighbours apart."""
    losses = [10.0 ** v for v in values]
    def text(x: float, digits: int) -> str:
        t = f"{x:.{digits}g}"
        if "e" in t:  # 1e-06 → 1e−6
            mantissa, exponent = t.split("e")
            t = f"{mantissa}e{int(exponent)}".replace("-", "\u2212")
        return t

    for digits in range(1, 7):
        texts = [text(x, digits) for x in losses]
        if len(set(texts)) == len(texts):
            break
    return texts


class LossSurfaceView(QWidget):
    """A shaded map of the loss with contour lines at log-spaced levels, a colour bar, the projected path."""

    def __init__(self) -> None:
        super().__init__()
        self.plot = new_plot("lossSurfacePlot")
        self.caption = Caption("")
        self.widget = titled("Loss surface", self.plot, self.caption)
        self.widget.setObjectName("lossSurfaceView")
        pi = self.plot.getPlotItem()
        # no grid: the contour lines are the map's lines (in the presentation theme the grid was a black mesh over it)
        pi.showGrid(x=False, y=False)
        self.image = pg.ImageItem(axisOrder="col-major")  # values[i, j]: α = alphas[i] across, β = betas[j] up
        self.image.setZValue(0)
        pi.addItem(self.image)
        self.cmap = pg.colormap.get(COLORMAP)
        self.colorbar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=self.cmap, interactive=False,
                                        label="loss (log scale)", width=16)
        self.colorbar.setImageItem(self.image, insert_in=pi)
        # the bar is shaded by log₁₀ loss but labelled in loss (0.1, 0.2, 0.5, 1: no sums in the head), with as many
        # labels as its height holds apart; and its axis as wide as its labels (pyqtgraph fixes it at 45 px, which
        # cut a projector's labels)
        bar_axis = self.colorbar.axis
        bar_axis.tickValues = loss_ticks(bar_axis)
        bar_axis.tickStrings = loss_tick_strings
        bar_axis.setWidth(None)
        bar_axis.enableAutoSIPrefix(False)
        # the level lines come computed with the grid (live/surface, in the worker): here they are only drawn, as
        # one item of separate segments (pyqtgraph's isocurve traced them in the paint: ~50 ms a 61×61 frame)
        self.contours = pg.PlotCurveItem(pen=pg.mkPen(255, 255, 255, 150, width=1.0), connect="pairs")
        self.contours.setZValue(2)
        pi.addItem(self.contours)
        self.draws = 0  # surfaces drawn (a frame that brings the same surface again draws nothing)
        self.path = pg.PlotDataItem(pen=pen("#FFFFFF", 1.5))
        self.path.setZValue(5)
        pi.addItem(self.path)
        # the steps' dots, apart enough to be told apart (see dotted); the legend's "this run" sample
        self.dots = pg.PlotDataItem(pen=None, symbol="o", symbolSize=self.DOT, symbolBrush=pg.mkBrush("#FFFFFF"),
                                    symbolPen=pg.mkPen("#000000", width=0.8))
        self.dots.setZValue(5)
        pi.addItem(self.dots)
        self.arrow = ArrowsItem()
        # the point's own colour: where it goes next (the other views' blue vanished on the map's dark blue)
        self.arrow.down_color = QColor(ORANGE)
        self.arrow.setZValue(6)
        pi.addItem(self.arrow)
        self.current = pg.ScatterPlotItem(size=15, symbol="o", brush=pg.mkBrush(ORANGE),
                                          pen=pg.mkPen("#000000", width=2))
        self.current.setZValue(7)
        pi.addItem(self.current)
        # ghost runs kept with G (features/compare): their paths in the weights' values, drawn on a plane of the same
        # two weights (on any other plane their points have no place); the run's path and each ghost in a legend
        self.ghosts: list[tuple[tuple[str, str], pg.PlotDataItem]] = []
        self.legend = strip_legend(pi)  # above the map or in the title row, as the other views' legends: none hides it
        # why there is no surface (a one-weight model, weights no longer finite, a plane that cannot be drawn): said
        # in the middle of the view, whose axes and colour bar are hidden meanwhile (empty, they read "5e-123")
        self.notice = pg.TextItem("", anchor=(0.5, 0.5), color="#333333")
        self.notice.setZValue(10)
        pi.addItem(self.notice, ignoreBounds=True)
        self.problem = ""
        self._problem_key = None  # what show_problem last wrote for: a frame that changes neither writes nothing
        self.info = None
        self.levels = np.zeros(0)
        self.hover = HoverReadout(self.plot, self._hover_points)
        pi.vb.sigResized.connect(self._place_notice)
        self._show_map(False)

    ASPECT_SLACK = 0.08  # a map whose shape changed by less than this keeps its grid (tick labels move it a little)

    def map_aspect(self) -> float | None:
        """The map's width over its height in pixels, within what a plane accepts (None before it is laid out)."""
        vb = self.plot.getPlotItem().vb
        w, h = float(vb.width()), float(vb.height())
        return min(20.0, max(0.05, w / h)) if w >= 20 and h >= 20 else None

    def in_shape(self) -> bool:
        """The surface shown was framed for the map's present shape (or there is nothing to frame)."""
        want = self.map_aspect()
        got = getattr(self.info, "aspect", None)
        if self.info is None or want is None:
            return True
        return got is not None and abs(math.log(got / want)) <= self.ASPECT_SLACK

    def add_ghost(self, item: pg.PlotDataItem, labels: tuple[str, str]) -> None:
        """A ghost run's path (``item``, styled and named by the caller) on the plane of the weights ``labels``."""
        item.setZValue(4)  # under the run's own path and point
        self.ghosts.append((tuple(labels), item))
        self.plot.getPlotItem().addItem(item)
        self._show_ghosts()

    def clear_ghosts(self) -> None:
        pi = self.plot.getPlotItem()
        for _labels, item in self.ghosts:
            pi.removeItem(item)
        self.ghosts.clear()
        self._show_ghosts()

    def ghost_items(self) -> list[pg.PlotDataItem]:
        return [item for _labels, item in self.ghosts]

    def shown_ghosts(self) -> list[pg.PlotDataItem]:
        return [item for _labels, item in self.ghosts if item.isVisible()]

    def _show_ghosts(self) -> None:
        info = self.info
        plane = tuple(info.labels) if info is not None and info.kind == "weights" else None
        for labels, item in self.ghosts:
            item.setVisible(labels == plane)
        shown = self.shown_ghosts()
        entries = [("this run", self.dots)] + [(item.name(), item) for item in shown] if shown else []
        if [label.text for _sample, label in self.legend.items] != [name for name, _item in entries]:
            self.legend.clear()
            for name, item in entries:
                self.legend.addItem(item, name)
            self.legend.arrange()

    def _show_map(self, on: bool) -> None:
        """The map's axes and colour bar shown with a surface, hidden without one (the bar also on a flat plane)."""
        pi = self.plot.getPlotItem()
        for name in ("left", "bottom"):
            pi.showAxis(name, on)
        self.colorbar.setVisible(on and not getattr(self.info, "flat", False))
        if not on:  # a unit box to centre the notice in (an empty plot's own range is ±1e-81: the text fell off it)
            pi.vb.setAspectLocked(False)
            pi.vb.setRange(xRange=(0.0, 1.0), yRange=(0.0, 1.0), padding=0)
        self.notice.setVisible(not on and bool(self.problem))

    def _place_notice(self, *_) -> None:
        vb = self.plot.getPlotItem().vb
        (x0, x1), (y0, y1) = vb.viewRange()
        self.notice.setTextWidth(max(120.0, 0.9 * vb.width()))
        self.notice.setPos((x0 + x1) / 2, (y0 + y1) / 2)

    def show_problem(self, text: str, step: int | None = None) -> None:
        """Why the surface is missing or not redrawn (empty: nothing wrong). With no surface the view says it in its
        middle; with an older one it stays and the caption says from which step and why."""
        text = text.strip()
        info = self.info
        # called with every frame: only a new reason, a new surface under one, or a reason cleared does any work
        key = (text, None if info is None else info.serial, step if text else None)
        if key == self._problem_key:
            return
        self._problem_key = key
        had, self.problem = self.problem, text
        if info is None:
            if text != self.notice.toPlainText():
                self.notice.setText(text)
            self.notice.setFont(self.caption.font())
            self._show_map(False)
            self._place_notice()
            self.caption.setText("")  # the notice says it, whole (a caption keeps one line while presenting)
            self.caption.setToolTip(text)
            return
        if not text:
            if had:  # the reason is gone: the surface's own caption again (show_surface wrote it for a new one)
                self.caption.setText(self.describe(info))
            return
        self.caption.setText(f"Step {info.step}'s surface; not redrawn at step {step}: {text}"
                             if step is not None and step != info.step else f"Not redrawn: {text}")

    def clear(self) -> None:
        self.info = None
        self.problem = ""
        self._problem_key = None
        self._show_map(False)
        self._show_ghosts()
        self.levels = np.zeros(0)
        self.image.clear()
        self.contours.setData([], [])
        self.path.setData([], [])
        self.dots.setData([], [])
        self.current.setData([], [])
        self.arrow.setArrows(np.zeros(0), np.zeros(0), np.zeros(0, bool))
        self.caption.setText("")

    def show_surface(self, info) -> None:
        if info is None:
            return
        if self.info is not None and getattr(info, "serial", 0) and info.serial == self.info.serial \
                and info.refined == self.info.refined:
            return  # the same surface again (a running frame between two refreshes): nothing to draw
        same_grid = self.info is not None and self.info.values is info.values and self.info.origin == info.origin
        was = None if self.info is None else self.info.flat
        self.info = info
        if was is None or was != info.flat:
            self._show_map(True)
        self.draws += 1
        # the axes' own values: a plane of two weights reads the weights themselves (origin: their values now)
        ox, oy = info.origin
        a, b = np.asarray(info.alphas) + ox, np.asarray(info.betas) + oy
        levels = np.asarray(info.levels, dtype=np.float64)
        self.levels = levels
        pi = self.plot.getPlotItem()
        if not same_grid and a.size >= 2 and b.size >= 2:
            img = shade(info.values, levels)
            lo, hi = float(img.min()), float(img.max())
            if not hi > lo:  # a flat plane: one colour (the bar is hidden: a range of its own would be made up)
                lo, hi = lo - 0.5, lo + 0.5
            self.image.setImage(img, levels=(lo, hi), autoLevels=False)
            da, db = (a[-1] - a[0]) / (a.size - 1), (b[-1] - b[0]) / (b.size - 1)
            # pixel centres on the grid points
            self.image.setRect(QRectF(a[0] - da / 2, b[0] - db / 2, a[-1] - a[0] + da, b[-1] - b[0] + db))
            self.colorbar.setLevels((lo, hi))
            segments = getattr(info, "contours", None)
            seg = np.zeros((0, 2, 2)) if segments is None else np.asarray(segments).reshape(-1, 2, 2)
            self.contours.setData(seg[:, :, 0].ravel() + ox, seg[:, :, 1].ravel() + oy, connect="pairs",
                                  skipFiniteCheck=True)
            # α and β at one scale when the grid was framed for this map's shape (a plain step's arrow then meets
            # the contours square, as the gradient does); pyqtgraph widens a range that is off by rounding
            pi.vb.setAspectLocked(getattr(info, "aspect", None) is not None, 1.0)
            # one range change, applied now rather than in the paint: a transform that changes while painting
            # (pyqtgraph's ViewBox applies a new range lazily there) asks for a second paint of the whole plot
            pi.vb.setRange(xRange=(float(a[0]), float(a[-1])), yRange=(float(b[0]), float(b[-1])), padding=0)
            pi.vb.updateMatrix()
            # and the axes sized for the new tick labels now, the plot laid out before its paint: measured inside the
            # paint (pyqtgraph's way), a label of another width re-laid out the plot and painted it again
            self._fit_axes()
        # short axis names (the caption says the rest): a long label would be cut in a narrow view
        first, second = self.axis_names(info)
        pi.setLabel("bottom", f"α: {first}")
        pi.setLabel("left", f"β: {second}")
        path = self.drawn_path(info)
        path = path[np.all(np.isfinite(path), axis=1)]
        self.path.setData(path[:, 0], path[:, 1], skipFiniteCheck=True)
        dots = path[self.dotted(path)]
        self.dots.setData(dots[:, 0], dots[:, 1], skipFiniteCheck=True)
        cx, cy = info.current[0] + ox, info.current[1] + oy
        self.current.setData([cx], [cy])
        if info.next_point is not None and all(math.isfinite(v) for v in info.next_point):
            # a step that leaves the map ends at its edge, its head there: off the map it was a shaft without a head
            ex, ey = self.leaves_at(info)
            self.arrow.setArrows(np.array([cx, ex + ox]), np.array([cy, ey + oy]), np.zeros(1, bool))
        else:
            self.arrow.setArrows(np.zeros(0), np.zeros(0), np.zeros(0, bool))
        self.caption.setText(self.describe(info))
        self.caption.setToolTip(self.explain(info))
        if self.ghosts:
            self._show_ghosts()

    DOT = 5.0  # px: a recorded step's dot
    DOT_GAP = 7.0  # px between the centres of two dots drawn, at the least

    def dotted(self, path: np.ndarray) -> np.ndarray:
        """Which steps get a dot: each one at least DOT_GAP pixels from the last dot drawn (the line goes through all
        of them): 2,000 steps of a settled run (scenario 10's pre-run) drew 2,000 black-edged dots into one black
        bar that hid the line."""
        n = len(path)
        keep = np.zeros(n, dtype=bool)
        if n == 0:
            return keep
        px, py = self.plot.getPlotItem().vb.viewPixelSize()
        if not (px > 0 and py > 0 and math.isfinite(px) and math.isfinite(py)):
            return ~keep
        pix = np.column_stack([path[:, 0] / px, path[:, 1] / py])
        gap2 = self.DOT_GAP ** 2
        last = pix[0]
        keep[0] = True
        for i in range(1, n):  # greedy along the path: ~1 ms for the 2,000 points kept at most
            d = pix[i] - last
            if d[0] * d[0] + d[1] * d[1] >= gap2:
                keep[i] = True
                last = pix[i]
        return keep

    @staticmethod
    def drawn_path(info) -> np.ndarray:
        """The recorded steps where the view draws them: (m, 2) in the axes' values."""
        return np.asarray(info.path, dtype=np.float64).reshape(-1, 2) + np.asarray(info.origin, dtype=np.float64)

    def refit_axes(self) -> None:
        """After a new look (theme, presentation scale): the axes sized for their labels at the new type size."""
        self._fit_axes()

    def _fit_axes(self) -> None:
        pi = self.plot.getPlotItem()
        self.plot.refresh_axes(text_space=True, repaint=False)
        axis = self.colorbar.axis
        if axis.isVisible():
            axis.textWidth = 30  # measured afresh, as refresh_axes does for the plot's own axes
            axis_draw_specs(axis)
            axis._updateWidth()
        # room above and below the map for half a tick label: the labels at its top and bottom edges were cut
        font = pi.getAxis("left").style.get("tickFont")
        half = int(math.ceil(QFontMetricsF(font).height() / 2)) if font is not None else 8
        m = pi.layout.getContentsMargins()
        if (m[1], m[3]) != (half, half):
            pi.layout.setContentsMargins(m[0], half, m[2], half)
        self.colorbar.layout.activate()
        pi.layout.activate()
        pi.vb.updateMatrix()

    @staticmethod
    def axis_names(info) -> tuple[str, str]:
        """Short names of the two directions, told apart (two random ones were both "random direction", and at
        1080p the left one filled the map's height)."""
        second = str(info.labels[1]).split(" (")[0] if len(info.labels) > 1 else ""
        short = {"descent_random": ("descent", "random"), "random": ("random 1", "random 2"),
                 "path": ("start → end", "towards now" if second == "towards the current point" else second)
                 }.get(info.kind)
        return short if short is not None else tuple(label.split(" (")[0] for label in info.labels)

    @staticmethod
    def describe(info) -> str:
        """The caption: short, so the map keeps its room at 720p and on a projector (the rest is in explain())."""
        a, b = (label.split(" (")[0] for label in info.labels)
        where = {"weights": f"Loss over {a} and {b}" + (", the whole loss (two weights)" if info.exact else ""),
                 "descent_random": "Loss along the descent direction and a random one",
                 "random": "Loss along two random directions",
                 "path": "Loss in the plane of the start, now and the newest step" if info.labels[1].startswith(
                     "towards the current") else f"Loss in the plane of the start, the newest step and "
                                                 f"{info.labels[1].removeprefix('towards ')}"
                 }.get(info.kind, f"Loss ({info.kind})")
        if getattr(info, "flat", False):
            value = fmt_num(float(info.loss_min), 5)
            why = f"{a} and {b} do not change it here" if info.kind == "weights" else \
                "these directions do not change it here"
            return f"The loss is {value} all over this plane: {why}."
        first, last = distinct(float(info.levels[0]), float(info.levels[-1]))
        text = f"{where}; contours {first} to {last}, log-spaced."
        if info.diverged:
            text += " Part of it has blown up: colours clamped at the top."
        if info.next_point is not None and LossSurfaceView.leaves_at(info) != tuple(info.next_point):
            text += " The next step leaves the map."
        return text

    @staticmethod
    def explain(info) -> str:
        """The caption's tooltip: the plane in full, what the marks are, the grid."""
        where = {"weights": f"the plane of {info.labels[0]} and {info.labels[1]} through the current point",
                 "descent_random": "the plane of the descent direction and a filter-normalised random direction "
                                   "(Li et al. 2018) through the current point",
                 "random": "the plane of two filter-normalised random directions (Li et al. 2018) through the "
                           "current point",
                 "path": "the plane through the start, the current point and the newest step"}.get(info.kind, info.kind)
        n = np.asarray(info.values).shape
        first, last = distinct(float(info.levels[0]), float(info.levels[-1]))
        lines = [f"Loss in {where}; contours log-spaced from {first} to "
                 f"{last}; white dots: the steps so far, orange: now, arrow: "
                 f"{LossSurfaceView.next_step_words(info)}.",
                 f"Grid {n[0]}×{n[1]}" + ("." if info.refined else
                                         " for now: finer once the run pauses and the steps stop.")]
        if info.diverged:
            lines.append("Part of this plane has blown up: the colours are clamped past the top level.")
        if getattr(info, "flat", False):
            lines.append("The loss is the same all over this plane, so there are no contours and no colour bar. "
                         "A weight fed by an input that is 0 in every sample (a blank pixel) never changes a "
                         "prediction: choose another weight in the panel.")
        if info.note:
            lines.append(info.note)
        return "\n".join(lines)

    @staticmethod
    def leaves_at(info) -> tuple[float, float]:
        """Where the arrow to the next point ends on the map (in the plane's coordinates): the point itself, or where
        the step crosses the map's edge."""
        (cx, cy), (nx, ny) = info.current, info.next_point
        a, b = np.asarray(info.alphas), np.asarray(info.betas)
        if a.size < 2 or b.size < 2:
            return nx, ny
        t = 1.0
        for c, n, lo, hi in ((cx, nx, a[0], a[-1]), (cy, ny, b[0], b[-1])):
            d = n - c
            if d > 0 and n > hi:
                t = min(t, (hi - c) / d)
            elif d < 0 and n < lo:
                t = min(t, (lo - c) / d)
        t = max(t, 0.0)
        return cx + t * (nx - cx), cy + t * (ny - cy)

    @staticmethod
    def next_step_words(info) -> str:
        """What the arrow is: the run's optimizer's next step, on the training set's gradient."""
        rule = getattr(info, "next_rule", "sgd")
        if rule == "sgd":
            return "the next step −η·∇L (training-set gradient)"
        what = {"momentum": "momentum's next step −η·v, its velocity included",
                "nesterov": "Nesterov momentum's next step, its velocity included",
                "rmsprop": "RMSProp's next step, scaled by its running gradient size",
                "adam": "Adam's next step, from its moment estimates"}.get(rule, f"{rule}'s next step")
        return f"{what} (training-set gradient)"

    def _hover_points(self):
        info = self.info
        if info is None:
            return []
        path, steps = self.drawn_path(info), np.asarray(info.path_steps)
        first, second = self.axis_names(info) if info.kind == "weights" else ("α", "β")
        return [(path[:, 0], path[:, 1],
                 lambda i: f"step {int(steps[i]) if i < len(steps) else '?'}\n{first} = {path[i, 0]:.4g}, "
                           f"{second} = {path[i, 1]:.4g}")]
