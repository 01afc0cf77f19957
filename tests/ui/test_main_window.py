"""The main window end to end: actions, views, the worker thread, bad input, divergence, closing."""
from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
import pytest

from gd_studio.ui.adapters import fmt_lr
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QLineEdit

from gd_studio.engine import descent, hessian, lr_finder
from gd_studio.engine.config import RunConfig

SMALL = RunConfig(dataset="moons", dataset_params={"n_samples": 160, "noise": 0.2, "seed": 1}, model="mlp",
                  hidden=(8,), activation="tanh", loss="cross_entropy", optimizer="sgd", lr=0.1, batch_size=32,
                  seed=3, watch="W2[0,0]")
PARABOLA = RunConfig(dataset="line", dataset_params={"n_samples": 100, "noise": 0.1, "seed": 0}, model="one_weight",
                     loss="mse", lr=0.1, batch_size=0, seed=0, watch="w", val_fraction=0.0)


def _wait_steps(qtbot, w, n, timeout=5000):
    qtbot.waitUntil(lambda: w.step_count >= n, timeout=timeout)


def _plot(w, name) -> pg.PlotWidget:
    plot = w.findChild(pg.PlotWidget, name)
    assert plot is not None, name
    return plot


def test_named_widgets_actions_and_shortcuts(make_window):
    w = make_window(SMALL)
    for name in ("lossVsWeightPlot", "lossVsLrPlot", "lossVsStepPlot", "dataPlot"):
        _plot(w, name)
    assert w.findChild(QLineEdit, "learningRateInput") is not None
    expected = {"actionRun": "Space", "actionStep": "Right", "actionReset": "R", "actionReseed": "Shift+R",
                "actionRangeTest": "L", "actionUseSuggestedLr": "Return", "actionCancel": "Esc"}
    toolbar_actions = {a.objectName() for a in w.toolbar.actions()}
    menu_actions = {a.objectName() for a in w.run_menu.actions()}
    for name, key in expected.items():
        action = getattr(w, name)
        assert action.objectName() == name
        assert QKeySequence(key) in action.shortcuts(), name
        assert name in toolbar_actions and name in menu_actions
    assert w.actionRun.isCheckable()
    assert QKeySequence("Enter") in w.actionUseSuggestedLr.shortcuts()


def test_range_test_marks_steepest_and_recommended_and_enter_uses_recommended(make_window, qtbot):
    w = make_window(SMALL)
    w.panel.rt_iters.setValue(60)
    with qtbot.waitSignal(w.rangeTestFinished, timeout=15000) as blocker:
        w.actionRangeTest.trigger()
    result = blocker.args[0]
    # the same test computed directly with the engine, for the same seed and starting weights
    s = descent.build(SMALL)
    direct = lr_finder.range_test(s.model, s.train, s.initial_params, start_lr=1e-7, end_lr=10.0, num_iter=60,
                                  batch_size=SMALL.batch_size, optimizer="sgd", seed=SMALL.seed)
    steepest = direct.suggestions["steepest"]
    assert steepest is not None
    assert result.suggestions["steepest"] == steepest
    np.testing.assert_array_equal(result.losses, direct.losses)
    plot = _plot(w, "lossVsLrPlot")
    markers = [i for i in plot.getPlotItem().items
               if isinstance(i, pg.InfiniteLine) and i.objectName() == "steepestLrMarker"]
    assert len(markers) == 1 and markers[0].isVisible()
    assert markers[0].value() == pytest.approx(math.log10(steepest), abs=1e-12)
    assert "steepest" in markers[0].label.toPlainText()
    # recommended beside it (issue 10): its own line, colour, dash and shape, explained in the caption
    recommended = direct.suggestions["recommended"]
    assert recommended is not None and result.suggestions["recommended"] == recommended
    rec = [i for i in plot.getPlotItem().items
           if isinstance(i, pg.InfiniteLine) and i.objectName() == "recommendedLrMarker"]
    assert len(rec) == 1 and rec[0].isVisible()
    assert rec[0].value() == pytest.approx(math.log10(recommended), abs=1e-12)
    assert "recommended" in rec[0].label.toPlainText()
    assert rec[0].pen.color() != markers[0].pen.color() and rec[0].pen.style() != markers[0].pen.style()
    assert [m[0] for m in rec[0].markers] != [m[0] for m in markers[0].markers]
    caption = w.lr_view.caption.text()
    assert lr_finder.EXPLANATIONS["recommended"] in caption and lr_finder.EXPLANATIONS["steepest"] in caption
    # 2/λ_max of the whole network at the test's initial weights (issue 11): where full-batch descent diverges
    lam = hessian.sharpness(s.model, s.initial_params, s.train.X, s.train.y, tol=1e-10, max_iter=300).value
    limit = [i for i in plot.getPlotItem().items
             if isinstance(i, pg.InfiniteLine) and i.objectName() == "stabilityLimitMarker"]
    assert len(limit) == 1 and limit[0].isVisible()
    assert 10 ** limit[0].value() == pytest.approx(2 / lam, rel=1e-4)
    assert fmt_lr(2 / lam) in limit[0].label.toPlainText()

    plot.setFocus()
    w.actionUseSuggestedLr.trigger()
    text = w.findChild(QLineEdit, "learningRateInput").text()
    assert float(text) == pytest.approx(recommended, rel=5e-3)
    assert "recommended" in w.banner.text() and fmt_lr(recommended) in w.banner.text()
    assert w.config().lr == pytest.approx(recommended, rel=1e-12)
    qtbot.waitUntil(lambda: w.last_snapshot.lr == pytest.approx(recommended, rel=1e-12), timeout=3000)
    assert w.step_count == 0  # the range test leaves the run where it was


def test_step_run_pause_change_the_step_count(make_window, qtbot):
    w = make_window(SMALL)
    assert w.step_count == 0
    for k in range(1, 4):
        w.actionStep.trigger()
        _wait_steps(qtbot, w, k)
    assert w.step_count == 3
    w.actionRun.trigger()
    assert w.actionRun.isChecked() and w.actionRun.text() == "Pause"
    _wait_steps(qtbot, w, 50)
    w.actionRun.trigger()  # pause
    qtbot.waitUntil(lambda: not w.last_snapshot.running, timeout=3000)
    paused_at = w.step_count
    qtbot.wait(200)
    assert w.step_count == paused_at
    w.actionStep.trigger()
    _wait_steps(qtbot, w, paused_at + 1)
    qtbot.wait(100)
    assert w.step_count == paused_at + 1


def test_loss_vs_weight_shows_one_arrow_per_step(make_window, qtbot):
    w = make_window(PARABOLA)
    assert w.weight_view.arrow_count() == 0
    for k in range(1, 6):
        w.actionStep.trigger()
        qtbot.waitUntil(lambda k=k: w.step_count == k and w.weight_view.arrow_count() == k, timeout=3000)
    view = w.last_snapshot.weight
    assert len(view.trail_w) == 6  # w_0 … w_5
    # one weight, full batch: each trail point is the exact loss there, on the parabola
    s = descent.build(PARABOLA)
    p = s.initial_params.copy()
    p[0] = view.trail_w[0]
    assert view.trail_loss[0] == pytest.approx(s.model.loss(p, s.train.X, s.train.y), rel=1e-3)
    assert "2/λ" in w.weight_view.caption.text()


def test_reset_goes_back_to_the_same_weights_and_reseed_changes_them(make_window, qtbot):
    w = make_window(PARABOLA)
    w0 = w.last_snapshot.weight.current_w
    w.actionStep.trigger()
    _wait_steps(qtbot, w, 1)
    with qtbot.waitSignal(w.snapshotApplied, timeout=3000, check_params_cb=lambda s: s.step == 0):
        w.actionReset.trigger()
    assert w.last_snapshot.weight.current_w == w0
    with qtbot.waitSignal(w.configApplied, timeout=3000):
        w.actionReseed.trigger()
    qtbot.waitUntil(lambda: w.config().seed == 1, timeout=3000)
    qtbot.waitUntil(lambda: w.last_snapshot.weight.current_w != w0, timeout=3000)


def test_closing_mid_run_is_clean_and_fast(make_window, qtbot):
    w = make_window(SMALL)
    w.actionRun.trigger()
    _wait_steps(qtbot, w, 20)
    t0 = time.perf_counter()
    w.close()
    elapsed = time.perf_counter() - t0
    assert elapsed < 1.0
    assert not w.controller.is_running()


def test_closing_during_a_range_test_is_fast(make_window, qtbot):
    w = make_window(SMALL)
    w.panel.rt_animate.setChecked(True)  # a 3 s test: closing must not wait for it
    w.actionRangeTest.trigger()
    qtbot.waitUntil(lambda: w.lr_view._lrs.size > 2, timeout=5000)
    t0 = time.perf_counter()
    w.close()
    assert time.perf_counter() - t0 < 1.0
    assert not w.controller.is_running()


def test_cancel_stops_a_range_test(make_window, qtbot):
    w = make_window(SMALL)
    w.panel.rt_animate.setChecked(True)
    w.actionRangeTest.trigger()
    assert w.actionCancel.isEnabled()
    qtbot.waitUntil(lambda: w.lr_view._lrs.size > 2, timeout=5000)
    with qtbot.waitSignal(w.rangeTestFinished, timeout=1000) as blocker:
        w.actionCancel.trigger()
    assert "cancelled" in blocker.args[0].stop_reason
    assert w.actionRangeTest.isEnabled()


def test_bad_csv_shows_an_error_and_keeps_the_dataset(make_window, qtbot, tmp_path):
    w = make_window(SMALL)
    bad = tmp_path / "bad.csv"
    bad.write_text("x1,x2,label\n1,2,0\n3,oops,1\n4,5,0\n")
    with qtbot.waitSignal(w.messageShown, timeout=5000) as blocker:
        w.import_csv(bad)
    kind, text = blocker.args
    assert kind == "error" and "bad.csv" in text
    assert w.banner.isVisible() and w.banner.kind == "error"
    assert w.config().dataset == "moons" and w.config().data_path is None
    assert w.panel.dataset.currentData() == "moons"
    w.actionStep.trigger()  # still usable
    _wait_steps(qtbot, w, 1)


def test_good_csv_by_drag_and_drop(make_window, qtbot, tmp_path):
    w = make_window(SMALL)
    good = tmp_path / "points.csv"
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    rows = "\n".join(f"{a:.4f},{b:.4f},{c:.4f},{int(a + b > 0)}" for a, b, c in X)
    good.write_text("a,b,c,label\n" + rows + "\n")

    class Drop:  # the parts of a QDropEvent the window reads
        def __init__(self):
            self._m = QMimeData()
            self._m.setUrls([QUrl.fromLocalFile(str(good))])

        def mimeData(self):
            return self._m

        def acceptProposedAction(self):
            pass

    with qtbot.waitSignal(w.configApplied, timeout=5000):
        w.dropEvent(Drop())
    assert w.config().data_path == str(good)
    assert "PCA" in w.data_view.caption.text()  # three features: the data view says how it projects


def test_divergent_lr_ends_the_run_with_its_message(make_window, qtbot):
    w = make_window(PARABOLA.replace(lr=50.0))
    w.actionRun.trigger()
    qtbot.waitUntil(lambda: w.last_snapshot.stop_reason is not None, timeout=5000)
    reason = w.last_snapshot.stop_reason
    assert reason.startswith("diverged at step") and "lr = 50" in reason
    assert not w.actionRun.isChecked()
    assert w.banner.kind == "error" and "diverged at step" in w.banner.text()
    assert "diverged at step" in w.status["stop"].text()
    # nothing non-finite reached the plots
    for name in ("lossVsWeightPlot", "lossVsStepPlot", "lossVsLrPlot", "dataPlot"):
        for item in _plot(w, name).getPlotItem().listDataItems():
            if isinstance(item, pg.ScatterPlotItem):
                x, y = item.getData()
            else:
                x, y = item.getOriginalDataset()
            if x is not None and len(x):
                assert np.isfinite(x).all() and np.isfinite(y).all(), name
    w.actionRun.trigger()  # a stopped run does not restart; it says how to go on
    assert not w.actionRun.isChecked()


@pytest.mark.parametrize("typed", ["1e6", "nan", "abc", "-0.1", ""])
def test_bad_learning_rate_is_refused_and_the_previous_kept(make_window, qtbot, typed):
    w = make_window(SMALL)
    field = w.findChild(QLineEdit, "learningRateInput")
    field.setText(typed)
    with qtbot.waitSignal(w.messageShown, timeout=2000) as blocker:
        field.editingFinished.emit()
    assert blocker.args[0] == "error"
    assert float(field.text()) == pytest.approx(0.1)
    assert w.panel.lr.lr() == pytest.approx(0.1)


def test_typed_learning_rate_applies_live(make_window, qtbot):
    w = make_window(SMALL)
    w.actionRun.trigger()
    _wait_steps(qtbot, w, 10)
    field = w.findChild(QLineEdit, "learningRateInput")
    field.setText("3e-3")
    field.editingFinished.emit()
    qtbot.waitUntil(lambda: w.last_snapshot.lr == pytest.approx(3e-3), timeout=3000)
    assert w.last_snapshot.step > 10  # no reset: the run went on with the new LR
    assert field.text() == "0.003"  # typed 3e-3, shown in the one style (engine/fmt.py)
    w.actionRun.trigger()


@pytest.mark.parametrize("hidden, words", [("", "empty"), ("16,x", "not a whole number"),
                                           ("4096,4096", "too large")])
def test_bad_hidden_layers_keep_the_previous_model(make_window, qtbot, hidden, words):
    w = make_window(SMALL)
    w.panel.hidden.setText(hidden)
    w.panel.hidden.editingFinished.emit()
    with qtbot.waitSignal(w.messageShown, timeout=5000) as blocker:
        w.panel.flush()
    assert blocker.args[0] == "error" and words in blocker.args[1]
    assert w.config().hidden == (8,)
    qtbot.waitUntil(lambda: w.panel.hidden.text() == "8", timeout=2000)


def test_changing_the_model_resets_the_run_and_says_so(make_window, qtbot):
    w = make_window(SMALL)
    w.actionStep.trigger()
    _wait_steps(qtbot, w, 1)
    w.panel.hidden.setText("8,8")
    w.panel.hidden.editingFinished.emit()
    with qtbot.waitSignal(w.configApplied, timeout=5000):
        w.panel.flush()
    qtbot.waitUntil(lambda: w.step_count == 0, timeout=3000)
    assert w.config().hidden == (8, 8)
    assert "reset" in w.banner.text()
    names = [w.panel.watch.itemText(i) for i in range(w.panel.watch.count())]
    assert "W3[0,0]" in names and names[-1] == "descent direction"


def test_descent_direction_can_be_watched(make_window, qtbot):
    w = make_window(SMALL)
    w.panel.watch.setCurrentIndex(w.panel.watch.count() - 1)
    w.panel.watch.activated.emit(w.panel.watch.count() - 1)
    for k in (1, 2, 3):
        w.actionStep.trigger()
        _wait_steps(qtbot, w, k)
    qtbot.waitUntil(lambda: w.weight_view.arrow_count() == 3, timeout=3000)
    assert "descent direction" in w.last_snapshot.weight.axis_label


def test_hover_shows_the_exact_numbers(make_window, qtbot):
    w = make_window(PARABOLA)
    w.actionStep.trigger()
    _wait_steps(qtbot, w, 1)
    qtbot.waitUntil(lambda: w.weight_view.arrow_count() == 1, timeout=2000)
    view = w.last_snapshot.weight
    plot = _plot(w, "lossVsWeightPlot")
    plot.resize(600, 400)
    qtbot.wait(50)
    vb = plot.getPlotItem().vb
    scene_pos = vb.mapViewToScene(QPointF(view.trail_w[1], view.trail_loss[1]))
    w.weight_view.hover._moved((scene_pos,))
    assert w.weight_view.hover.text.isVisible()
    assert "step 1" in w.weight_view.hover.last_text
    assert f"{view.trail_w[1]:.6g}" in w.weight_view.hover.last_text


def test_clicking_the_loss_vs_lr_view_sets_the_lr(make_window, qtbot):
    w = make_window(SMALL)
    w.lr_view.lrPicked.emit(0.0123)
    qtbot.waitUntil(lambda: w.last_snapshot.lr == pytest.approx(0.0123), timeout=3000)
    assert w.panel.lr.input.text() == "0.0123"


def test_keyboard_shortcuts_drive_the_run(make_window, qtbot):
    w = make_window(SMALL)
    w.activateWindow()
    try:
        qtbot.waitUntil(w.isActiveWindow, timeout=2000)
    except Exception:  # a bare X server without a window manager never activates windows
        pytest.skip("the window cannot be activated on this display, so shortcuts cannot fire")
    _plot(w, "lossVsStepPlot").setFocus()
    qtbot.keyClick(w, Qt.Key.Key_Right)
    _wait_steps(qtbot, w, 1)
    qtbot.keyClick(w, Qt.Key.Key_Space)
    _wait_steps(qtbot, w, 20)
    qtbot.keyClick(w, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not w.last_snapshot.running, timeout=3000)
    qtbot.keyClick(w, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: w.step_count == 0, timeout=3000)


def test_hammering_the_actions_leaves_no_stray_thread(make_window, qtbot):
    w = make_window(SMALL)
    w.panel.rt_iters.setValue(20)
    rng = np.random.default_rng(0)
    actions = [w.actionRun, w.actionRun, w.actionReset, w.actionRangeTest, w.actionStep, w.actionCancel,
               w.actionReseed]
    for i in range(100):
        actions[int(rng.integers(len(actions)))].trigger()
        if i % 10 == 0:
            qtbot.wait(5)
    w.pause()
    qtbot.waitUntil(lambda: not w.range_test_busy, timeout=10000)
    w.actionStep.trigger()  # still responsive
    qtbot.wait(100)
    t0 = time.perf_counter()
    w.close()
    assert time.perf_counter() - t0 < 1.0
    assert not w.controller.is_running()


def test_run_app_opens_and_closes(qtbot, monkeypatch):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from gd_studio.ui import app as app_module

    def close_soon():
        for top in QApplication.topLevelWidgets():
            if top.objectName() == "gdStudioMainWindow":
                top.close()

    QTimer.singleShot(800, close_soon)
    assert app_module.run_app([]) == 0
    assert QApplication.applicationName() == "GD Studio"


def test_weight_slice_window_shows_the_bowl_around_a_network_weight(make_window, qtbot):
    """Around a network weight the window reaches the quadratic model's bottom, w − g/λ: the curve bends inside
    it (a minimum away from both ends), not a straight line."""
    w = make_window(SMALL)
    qtbot.waitUntil(lambda: w.weight_view.view is not None, timeout=5000)
    v = w.weight_view.view
    cw, cl = np.asarray(v.curve_w), np.asarray(v.curve_loss)
    assert v.curvature is not None and v.curvature > 0
    i = int(np.argmin(cl))
    assert 0 < i < len(cl) - 1, "the bottom of the bowl is inside the window"
    assert cl[0] - cl[i] > 1e-3 and cl[-1] - cl[i] > 1e-3
    # capped: at step 0 the window is the reach to the bottom (at most 3·|w| + 2) plus 60% padding each side
    assert cw[-1] - cw[0] <= 2.2 * (3 * abs(v.current_w) + 2) + 1e-9
    # a few steps later the window is the same (the steps stay inside it: no jumping frame to frame)
    first = (cw[0], cw[-1])
    w.controller.stepRequested.emit(3)
    _wait_steps(qtbot, w, 3)
    assert (w.weight_view.view.curve_w[0], w.weight_view.view.curve_w[-1]) == first


def test_range_test_without_a_clear_descent_says_what_to_try(make_window, qtbot):
    cfg = RunConfig(dataset="circles", dataset_params={"n_samples": 200, "noise": 0.1, "seed": 0}, model="mlp",
                    hidden=(2,), activation="tanh", loss="cross_entropy", optimizer="sgd", lr=0.1, batch_size=32,
                    seed=0, watch="W1[0,0]")
    s = descent.build(cfg)
    direct = lr_finder.range_test(s.model, s.train, s.initial_params, start_lr=1e-7, end_lr=10.0, num_iter=60,
                                  batch_size=cfg.batch_size, optimizer="sgd", seed=cfg.seed)
    assert direct.suggestions["steepest"] is None  # the engine finds no clear fall here
    w = make_window(cfg)
    w.panel.rt_iters.setValue(60)
    with qtbot.waitSignal(w.rangeTestFinished, timeout=15000) as blocker:
        w.actionRangeTest.trigger()
    assert blocker.args[0].suggestions["steepest"] is None
    caption = w.lr_view.caption.text()
    assert "No clear descent" in caption
    for hint in ("more steps", "LR range", "larger batch"):
        assert hint in caption
    assert "None" not in caption and "nan" not in caption.lower()
    assert not w.lr_view.marker.isVisible()
    kind, text = w.messages[-1]
    assert kind == "warning" and "No clear descent" in text and "None" not in text
    rec = direct.suggestions["recommended"]
    w.lr_view.plot.setFocus()
    if rec is None:
        lr = w.panel.lr.lr()
        w.actionUseSuggestedLr.trigger()  # Enter: nothing to use, says so, keeps the LR
        assert w.panel.lr.lr() == lr and "No clear descent" in w.messages[-1][1]
    else:
        # the loss did blow up: recommended (a twentieth of that LR) still stands, and Enter uses it (issue 10)
        assert "Recommended lr" in text and w.lr_view.recommended.isVisible()
        w.actionUseSuggestedLr.trigger()
        assert w.config().lr == pytest.approx(rec) and "recommended" in w.messages[-1][1]


def test_after_enter_the_next_step_runs_at_the_recommended_lr(make_window, qtbot):
    w = make_window(SMALL)
    w.panel.rt_iters.setValue(60)
    with qtbot.waitSignal(w.rangeTestFinished, timeout=15000):
        w.actionRangeTest.trigger()
    rec = w.state.suggestions()["recommended"]
    w.setFocus()
    w.actionUseSuggestedLr.trigger()
    w.actionStep.trigger()
    qtbot.waitUntil(lambda: w.step_count == 1, timeout=5000)
    assert w.last_snapshot.history.lr[-1] == pytest.approx(rec, rel=1e-12)
