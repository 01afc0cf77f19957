"""The plots' horizontal axis (EdgeLabelAxis): its labels, the end ones it adds included, at one tick spacing."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QImage, QPainter

from gd_studio.ui.plots.common import axis_draw_specs

ROOT = Path(__file__).resolve().parents[2]


def _labels(axis) -> list:
    specs = axis_draw_specs(axis)
    return [] if specs is None else [(rect, text) for rect, _flags, text in specs[2]]


@pytest.mark.parametrize("scale", [1.0, 1.6, 2.0])
def test_labels_never_mix_two_tick_spacings_near_a_change_of_spacing(qtbot, scale):
    """Issue 14 (a tester, presenting scenario 09 at 720p, three steps back): the surface's α axis read
    "0.2 0.40.50.6 0.8 1.0 1.2 1.41.5": pyqtgraph chose its labels every 0.2 for the axis's length in device pixels
    (its width and a pixel past each end), and the end labels added to them were chosen again for its width alone,
    every 0.5, on a span where the spacing changes between those two lengths. Swept across such spans, at the
    normal, presentation and projector sizes, the labels are evenly spaced (one spacing) and none overlap."""
    from gd_studio.ui import theme
    from gd_studio.ui.plots.common import new_plot
    from tests.screens.surface_checks import gaps, overlaps

    pw = new_plot("axisProbe")
    qtbot.addWidget(pw)
    theme.style_plot(pw, theme.get_theme("light"), scale)
    pw.resize(520, 300)
    pw.show()
    qtbot.waitExposed(pw)
    pi = pw.getPlotItem()
    axis = pi.getAxis("bottom")
    pi.vb.setRange(xRange=(0.173, 1.5), padding=0)
    pw.refresh_axes(text_space=True)  # the axis as tall as its labels: a label taller than it is not drawn
    pi.layout.activate()
    assert _labels(axis)

    def spacing(hi: float) -> float:
        axis.setRange(0.173, hi)  # the axis alone: the view's range plays no part in its labels
        values = sorted(float(t) for _r, t in _labels(axis))
        return round(min(b - a for a, b in zip(values, values[1:])), 9)

    # the spans where the drawn spacing changes, found coarsely (0.01), then every 0.0002 across each change: the
    # lengths pyqtgraph's and the end labels' spacings were chosen for differed by 2 px, about 0.003 of span here
    coarse = np.arange(1.0, 2.6, 0.01)
    spacings = [spacing(float(hi)) for hi in coarse]
    changes = [(coarse[i], coarse[i + 1]) for i in range(len(coarse) - 1) if spacings[i] != spacings[i + 1]]
    assert changes, spacings
    bad = []
    for a, b in changes:
        for hi in np.arange(a, b + 1e-9, 0.0002):
            axis.setRange(0.173, float(hi))
            labels = _labels(axis)
            if len(gaps(labels)) > 1 or overlaps(labels):
                bad.append((round(float(hi), 4), [t for _r, t in labels], overlaps(labels)))
    assert not bad, bad[:5]


def test_the_valley_scene_stepped_presented_and_stepped_back_keeps_its_axes_labels_apart(make_window, qtbot,
                                                                                       monkeypatch):
    """The tester's sequence on scenario 09 (→ six times, F5, ← three times), with the sharpness view (K) on too: at
    each stop the surface's α axis and the sharpness view's step axis draw evenly spaced labels that do not overlap,
    at their size then and over the spans around theirs (where the spacing changes a mix of two showed)."""
    from PySide6.QtCore import Qt

    from gd_studio.engine import scenarios
    from tests.screens.surface_checks import surface_problems, tick_sweep_problems

    monkeypatch.setenv("GD_STUDIO_ENGINE", "thread")
    scene = scenarios.load(ROOT / "resources" / "scenarios" / "09-momentum-in-a-narrow-valley.gdscenario")
    w = make_window(scene.config)
    with qtbot.waitSignal(w.scenarios.scenarioApplied, timeout=30000):
        assert w.scenarios.open(ROOT / "resources" / "scenarios" / "09-momentum-in-a-narrow-valley.gdscenario")
    w.actionShowSharpness.setChecked(True)

    def press(key, step):
        qtbot.keyClick(w.centralWidget(), key)
        qtbot.waitUntil(lambda: w.last_snapshot.step == step and not w.last_snapshot.running
                        and w.surface_view.info is not None and w.surface_view.info.step == step, timeout=10000)

    def problems(where, whole=True):
        image = QImage(8, 8, QImage.Format.Format_ARGB32)
        painter = QPainter(image)
        try:
            found = [p for name, view in (("surface α axis", w.surface_view), ("sharpness step axis", w.sharpness_view))
                     if view.plot.isVisible()
                     for p in tick_sweep_problems(view.plot.getPlotItem().getAxis("bottom"), name, painter)]
        finally:
            painter.end()
        return [f"{where}: {p}" for p in (surface_problems(w) if whole else []) + found]

    bad = []
    for step in range(1, 7):
        press(Qt.Key.Key_Right, step)
    bad += problems("normal, step 6")
    qtbot.keyClick(w.centralWidget(), Qt.Key.Key_F5)
    assert w.presentation.active
    for step in (5, 4, 3):
        press(Qt.Key.Key_Left, step)
    bad += problems("presenting, back to step 3")
    w.actionLectureLayout.trigger()  # every view of the scene: the sharpness view too
    qtbot.wait(50)
    bad += problems("presenting every view, step 3", whole=False)
    assert not bad, bad
