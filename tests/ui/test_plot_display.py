"""What the plots show on every bundled scenario (issue 12): legends that hide no data, a loss-vs-weight view that
follows a diverging run, axes that start afresh with each scenario, and the same picture every time."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from gd_studio.ui.offscreen import scenario_window, settle, wait
from tests.screens.legends import VIEWS, legend_problems

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "resources" / "scenarios").glob("*.gdscenario"))
SURFACE_SCENES = ("09-momentum-in-a-narrow-valley.gdscenario", "10-a-network-around-its-minimum.gdscenario")


def _check_legends(sw, name: str, problems: list) -> None:
    settle(sw.app)
    assert any(getattr(sw.window, n).plot.isVisible() for n in VIEWS), name
    problems += [f"{name}: {p}" for p in legend_problems(sw.window)]


def test_every_scenario_legends_hide_no_data_and_the_picture_repeats(qapp):
    """Every bundled scenario after a few steps (pre-runs capped at 100 steps, to keep this quick), in one window,
    so each is drawn after a different one:
    - at 1280×720, 1920×1080 and in presentation mode no legend covers a data point, a curve sample or the ball;
    - a second pass at 1280×720, in the reverse order, gives the same pixels in the whole window (panel, left
      column, captions, plots, banners; its splitters as the window set them, not reset for the grab): the picture
      follows from the data, not from timers or the scenario shown before (``gd-studio --scenario
      07-ten-digits.gdscenario --screenshot`` gave one of two pictures; a diverged run's "Run stopped" warning
      stayed over the next scenario);
    - the same in presentation mode at 1280×720 (a projector): no legend covers data."""
    problems, pictures, images, places = [], {}, {}, {}
    # (opened on the second: the first frame's word-wrapped scenario caption is laid out taller until its text
    # changes, which is the caption's business, not the plots')
    with scenario_window(SCENARIOS[1], size=(1280, 720), use_theme=False) as sw:
        w = sw.window

        def each(order, look, grab=False):
            for path in order:
                # the speed a person chose carries over to a scenario that names none: the same before each
                w.scenarios.set_speed(10.0)
                sw.switch(path, max_pre_run=100)
                sw.advance(6)
                if grab:
                    # the window as laid out, its splitters untouched: a rendering's equal rows would hide a layout
                    # that depends on the scenes before
                    rgb, _image = sw.grab(equal_rows=False)
                    rgb = rgb.copy()
                    pictures.setdefault(path.name, []).append(hashlib.sha1(rgb.tobytes()).hexdigest())
                    images.setdefault(path.name, []).append(rgb)
                if look:
                    _check_legends(sw, f"{path.name} {look}", problems)

        each(SCENARIOS, "720p", grab=True)
        each(SCENARIOS[::-1], "", grab=True)  # each after another scenario than the first time
        sw.fit(w, (1920, 1080))
        each(SCENARIOS, "1080p")
        w.presentation.set_presentation(True)
        w.showNormal()
        sw.fit(w, (1920, 1080))
        each(SCENARIOS, "presentation")
        sw.fit(w, (1280, 720))
        # (the loss-surface scenes' lecture layout in presentation mode is issue 14's: at 720p it stacks three views
        # and leaves the loss-vs-weight plot a 60-px strip, where its legend meets the steps)
        each([p for p in SCENARIOS if p.name not in SURFACE_SCENES], "presentation 720p")
        w.presentation.set_presentation(False)
        for name in ("data_view", "weight_view", "lr_view", "step_view"):
            v = getattr(w, name).widget
            p = v.mapTo(w, v.rect().topLeft())
            places[name] = (p.x(), p.y(), v.width(), v.height())
    assert not problems, "\n".join(problems)
    differ = [name for name, (a, b) in pictures.items() if a != b]
    where = {}
    for name in differ:
        ys, xs = np.nonzero(np.any(images[name][0] != images[name][1], axis=2))
        where[name] = (int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max()))
    import os
    if os.environ.get("GD_DUMP") and differ:
        from PIL import Image
        for name in differ:
            for k, im in enumerate(images[name]):
                Image.fromarray(im).save(f"/tmp/s5/dump-{name}-{k}.png")
    assert not differ, (where, places)


def test_legend_entries_stay_inside_the_strip_when_the_plot_is_narrow(qtbot):
    from PySide6.QtWidgets import QWidget

    from gd_studio.ui.plots.step_view import LossVsStepView

    v = LossVsStepView()
    qtbot.addWidget(v.widget)
    v._list_validation(True)  # three entries
    v.widget.resize(900, 300)
    v.widget.show()
    qtbot.waitExposed(v.widget)
    pi = v.plot.getPlotItem()
    head = v.widget.findChild(QWidget, "headLegend")
    # wide: in the title row beside the title, the strip above the data empty
    qtbot.waitUntil(lambda: head.isVisible() and not pi.legend.isVisible(), timeout=2000)
    one_row = max(label.item.boundingRect().height() for _sample, label in pi.legend.items)
    for width in (330, 470, 520):
        v.widget.resize(width, 300)
        qtbot.wait(20)
        assert pi.legend.isVisible() != head.isVisible(), width  # in one place
        if head.isVisible():  # whole, in the row
            assert head.width() >= head.sizeHint().width() and head.geometry().right() < width, width
        else:  # three entries no longer fit on one row: more rows, never wider than the plot
            strip, plot = pi.legend.sceneBoundingRect(), pi.sceneBoundingRect()
            assert strip.left() >= plot.left() - 1 and strip.right() <= plot.right() + 1, (width, strip, plot)
    v.widget.resize(330, 300)
    qtbot.wait(20)
    strip = pi.legend.sceneBoundingRect()
    assert strip.height() > 1.5 * one_row
    for sample, label in pi.legend.items:
        for part in (sample, label):
            r = part.sceneBoundingRect()
            assert strip.adjusted(-1, -1, 1, 1).contains(r), (label.text, r, strip)
    qtbot.waitUntil(lambda: strip.bottom() <= pi.vb.sceneBoundingRect().top() + 1, timeout=2000)


def _last_steps_share(view, k: int = 3) -> tuple[float, float]:
    """The share of the view's width and height that the last ``k`` steps' points span."""
    v = view.view
    w = np.asarray(v.trail_w)[-k:]
    y = view.y_of(np.asarray(v.trail_loss)[-k:])
    (x0, x1), (y0, y1) = view.plot.getPlotItem().vb.viewRange()
    return (w.max() - w.min()) / (x1 - x0), (y.max() - y.min()) / (y1 - y0)


def _contains(view, x, y) -> bool:
    (x0, x1), (y0, y1) = view.plot.getPlotItem().vb.viewRange()
    return x0 <= x <= x1 and y0 <= y <= y1


def test_weight_view_frames_the_run_after_a_range_test(qapp):
    with scenario_window(ROOT / "resources/scenarios/05-lr-range-test.gdscenario", size=(1280, 720),
                         use_theme=False) as sw:
        w = sw.window
        w.panel.rt_iters.setValue(40)
        w.panel.rt_animate.setChecked(False)  # its last frame still walks on the loss-vs-weight view
        done = []
        w.rangeTestFinished.connect(done.append)
        w.actionRangeTest.trigger()
        assert wait(sw.app, lambda: bool(done), 30)
        sw.settle_layout()
        assert w.weight_view.mode == "range test"  # its last frame: the steps that jumped out of the trough
        sw.advance(1)
        sw.settle_layout()
        wv = w.weight_view
        v = wv.view
        assert wv.mode == "run"
        assert _contains(wv, v.current_w, v.current_loss)
        # the curve where the run is fills the view's height, not a strip in a corner
        (x0, x1), (y0, y1) = wv.plot.getPlotItem().vb.viewRange()
        cw, cl = np.asarray(v.curve_w), np.asarray(v.curve_loss)
        seen = cl[(cw >= x0) & (cw <= x1)]
        assert (min(seen.max(), y1) - max(seen.min(), y0)) / (y1 - y0) >= 0.5
        # another scenario: the range test (of another model) leaves the loss-vs-LR view with its axes
        assert w.lr_view.result is not None
        sw.switch(ROOT / "resources/scenarios/01-a-good-learning-rate.gdscenario")
        assert w.lr_view.result is None and not w.lr_view.marker.isVisible() and not len(w.lr_view._lrs)
        (x0, x1), (y0, y1) = w.lr_view.plot.getPlotItem().vb.viewRange()
        assert np.allclose([x0, x1, y0, y1], np.ravel(w.lr_view.DEFAULT_RANGE))


def _ranges(window) -> dict:
    out = {}
    for name in VIEWS:
        plot = getattr(window, name).plot
        held = [r._held for r in plot.sticky if getattr(r, "_held", None) is not None]
        if held:  # a scene's box, framed with a margin in pixels: the box, not the plot's size of the moment
            out[name] = np.array(held[0])
            continue
        (x0, x1), (y0, y1) = plot.getPlotItem().vb.viewRange()
        out[name] = np.array([x0, x1, y0, y1])
    return out


def test_weight_view_follows_a_diverging_run_and_a_switch_starts_afresh(qapp):
    first = ROOT / "resources/scenarios/01-a-good-learning-rate.gdscenario"
    with scenario_window(first, size=(1280, 720), use_theme=False) as sw:
        fresh0 = _ranges(sw.window)  # step 0
        sw.advance(1)
        fresh = _ranges(sw.window)
        sw.switch(ROOT / "resources/scenarios/04-divergence.gdscenario")
        sw.advance(12)
        sw.settle_layout()
        wv = sw.window.weight_view
        v = wv.view
        assert v.current_loss > 1e3 * np.min(v.curve_loss)  # the loss grew by orders of magnitude
        share = _last_steps_share(wv)
        assert min(share) >= 0.3, share  # the last steps are arrows across the view, not dots along its bottom
        assert _contains(wv, v.current_w, v.current_loss)  # the ball
        # the step's size is written out in the title row, outside the data (or, where the row is too narrow for
        # it, at the end of the caption, which wraps)
        header = wv.step_label.text() if wv.header_inline else wv.caption.text()
        assert "|Δw|" in header and "loss ×" in header
        # the log-loss axis (Y): the same steps, still framed, every tick label in one style
        sw.window.actionLogLoss.trigger()
        assert wv.log_loss.isChecked()
        sw.settle_layout()
        share = _last_steps_share(wv)
        assert min(share) >= 0.3, share
        assert _contains(wv, v.current_w, float(wv.y_of([v.current_loss])[0]))
        axis = wv.plot.getPlotItem().getAxis("left")
        (_, _), (y0, y1) = wv.plot.getPlotItem().vb.viewRange()
        levels = axis.tickValues(y0, y1, 200)
        labels = [s for _, vals in levels for s in axis.tickStrings(vals, 1.0, 1.0)]
        assert labels and all("10" in s for s in labels), labels
        sw.window.actionLogLoss.trigger()
        assert not wv.log_loss.isChecked()
        sw.advance(10)  # far into the divergence (the scene stops it after its steps)
        assert abs(wv.view.current_w) > 100
        stopped = sw.window.banner.text()
        # scenario 01 again: every view's axes as on its fresh start, none kept from the diverged run, and no warning
        # about it over the new run's views
        sw.switch(first)
        assert not (sw.window.banner.isVisible() and sw.window.banner.text() == stopped), stopped
        switched0 = _ranges(sw.window)
        sw.advance(1)
        switched = _ranges(sw.window)
    for name in VIEWS:
        assert np.allclose(switched0[name], fresh0[name], rtol=1e-6, atol=1e-9), (name, switched0[name], fresh0[name])
        assert np.allclose(switched[name], fresh[name], rtol=1e-6, atol=1e-9), (name, switched[name], fresh[name])




def test_arrows_drop_antialiasing_only_while_frames_come_fast(qtbot):
    """At full speed the arrows are drawn without antialiasing (half their cost); once the frames stop they are
    drawn smooth again, and a first or lone frame is always smooth."""
    import numpy as np

    from gd_studio.ui.plots.common import ArrowsItem

    item = ArrowsItem()
    x, y, up = np.array([0.0, 1.0, 2.0]), np.array([4.0, 1.0, 0.5]), np.zeros(3, bool)
    item.setArrows(x, y, up)
    assert not item.live
    item.setArrows(x, y, up)  # the next frame at once: running
    assert item.live
    qtbot.waitUntil(lambda: not item.live, timeout=3000)  # frames stopped: smooth again


def test_the_weight_captions_last_step_reads_like_the_narration():
    """"Last step: -1.158 → -0.9218 (Δ = +0.24)" beside the narration's "= −1.16 − 0.8 × (−0.29) = −0.92": other
    digits, another minus sign. Now as the narration writes them, with digits enough that values which differ
    never read the same."""
    from gd_studio.engine.narration import MINUS
    from gd_studio.ui.plots.weight_view import LossVsWeightView

    class View:  # the fields the caption reads
        lr, diverge_lr, oscillate_lr, curvature, network_caption = 0.8, 1.0, 0.5, None, ""

    describe = LossVsWeightView._describe
    text = describe(LossVsWeightView.__new__(LossVsWeightView), View(), "run", "", np.zeros(1, dtype=bool),
                    np.array([-1.158, -0.9218]))
    assert f"Last step: {MINUS}1.16 → {MINUS}0.92 (Δ = +0.24)." in text, text
    text = describe(LossVsWeightView.__new__(LossVsWeightView), View(), "run", "", np.zeros(1, dtype=bool),
                    np.array([0.30012, 0.30004]))
    assert "Last step: 0.3001 → 0.3000 (Δ = " + MINUS + "8.0e-5)." in text, text
