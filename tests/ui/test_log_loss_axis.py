"""The loss-vs-weight view's log-loss axis: at least two readable, distinct labels over any range (issue 14's tester)."""
from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, Qt

from gd_studio.ui.plots.common import LogDecadeAxis, axis_draw_specs

ROOT = Path(__file__).resolve().parents[2]
_SUPER = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")


@pytest.fixture(autouse=True)
def _engine_in_the_worker_thread(monkeypatch):
    monkeypatch.setenv("GD_STUDIO_ENGINE", "thread")


def _value(label: str) -> float:
    """What a tick label says, as a number: 0.25, 2·10⁻¹, 10⁰, 2.41·10⁻⁷."""
    m = re.fullmatch(r"(?:([0-9.]+)·)?10([⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)", label)
    if m:
        return float(m.group(1) or 1) * 10.0 ** int(m.group(2).translate(_SUPER))
    return float(label)


def _log_axis(qtbot):
    axis = LogDecadeAxis("left", minor=True)
    axis.setLogMode(True)
    return axis


@pytest.mark.parametrize("lo, hi", [
    (0.1516, 0.3110),  # the tester's: scenario 9 after three steps (only 0.2 of 1, 2, 5·10ⁿ in view)
    (0.72, 0.73),  # a calm run: the loss within a percent
    (0.95, 1.05),  # across a decade's boundary
    (0.31, 0.49),  # between 2·10⁻¹ and 5·10⁻¹
    (2.3e-7, 2.5e-7),  # a tiny loss near its minimum
    (1500.0, 1900.0),  # a diverging one
    (0.15, 4.6),  # 1, 2, 5 times powers of ten
    (1e-4, 10.0),  # whole decades
])
@pytest.mark.parametrize("size", [60.0, 200.0, 600.0])
def test_a_log_loss_axis_labels_two_distinct_losses_inside_any_range(qtbot, lo, hi, size):
    axis = _log_axis(qtbot)
    y0, y1 = math.log10(lo), math.log10(hi)
    levels = axis.tickValues(y0, y1, size)
    values = [v for _, vs in levels for v in vs]
    assert len(values) >= 2 and all(y0 - 1e-9 <= v <= y1 + 1e-9 for v in values), (values, y0, y1)
    assert len(values) <= max(2, size / 40 * 2 + 1), values  # not crowded: about one label per 40 px at most ×2
    for spacing, vs in levels:
        strings = axis.tickStrings(vs, 1.0, spacing)
        assert len(strings) == len(vs) and all(strings) and len(set(strings)) == len(strings), strings
        # each label says its tick's loss (to the precision its neighbours need)
        said = [_value(s) for s in strings]
        for v, x in zip(vs, said):
            assert x == pytest.approx(10.0 ** v, rel=1e-3), (strings, vs)
        # one style on the axis: all plain numbers or all powers of ten
        assert len({"10" in s and ("·" in s or s.startswith("10")) for s in strings}) == 1, strings
        # a caller that passes no spacing (as pyqtgraph's own helpers may) reads the same labels
        assert axis.tickStrings(vs, 1.0, 1.0) == strings


def test_ticking_log_loss_in_the_window_keeps_labels_on_the_loss_axis(make_window, qtbot):
    """The tester's steps: scenario 9, three steps, then the title row's "log loss" box; and off again."""
    w = make_window()
    with qtbot.waitSignal(w.scenarios.scenarioApplied, timeout=15000):
        assert w.scenarios.open(ROOT / "resources" / "scenarios" / "09-momentum-in-a-narrow-valley.gdscenario")
    w.controller.stepRequested.emit(3)
    qtbot.waitUntil(lambda: w.last_snapshot.step == 3 and not w.last_snapshot.running, timeout=10000)
    wv = w.weight_view
    box = wv.log_loss
    assert box.isVisible() and not box.isChecked()
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPointF(8, box.height() / 2).toPoint())
    assert box.isChecked() and w.actionLogLoss.isChecked()
    qtbot.wait(50)  # the refit lands with the next frame
    labels = _drawn_labels(wv)
    assert len(labels) >= 2 and len(set(labels)) == len(labels), labels
    (_, _), (y0, y1) = wv.plot.getPlotItem().vb.viewRange()
    for s in labels:  # the losses the labels name lie on the axis
        assert y0 - 1e-9 <= math.log10(_value(s)) <= y1 + 1e-9, (labels, 10 ** y0, 10 ** y1)
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPointF(8, box.height() / 2).toPoint())
    assert not box.isChecked()
    qtbot.wait(50)
    assert len(_drawn_labels(wv)) >= 2


def _drawn_labels(view) -> list[str]:
    """The tick labels the loss axis draws now (pyqtgraph's own draw specs)."""
    _line, _ticks, texts = axis_draw_specs(view.plot.getPlotItem().getAxis("left"))
    return [t[2] for t in texts]
