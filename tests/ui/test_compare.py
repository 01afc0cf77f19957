"""Compare and validate: ghost runs, "validate suggestion" trainings, cyclical LRs from two draggable markers."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
import pytest

from gd_studio.engine import descent, lr_finder, schedules
from gd_studio.engine.config import RunConfig
from gd_studio.live.validation import candidate_runs, run_validation, validation_lrs
from gd_studio.ui.adapters import fmt_lr
from gd_studio.ui.features.compare import cycle_steps, legend_labels

SMALL = RunConfig(dataset="moons", dataset_params={"n_samples": 160, "noise": 0.2, "seed": 1}, model="mlp",
                  hidden=(8,), activation="tanh", loss="cross_entropy", optimizer="sgd", lr=0.1, batch_size=32,
                  seed=3, watch="W2[0,0]")


def _wait_step(qtbot, w, n, timeout=5000):
    qtbot.waitUntil(lambda: w.last_snapshot is not None and w.last_snapshot.step == n
                    and not w.last_snapshot.running, timeout=timeout)


def _range_test(w, qtbot, iters=60):
    w.panel.rt_iters.setValue(iters)
    with qtbot.waitSignal(w.rangeTestFinished, timeout=15000) as blocker:
        w.actionRangeTest.trigger()
    return blocker.args[0]


def _line(plot, name) -> pg.InfiniteLine:
    found = [i for i in plot.getPlotItem().items if isinstance(i, pg.InfiniteLine) and i.objectName() == name]
    assert len(found) == 1, name
    return found[0]


# ------------------------------------------------------------------------------------------- ghosts
def test_three_runs_at_three_lrs_give_three_labelled_ghosts(make_window, qtbot):
    w = make_window(SMALL)
    for i, lr in enumerate((0.03, 0.1, 0.3)):
        w.reset()
        _wait_step(qtbot, w, 0)
        w.set_lr(lr)
        qtbot.waitUntil(lambda lr=lr: w.last_snapshot.lr == pytest.approx(lr), timeout=3000)
        w.controller.stepRequested.emit(15 + 5 * i)
        _wait_step(qtbot, w, 15 + 5 * i)
        w.actionKeepGhost.trigger()
    study = w.study
    assert study.ghosts.labels() == ["lr 0.03", "lr 0.1", "lr 0.3"]
    step_labels = legend_labels(w.step_view.plot)
    weight_labels = legend_labels(w.weight_view.plot)
    for lr in ("0.03", "0.1", "0.3"):
        assert f"ghost: lr {lr}" in step_labels and f"ghost: lr {lr}" in weight_labels
    # each ghost its own series: colour, dash pattern and symbol differ
    pens = [g.step_item.opts["pen"] for g in study.ghosts.ghosts]
    assert len({(p.color().name(), p.style().value) for p in pens}) == 3
    assert len({g.weight_item.opts["symbol"] for g in study.ghosts.ghosts}) == 3
    lengths = [len(g.step_item.getData()[0]) for g in study.ghosts.ghosts]
    assert lengths == [15, 20, 25]  # each froze its own run
    w.actionClearGhosts.trigger()
    assert study.ghosts.labels() == []
    assert not any(t.startswith("ghost") for t in legend_labels(w.step_view.plot))


# --------------------------------------------------------------------------------------- validation
def test_validation_lrs_are_thirds_and_threes_of_steepest_and_smiths_bounds():
    out = validation_lrs({"steepest": 0.3, "base_lr": 0.01, "max_lr": 1.0, "valley": 0.2})
    assert [label for label, _ in out] == ["⅓× steepest", "steepest", "3× steepest", "Smith base_lr", "Smith max_lr"]
    assert [lr for _, lr in out] == pytest.approx([0.1, 0.3, 0.9, 0.01, 1.0])


def test_validation_trains_from_the_same_start_as_a_plain_run():
    s = descent.build(SMALL)
    runs, cancelled = run_validation(s, SMALL, [("a", 0.1)], steps=30)
    assert not cancelled
    ref = descent.build(SMALL).runner.run(30)  # the same weights, seed and batches at lr 0.1
    np.testing.assert_array_equal(runs[0].losses, [r.loss for r in ref])


def test_validate_suggestion_trains_the_candidates_picks_the_best_and_applies_it(make_window, qtbot):
    """V after L: the engine's candidates around recommended (and steepest), one labelled curve each; the
    best on held-out loss is picked, applied to the run, and compared with the curve-only pick."""
    w = make_window(SMALL)
    assert not w.actionValidateSuggestion.isEnabled()
    result = _range_test(w, qtbot)
    assert w.actionValidateSuggestion.isEnabled()
    sugg = result.suggestions
    with qtbot.waitSignal(w.study.validationFinished, timeout=20000) as blocker:
        w.actionValidateSuggestion.trigger()
    outcome = blocker.args[0]
    assert not outcome.cancelled
    expected = sorted(set(lr_finder.candidate_lrs(sugg)) | {sugg["steepest"]})
    assert [r.lr for r in outcome.runs] == pytest.approx(expected)
    labels = [r.label for r in outcome.runs]
    assert "recommended" in labels and "steepest" in labels and "4× recommended" in labels
    plot = w.findChild(pg.PlotWidget, "validationPlot")
    assert plot is not None and plot.isVisible()
    assert len(legend_labels(plot)) == len(expected)
    # the pick is the engine's validate_candidates on the same candidates, from the same start
    s = descent.build(SMALL)
    direct = lr_finder.validate_candidates(s.model, s.train, s.initial_params, [r.lr for r in outcome.runs],
                                           steps=outcome.steps, seeds=(SMALL.seed,), val_ds=s.val,
                                           batch_size=SMALL.batch_size, optimizer="sgd",
                                           curve_pick=sugg["recommended"])
    pick = outcome.pick
    assert pick.best_lr == direct.best_lr and pick.gain == direct.gain
    assert pick.best_lr == pick.lrs[int(np.argmin(pick.scores))]
    assert pick.gain is not None and pick.gain >= 1.0
    verdicts = w.study.validation.verdicts.text().splitlines()
    assert sum("← lowest" in v for v in verdicts) == 1
    lowest = next(v for v in verdicts if "← lowest" in v)
    assert fmt_lr(pick.best_lr) in lowest
    assert "Validated pick" in verdicts[-1] and "curve-only pick" in verdicts[-1]
    # applied: the box, the config the next step uses, and the banner say so
    assert w.config().lr == pytest.approx(pick.best_lr)
    assert "Validated pick" in w.banner.text() and fmt_lr(pick.best_lr) in w.banner.text()
    assert w.actionRun.isEnabled() and not w.study.validating
    assert w.step_count == 0  # the run itself is untouched apart from its LR
    w.actionStep.trigger()
    qtbot.waitUntil(lambda: w.step_count == 1, timeout=5000)
    assert w.last_snapshot.history.lr[-1] == pytest.approx(pick.best_lr)
    # the LR view says what Enter applies now: the validated pick, not the curve's recommendation
    caption = w.lr_view.caption.text()
    assert "Enter uses it" in caption and f"Validated pick lr = {fmt_lr(pick.best_lr)}" in caption
    assert caption.count("Enter uses it") == 1 and caption.index("Validated pick") < caption.index("Enter uses it")
    # Enter now applies the validated pick, not the curve-only one, even after the LR was changed by hand
    w.set_lr(0.0123)
    w.step_view.setFocus()
    w.actionUseSuggestedLr.trigger()
    assert w.config().lr == pytest.approx(pick.best_lr)
    assert "validated pick" in w.banner.text()
    # until a new range test: then Enter takes that curve's recommendation again
    again = _range_test(w, qtbot)
    w.step_view.setFocus()
    w.actionUseSuggestedLr.trigger()
    assert w.config().lr == pytest.approx(again.suggestions["recommended"])
    assert "recommended suggestion" in w.banner.text()
    assert "Validated pick" not in w.lr_view.caption.text() and "Enter uses it" in w.lr_view.caption.text()


def test_candidate_runs_surround_recommended_and_include_steepest():
    out = candidate_runs({"recommended": 0.1, "steepest": 0.03, "base_lr": 0.01})
    assert [lr for _, lr in out] == pytest.approx([0.025, 0.03, 0.05, 0.1, 0.2, 0.4])
    assert [label for label, _ in out] == ["¼× recommended", "steepest", "½× recommended", "recommended",
                                           "2× recommended", "4× recommended"]
    assert candidate_runs({"steepest": 0.2})[2] == ("steepest", 0.2)  # old results: around steepest
    assert candidate_runs({}) == []


def test_validation_is_cancellable(make_window, qtbot):
    w = make_window(SMALL)
    _range_test(w, qtbot)
    w.study.validate(steps=2000, pace=60.0)  # slowed down so there is time to cancel
    qtbot.waitUntil(lambda: len(w.study.validation.runs) > 0, timeout=5000)
    assert w.actionCancel.isEnabled() and not w.actionRun.isEnabled()
    with qtbot.waitSignal(w.study.validationFinished, timeout=3000) as blocker:
        w.actionCancel.trigger()
    assert blocker.args[0].cancelled
    assert len(blocker.args[0].runs) < 5
    assert blocker.args[0].pick is None  # nothing picked, nothing applied
    assert w.config().lr == pytest.approx(SMALL.lr) and "LR is unchanged" in w.banner.text()
    assert w.actionRun.isEnabled()


# ----------------------------------------------------------------------------------------- cyclical
def test_cyclical_markers_sit_at_smiths_bounds_and_train_cyclical_uses_them(make_window, qtbot):
    w = make_window(SMALL)
    plot = w.lr_view.plot
    base_line, max_line = _line(plot, "baseLrMarker"), _line(plot, "maxLrMarker")
    assert not base_line.isVisible() and not w.actionTrainCyclical.isEnabled()
    result = _range_test(w, qtbot)
    assert w.actionTrainCyclical.isEnabled()
    # drawn exactly when "Smith's bounds" is ticked (issue 12)
    assert not base_line.isVisible() and not max_line.isVisible()
    w.lr_view.show_bounds.setChecked(True)
    assert base_line.isVisible() and max_line.isVisible() and base_line.movable and max_line.movable
    assert base_line.value() == pytest.approx(math.log10(result.suggestions["base_lr"]), abs=1e-12)
    assert max_line.value() == pytest.approx(math.log10(result.suggestions["max_lr"]), abs=1e-12)
    # drag them (the drag ends in setPos, as here): the labels and the values follow
    base_line.setPos(math.log10(0.02))
    max_line.setPos(math.log10(0.5))
    assert w.study.markers.values() == pytest.approx((0.02, 0.5))
    assert "0.02" in base_line.label.toPlainText() and "0.5" in max_line.label.toPlainText()
    base_line.setPos(math.log10(0.8))  # past max: max moves along, so base ≤ max always
    assert max_line.value() == pytest.approx(math.log10(0.8))
    base_line.setPos(math.log10(0.02))
    max_line.setPos(math.log10(0.5))

    w.actionTrainCyclical.trigger()
    half = cycle_steps(w.config_info.n_train, SMALL.batch_size)
    qtbot.waitUntil(lambda: w.config().schedule == "triangular" and w.step_count >= 2 * half + 5, timeout=10000)
    w.pause()
    qtbot.waitUntil(lambda: not w.last_snapshot.running, timeout=3000)
    cfg = w.config()
    assert cfg.lr == 0.02 and cfg.schedule_params["max_lr"] == 0.5 and cfg.schedule_params["step_size"] == half
    h = w.last_snapshot.history
    sched = schedules.make("triangular", 0.02, max_lr=0.5, step_size=half)
    expected = [sched(int(s) - 1) for s in h.steps]  # step s used the LR of schedule step s − 1
    np.testing.assert_array_equal(np.asarray(h.lr), expected)
    assert max(h.lr) == pytest.approx(0.5) and min(h.lr) == pytest.approx(0.02)
    # the LR line is drawn over the whole run with its peaks (it is min/max-downsampled per pixel column)
    xs, ys = w.step_view.lr_curve.getData()
    assert xs is not None and xs[0] <= h.steps[0] + 2 and xs[-1] >= h.steps[-1] - 2
    assert max(ys) == pytest.approx(0.5) and min(ys) == pytest.approx(0.02)


def test_train_cyclical_one_cycle_policy(make_window, qtbot):
    w = make_window(SMALL)
    _range_test(w, qtbot)
    w.findChild(type(w.actionTrainCyclical), "actionCyclicalOneCycle").trigger()
    base, mx = w.study.markers.values()
    w.actionTrainCyclical.trigger()
    qtbot.waitUntil(lambda: w.config().schedule == "one_cycle" and w.step_count >= 20, timeout=10000)
    w.pause()
    qtbot.waitUntil(lambda: not w.last_snapshot.running, timeout=3000)
    cfg = w.config()
    sched = schedules.make("one_cycle", cfg.lr, **cfg.schedule_params)
    h = w.last_snapshot.history
    np.testing.assert_array_equal(np.asarray(h.lr), [sched(int(s) - 1) for s in h.steps])
    assert cfg.lr == pytest.approx(float(f"{base:.3g}")) and cfg.schedule_params["max_lr"] == pytest.approx(
        float(f"{mx:.3g}"))


def test_a_hidden_marker_label_gets_its_new_text(qtbot):
    """A label the LR view hides to declutter (or one not shown yet) kept its old text through a drag: pyqtgraph's
    label ignores a new format while hidden, so a marker at 0.5 read "max_lr 0.162" when shown again."""
    from gd_studio.ui.features.compare import CyclicalMarkers
    from gd_studio.ui.plots.common import new_plot

    plot = new_plot("testLrPlot")
    qtbot.addWidget(plot)
    markers = CyclicalMarkers(plot)
    markers.set_bounds(0.01, 0.162)
    markers.max.label.hide()
    markers.max.setPos(math.log10(0.5))
    markers.max.label.show()
    assert "0.5" in markers.max.label.toPlainText()
