"""The sharpness and loss-surface views in the window: toggles, sync with step/back/scenarios, finite data, layout."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QKeySequence

from gd_studio.engine import landscape
from gd_studio.engine.config import RunConfig

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _engine_in_the_worker_thread(monkeypatch):
    """These tests compare the worker's own LiveRun with a reference: keep it in this process to read it."""
    monkeypatch.setenv("GD_STUDIO_ENGINE", "thread")
SMALL = RunConfig(dataset="moons", dataset_params={"n_samples": 120, "noise": 0.2, "seed": 1}, model="mlp",
                  hidden=(6,), activation="tanh", loss="cross_entropy", optimizer="sgd", lr=0.3, batch_size=0,
                  seed=2, watch="W2[0,0]")
EDGE = RunConfig(dataset="moons", dataset_params={"n_samples": 400, "noise": 0.2}, model="mlp", hidden=(16,),
                 activation="tanh", loss="cross_entropy", optimizer="sgd", lr=2.0, batch_size=0, seed=0,
                 watch="W1[0,0]", val_fraction=0.0)


def _wait_step(qtbot, w, n, timeout=10000):
    qtbot.waitUntil(lambda: w.last_snapshot is not None and w.last_snapshot.step == n
                    and not w.last_snapshot.running, timeout=timeout)


def _finite_item(item):
    x, y = item.getData()
    return x is None or (np.all(np.isfinite(x)) and np.all(np.isfinite(y)))


VIEWS = ("data_view", "weight_view", "lr_view", "step_view", "surface_view", "sharpness_view")


def _shown(w) -> set:
    """The views the window shows now, by name."""
    return {n for n in VIEWS if getattr(w, n).widget.isVisible()}


def _check_views_finite(w):
    sv, fv = w.sharpness_view, w.surface_view
    assert _finite_item(sv.curve) and _finite_item(sv.limit)
    assert _finite_item(fv.path)
    if fv.info is not None:
        img = fv.image.image
        assert img is not None and np.all(np.isfinite(img))
        assert np.all(np.isfinite(fv.levels)) and np.all(np.diff(fv.levels) > 0)


def test_toggles_are_named_keyed_and_in_the_view_menu(make_window):
    w = make_window(SMALL)
    names = [a.objectName() for a in w.view_menu.actions()]
    for name, key in (("actionShowSharpness", "K"), ("actionShowLossSurface", "U")):
        a = getattr(w, name)
        assert name in names and a.isCheckable() and not a.isChecked()
        assert QKeySequence(key) in a.shortcuts()
    assert w.sharpness_view.widget.isHidden() and w.surface_view.widget.isHidden()
    assert w.panel.findChild(type(w.landscape_views.chooser), "surfacePlaneBox").isHidden()


def test_toggle_step_back_scenario_and_f5_keep_the_views_in_sync(make_window, qtbot):
    w = make_window(SMALL)
    qtbot.keyClick(w.centralWidget(), Qt.Key.Key_K)
    qtbot.keyClick(w.centralWidget(), Qt.Key.Key_U)
    assert w.actionShowSharpness.isChecked() and w.actionShowLossSurface.isChecked()
    assert w.sharpness_view.widget.isVisible() and w.surface_view.widget.isVisible()
    w.controller.stepRequested.emit(15)
    _wait_step(qtbot, w, 15)
    qtbot.waitUntil(lambda: w.surface_view.info is not None and w.surface_view.info.step == 15, timeout=5000)
    _check_views_finite(w)
    assert w.sharpness_view.info.step == 15
    path = w.surface_view.info.path
    assert path.shape == (16, 2)
    w.actionStepBack.trigger()
    _wait_step(qtbot, w, 14)
    qtbot.waitUntil(lambda: w.surface_view.info.step == 14, timeout=5000)
    assert w.surface_view.info.path.shape == (15, 2)
    assert w.sharpness_view.info.steps.max() <= 14
    # the plane chooser: two weights; the path shown is the engine's projection on that plane
    box = w.landscape_views.chooser
    box.kind.setCurrentIndex(box.kind.findData("weights"))
    qtbot.waitUntil(lambda: w.surface_view.info.kind == "weights", timeout=5000)
    info = w.surface_view.info
    run = w.controller.worker.run
    pl = landscape.weights_plane(run.session.model, run.session.runner.params, box.first.currentData(),
                                 box.second.currentData())
    np.testing.assert_allclose(info.path, pl.project(np.asarray(run.surface.path.params[:15])), atol=1e-12)
    _check_views_finite(w)
    # toggle off and on again, then F5 twice (presentation in and out)
    w.actionShowLossSurface.trigger()
    assert w.surface_view.widget.isHidden() and box.isHidden()
    qtbot.waitUntil(lambda: w.last_snapshot.surface is None, timeout=5000)
    w.actionShowLossSurface.trigger()
    qtbot.waitUntil(lambda: w.last_snapshot.surface is not None, timeout=5000)
    qtbot.keyClick(w.centralWidget(), Qt.Key.Key_F5)
    assert w.presentation.active and w.surface_view.widget.isVisible()
    # presenting, the lecture layout's scene is the surface and the loss against the step (the loss-vs-weight view
    # made a third, and each of the stacked two a strip); U off gives the sharpness scene (K is on here: the
    # loss-vs-weight view beside the sharpness view), U on the surface again
    assert _shown(w) == {"surface_view", "step_view"}
    w.actionShowLossSurface.trigger()
    assert _shown(w) == {"weight_view", "sharpness_view"}
    w.actionShowLossSurface.trigger()
    assert _shown(w) == {"surface_view", "step_view"}
    w.actionLectureLayout.trigger()  # every view of the scene
    assert {"weight_view", "step_view", "surface_view"} <= _shown(w)
    w.actionLectureLayout.trigger()
    assert _shown(w) == {"surface_view", "step_view"}
    qtbot.keyClick(w.centralWidget(), Qt.Key.Key_F5)
    assert not w.presentation.active
    assert {"weight_view", "step_view", "surface_view"} <= _shown(w)
    w.controller.stepRequested.emit(3)
    _wait_step(qtbot, w, 17)
    _check_views_finite(w)
    # a scenario without the views hides them (absent means off)
    path = ROOT / "resources" / "scenarios" / "01-a-good-learning-rate.gdscenario"
    with qtbot.waitSignal(w.scenarios.scenarioApplied, timeout=15000):
        assert w.scenarios.open(path)
    assert not w.actionShowSharpness.isChecked() and not w.actionShowLossSurface.isChecked()
    qtbot.waitUntil(lambda: w.last_snapshot.surface is None, timeout=5000)


def test_the_limit_line_is_two_over_the_new_lr_after_an_lr_change(make_window, qtbot):
    w = make_window(SMALL)
    w.actionShowSharpness.trigger()
    w.controller.stepRequested.emit(5)
    _wait_step(qtbot, w, 5)
    w.set_lr(0.05)
    qtbot.waitUntil(lambda: w.sharpness_view.info is not None and w.sharpness_view.info.limit == pytest.approx(40.0),
                    timeout=5000)
    x, y = w.sharpness_view.limit_line()
    assert y[-1] == pytest.approx(2.0 / 0.05) and x[-1] == 5
    w.controller.stepRequested.emit(5)
    _wait_step(qtbot, w, 10)
    x, y = w.sharpness_view.limit_line()
    assert y[-1] == pytest.approx(40.0) and x[-1] == 10
    assert "limit 2/η = 40" in w.sharpness_view.caption.text()


def test_edge_of_stability_run_shows_sharpness_hovering_at_two_over_eta(make_window, qtbot):
    w = make_window(EDGE)
    w.actionShowSharpness.trigger()
    for target in range(100, 601, 100):  # snapshots along the way, as the window takes them while running
        w.controller.stepRequested.emit(100)
        _wait_step(qtbot, w, target, timeout=30000)
    info = w.sharpness_view.info
    assert info.steps.size >= 6
    late = info.values[info.steps >= 400]
    assert late.size and np.all(np.abs(late - 1.0) < 0.2), late  # chaotic in detail, not in band
    assert info.values[0] > 2.0
    # the caption says it in the engine's words for the newest estimate (at the edge it oscillates around 1)
    from gd_studio.engine.narration import stability_remark
    said = stability_remark(2.0, info.value, limit=1.0)
    assert said[1:] in w.sharpness_view.caption.text()
    cap = w.weight_view.caption.text()
    assert "whole network: 2/λ_max" in cap and "long W1[0,0]: 2/λ = " in cap


def test_screenshot_at_1280x720_both_views_shown_and_sized(make_window, qtbot, tmp_path):
    w = make_window(SMALL)
    w.resize(1280, 720)
    w.actionShowSharpness.trigger()
    w.actionShowLossSurface.trigger()
    w.controller.stepRequested.emit(10)
    _wait_step(qtbot, w, 10)
    qtbot.waitUntil(lambda: w.surface_view.info is not None and w.surface_view.info.step == 10, timeout=5000)
    qtbot.wait(100)
    out = tmp_path / "landscape-1280x720.png"
    assert w.grab().save(str(out)) and out.stat().st_size > 10_000
    win = QRect(0, 0, w.width(), w.height())
    rects = {}
    for name in ("sharpness_view", "surface_view", "weight_view", "step_view", "lr_view", "data_view"):
        plot = getattr(w, name).plot
        top_left = plot.mapTo(w, plot.rect().topLeft())
        r = QRect(top_left, plot.size())
        assert win.contains(r), name
        rects[name] = r
    for name in ("sharpness_view", "surface_view"):
        assert rects[name].width() >= 150 and rects[name].height() >= 120, (name, rects[name])
        for other, r in rects.items():
            if other != name:
                assert not rects[name].intersects(r), (name, other)
    # the data area of the surface plot holds the image; the colour bar sits beside it, not on it
    pi = w.surface_view.plot.getPlotItem()
    bar = w.surface_view.colorbar.sceneBoundingRect()
    assert not bar.intersects(pi.vb.sceneBoundingRect())


def test_a_scene_that_asks_for_the_views_opens_with_them_in_its_plane(make_window, qtbot):
    """Scenario files with "sharpness" / "loss_surface" (issue 11's format) show the views in the plane they name."""
    from types import SimpleNamespace

    w = make_window(SMALL)
    scene = SimpleNamespace(sharpness=SimpleNamespace(every=10, subset=None),
                            loss_surface=SimpleNamespace(plane="weights", weights=("W1[0,1]", "W2[0,0]"), seed=0))
    w.landscape_views.apply_scenario(scene)
    assert w.actionShowSharpness.isChecked() and w.actionShowLossSurface.isChecked()
    box = w.landscape_views.chooser
    assert (box.kind.currentData(), box.first.currentData(), box.second.currentData()) == \
        ("weights", "W1[0,1]", "W2[0,0]")
    qtbot.waitUntil(lambda: w.surface_view.info is not None and w.surface_view.info.labels == ("W1[0,1]", "W2[0,0]"),
                    timeout=5000)
    w.landscape_views.apply_scenario(SimpleNamespace(sharpness=None, loss_surface=None))
    assert not w.actionShowSharpness.isChecked() and not w.actionShowLossSurface.isChecked()


def test_a_scene_span_and_grid_shape_the_surface_in_the_window(make_window, qtbot):
    """"span" and "grid" of a scene's loss_surface (read and ignored before): the window reaches ±span around the
    current point and the full grid has ``grid`` points a side; another plane chosen by hand keeps the grid."""
    from gd_studio.engine.scenarios import SurfaceSettings

    w = make_window(SMALL)
    w.landscape_views.apply_scenario(SimpleNamespace(sharpness=None, loss_surface=SurfaceSettings(
        plane="random", seed=3, span=3.0, grid=21)))
    qtbot.waitUntil(lambda: w.surface_view.info is not None and w.surface_view.info.refined, timeout=10000)
    info = w.surface_view.info
    cx, cy = info.current
    assert info.kind == "random" and info.values.shape == (21, 21)
    assert info.alphas[0] <= cx - 3.0 and info.alphas[-1] >= cx + 3.0 and info.betas[-1] >= cy + 3.0
    box = w.landscape_views.chooser
    box.kind.setCurrentIndex(box.kind.findData("descent_random"))
    qtbot.waitUntil(lambda: w.surface_view.info.kind == "descent_random" and w.surface_view.info.refined,
                    timeout=10000)
    info = w.surface_view.info
    assert info.values.shape == (21, 21) and info.alphas[-1] - info.alphas[0] < 6.0  # the span was the random plane's


@pytest.mark.parametrize("name", ["08-the-edge-of-stability", "09-momentum-in-a-narrow-valley",
                                  "10-a-network-around-its-minimum"])
def test_bundled_scenes_open_with_their_views(make_window, qtbot, name):
    from gd_studio.engine import scenarios

    path = ROOT / "resources" / "scenarios" / f"{name}.gdscenario"
    if not path.exists() or "loss_surface" not in scenarios.Scenario.__dataclass_fields__:
        pytest.skip("needs issue 11's scenario files and fields (merged separately)")
    w = make_window(SMALL)
    with qtbot.waitSignal(w.scenarios.scenarioApplied, timeout=30000) as got:
        assert w.scenarios.open(path)
    s = got.args[0]
    assert w.actionShowSharpness.isChecked() == (s.sharpness is not None)
    assert w.actionShowLossSurface.isChecked() == (s.loss_surface is not None)
    if s.loss_surface is not None:
        qtbot.waitUntil(lambda: w.last_snapshot is not None and w.last_snapshot.surface is not None, timeout=15000)
        _check_views_finite(w)


class _Paints:
    """Counts the paint events a plot's viewport receives."""

    def __init__(self, plot) -> None:
        from PySide6.QtCore import QEvent, QObject

        count = self

        class Filter(QObject):
            def eventFilter(self, obj, event):  # noqa: N802 - Qt's name
                if event.type() == QEvent.Type.Paint:
                    count.n += 1
                return False

        self.n = 0
        self.filter = Filter()
        plot.viewport().installEventFilter(self.filter)

    def settle(self, qtbot, quiet_ms: int = 300, most_ms: int = 5000) -> None:
        """Wait until no paint has come for ``quiet_ms`` (a late one: the arrows' smooth repaint once frames stop)."""
        waited = 0
        while waited < most_ms:
            before = self.n
            qtbot.wait(quiet_ms)
            waited += quiet_ms
            if self.n == before:
                return


def test_a_burst_of_steps_while_paused_refines_the_last_surface_once_and_the_view_draws_it(make_window, qtbot):
    """Holding → while paused: each step's surface is coarse (cheap), one refined grid follows the last step."""
    w = make_window(SMALL)
    run = w.controller.worker.run
    run.tune_surface(step_seconds=0.0, refine_seconds=10.0)  # the first surface after a step is always coarse
    w.actionShowLossSurface.trigger()
    qtbot.waitUntil(lambda: w.surface_view.info is not None and w.surface_view.info.refined
                    and w.surface_view.in_shape(), timeout=5000)  # framed for the map as laid out
    shown = []
    w.snapshotApplied.connect(lambda snap: shown.append(snap.surface))
    before = run.surface.refines
    for _ in range(8):  # queued one after another, as a key's auto-repeat sends them
        w.controller.stepRequested.emit(1)
    qtbot.waitUntil(lambda: w.surface_view.info.step == 8 and w.surface_view.info.refined, timeout=10000)
    qtbot.wait(2 * round(run.surface.refine_delay * 1000))  # and nothing more comes
    assert run.surface.refines - before == 1
    steps = [s.step for s in shown]
    assert steps[-1] == 8 and shown[-1].refined and shown[-1].values.shape == (61, 61)
    assert not any(s.refined for s in shown[:-1]) and steps[:-1] == list(range(1, 9))


def test_the_surface_view_draws_a_surface_once_and_paints_only_when_it_changed(make_window, qtbot):
    import pickle

    w = make_window(SMALL)
    w.controller.worker.run.tune_surface(step_seconds=10.0)  # every step's surface on the full grid at once
    w.actionShowLossSurface.trigger()
    w.controller.stepRequested.emit(3)
    qtbot.waitUntil(lambda: w.surface_view.info is not None and w.surface_view.info.step == 3
                    and w.surface_view.info.refined, timeout=10000)
    view = w.surface_view
    paints = _Paints(view.plot)
    paints.settle(qtbot)
    paints.n, draws = 0, view.draws
    # the same surface again, as every running frame between two refreshes brings it (a copy, from the process)
    for _ in range(3):
        view.show_surface(pickle.loads(pickle.dumps(view.info)))
        qtbot.wait(20)
    assert view.draws == draws and paints.n == 0
    # a new surface: drawn once (pyqtgraph may paint the plot twice for it when a tick label widens its axis)
    w.controller.stepRequested.emit(1)
    qtbot.waitUntil(lambda: view.info.step == 4 and view.info.refined, timeout=10000)
    qtbot.wait(50)
    assert view.draws - draws == 1 and paints.n >= 1


@pytest.mark.parametrize("lo, hi, most", [(-1.2, 0.45, 8), (-1.04, 0.15, 4), (-1.243, -1.2, 5), (-6.0, 3.0, 5),
                                          (-1.2, 0.45, 2), (-0.3, -0.2, 3), (2.0, 2.0001, 4), (-12.0, -11.5, 6)])
def test_colour_bar_labels_are_losses_inside_its_range_and_distinct(lo, hi, most):
    """The bar is shaded by log₁₀ loss and labelled in loss: round values inside the bar, at most as many as its
    height holds, each label different from its neighbours (a basin a few per cent deep gets a linear run)."""
    import math

    from gd_studio.ui.plots.surface_view import bar_loss_values, loss_tick_strings

    vals = bar_loss_values(lo, hi, most)
    assert 1 <= len(vals) <= most, vals
    assert all(10 ** lo * (1 - 1e-12) <= v <= 10 ** hi * (1 + 1e-12) for v in vals), vals
    assert all(b > a for a, b in zip(vals, vals[1:]))
    if hi - lo >= 1 and most >= 4:  # a wide range: 1, 2, 5 times powers of ten
        assert all(round(v / 10 ** math.floor(math.log10(v)), 9) in (1, 2, 3, 5) for v in vals), vals
    texts = loss_tick_strings([math.log10(v) for v in vals], 1.0, 1.0)
    assert len(set(texts)) == len(texts) and all(texts), texts
    for t, v in zip(texts, vals):
        assert float(t.replace("\u2212", "-")) == pytest.approx(v, rel=0.05)


def test_presenting_the_edge_of_stability_shows_the_steps_and_the_sharpness_side_by_side(make_window, qtbot):
    """Scenario 08 presented: the sharpness view was a third view stacked with the loss-vs-step view (a strip with its
    axis title cut at 720p). Its lecture scene is the loss-vs-weight view beside the sharpness view; K off gives the
    descent's two views back, O every view, and F5 out the scenario's views."""
    from gd_studio.engine import scenarios

    scene = scenarios.load(ROOT / "resources" / "scenarios" / "08-the-edge-of-stability.gdscenario")
    w = make_window(scene.config)
    w.actionShowSharpness.setChecked(True)
    qtbot.keyClick(w.centralWidget(), Qt.Key.Key_F5)
    assert w.presentation.active
    assert _shown(w) == {"weight_view", "sharpness_view"}
    a, b = (getattr(w, n).widget for n in ("weight_view", "sharpness_view"))
    qtbot.waitUntil(lambda: a.height() > 0 and b.height() > 0, timeout=3000)
    ga, gb = (v.mapTo(w, v.rect().topLeft()) for v in (a, b))
    assert ga.y() == gb.y() and ga.x() != gb.x()  # side by side, each the grid's full height
    w.actionShowSharpness.trigger()
    assert _shown(w) == {"weight_view", "step_view"}
    w.actionShowSharpness.trigger()
    assert _shown(w) == {"weight_view", "sharpness_view"}
    w.actionLectureLayout.trigger()  # every view of the scene
    assert {"weight_view", "step_view", "sharpness_view"} <= _shown(w)
    w.actionLectureLayout.trigger()
    qtbot.keyClick(w.centralWidget(), Qt.Key.Key_F5)
    assert not w.presentation.active
    assert {"weight_view", "step_view", "sharpness_view"} <= _shown(w)


VALLEY = RunConfig(dataset="valley", dataset_params={"n_samples": 200, "noise": 0.3, "seed": 0}, model="linear",
                   hidden=(), loss="mse", optimizer="sgd", lr=0.45, batch_size=0, seed=0, watch="W1[0,0]",
                   val_fraction=0.0)


def test_a_plane_of_two_weights_reads_the_weights_values_where_the_weight_view_puts_the_ball(make_window, qtbot):
    """Scenario 09's plane: the axes named W1[0,0] and W1[1,0] read those weights, so the orange point sits at the
    weight view's ball and the path starts at the initial weights (it read their changes: the ball at W1[0,0] =
    1.02 in one view, at "W1[0,0]" = 0 in the other)."""
    w = make_window(VALLEY)
    w.landscape_views.apply_scenario(SimpleNamespace(sharpness=None, loss_surface=SimpleNamespace(
        plane="weights", weights=("W1[0,0]", "W1[1,0]"), seed=0)))
    run = w.controller.worker.run
    start = run.session.runner.params.copy()
    w.controller.stepRequested.emit(5)
    _wait_step(qtbot, w, 5)
    qtbot.waitUntil(lambda: w.surface_view.info is not None and w.surface_view.info.step == 5
                    and w.surface_view.info.refined, timeout=10000)
    sv = w.surface_view
    model, p = run.session.model, run.session.runner.params
    i, j = model.index_of("W1[0,0]"), model.index_of("W1[1,0]")
    cx, cy = (float(v[0]) for v in sv.current.getData())
    assert (cx, cy) == pytest.approx((p[i], p[j]), abs=1e-12)
    bx = float(w.weight_view.current.getData()[0][0])
    assert bx == pytest.approx(cx, abs=1e-12)
    xs, ys = sv.path.getData()
    assert (xs[0], ys[0]) == pytest.approx((start[i], start[j]), abs=1e-12)
    # the map and the axes are where those values are: the point is inside both, and the map's middle column is
    # the loss at that W1[0,0] (the grid spans the weights' values, not ±0.5 around 0)
    (x0, x1), (y0, y1) = sv.plot.getPlotItem().vb.viewRange()
    assert x0 < cx < x1 and y0 < cy < y1
    rect = sv.image.mapRectToParent(sv.image.boundingRect())
    assert rect.left() < cx < rect.right() and rect.top() < cy < rect.bottom()
    assert sv.plot.getPlotItem().getAxis("bottom").labelText == "α: W1[0,0]"
    assert "W1[0,0] = " in sv._hover_points()[0][2](0)


ONE = RunConfig(dataset="line", dataset_params={"n_samples": 60, "noise": 0.2, "slope": -1.0}, model="one_weight",
                loss="mse", optimizer="sgd", lr=0.15, batch_size=0, seed=4, watch="w", standardize=False)


def test_u_on_a_one_weight_model_says_why_there_is_no_surface_and_a_model_changed_under_the_view_says_it_there(
        make_window, qtbot):
    """Scenario 01 and U: the view said nothing and drew empty axes reading "5e-123" and a colour bar from 1 to 10.
    U on a one-weight model now says why there is no surface and shows no view (presenting, it would take the
    loss-vs-weight view's place); a shown view whose model becomes a one-weight one says it in its middle, with no
    axes or colour bar, and a model with two weights brings the map back."""
    w = make_window(ONE)
    qtbot.keyClick(w.centralWidget(), Qt.Key.Key_U)
    assert not w.actionShowLossSurface.isChecked() and w.surface_view.widget.isHidden()
    kind, text = w.messages[-1]
    assert "single weight (w)" in text and "loss-vs-weight view" in text
    qtbot.wait(200)
    assert w.last_snapshot.surface is None and w.last_snapshot.surface_error == ""  # nothing asked of the worker

    w.controller.reconfigureRequested.emit(VALLEY)
    qtbot.waitUntil(lambda: "W1[1,0]" in w.landscape_views.param_names, timeout=10000)
    w.actionShowLossSurface.trigger()
    sv = w.surface_view
    pi = sv.plot.getPlotItem()
    qtbot.waitUntil(lambda: sv.info is not None, timeout=10000)
    sv.clear()  # as a new model's configured signal does
    w.controller.reconfigureRequested.emit(ONE)
    qtbot.waitUntil(lambda: "single weight" in sv.notice.toPlainText(), timeout=10000)
    assert sv.info is None and sv.notice.isVisible() and "loss-vs-weight view" in sv.notice.toPlainText()
    vb = pi.vb  # in the view, not off it
    assert vb.sceneBoundingRect().contains(sv.notice.mapRectToScene(sv.notice.boundingRect()).center())
    assert not pi.getAxis("left").isVisible() and not pi.getAxis("bottom").isVisible()
    assert not sv.colorbar.isVisible()
    w.controller.stepRequested.emit(2)  # stepping on keeps saying it
    _wait_step(qtbot, w, 2)
    assert "single weight" in sv.notice.toPlainText() and sv.notice.isVisible()
    w.controller.reconfigureRequested.emit(VALLEY)
    qtbot.waitUntil(lambda: sv.info is not None, timeout=10000)
    assert not sv.notice.isVisible() and sv.colorbar.isVisible()
    assert pi.getAxis("left").isVisible() and pi.getAxis("bottom").isVisible()
    assert sv.caption.text() == sv.describe(sv.info)


def test_an_older_surface_kept_after_a_failure_says_from_which_step_and_why(make_window, qtbot):
    from gd_studio.live.surface import SurfaceInfo  # noqa: F401 - the view reads a SurfaceInfo

    w = make_window(VALLEY)
    w.actionShowLossSurface.trigger()
    sv = w.surface_view
    qtbot.waitUntil(lambda: sv.info is not None and sv.info.refined, timeout=10000)
    sv.show_problem("the weights are no longer finite", sv.info.step + 3)
    assert sv.caption.text() == f"Step {sv.info.step}'s surface; not redrawn at step {sv.info.step + 3}: " \
                                "the weights are no longer finite"
    assert not sv.notice.isVisible() and sv.colorbar.isVisible()
    sv.show_problem("choose two different weights for the loss surface", sv.info.step)
    assert sv.caption.text() == "Not redrawn: choose two different weights for the loss surface"
    sv.show_problem("", sv.info.step)
    assert sv.caption.text() == sv.describe(sv.info)


def test_plain_descent_kept_as_a_ghost_and_momentum_run_after_it_share_the_valley_map(make_window, qtbot):
    """Scenario 09's comparison in one picture: plain descent kept with G, then momentum from the same start; both
    paths on the plane of the two weights (the ghost's at the weights it went through, in the step view's ghost
    style, named in a legend), hidden on a plane its points have no place in, gone with Shift+G."""
    from dataclasses import replace

    w = make_window(VALLEY)
    w.landscape_views.apply_scenario(SimpleNamespace(sharpness=None, loss_surface=SimpleNamespace(
        plane="weights", weights=("W1[0,0]", "W1[1,0]"), seed=0)))
    run = w.controller.worker.run
    w.controller.stepRequested.emit(20)
    _wait_step(qtbot, w, 20)
    qtbot.waitUntil(lambda: w.surface_view.info is not None and w.surface_view.info.step == 20, timeout=10000)
    plain = [p.copy() for p in run.surface.path.params]
    w.actionKeepGhost.trigger()
    sv = w.surface_view
    assert len(sv.ghosts) == 1
    w.apply_config(replace(VALLEY, optimizer="momentum", optimizer_params={"momentum": 0.7}, lr=0.3))
    qtbot.waitUntil(lambda: w.last_snapshot.step == 0 and w.controller.worker.run.config.optimizer == "momentum",
                    timeout=10000)
    w.controller.stepRequested.emit(20)
    _wait_step(qtbot, w, 20)
    qtbot.waitUntil(lambda: w.surface_view.info is not None and w.surface_view.info.step == 20
                    and w.surface_view.info.kind == "weights", timeout=10000)
    (ghost,) = sv.shown_ghosts()
    model = run.session.model
    i, j = model.index_of("W1[0,0]"), model.index_of("W1[1,0]")
    gx, gy = ghost.getData()
    np.testing.assert_allclose(gx, [p[i] for p in plain], atol=1e-12)
    np.testing.assert_allclose(gy, [p[j] for p in plain], atol=1e-12)
    xs, ys = sv.path.getData()
    assert len(xs) == 21 and (xs[0], ys[0]) == pytest.approx((gx[0], gy[0]), abs=1e-12)  # same start
    assert not np.allclose(xs, gx)  # another path
    step_ghost = w.study.ghosts.ghosts[0].step_item
    assert ghost.opts["pen"].color().name() == step_ghost.opts["pen"].color().name()
    assert ghost.opts["pen"].style() == step_ghost.opts["pen"].style()
    assert [label.text for _sample, label in sv.legend.items] == ["this run", "ghost: lr 0.45"]
    # a plane its points have no place in hides it; the weights' plane again shows it
    box = w.landscape_views.chooser
    box.kind.setCurrentIndex(box.kind.findData("random"))
    qtbot.waitUntil(lambda: sv.info.kind == "random", timeout=10000)
    assert sv.shown_ghosts() == [] and sv.legend.items == []
    box.kind.setCurrentIndex(box.kind.findData("weights"))
    qtbot.waitUntil(lambda: sv.info.kind == "weights", timeout=10000)
    assert sv.shown_ghosts() == [ghost]
    # the momentum run kept too: named with its optimizer
    w.actionKeepGhost.trigger()
    assert [label.text for _sample, label in sv.legend.items][-1] == "ghost: momentum 0.7, lr 0.3"
    w.actionClearGhosts.trigger()
    assert sv.ghosts == [] and sv.legend.items == []
    assert all(item.scene() is None for item in (ghost,))


def test_a_new_plane_that_cannot_be_drawn_leaves_no_picture_of_the_last_one(make_window, qtbot):
    """Tester's finding: β set to the same weight as α kept the two-weight picture of step 5 under the chooser's
    W1[0,0]/W1[0,0] while the run went on to step 8, and nothing said so."""
    w = make_window(VALLEY)
    w.landscape_views.apply_scenario(SimpleNamespace(sharpness=None, loss_surface=SimpleNamespace(
        plane="weights", weights=("W1[0,0]", "W1[1,0]"), seed=0)))
    w.controller.stepRequested.emit(5)
    _wait_step(qtbot, w, 5)
    sv = w.surface_view
    qtbot.waitUntil(lambda: sv.info is not None and sv.info.step == 5, timeout=10000)
    box = w.landscape_views.chooser
    box.second.setCurrentIndex(box.second.findData("W1[0,0]"))
    qtbot.waitUntil(lambda: "two different weights" in sv.notice.toPlainText(), timeout=10000)
    assert sv.info is None and sv.notice.isVisible() and not sv.colorbar.isVisible()
    w.controller.stepRequested.emit(3)
    _wait_step(qtbot, w, 8)
    assert sv.info is None and "two different weights" in sv.notice.toPlainText()
    box.second.setCurrentIndex(box.second.findData("W1[1,0]"))
    qtbot.waitUntil(lambda: sv.info is not None and sv.info.step == 8, timeout=10000)
    assert not sv.notice.isVisible()


def test_u_with_the_focus_in_the_plane_chooser_leaves_the_run_keys_working(make_window, qtbot):
    """Tester's finding: a plane picked in the chooser, then U (the view and its chooser hidden), then −: the focus
    had gone to the panel's "weight decay" box, which got the "−", and the LR stayed."""
    from PySide6.QtTest import QTest

    w = make_window(VALLEY)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=5000)
    w.actionShowLossSurface.trigger()
    box = w.landscape_views.chooser
    qtbot.waitUntil(box.isVisible, timeout=5000)
    box.kind.setFocus()
    qtbot.waitUntil(box.kind.hasFocus, timeout=5000)
    qtbot.wait(300)  # the panel laid out with the chooser shown (before that, hiding it moved the focus nowhere)
    lr = w.last_snapshot.lr
    handle = w.windowHandle()  # the window system's path: each key goes to the focus widget of its moment
    QTest.keyClick(handle, Qt.Key.Key_U)
    qtbot.waitUntil(lambda: not box.isVisible(), timeout=5000)
    qtbot.wait(200)  # Qt moves the focus of a hidden widget on in a later pass of the event loop
    focus = w.focusWidget()
    assert focus is None or not w.panel.isAncestorOf(focus)
    QTest.keyClick(handle, Qt.Key.Key_Minus)
    # the LR ladder keeps four significant digits: 0.45 / √10 = 0.1423
    qtbot.waitUntil(lambda: w.last_snapshot.lr == pytest.approx(lr / 10 ** 0.5, rel=1e-3), timeout=5000)


DIGITS = RunConfig(dataset="digits", model="linear", loss="cross_entropy", optimizer="sgd", lr=0.1, batch_size=0,
                   seed=0, watch="W1[36,3]", val_fraction=0.0)


def test_u_starts_at_the_watched_weight_and_a_flat_plane_shows_no_made_up_colour_bar(make_window, qtbot):
    """Tester's findings on digits: U showed W1[0,0]/W1[0,1] (a blank pixel's weights: a uniform map) with a colour
    bar labelled 5, 10, 20 though every value was 2.30, and the caption read "contours 2.30 to 2.30". U now starts
    at the watched weight and the next of its row; a flat plane says the loss is the same all over it, without
    contours or colour bar."""
    w = make_window(DIGITS)
    box = w.landscape_views.chooser
    qtbot.waitUntil(lambda: box.first.count() > 0, timeout=10000)
    assert (box.first.currentData(), box.second.currentData()) == ("W1[36,3]", "W1[36,4]")
    w.actionShowLossSurface.trigger()
    sv = w.surface_view
    qtbot.waitUntil(lambda: sv.info is not None and sv.info.refined, timeout=10000)
    assert not sv.info.flat and sv.colorbar.isVisible()
    box.first.setCurrentIndex(box.first.findData("W1[0,0]"))
    box.second.setCurrentIndex(box.second.findData("W1[0,1]"))
    qtbot.waitUntil(lambda: sv.info.labels == ("W1[0,0]", "W1[0,1]") and sv.info.refined, timeout=10000)
    assert sv.info.flat and not sv.colorbar.isVisible()
    text = sv.caption.text()
    assert text.startswith("The loss is ") and "all over this plane" in text and "contours" not in text
    assert len(sv.contours.getData()[0] if sv.contours.getData()[0] is not None else []) == 0
    box.first.setCurrentIndex(box.first.findData("W1[36,3]"))
    qtbot.waitUntil(lambda: sv.info.labels[0] == "W1[36,3]" and not sv.info.flat, timeout=10000)
    assert sv.colorbar.isVisible()


def test_the_caption_writes_the_contour_range_with_digits_that_tell_its_ends_apart():
    from gd_studio.ui.plots.surface_view import distinct

    assert distinct(0.0879, 0.0884) == ("0.0879", "0.0884")  # it read "0.088 to 0.088"
    assert distinct(2.61, 2.62) == ("2.61", "2.62")
    assert distinct(0.064, 2.84) == ("0.064", "2.8")


def test_a_scene_without_a_surface_does_not_inherit_the_last_scenes_plane(make_window, qtbot):
    w = make_window(VALLEY)
    lv = w.landscape_views
    lv.apply_scenario(SimpleNamespace(sharpness=None, loss_surface=SimpleNamespace(plane="random", weights=(), seed=3)))
    assert lv.chooser.kind.currentData() == "random"
    lv.apply_scenario(SimpleNamespace(sharpness=None, loss_surface=None))
    assert lv.chooser.kind.currentData() == "weights" and lv.chooser.first.isEnabled()
    assert not lv.chooser.seed.isEnabled()


def test_a_long_settled_path_is_a_line_with_dots_apart_not_a_black_bar(make_window, qtbot):
    """Tester's finding: scenario 10's 2,000 recorded steps drew 2,000 black-edged dots into one black bar over the
    white line. The line goes through every step; dots only where they stand at least DOT_GAP pixels apart."""
    w = make_window(SMALL)
    w.actionShowLossSurface.trigger()
    w.controller.stepRequested.emit(400)
    _wait_step(qtbot, w, 400, timeout=20000)
    sv = w.surface_view
    qtbot.waitUntil(lambda: sv.info is not None and sv.info.step == 400 and sv.info.refined, timeout=10000)
    xs, ys = sv.path.getData()
    assert len(xs) == 401
    dx, dy = sv.dots.getData()
    assert 2 <= len(dx) < len(xs) // 4
    px, py = sv.plot.getPlotItem().vb.viewPixelSize()
    gaps = np.hypot(np.diff(dx) / px, np.diff(dy) / py)
    assert gaps.min() >= sv.DOT_GAP - 1e-9
    # every step is within a dot gap of a dot: none of the path is left undotted for long
    pts = np.column_stack([xs / px, ys / py])
    dots = np.column_stack([dx / px, dy / py])
    nearest = np.min(np.hypot(pts[:, None, 0] - dots[None, :, 0], pts[:, None, 1] - dots[None, :, 1]), axis=1)
    assert nearest.max() < sv.DOT_GAP


def test_a_step_that_leaves_the_map_ends_at_its_edge_with_its_head_and_the_caption_says_so(make_window, qtbot):
    """Diverging (scenario 09 at r = 1.42, step 4) the next step is bigger than the map, which follows the path:
    the arrow ends where the step crosses the map's edge (off it, it was a shaft without a head)."""
    from dataclasses import replace

    w = make_window(replace(VALLEY, lr=1.42))
    w.landscape_views.apply_scenario(SimpleNamespace(sharpness=None, loss_surface=SimpleNamespace(
        plane="weights", weights=("W1[0,0]", "W1[1,0]"), seed=0)))
    w.controller.stepRequested.emit(4)
    _wait_step(qtbot, w, 4)
    sv = w.surface_view
    qtbot.waitUntil(lambda: sv.info is not None and sv.info.step == 4 and sv.info.refined, timeout=10000)
    info = sv.info
    ex, ey = sv.leaves_at(info)
    cur, nxt = np.asarray(info.current), np.asarray(info.next_point)
    assert (ex, ey) != tuple(nxt)
    assert info.alphas[0] - 1e-9 <= ex <= info.alphas[-1] + 1e-9 and info.betas[0] - 1e-9 <= ey <= info.betas[-1] + 1e-9
    cross = (ex - cur[0]) * (nxt[1] - cur[1]) - (ey - cur[1]) * (nxt[0] - cur[0])
    assert abs(cross) <= 1e-9 * float(np.hypot(*(nxt - cur))) ** 2  # on the way to the next point
    ox, oy = info.origin
    np.testing.assert_allclose([sv.arrow._x[-1], sv.arrow._y[-1]], [ex + ox, ey + oy])
    assert sv.caption.text().endswith("The next step leaves the map.")


def test_the_map_draws_both_directions_at_one_scale_and_reframes_when_its_shape_changes(make_window, qtbot):
    """Tester's finding: at 1080p α ran 1.2 over ~500 px and β 1.2 over ~215 px, so a plain step's arrow crossed the
    contours at ~60° and the valley's angles were bent. The grid is framed for the map's shape and the view keeps
    one scale: a unit across is as many pixels as a unit up, with no blank margin; a new window shape re-frames."""
    w = make_window(VALLEY)
    w.resize(1500, 900)
    w.landscape_views.apply_scenario(SimpleNamespace(sharpness=None, loss_surface=SimpleNamespace(
        plane="weights", weights=("W1[0,0]", "W1[1,0]"), seed=0)))
    w.controller.stepRequested.emit(6)
    _wait_step(qtbot, w, 6)
    sv = w.surface_view
    vb = sv.plot.getPlotItem().vb

    def framed():
        return sv.info is not None and sv.info.step == 6 and sv.info.refined and sv.in_shape()

    for size in ((1500, 900), (1100, 800)):
        w.resize(*size)
        qtbot.waitUntil(lambda: framed() and sv.map_aspect() is not None, timeout=10000)
        qtbot.wait(50)
        px, py = vb.viewPixelSize()
        assert px == pytest.approx(py, rel=0.02)
        (x0, x1), (y0, y1) = vb.viewRange()
        a, b = sv.info.alphas + sv.info.origin[0], sv.info.betas + sv.info.origin[1]
        da, db = (a[-1] - a[0]) / (a.size - 1), (b[-1] - b[0]) / (b.size - 1)
        # the map fills the view: what the view shows beyond the grid's cells is within a few per cent
        assert (x1 - x0) <= (a[-1] - a[0] + da) * 1.04 and (y1 - y0) <= (b[-1] - b[0] + db) * 1.04
    # on screen a plain descent step is perpendicular to the level line through the point: the gradient, in
    # pixels, is along the arrow (one scale makes the two agree)
    info = sv.info
    run = w.controller.worker.run
    model, p = run.session.model, run.session.runner.params
    i, j = model.index_of("W1[0,0]"), model.index_of("W1[1,0]")
    _, g = model.loss_and_grad(p, run.slice_X, run.slice_y)
    step = np.array(info.next_point) - np.array(info.current)
    grad_px = np.array([g[i] * px, g[j] * py])  # ∂L/∂(pixels): the level line's normal on screen
    step_px = step / np.array([px, py])
    cos = -(grad_px @ step_px) / (np.linalg.norm(grad_px) * np.linalg.norm(step_px))
    assert cos == pytest.approx(1.0, abs=1e-3)


def test_shift_u_steps_through_the_planes_from_the_keyboard(make_window, qtbot):
    """At 720p the chooser sits at the bottom of a scrolled panel (tester's finding): Shift+U shows the surface,
    then each press takes the next plane, and the view follows."""
    w = make_window(SMALL)
    a = w.landscape_views.actionNextSurfacePlane
    assert QKeySequence("Shift+U") in a.shortcuts() and a in w.view_menu.actions()
    qtbot.keyClick(w.centralWidget(), Qt.Key.Key_U, Qt.KeyboardModifier.ShiftModifier)
    assert w.actionShowLossSurface.isChecked()
    box = w.landscape_views.chooser
    seen = [box.kind.currentData()]
    for _ in range(box.kind.count()):
        qtbot.keyClick(w.centralWidget(), Qt.Key.Key_U, Qt.KeyboardModifier.ShiftModifier)
        seen.append(box.kind.currentData())
        qtbot.waitUntil(lambda: w.surface_view.info is not None and w.surface_view.info.kind == seen[-1]
                        or bool(w.last_snapshot.surface_error), timeout=10000)
        assert w.messages[-1][1] == f"Loss surface plane: {box.kind.currentText()}"
    assert sorted(set(seen)) == sorted(box.kind.itemData(i) for i in range(box.kind.count()))
    assert seen[0] == seen[-1]  # round
