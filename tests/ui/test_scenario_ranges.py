"""A scenario's fixed axes ("ranges") keep a marker on their edge whole: the ball at the bottom of the bowl."""
from __future__ import annotations

from pathlib import Path

import pytest

from gd_studio.ui import offscreen
from gd_studio.ui.plots.common import with_margin

ROOT = Path(__file__).resolve().parents[2]


def test_with_margin_adds_pixels_on_both_sides():
    lo, hi = with_margin(0.0, 5.0, 120.0, 10.0)
    # 10 px of 120 at the new scale: the old box spans 100 px in the middle
    assert abs((0.0 - lo) / (hi - lo) * 120 - 10) < 1e-9 and abs((hi - 5.0) / (hi - lo) * 120 - 10) < 1e-9
    assert with_margin(0.0, 5.0, 30.0, 10.0) == (0.0, 5.0)  # too small a plot for a margin: as asked
    assert with_margin(0.0, 5.0, 300.0, 0.0) == (0.0, 5.0)


def test_the_ball_at_the_bowls_bottom_is_not_cut_by_the_scenarios_axes(qapp):
    # scenario 03's loss-vs-weight box starts at loss 0; after 8 steps the ball sits at loss 0.04, and before the
    # margin half its disc was below the axis (seen at 1280x720 and 1920x1080)
    path = ROOT / "resources" / "scenarios" / "03-too-big-overshooting.gdscenario"
    with offscreen.scenario_window(path, size=(1280, 720)) as sw:
        sw.advance(8)
        sw.settle_layout()
        view = sw.window.weight_view
        vb = view.plot.getPlotItem().vb
        (x0, x1), (y0, y1) = vb.viewRange()
        (bx,), (by,) = view.current.getData()
        radius = 0.5 * float(view.current.opts["size"])  # pixels
        px_y = (by - y0) / (y1 - y0) * vb.height()
        px_x = (bx - x0) / (x1 - x0) * vb.width()
        assert px_y >= radius and vb.height() - px_y >= radius, (px_y, vb.height())
        assert px_x >= radius and vb.width() - px_x >= radius
        # the margin is in pixels at every size: framed anew when the plot changes size (presentation, a resize)
        sw.window.presentation.set_presentation(True)
        sw.settle_layout()
        (x0, x1), (y0, y1) = vb.viewRange()
        px_y = (by - y0) / (y1 - y0) * vb.height()
        assert px_y >= radius
        assert with_margin(0.0, 5.0, vb.height(), view.follow.margin_px()) == pytest.approx((y0, y1))
