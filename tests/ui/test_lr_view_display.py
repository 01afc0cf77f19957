"""The loss-vs-LR view's display (issue 12): one tick style, labels that never overlap, one pair of bounds."""
from __future__ import annotations

import itertools
import math
import re
from types import SimpleNamespace

import numpy as np
import pyqtgraph as pg
import pytest

from gd_studio.engine.config import RunConfig
from gd_studio.ui.plots.lr_view import LossVsLrView, decade_label

SMALL = RunConfig(dataset="moons", dataset_params={"n_samples": 160, "noise": 0.2, "seed": 1}, model="mlp",
                  hidden=(8,), activation="tanh", loss="cross_entropy", optimizer="sgd", lr=0.1, batch_size=32,
                  seed=3, watch="W2[0,0]")
DECADE = re.compile(r"^10⁻?[⁰¹²³⁴⁵⁶⁷⁸⁹]+$")


def _curve(sugg):
    lrs = np.logspace(-7, 1, 120)
    x = np.log10(lrs)
    losses = 1.0 - 0.8 / (1 + np.exp(-(x + 2.5) * 2)) + 0.02 * np.sin(7 * x)
    return SimpleNamespace(lrs=lrs, losses=losses, smoothed=losses, suggestions=sugg, stop_reason="end of the sweep")


@pytest.fixture
def view(qtbot):
    v = LossVsLrView()
    qtbot.addWidget(v.widget)
    v.widget.resize(640, 420)
    v.widget.show()
    qtbot.waitExposed(v.widget)
    return v


@pytest.mark.parametrize("span", [(-7.2, 1.2), (-3.3, -0.6), (-1.4, 0.3), (-6.0, -5.2)])
def test_log_lr_axis_uses_one_tick_style(view, qtbot, span):
    view.plot.getPlotItem().vb.setRange(xRange=span, padding=0)
    axis = view.plot.getPlotItem().getAxis("bottom")
    levels = axis.tickValues(*span, 600)
    strings = [s for _, values in levels for s in axis.tickStrings(values, 1.0, levels[0][0])]
    assert strings, "no ticks at all"
    assert all(DECADE.match(s) for s in strings), strings


def test_decade_label():
    assert decade_label(-6) == "10⁻⁶" and decade_label(1) == "10¹" and decade_label(0) == "10⁰"


def _label_rects(view):
    return [(ln.objectName(), ln.label.sceneBoundingRect()) for ln in view.label_lines() if ln.label.isVisible()]


def test_close_suggestion_labels_never_overlap(view, qtbot):
    view.show_others.setChecked(True)
    view.show_result(_curve({"steepest": 0.0140, "recommended": 0.0481, "valley": 0.0152, "minimum/10": 0.0201,
                             "base_lr": 0.001, "max_lr": 0.3}))
    qtbot.wait(50)
    rects = _label_rects(view)
    assert len(rects) == 4
    for (a, ra), (b, rb) in itertools.combinations(rects, 2):
        assert not ra.intersects(rb), f"{a} label runs into {b}"
    # and after a zoom out, which squeezes them together
    view.plot.getPlotItem().vb.setRange(xRange=(-12, 4), padding=0)
    qtbot.wait(50)
    for (a, ra), (b, rb) in itertools.combinations(_label_rects(view), 2):
        assert not ra.intersects(rb), f"{a} label runs into {b} after zooming out"
    # and in a short plot (a crowded window, a projector), where fixed row steps were thinner than a label
    view.widget.resize(640, 260)
    qtbot.wait(50)
    for (a, ra), (b, rb) in itertools.combinations(_label_rects(view), 2):
        assert not ra.intersects(rb), f"{a} label runs into {b} in a short plot"
    # and with presentation-sized type, where fewer rows fit than there are labels: the rest hide,
    # recommended (what Enter applies) keeps its label first
    for ln in view.label_lines():
        font = ln.label.textItem.font()
        font.setPointSizeF(font.pointSizeF() * 3)
        ln.label.textItem.setFont(font)
    view.widget.resize(640, 200)
    qtbot.wait(50)
    shown = _label_rects(view)
    for (a, ra), (b, rb) in itertools.combinations(shown, 2):
        assert not ra.intersects(rb), f"{a} label runs into {b} with large type"
    names = {name for name, _ in shown}
    assert "recommendedLrMarker" in names and len(shown) < 4


def test_lr_in_use_label_sits_above_the_suggestion_lines(view):
    view.show_others.setChecked(True)
    view.show_result(_curve({"steepest": 0.0140, "recommended": 0.0481, "valley": 0.0152, "minimum/10": 0.0201}))
    view.set_current_lr(0.0140)
    others = [ln for ln in view.label_lines()]
    assert view.current_lr.zValue() > max(ln.zValue() for ln in others)
    assert view.current_lr.label.zValue() > max(ln.label.zValue() for ln in others)


def _bound_lines(w):
    return [i for i in w.lr_view.plot.getPlotItem().items if isinstance(i, pg.InfiniteLine) and i.isVisible()
            and re.search(r"base_lr|max_lr", i.label.toPlainText() if i.label is not None else "")]


def test_smiths_bounds_shown_exactly_when_ticked_and_only_once(make_window, qtbot):
    w = make_window(SMALL)
    w.panel.rt_iters.setValue(60)
    with qtbot.waitSignal(w.rangeTestFinished, timeout=15000):
        w.actionRangeTest.trigger()
    sugg = w.state.suggestions()
    assert sugg["base_lr"] and sugg["max_lr"]
    assert not w.lr_view.show_bounds.isChecked()
    assert _bound_lines(w) == []
    w.lr_view.show_bounds.setChecked(True)
    lines = _bound_lines(w)
    assert len(lines) == 2
    assert sorted(10 ** ln.value() for ln in lines) == pytest.approx(sorted((sugg["base_lr"], sugg["max_lr"])))
    w.actionShowSmithBounds.setChecked(False)
    assert _bound_lines(w) == []
    assert w.actionTrainCyclical.isEnabled()  # the bounds still exist for cyclical training


def test_labels_near_the_right_edge_read_leftwards_inside_the_plot(qtbot):
    """Issue 12 (seen under a real X server at 720p): a suggestion near the end of the sweep had its label cut at the
    plot's right edge ("recommended 0"); such a label reads leftwards from its line, inside the data box."""
    from PySide6.QtCore import QPointF

    from gd_studio.ui.plots.common import set_line_label

    v = LossVsLrView()
    qtbot.addWidget(v.widget)
    v.widget.resize(700, 400)
    v.widget.show()
    qtbot.waitExposed(v.widget)
    vb = v.plot.getPlotItem().vb
    vb.setXRange(-4, 1, padding=0)
    v.set_current_lr(10 ** 0.9)  # a tenth of a decade from the right edge
    v.recommended.setValue(0.95)
    v.recommended.show()
    set_line_label(v.recommended, "recommended 0.891")
    v._declutter()
    qtbot.wait(10)
    box = vb.sceneBoundingRect()
    for line in (v.current_lr, v.recommended):
        r = line.label.sceneBoundingRect()
        assert line.label.isVisible() and r.right() <= box.right() + 1, (line.label.textItem.toPlainText(), r, box)
    v.set_current_lr(10 ** -3.5)  # far from the edge: back to reading rightwards from the line
    assert v.current_lr.label.sceneBoundingRect().left() >= vb.mapViewToScene(QPointF(-3.5, 0)).x() - 3


@pytest.mark.parametrize("lr, limit", [(1.0, 0.3), (3e-2, 3e-2), (1e-6, 0.8), (0.1, 2.0)])
def test_the_lr_in_use_and_stability_labels_cover_no_point_of_the_curve(view, qtbot, lr, limit):
    """Issue 12: "LR in use 0.1" sat on the curve and "2/λ_max at start 0.918" across it (scenario 5 after L):
    at a fixed height each covered the curve wherever it passed there."""
    view.show_result(_curve({"steepest": 0.0140, "recommended": 0.0481}))
    view.set_current_lr(lr)
    view.set_stability_limit(limit)
    qtbot.wait(10)
    vb = view.plot.getPlotItem().vb
    points = [vb.mapViewToScene(pg.Point(math.log10(x), y)) for x, y in zip(view._lrs, view._losses)]
    rects = [ln.label.sceneBoundingRect() for ln in (view.current_lr, view.stability_limit)]
    for rect in rects:
        assert not any(rect.contains(p) for p in points)
        assert vb.sceneBoundingRect().contains(rect)  # inside the plot, not pushed off it
    assert not rects[0].intersects(rects[1])
    for _, other in _label_rects(view):
        assert not any(other.intersects(r) for r in rects)


def test_a_decade_at_the_axis_end_keeps_its_label(qtbot):
    """Issue 12: the leftmost LR tick sometimes had no label: pyqtgraph draws only the labels that lie wholly inside
    the axis, so a decade within half a label's width of its left end (a sweep from exactly 10⁻⁶) lost "10⁻⁶". Every
    tick is labelled, for views starting or ending anywhere near a decade, on a narrow and a wide plot."""
    from gd_studio.ui.plots.common import axis_draw_specs

    v = LossVsLrView()
    qtbot.addWidget(v.widget)
    v.widget.show()
    qtbot.waitExposed(v.widget)
    pi = v.plot.getPlotItem()
    axis = pi.getAxis("bottom")
    missing = []
    for width in (320, 900):
        v.widget.resize(width, 360)
        qtbot.wait(1)
        # the left end near 10⁻⁶ or 10⁻⁷, then the right end near 10⁰ or 10¹ (the plot's edge: no room beside it)
        ends = [(lo, 0.9) for lo in np.arange(-7.3, -5.7, 0.1)] + [(-4.2, hi) for hi in np.arange(-0.2, 1.3, 0.1)]
        for lo, hi in ends:
            pi.vb.setRange(xRange=(lo, hi), padding=0)
            _axis, _ticks, texts = axis_draw_specs(axis)
            values = [x for _s, xs in axis.tick_levels() for x in xs]
            labels = [t[2] for t in texts]
            if labels != axis.tickStrings(values, 1.0, 1.0):
                missing.append((width, round(float(lo), 2), round(float(hi), 2), labels))
    assert not missing, missing
