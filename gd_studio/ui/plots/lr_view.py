"""The loss-vs-LR view: the range test's curve, its steepest-slope marker and the other suggestions."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QWidget

from ...engine.lr_finder import EXPLANATIONS
from ..adapters import fmt_lr
from .common import (set_line_label, BLUE, VERMILLION, GREEN, ORANGE, PURPLE, SKY, GREY, plot_font, pen, empty, set_xy,
                     HoverReadout, Caption, titled, StickyRange, new_plot, strip_legend, LogDecadeAxis,
                     decade_label)


NO_DESCENT = ("No clear descent: over this LR range the loss did not clearly fall, so there is no steepest "
              "slope to suggest. Try more steps, a different LR range, or a larger batch (a less noisy curve).")


class LogLrAxis(LogDecadeAxis):
    """The log LR axis: ticks at whole decades only, all labelled 10ⁿ."""

    def __init__(self, orientation: str = "bottom", **kw) -> None:
        super().__init__(orientation, minor=False, **kw)


def _place_labels(spans: list[tuple[float, float]], rows: int) -> list[int | None]:
    """Row for each label (left, right in any one coordinate): the lowest row where it overlaps no label
    already placed, so labels of close suggestions stack instead of running into each other; None for a
    label that fits in no row (earlier labels win, so pass the important ones first)."""
    placed: list[list[tuple[float, float]]] = [[] for _ in range(rows)]
    out = []
    for lo, hi in spans:
        row = next((r for r in range(rows) if all(hi < a or lo > b for a, b in placed[r])), None)
        if row is None:  # no room left (a short plot, large type): this label is not drawn, never overlapped
            out.append(None)
            continue
        placed[row].append((lo, hi))
        out.append(row)
    return out


class LossVsLrView(QWidget):
    """The range test's loss against the LR (log axis), its suggestions, and a click that picks an LR."""

    lrPicked = Signal(float)

    # Smith's base_lr and max_lr are drawn once, by the draggable cyclical markers (features/compare.py),
    # shown exactly when "Smith's bounds" is ticked: a second, fixed pair here drew every bound twice
    SUGGESTION_STYLE = {  # name: (colour, dash, label)
        "valley": (BLUE, Qt.PenStyle.DashDotDotLine, "valley"),
        "minimum/10": (PURPLE, Qt.PenStyle.DashDotLine, "min/10"),
    }
    LABEL_ROWS = 5
    DEFAULT_RANGE = ((-7.2, 1.2), (0.0, 1.0))  # the default sweep, before any test
    IDLE_CAPTION = "Press L (or Range test) to sweep the LR from tiny to huge, one step each."
    LABEL_TOP = 0.95  # label positions along the lines, top row first
    # the LR in use's and 2/λ_max's labels: their usual heights (they move off the curve from there)
    CURRENT_LR_AT, LIMIT_AT = 0.06, 0.22
    LABEL_STEP = 0.085

    def __init__(self) -> None:
        super().__init__()
        self.plot = new_plot("lossVsLrPlot")
        old_axis = self.plot.getPlotItem().getAxis("bottom")
        axis = LogLrAxis("bottom")
        axis.setCacheMode(old_axis.cacheMode())
        axis.enableAutoSIPrefix(False)
        axis.setTickFont(plot_font(1.0))
        axis.label.setFont(plot_font(1.0))
        self.plot.getPlotItem().setAxisItems({"bottom": axis})
        self.caption = Caption(self.IDLE_CAPTION)
        self._described = None  # (result, repeat, suggestions) of the range test the caption describes
        self.show_others = QCheckBox("other suggestions")
        self.show_others.setObjectName("showOtherSuggestions")
        self.show_bounds = QCheckBox("Smith's bounds")
        self.show_bounds.setObjectName("showSmithBounds")
        toggles = QWidget()
        tl = QHBoxLayout(toggles)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.show_others)
        tl.addWidget(self.show_bounds)
        # "LR" as on the toolbar and the other views: with the whole words and its two toggles the title row held the
        # view at 565 px, which left the loss-vs-step view beside it a third of a 720p window's grid
        self.widget = titled("Loss vs LR", self.plot, self.caption, toggles)
        self.widget.findChild(QLabel, "viewTitle").setToolTip("Loss vs learning rate")
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
        self.raw = pg.PlotDataItem(pen=pen(SKY, 1.5), name="raw loss")
        self.smoothed = pg.PlotDataItem(pen=pen(BLUE, 3.5), name="smoothed (zero-phase)")
        pi.addItem(self.raw)
        pi.addItem(self.smoothed)
        self.legend = strip_legend(pi)  # above the data: the curve's start and its blow-up stay in sight
        self.legend.addItem(self.raw, "raw loss")
        self.legend.addItem(self.smoothed, "smoothed")
        # the two suggestions told apart by colour, dash and marker shape (greyscale, projectors, colour vision):
        # steepest is Smith's rule as the article teaches; recommended is what Enter applies
        self.marker = self._suggestion_line("steepestLrMarker", VERMILLION, Qt.PenStyle.SolidLine, "v",
                                            f"steepest: {EXPLANATIONS['steepest']}")
        self.recommended = self._suggestion_line("recommendedLrMarker", GREEN, Qt.PenStyle.DashLine, "^",
                                                 f"recommended: {EXPLANATIONS['recommended']}. Enter uses it.")
        self.current_lr = pg.InfiniteLine(angle=90, movable=False, pen=pen(GREY, 2.0, Qt.PenStyle.DashLine),
                                          label="LR in use", labelOpts={"position": self.CURRENT_LR_AT, "color": GREY,
                                                                       "fill": pg.mkBrush(255, 255, 255, 235),
                                                                       "anchors": [(0, 1), (0, 1)]})
        self.current_lr.setObjectName("currentLrLine")
        self.current_lr.label.setFont(plot_font(0.9))
        # above every suggestion line and its label: the LR the run uses is what a person looks for first
        self.current_lr.setZValue(40)
        self.current_lr.label.setZValue(41)
        pi.addItem(self.current_lr, ignoreBounds=True)
        # where full-batch descent from the same start would begin to diverge (2/λ_max at the initial weights):
        # to compare with where the mini-batch range test blows up
        self.stability_limit = pg.InfiniteLine(angle=90, movable=False, pen=pen(ORANGE, 2.0, Qt.PenStyle.DotLine),
                                               label="", labelOpts={"position": self.LIMIT_AT, "color": ORANGE,
                                                                    "fill": pg.mkBrush(255, 255, 255, 225),
                                                                    "anchors": [(0, 0.5), (0, 0.5)]})
        self.stability_limit.setObjectName("stabilityLimitMarker")
        self.stability_limit.label.setFont(plot_font(0.9))
        tip = ("2/λ_max at the start: above this LR, full-batch gradient descent from these initial weights "
               "diverges (λ_max is the whole network's sharpness)")
        self.stability_limit.setToolTip(tip)
        self.stability_limit.label.setToolTip(tip)
        self.stability_limit.hide()
        pi.addItem(self.stability_limit, ignoreBounds=True)
        self.others: dict[str, pg.InfiniteLine] = {}
        for name, (color, dash, label) in self.SUGGESTION_STYLE.items():
            line = pg.InfiniteLine(angle=90, movable=False, pen=pen(color, 2.0, dash), label=label,
                                   labelOpts={"position": 0.7, "color": color,
                                              "fill": pg.mkBrush(255, 255, 255, 200),
                                              "anchors": [(0, 0.5), (0, 0.5)]})
            line.label.setFont(plot_font(0.9))
            line.setObjectName(f"suggestion_{name.replace('/', '_')}")
            line.hide()
            pi.addItem(line, ignoreBounds=True)
            self.others[name] = line
        self.result = None
        self.repeat = None
        self._lrs = empty()
        self._losses = empty()
        self._smoothed = empty()
        self.show_others.toggled.connect(self._apply_toggles)
        self.show_bounds.toggled.connect(self._apply_toggles)
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        self.hover = HoverReadout(self.plot, self._hover_points)
        pi.vb.disableAutoRange()
        self.x_range = StickyRange(pi.vb, "x", pad=0.03, fill=0.0)
        self.y_range = StickyRange(pi.vb, "y", pad=0.0, fill=0.5)
        self.plot.sticky = [self.x_range, self.y_range]
        pi.vb.setRange(xRange=self.DEFAULT_RANGE[0], yRange=self.DEFAULT_RANGE[1], padding=0)
        pi.vb.sigRangeChanged.connect(self._declutter)
        pi.vb.sigResized.connect(self._declutter)
        self.plot.setToolTip("Click to use that learning rate")

    def _suggestion_line(self, name: str, color: str, dash, symbol: str, tip: str) -> pg.InfiniteLine:
        line = pg.InfiniteLine(angle=90, movable=False, pen=pen(color, 3.0, dash), label="",
                               labelOpts={"position": self.LABEL_TOP, "color": color,
                                          "fill": pg.mkBrush(255, 255, 255, 225), "anchors": [(0, 0.5), (0, 0.5)]})
        line.addMarker(symbol, position=1.0, size=14.0)
        line.addMarker(symbol, position=0.0, size=14.0)
        line.setObjectName(name)
        line.label.setFont(plot_font(1.1, bold=True))
        line.setToolTip(tip)
        line.label.setToolTip(tip)
        line.setZValue(20)
        line.label.setZValue(21)
        line.hide()
        self.plot.getPlotItem().addItem(line, ignoreBounds=True)
        return line

    def label_lines(self) -> list[pg.InfiniteLine]:
        """The visible lines whose labels share the top of the plot (the LR in use has its own, at the bottom)."""
        lines = [self.marker, self.recommended, *self.others.values(), *getattr(self, "extra_lines", ())]
        return [ln for ln in lines if ln.isVisible()]

    def declutter(self) -> None:
        """Re-stack the suggestion labels (after a feature showed or hid lines of its own on this view)."""
        self._declutter()

    @staticmethod
    def _label_inside(ln: pg.InfiniteLine, x1: float, per_px: float) -> bool:
        """A label that would run past the plot's right edge (a suggestion near the end of the sweep: its number was
        cut, "recommended 0") reads leftwards from its line instead. Returns whether it does."""
        w = ln.label.boundingRect().width() + 8
        left = ln.value() + w * per_px > x1
        anchor = (1 if left else 0, ln.label.anchors[0][1])
        if tuple(ln.label.anchors[0]) != anchor:
            ln.label.anchors = [anchor, anchor]
            ln.label.updatePosition()
        return left

    def _declutter(self, *_) -> None:
        """Stack the labels of close suggestions in rows so none covers another: recommended (what Enter applies)
        and steepest first, then the others left to right by LR; a label with no free row hides (its line and
        tooltip stay)."""
        first = [ln for ln in (self.recommended, self.marker) if ln.isVisible()]
        lines = first + sorted((ln for ln in self.label_lines() if ln not in first), key=lambda ln: ln.value())
        vb = self.plot.getPlotItem().vb
        width_px = max(1.0, vb.width())
        (x0, x1), _ = vb.viewRange()
        per_px = (x1 - x0) / width_px
        for ln in (self.current_lr, self.stability_limit):
            if ln.isVisible():
                self._label_inside(ln, x1, per_px)
        placed = self._place_top_labels(lines, vb, x1, per_px)
        self._place_side_labels(vb, per_px, placed)

    def _place_top_labels(self, lines, vb, x1: float, per_px: float) -> list:
        """The suggestion labels in rows at the top; returns their rectangles (x0, x1, y0, y1 in view fractions
        of height) for the labels placed after them."""
        if not lines:
            return []
        spans = []
        for ln in lines:
            w = ln.label.boundingRect().width() + 8  # a little air between neighbours
            if self._label_inside(ln, x1, per_px):
                spans.append((ln.value() - w * per_px, ln.value()))
            else:
                spans.append((ln.value(), ln.value() + w * per_px))
        # a row is at least one label high (plus air), however short the plot is
        height = max(ln.label.boundingRect().height() for ln in lines) + 4
        step = max(self.LABEL_STEP, height / max(1.0, vb.height()))
        rows = max(1, min(self.LABEL_ROWS, int(self.LABEL_TOP / step)))
        placed = []
        hf = height / max(1.0, vb.height())
        for ln, row, (a, b) in zip(lines, _place_labels(spans, rows), spans):
            ln.label.setVisible(row is not None)
            if row is None:
                continue
            pos = self.LABEL_TOP - row * step
            if abs(ln.label.orthoPos - pos) > 1e-9:
                ln.label.setPosition(pos)
            placed.append((a, b, pos - hf, pos + hf))
        return placed

    def _place_side_labels(self, vb, per_px: float, placed: list) -> None:
        """The labels of the LR in use and of 2/λ_max at the height nearest their usual one where they cover no
        point of the curve and no other label (at a fixed height they sat on the curve where it passed there)."""
        (_x0, _x1), (y0, y1) = vb.viewRange()
        height_px = max(1.0, vb.height())
        if not (y1 > y0) or not self._lrs.size:
            return
        with np.errstate(divide="ignore", invalid="ignore"):
            xs = np.log10(self._lrs)
        curves = [(xs, self._losses)]
        if self._smoothed.size == xs.size:
            curves.append((xs, self._smoothed))
        air = 4.0 / height_px  # between a label and the curve
        for ln, default in ((self.current_lr, self.CURRENT_LR_AT), (self.stability_limit, self.LIMIT_AT)):
            if not ln.isVisible() or not ln.label.isVisible():
                continue
            rect = ln.label.boundingRect()
            w, hf = rect.width() * per_px, rect.height() / height_px
            v = ln.value()
            a, b = (v - w, v) if ln.label.anchors[0][0] == 1 else (v, v + w)
            ys = np.concatenate([y[(x >= a) & (x <= b) & np.isfinite(y)] for x, y in curves])
            fy = (ys - y0) / (y1 - y0)
            below = hf * (1.0 - ln.label.anchors[0][1])  # the part of the label under its anchor
            above = hf - below

            def free(pos: float) -> bool:
                lo, hi = pos - below - air, pos + above + air
                if lo < 0.0 or hi > 1.0:
                    return False
                if np.any((fy >= lo) & (fy <= hi)):
                    return False
                return not any(pa < b and a < pb and qa < hi and lo < qb for pa, pb, qa, qb in placed)

            candidates = sorted(np.arange(0.02, 0.98, 0.01), key=lambda p: abs(p - default))
            pos = next((float(p) for p in candidates if free(float(p))), default)
            if abs(ln.label.orthoPos - pos) > 1e-9:
                ln.label.setPosition(pos)
            placed.append((a, b, pos - below, pos + above))

    # -- drawing -------------------------------------------------------------------------------
    def clear(self) -> None:
        self.result = None
        self.repeat = None
        self._lrs = self._losses = self._smoothed = empty()
        self.raw.setData([], [])
        self.smoothed.setData([], [])
        self.band.hide()
        self.band_low.setData([], [])
        self.band_high.setData([], [])
        self.marker.hide()
        self.recommended.hide()
        self.stability_limit.hide()
        for line in self.others.values():
            line.hide()

    def range_test_changed(self, range_test) -> None:
        """The run's range test is gone (another model, data or start): its curve, suggestions and axes go too,
        and the view is as in a fresh window."""
        if range_test is not None or self.result is None and not self._lrs.size:
            return
        self.clear()
        self.plot.refit()
        (x0, x1), (y0, y1) = self.DEFAULT_RANGE
        self.plot.getPlotItem().vb.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        self._described = None
        self.caption.setText(self.IDLE_CAPTION)

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
        self._smoothed = sm[ok] if sm.size == lrs.size else empty()
        set_xy(self.raw, self._lrs, self._losses)
        if self._smoothed.size:
            set_xy(self.smoothed, self._lrs, self._smoothed)
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
            self._smoothed = empty()
            self.band_low.setData(lrs[ok], low[ok], skipFiniteCheck=True)
            self.band_high.setData(lrs[ok], high[ok], skipFiniteCheck=True)
            self.band.show()
            set_xy(self.raw, lrs[ok], med[ok])
            # the engine's smoothed median (with its LRs and blow-up cut), the curve its suggestions come from;
            # smoothing again here drew a curve whose steepest point was not where the marker is
            sm = np.asarray(repeat.smoothed, dtype=np.float64)
            sm = sm[ok] if sm.shape == lrs.shape else np.full(int(ok.sum()), np.nan)
            self._smoothed = sm
            fin = np.isfinite(sm)
            if fin.any():
                set_xy(self.smoothed, self._lrs[fin], sm[fin])
            else:
                self.smoothed.setData([], [])
        else:
            self._lrs = np.asarray(result.lrs, dtype=np.float64)
            self._losses = np.asarray(result.losses, dtype=np.float64)
            self._smoothed = np.asarray(result.smoothed, dtype=np.float64)
            set_xy(self.raw, self._lrs, self._losses)
            set_xy(self.smoothed, self._lrs, self._smoothed)
        sugg = dict(getattr(repeat, "suggestions", None) or result.suggestions) if repeat is not None \
            else dict(result.suggestions)
        for key, line, text in (("steepest", self.marker, "steepest"), ("recommended", self.recommended,
                                                                            "recommended")):
            v = sugg.get(key)
            if v is not None and math.isfinite(v) and v > 0:
                line.show()  # first: a hidden line's label ignores new text
                line.setValue(math.log10(v))
                set_line_label(line, f"{text} {fmt_lr(v)}{self._spread(repeat, key)}")
            else:
                line.hide()
        for name, line in self.others.items():
            v = sugg.get(name)
            if v is not None and math.isfinite(v) and v > 0:
                line.show()
                line.setValue(math.log10(v))
                set_line_label(line, f"{self.SUGGESTION_STYLE[name][2]} {fmt_lr(v)}")
                line.setProperty("has_value", True)
            else:
                line.setProperty("has_value", False)
        self._apply_toggles()
        self._fit_y()
        self._described = (result, repeat, sugg)
        self.caption.setText(self.describe(result, repeat, sugg))
        self._declutter()

    @staticmethod
    def _spread(repeat, key: str) -> str:
        """' ×/÷ 1.4' when the test had repeats (the suggestion's spread over seeds), else ''."""
        spread = getattr(repeat, "spread", None) or {}
        entry = spread.get(key)
        if not entry or entry[1] is None or not math.isfinite(entry[1]):
            return ""
        return f" ×/÷ {entry[1]:.1f}"

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

    def describe(self, result, repeat, sugg, validated: float | None = None) -> str:
        """The caption for a range test; ``validated``: the pick of "Validate suggestion", which Enter then
        applies instead of the recommendation."""
        steepest = sugg.get("steepest")
        recommended = sugg.get("recommended")
        parts = []
        if validated is not None:
            parts.append(f"Validated pick lr = {fmt_lr(validated)} (short trainings from here): Enter uses it.")

        def seeds(key):
            if repeat is None:
                return ""
            try:
                return f" ({repeat.describe(key)} over {len(repeat.results)} seeds)"
            except Exception:  # noqa: BLE001 - a repeat without that key's spread
                return ""

        if recommended:
            parts.append(f"Recommended lr = {fmt_lr(recommended)}{seeds('recommended')}: "
                         f"{EXPLANATIONS['recommended']}." + ("" if validated is not None else " Enter uses it."))
        if steepest:
            parts.append(f"Steepest slope lr = {fmt_lr(steepest)}{seeds('steepest')}: "
                         f"{EXPLANATIONS['steepest']}.")
        if not steepest:
            parts.append(NO_DESCENT)
        others = [f"{n} {fmt_lr(sugg.get(n))}" for n in ("valley", "minimum/10") if sugg.get(n)]
        if others:
            parts.append("Also: " + ", ".join(others) + ".")
        if sugg.get("base_lr") and sugg.get("max_lr"):
            parts.append(f"Smith's bounds {fmt_lr(sugg['base_lr'])} … {fmt_lr(sugg['max_lr'])}.")
        if getattr(result, "stop_reason", ""):
            parts.append(f"Stopped: {result.stop_reason}.")
        return " ".join(parts)

    def show_validated(self, lr: float | None) -> None:
        """After "Validate suggestion", Enter applies its pick, not the curve's recommendation: the caption says
        which one Enter uses (``None``: the recommendation again)."""
        if self._described is not None:
            self.caption.setText(self.describe(*self._described, validated=lr))

    def _apply_toggles(self) -> None:
        for line in self.others.values():
            line.setVisible(bool(self.show_others.isChecked() and line.property("has_value")))
        self._declutter()

    def set_stability_limit(self, lr_limit: float | None) -> None:
        """Mark 2/λ_max at the range test's initial weights (None: not known, the marker hides)."""
        if lr_limit is None or not math.isfinite(lr_limit) or lr_limit <= 0:
            self.stability_limit.hide()
            return
        self.stability_limit.show()  # first: a hidden line's label ignores format and value changes
        self.stability_limit.setValue(math.log10(lr_limit))
        set_line_label(self.stability_limit, f"2/λ_max at start {fmt_lr(lr_limit)}")
        self._declutter()  # its label finds a height clear of the curve

    def set_current_lr(self, lr: float) -> None:
        if lr is not None and math.isfinite(lr) and lr > 0:
            self.current_lr.show()
            if self.current_lr.value() != math.log10(lr):
                self.current_lr.setValue(math.log10(lr))
                set_line_label(self.current_lr, f"LR in use {fmt_lr(lr)}")
                self._declutter()  # its label reads leftwards near the right edge

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


__all__ = ["LossVsLrView", "LogLrAxis", "decade_label", "NO_DESCENT"]
