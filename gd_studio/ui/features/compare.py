"""Compare and validate: ghost runs, "validate suggestion" trainings, and cyclical LRs from two draggable markers.

* Ghosts freeze a run's loss-vs-step curve and its loss-vs-weight trail as labelled overlays.
* Validation trains briefly from the same start (same weights, seed and batches) at ⅓×, 1× and 3× the
  range test's steepest-slope LR and at Smith's base_lr and max_lr, in the worker thread (the trainings are
  live.validation's); here is the view that shows them and their verdicts.
* Cyclical: two movable lines on the loss-vs-LR view give base_lr and max_lr for Smith's triangular
  policy or one-cycle (``cyclical_config``).
Every new curve takes a theme series (colour + dash + symbol), so nothing relies on colour alone.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from ...engine.optimizers import DEFAULTS
from ...live.snapshot import finite_xy
from ...live.validation import (VALIDATION_STEPS, ValidationOutcome, ValidationProgress, ValidationRun,
                                run_validation, validation_lrs)
from .. import theme as th
from ..adapters import fmt_lr, fmt_num
from ..plots.common import new_plot, set_line_label

# series 0–2 look like the live training (blue), validation (vermillion) and LR (green) lines of the step view
GHOST_SERIES_OFFSET = 3
POLICIES = {"triangular": "triangular (Smith)", "one_cycle": "one-cycle"}


def _theme_name() -> str:
    try:
        return th.applied_theme()[0].name
    except Exception:  # noqa: BLE001 - no app theme applied yet
        return th.DEFAULT_THEME


def verdict(run: ValidationRun, best: bool = False) -> str:
    """One line for one validation run: did the loss fall, from what to what, or did it diverge."""
    head = f"{run.label}, lr {fmt_lr(run.lr)}: "
    if run.diverged:
        return head + f"✗ diverged ({run.stop_reason or 'the loss blew up'})"
    if not run.losses.size:
        return head + "no steps"
    start, final = float(run.losses[0]), run.final()
    trend = "✓ fell" if final < start else "✗ did not fall"
    tail = "  ← lowest" if best else ""
    return (head + f"{trend}, loss {fmt_num(start, 3)} → final {fmt_num(final, 3)} after {run.steps} steps"
            f"{'' if run.done else ' …'}{tail}")


class ValidationView(QWidget):
    """One plot (``validationPlot``) with a labelled loss-vs-step curve per LR, and a verdict line per LR."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("validationView")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.caption = QLabel("After a range test, “Validate suggestion” trains briefly at ¼× … 4× the "
                              "recommended LR and at the steepest slope, all from the same start, and picks the "
                              "best on held-out loss.")
        self.caption.setWordWrap(True)
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        lay.addWidget(self.caption)
        self.plot = new_plot("validationPlot")
        pi = self.plot.getPlotItem()
        pi.setLabel("bottom", "step")
        pi.setLabel("left", "batch loss")
        self.legend = pi.addLegend(offset=(-8, 8), labelTextSize="10pt")
        lay.addWidget(self.plot, 1)
        self.verdicts = QLabel("")
        self.verdicts.setObjectName("validationVerdicts")
        self.verdicts.setTextFormat(Qt.TextFormat.PlainText)
        self.verdicts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.verdicts.setWordWrap(True)
        f = QFont(self.verdicts.font())
        f.setPointSizeF(max(8.0, f.pointSizeF() * 1.1))
        self.verdicts.setFont(f)
        lay.addWidget(self.verdicts)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.runs: tuple[ValidationRun, ...] = ()
        self.restyle()

    def restyle(self, theme=None, scale: float | None = None) -> None:
        """The window's current look (theme and presentation scale) for this plot and its curves."""
        try:
            t, s = th.applied_theme()
        except Exception:  # noqa: BLE001
            t, s = th.get_theme(None), 1.0
        th.style_plot(self.plot, theme or t, scale or s)

    def clear(self, caption: str = "") -> None:
        for item in self.curves.values():
            self.plot.getPlotItem().removeItem(item)
        self.legend.clear()
        self.curves.clear()
        self.runs = ()
        self.verdicts.setText("")
        if caption:
            self.caption.setText(caption)

    expected = 5  # how many runs this validation has (the caption counts them)

    def show_runs(self, runs, steps: int, final: bool = False, cancelled: bool = False,
                  best_lr: float | None = None) -> None:
        """``best_lr``: the validated pick (held-out loss), marked instead of the lowest final batch loss."""
        self.runs = tuple(runs)
        pi = self.plot.getPlotItem()
        theme = _theme_name()
        for i, run in enumerate(runs):
            name = f"{run.label} (lr {fmt_lr(run.lr)})"
            item = self.curves.get(run.label)
            if item is None:
                item = pg.PlotDataItem(name=name)
                th.style_data_item(item, i, theme)
                item.setSymbolSize(6)
                item.setObjectName(f"validationCurve{i}")
                pi.addItem(item)
                self.curves[run.label] = item
            x = np.arange(1, run.losses.size + 1, dtype=np.float64)
            # symbols every ~20 points: the shape tells the curves apart without cluttering them
            item.setData(*finite_xy(x, run.losses), skipFiniteCheck=True)
            item.setSymbol(th.series_symbol(i) if run.losses.size <= 40 else None)
            item.opts["name"] = name
        self._fit(runs, steps)
        finals = [r.final() for r in runs]
        best = int(np.argmin(finals)) if finals and math.isfinite(min(finals)) and final else -1
        if best_lr is not None:
            best = next((i for i, r in enumerate(runs) if math.isclose(r.lr, best_lr, rel_tol=1e-9)), best)
        self.verdicts.setText("\n".join(verdict(r, best=(i == best)) for i, r in enumerate(runs)))
        if final:
            self.caption.setText("Validation cancelled: the runs so far are shown." if cancelled else
                                 f"{len(runs)} short trainings of {steps} steps from the same start "
                                 "(same weights, seed and batches). Check the suggestion, don't trust it.")
        else:
            self.caption.setText(f"Validating: run {len(runs)} of {max(self.expected, len(runs))} …")

    def _fit(self, runs, steps: int) -> None:
        ys = [r.losses for r in runs if r.losses.size]
        if not ys:
            return
        start = float(np.median([y[0] for y in ys]))
        low = float(min(y.min() for y in ys))
        top = start * 1.5 if start > 0 else float(max(y.max() for y in ys))
        top = max(top, low + 1e-9)
        vb = self.plot.getPlotItem().vb
        vb.setRange(xRange=(0, max(steps, 10)), yRange=(min(low, 0.0) if low >= 0 else low, top), padding=0.02)

    def labels(self) -> list[str]:
        return [item.opts.get("name") or "" for item in self.curves.values()]


# ----------------------------------------------------------------------------------------- ghosts
@dataclass
class Ghost:
    label: str
    series: int
    step_item: pg.PlotDataItem
    weight_item: pg.PlotDataItem | None


class GhostOverlay:
    """Frozen copies of earlier runs on the loss-vs-step and loss-vs-weight views, each labelled."""

    def __init__(self, step_plot: pg.PlotWidget, weight_plot: pg.PlotWidget) -> None:
        self.step_plot, self.weight_plot = step_plot, weight_plot
        self.ghosts: list[Ghost] = []
        self._weight_legend = None
        self._count = 0

    @staticmethod
    def label_for(config, snap) -> str:
        sched = getattr(config, "schedule", "constant")
        lrs = np.asarray(snap.history.lr) if snap is not None else np.zeros(0)
        lrs = lrs[np.isfinite(lrs)]
        if sched != "constant":
            mx = (config.schedule_params or {}).get("max_lr")
            text = f"{sched} lr {fmt_lr(config.lr)}" + (f"…{fmt_lr(mx)}" if mx else "")
        elif lrs.size and float(lrs.min()) != float(lrs.max()):
            text = f"lr {fmt_lr(float(lrs[0]))}→{fmt_lr(float(lrs[-1]))}"
        else:
            text = f"lr {fmt_lr(float(lrs[0]) if lrs.size else config.lr)}"
        # the optimizer when it is not plain descent: "momentum 0.7, lr 0.3" beside "lr 0.45" (scenario 09's pair)
        opt = getattr(config, "optimizer", "sgd") or "sgd"
        if opt != "sgd":
            mu = {**DEFAULTS.get(opt, {}), **(getattr(config, "optimizer_params", None) or {})}.get("momentum")
            head = f"{opt} {fmt_num(float(mu), 3)}" if opt in ("momentum", "nesterov") and mu is not None else opt
            text = f"{head}, {text}"
        return text

    def keep(self, snap, label: str) -> Ghost | None:
        if snap is None or not len(snap.history.steps):
            return None
        taken = {g.label for g in self.ghosts}
        base, k = label, 2
        while label in taken:
            label, k = f"{base} ({k})", k + 1
        series = GHOST_SERIES_OFFSET + self._count
        self._count += 1
        theme = _theme_name()
        name = f"ghost: {label}"
        step_item = pg.PlotDataItem(name=name)
        th.style_data_item(step_item, series, theme, symbols=False)
        x, y = finite_xy(np.asarray(snap.history.steps), np.asarray(snap.history.loss))
        step_item.setData(x, y, skipFiniteCheck=True)
        step_item.setZValue(-1)  # under the live run
        step_item.setObjectName(f"ghostStep{len(self.ghosts)}")
        spi = self.step_plot.getPlotItem()
        spi.addItem(step_item)  # the view's legend picks up the name
        weight_item = None
        wv = snap.weight
        if wv is not None and len(wv.trail_w):
            weight_item = pg.PlotDataItem(name=name)
            th.style_data_item(weight_item, series, theme)
            wx, wy = finite_xy(np.asarray(wv.trail_w), np.asarray(wv.trail_loss))
            weight_item.setData(wx, wy, skipFiniteCheck=True)
            weight_item.setSymbolSize(7)
            weight_item.setZValue(2)
            weight_item.setObjectName(f"ghostWeight{len(self.ghosts)}")
            wpi = self.weight_plot.getPlotItem()
            if wpi.legend is None:
                self._weight_legend = wpi.addLegend(offset=(8, 8), labelTextSize="10pt")
            wpi.addItem(weight_item)
        ghost = Ghost(label, series, step_item, weight_item)
        self.ghosts.append(ghost)
        return ghost

    def clear(self) -> None:
        for g in self.ghosts:
            self.step_plot.getPlotItem().removeItem(g.step_item)
            if g.weight_item is not None:
                self.weight_plot.getPlotItem().removeItem(g.weight_item)
        self.ghosts.clear()
        self._count = 0

    def labels(self) -> list[str]:
        return [g.label for g in self.ghosts]


def legend_labels(plot: pg.PlotWidget) -> list[str]:
    legend = plot.getPlotItem().legend
    return [] if legend is None else [label.text for _sample, label in legend.items]


# --------------------------------------------------------------------------------------- cyclical
class CyclicalMarkers:
    """Two draggable vertical lines on the loss-vs-LR view (log10 coordinates): base_lr and max_lr."""

    def __init__(self, lr_plot: pg.PlotWidget) -> None:
        self.plot = lr_plot
        pi = lr_plot.getPlotItem()
        self.base = self._line(pi, "baseLrMarker", 2, "base_lr", 0.25)
        self.max = self._line(pi, "maxLrMarker", 3, "max_lr", 0.4)
        self.has_bounds = False  # a range test placed them (Train cyclical uses them, shown or not)
        self.shown = False  # "Smith's bounds" is ticked: the one pair of base_lr/max_lr lines on the view
        self.base.sigPositionChanged.connect(lambda *_: self._moved(self.base))
        self.max.sigPositionChanged.connect(lambda *_: self._moved(self.max))

    @staticmethod
    def _line(pi, name: str, series: int, text: str, pos: float) -> pg.InfiniteLine:
        theme = _theme_name()
        color = th.series_color(series, theme)
        pen = th.series_pen(series, theme)
        pen.setWidthF(max(pen.widthF(), 2.5))
        hover = pg.mkPen(color, width=pen.widthF() * 2)
        line = pg.InfiniteLine(angle=90, movable=True, pen=pen, hoverPen=hover, label=text,
                               labelOpts={"position": pos, "color": color, "movable": True,
                                          "fill": pg.mkBrush(255, 255, 255, 210), "anchors": [(0, 0.5), (0, 0.5)]})
        line.setObjectName(name)
        line.setBounds((-12, 4))
        line.setToolTip(f"Drag to set {text} for cyclical training")
        line.setZValue(20)
        line.hide()
        pi.addItem(line, ignoreBounds=True)
        return line

    def _moved(self, line: pg.InfiniteLine) -> None:
        # keep base below max: a marker dragged past the other pushes it along
        if self.base.value() > self.max.value():
            other = self.max if line is self.base else self.base
            other.blockSignals(True)
            other.setValue(line.value())
            other.blockSignals(False)
            self._relabel(other)
        self._relabel(line)

    def _relabel(self, line: pg.InfiniteLine) -> None:
        name = "base_lr" if line is self.base else "max_lr"
        set_line_label(line, f"{name} {fmt_lr(10.0 ** line.value())} ⇔")

    def set_bounds(self, base_lr: float | None, max_lr: float | None) -> bool:
        ok = all(v is not None and math.isfinite(v) and v > 0 for v in (base_lr, max_lr))
        if not ok:
            return False
        lo, hi = sorted((float(base_lr), float(max_lr)))
        for line, v in ((self.base, lo), (self.max, hi)):
            line.show()  # first: a hidden line's label ignores new text
            line.blockSignals(True)
            line.setValue(math.log10(v))
            line.blockSignals(False)
            self._relabel(line)
        self.has_bounds = True
        self.set_shown(self.shown)
        return True

    def set_shown(self, on: bool) -> None:
        """Show the pair exactly when "Smith's bounds" is ticked (and a range test placed them)."""
        self.shown = bool(on)
        for line in (self.base, self.max):
            line.setVisible(self.shown and self.has_bounds)

    def lines(self) -> tuple:
        return (self.base, self.max)

    def visible(self) -> bool:
        """The bounds exist (Train cyclical can use them), whether or not they are drawn."""
        return self.has_bounds

    def values(self) -> tuple[float, float]:
        return float(10.0 ** self.base.value()), float(10.0 ** self.max.value())


def cycle_steps(n_train: int, batch_size: int) -> int:
    """Half a triangular cycle: 4 epochs' worth of steps (Smith: 2–10 epochs), at least 50 steps."""
    per_epoch = 1 if batch_size <= 0 or batch_size >= n_train else math.ceil(n_train / batch_size)
    return max(50, 4 * per_epoch)


def cyclical_config(config, base_lr: float, max_lr: float, policy: str, n_train: int):
    """The run's config switched to a cyclical schedule between the two LRs (rounded as typed)."""
    base_lr, max_lr = float(f"{base_lr:.3g}"), float(f"{max_lr:.3g}")
    if max_lr <= base_lr:
        max_lr = float(f"{base_lr * 1.01:.4g}")
    half = cycle_steps(n_train, config.batch_size)
    if policy == "one_cycle":
        params = {"max_lr": max_lr, "total_steps": 6 * half}  # as long as three triangular cycles
    else:
        params = {"max_lr": max_lr, "step_size": half}
    return config.replace(schedule=policy, schedule_params=params, lr=base_lr)


__all__ = ["GhostOverlay", "ValidationView", "CyclicalMarkers", "cyclical_config", "cycle_steps", "legend_labels",
           "verdict", "run_validation", "validation_lrs", "ValidationRun", "ValidationOutcome", "ValidationProgress",
           "VALIDATION_STEPS"]
