"""Issue 8's bugs: what the window shows is what it runs (the live LR, the status bar, the range test, the threads)."""
from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer

from gd_studio.engine import descent, scenarios
from gd_studio.engine.config import RunConfig

ROOT = Path(__file__).resolve().parents[2]
SCENES = sorted((ROOT / "resources" / "scenarios").glob("*.gdscenario"))
SMALL = RunConfig(dataset="moons", dataset_params={"n_samples": 120, "noise": 0.2, "seed": 1}, model="mlp",
                  hidden=(6,), activation="tanh", loss="cross_entropy", optimizer="sgd", lr=0.1, batch_size=16,
                  seed=2, watch="W2[0,0]")


def _scene(name: str) -> Path:
    return next(p for p in SCENES if p.name.startswith(name))


def _open(qtbot, w, path):
    with qtbot.waitSignal(w.scenarios.scenarioApplied, timeout=15000) as got:
        assert w.scenarios.open(path)
    scene = got.args[0]
    qtbot.waitUntil(lambda: w.last_snapshot is not None and w.last_snapshot.step == scene.pre_run
                    and w.config() == scene.config, timeout=15000)
    return scene


def _press(qtbot, w, key, n=1, modifier=Qt.KeyboardModifier.NoModifier):
    """Key presses as a person makes them: each step lands (its snapshot is drawn) before the next press."""
    for _ in range(n):
        before = w.step_count
        qtbot.keyClick(w, key, modifier)
        if key == Qt.Key.Key_Right:
            qtbot.waitUntil(lambda: w.step_count == before + 1 and not w.last_snapshot.running, timeout=5000)


def _wait_built(qtbot, w, reason_step=0):
    qtbot.waitUntil(lambda: w.last_snapshot is not None and w.last_snapshot.step == reason_step
                    and not w.last_snapshot.running, timeout=10000)


def _box_lr(w) -> float:
    return float(w.panel.lr.input.text())


# ------------------------------------------------------------------------------------------------ bug 1
def test_reset_after_lowering_the_lr_runs_with_the_lr_in_the_box(make_window, qtbot):
    """Scenario 4: → → → −, then R → → →: the run must use the box's 0.38, not the scenario's 1.2."""
    w = make_window()
    _open(qtbot, w, _scene("04"))
    w.activateWindow()
    _press(qtbot, w, Qt.Key.Key_Right, 3)
    w.set_lr(0.38)  # what − does from 1.2 (÷√10, rounded); the key itself is the presentation module's
    qtbot.waitUntil(lambda: w.last_snapshot.lr == pytest.approx(0.38), timeout=3000)
    with qtbot.waitSignal(w.configApplied, timeout=5000):
        _press(qtbot, w, Qt.Key.Key_R)
    _wait_built(qtbot, w)
    _press(qtbot, w, Qt.Key.Key_Right, 3)
    snap = w.last_snapshot
    assert _box_lr(w) == pytest.approx(0.38)
    assert snap.lr == pytest.approx(0.38) and w.config().lr == pytest.approx(0.38)
    assert snap.stop_reason is None
    # the steps really used 0.38: the history's LR column says so
    assert np.allclose(snap.history.lr[-3:], 0.38)


def test_range_test_enter_then_reset_keeps_the_suggested_lr(make_window, qtbot):
    """L, Enter, R: the box showed the suggestion while the run went back to 0.1."""
    w = make_window(SMALL)
    with qtbot.waitSignal(w.rangeTestFinished, timeout=20000):
        w.actionRangeTest.trigger()
    lr = w.suggested_lr()
    assert lr is not None
    w.setFocus()
    w.use_suggested_lr()
    qtbot.waitUntil(lambda: w.last_snapshot.lr == pytest.approx(lr), timeout=3000)
    with qtbot.waitSignal(w.configApplied, timeout=5000):
        w.actionReset.trigger()
    w.actionStep.trigger()
    qtbot.waitUntil(lambda: w.step_count == 1, timeout=5000)
    assert w.last_snapshot.lr == pytest.approx(lr)
    assert w.config().lr == pytest.approx(lr) and _box_lr(w) == pytest.approx(float(f"{lr:.3g}"), rel=1e-2)


def test_reseed_keeps_the_live_lr(make_window, qtbot):
    """Shift+R made the box jump back to the LR the run was built with."""
    w = make_window(SMALL)
    w.set_lr(0.03)
    qtbot.waitUntil(lambda: w.last_snapshot.lr == pytest.approx(0.03), timeout=3000)
    with qtbot.waitSignal(w.configApplied, timeout=5000) as got:
        w.actionReseed.trigger()
    assert got.args[0].config.seed == SMALL.seed + 1
    w.actionStep.trigger()
    qtbot.waitUntil(lambda: w.step_count == 1, timeout=5000)
    assert _box_lr(w) == pytest.approx(0.03) and w.last_snapshot.lr == pytest.approx(0.03)
    assert w.config().lr == pytest.approx(0.03)


def test_a_failed_csv_import_keeps_the_live_lr_in_the_box(make_window, qtbot, tmp_path):
    w = make_window(SMALL)
    w.set_lr(0.02)
    qtbot.waitUntil(lambda: w.last_snapshot.lr == pytest.approx(0.02), timeout=3000)
    bad = tmp_path / "bad.csv"
    bad.write_text("x1,x2,label\n1,2,0\n3,oops,1\n")
    with qtbot.waitSignal(w.messageShown, timeout=5000):
        w.import_csv(bad)
    qtbot.wait(100)
    assert _box_lr(w) == pytest.approx(0.02)
    assert w.config().lr == pytest.approx(0.02) and w.config().data_path is None
    w.actionStep.trigger()
    qtbot.waitUntil(lambda: w.step_count == 1, timeout=5000)
    assert w.last_snapshot.lr == pytest.approx(0.02)


# ------------------------------------------------------------------------------------------------ bug 2
def test_config_is_the_config_the_next_step_uses(make_window, qtbot):
    w = make_window(SMALL)
    w.set_lr(0.03)
    assert w.config().lr == 0.03  # at once, not after a round trip through the worker
    assert w.scenarios.scenario().config.lr == 0.03
    assert "lr=0.03" in w.exports.pytorch_code().replace(" ", "")
    w.actionStep.trigger()
    qtbot.waitUntil(lambda: w.step_count == 1, timeout=5000)
    assert w.last_snapshot.history.lr[-1] == pytest.approx(0.03)


# ------------------------------------------------------------------------------------------------ bug 4
def test_repeated_range_test_draws_the_engines_smoothed_median(make_window, qtbot):
    w = make_window(SMALL)
    w.panel.rt_repeats.setValue(3)
    with qtbot.waitSignal(w.rangeTestFinished, timeout=30000) as got:
        w.actionRangeTest.trigger()
    rep = got.args[0]
    assert len(rep.results) == 3
    x, y = w.lr_view.smoothed.getData()
    lrs, sm = np.asarray(rep.lrs), np.asarray(rep.smoothed)
    keep = np.isfinite(lrs) & (lrs > 0) & np.isfinite(sm)
    assert np.allclose(x, np.log10(lrs[keep])) and np.allclose(y, sm[keep])  # the view plots log10(lr)
    steep = rep.suggestions["steepest"]
    assert w.lr_view.marker.value() == pytest.approx(math.log10(steep))


# ------------------------------------------------------------------------------------------------ bug 5
def test_speed_readout_matches_a_slow_speed(make_window, qtbot):
    w = make_window(SMALL)
    w.speed.setCurrentIndex(w.speed.findData(2.0))
    w.actionRun.trigger()
    qtbot.waitUntil(lambda: w.step_count >= 6, timeout=8000)
    text = w.status["speed"].text()
    rate = float(re.match(r"([\d.,]+) steps/s", text).group(1).replace(",", ""))
    assert 1.0 <= rate <= 3.0, text
    w.actionRun.trigger()


# ------------------------------------------------------------------------------------------------ bug 6
def test_status_bar_loss_is_the_loss_after_the_step(make_window, qtbot):
    """Scenario 1, step 3: the status bar, the ball and the narration show the same loss (after the step)."""
    w = make_window()
    scene = _open(qtbot, w, _scene("01"))
    w.activateWindow()
    _press(qtbot, w, Qt.Key.Key_Right, 3)
    s = descent.build(scene.config)
    s.runner.run(3)
    after = float(s.model.loss(s.runner.params, s.train.X, s.train.y))
    shown = float(w.status["loss"].text().split()[-1])
    assert shown == pytest.approx(after, rel=1e-3)
    assert w.last_snapshot.weight.current_loss == pytest.approx(after, rel=1e-2)


# ------------------------------------------------------------------------------------------------ bug 7
@pytest.mark.parametrize("path", SCENES, ids=lambda p: p.stem[:2])
def test_unedited_panel_reads_back_the_same_config(make_window, qtbot, path):
    w = make_window()
    config = scenarios.load(path).config
    w.panel.set_config(config)
    assert w.panel.build_config() == config


def test_stray_edit_signals_do_not_reset_the_run(make_window, qtbot):
    """→ → → → then focus passing through the fields (as closing the cheat sheet did) keeps the run."""
    w = make_window()
    w.activateWindow()
    _press(qtbot, w, Qt.Key.Key_Right, 4)
    reset = []
    w.configApplied.connect(reset.append)
    for edit, _kind in w.panel.optimizer_form.fields.values():
        edit.editingFinished.emit()
    w.panel.hidden.editingFinished.emit()
    w.panel.flush()
    qtbot.wait(300)
    assert not reset and w.step_count == 4
    assert not any("Settings changed" in text for _kind, text in w.messages)


# ----------------------------------------------------------------------------------------------- bug 10
def test_a_click_on_the_empty_loss_vs_lr_plot_does_not_set_the_lr(make_window, qtbot):
    w = make_window(SMALL)
    vp = w.lr_view.plot.viewport()
    qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=QPoint(vp.width() // 2, vp.height() // 2))
    qtbot.wait(200)
    assert w.config().lr == SMALL.lr and _box_lr(w) == SMALL.lr
    assert w.last_snapshot.lr == SMALL.lr
    assert not any("Learning rate set" in text for _kind, text in w.messages)


def test_a_click_on_the_range_test_curve_still_sets_the_lr(make_window, qtbot):
    w = make_window(SMALL)
    with qtbot.waitSignal(w.rangeTestFinished, timeout=20000):
        w.actionRangeTest.trigger()
    lrs = w.lr_view._lrs
    target = float(np.sqrt(lrs.min() * lrs.max()))
    vb = w.lr_view.plot.getPlotItem().vb
    y = float(np.nanmedian(w.lr_view._losses))
    scene = vb.mapViewToScene(QPointF(math.log10(target), y))
    pos = w.lr_view.plot.mapFromScene(scene)
    qtbot.mouseClick(w.lr_view.plot.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: w.config().lr == pytest.approx(target, rel=0.1), timeout=3000)


# ----------------------------------------------------------------------------------------------- bug 14
def test_no_ui_code_runs_in_the_worker_thread(make_window, qtbot, tmp_path):
    """Every worker signal reaches a GUI-thread slot: trace the worker thread for calls into UI modules.

    Includes the crash path (a regression CSV while the loss is cross entropy: the worker's note about the
    loss) and step back at step 0 (the worker's note that there is nothing to go back to).
    """
    ui_dir = str(ROOT / "gd_studio" / "ui")
    allowed = str(ROOT / "gd_studio" / "ui" / "worker.py")
    seen: list[str] = []

    def profile(frame, event, arg):
        if event == "call":
            name = frame.f_code.co_filename
            if name.startswith(ui_dir) and name != allowed:
                seen.append(f"{Path(name).name}:{frame.f_code.co_name}")

    w = make_window(SMALL)
    worker = w.controller.worker
    installed = threading.Event()

    def install():
        sys.setprofile(profile)
        installed.set()

    QTimer.singleShot(0, worker, install)
    qtbot.waitUntil(installed.is_set, timeout=3000)
    try:
        w.study.step_back()  # at step 0: a message from the worker
        qtbot.waitUntil(lambda: any("first recorded step" in t for _k, t in w.messages), timeout=5000)
        w.actionStep.trigger()
        qtbot.waitUntil(lambda: w.step_count == 1, timeout=5000)
        csv = tmp_path / "reg.csv"
        xs = np.linspace(-1, 1, 30)
        csv.write_text("x,y\n" + "".join(f"{a:.3f},{3 * a:.3f}\n" for a in xs))
        with qtbot.waitSignal(w.configApplied, timeout=10000):
            w.import_csv(csv)
        qtbot.waitUntil(lambda: any("Loss set to mse" in t for _k, t in w.messages), timeout=5000)
        with qtbot.waitSignal(w.rangeTestFinished, timeout=20000):
            w.actionRangeTest.trigger()
        w.study.validate(steps=10, pace=0.0)
        qtbot.waitUntil(lambda: not w.study.validating, timeout=20000)
        w.import_csv(tmp_path / "missing.csv")  # refused by the worker: its "failed" signal

        qtbot.waitUntil(lambda: w.messages and w.messages[-1][0] == "error", timeout=5000)
    finally:
        removed = threading.Event()
        QTimer.singleShot(0, worker, lambda: (sys.setprofile(None), removed.set()))
        qtbot.waitUntil(removed.is_set, timeout=3000)
    assert not seen, f"UI code ran in the worker thread: {sorted(set(seen))}"


# ----------------------------------------------------------------------------------------------- bug 16
def test_esc_stops_a_long_pre_run(make_window, qtbot):
    w = make_window(SMALL)
    w.activateWindow()
    w.run_steps(200_000)  # what a scenario's pre_run does
    qtbot.wait(150)
    assert w.actionCancel.isEnabled()
    qtbot.keyClick(w, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not w.last_snapshot.running and w.step_count > 0, timeout=1500)
    n = w.step_count
    assert n < 200_000
    qtbot.wait(300)
    assert w.step_count == n  # stopped, not merely drawn late


CLOSE_SCRIPT = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, {root!r})
    from PySide6.QtCore import QTimer
    from gd_studio.ui.app import make_app
    from gd_studio.ui import MainWindow
    from gd_studio.engine.config import RunConfig
    app = make_app([])
    cfg = RunConfig(dataset="moons", dataset_params={{"n_samples": 400, "noise": 0.2, "seed": 1}}, model="mlp",
                    hidden=(32,), loss="cross_entropy", lr=0.1, batch_size=16, seed=2{extra})
    w = MainWindow(cfg)
    w.show()
    def busy():
        {busy}
    def close():
        global t0
        t0 = time.perf_counter()
        w.close()
        app.quit()
    QTimer.singleShot(800, busy)
    QTimer.singleShot(1300, close)
    app.exec()
    print("closed in", time.perf_counter() - t0)
""")


@pytest.mark.parametrize("busy", [
    "w.controller.stepRequested.emit(10_000_000)",
    "w.panel.rt_animate.setChecked(True); w.actionRangeTest.trigger()",
    "w.actionRun.trigger()",
], ids=["pre-run", "range-test", "run"])
def test_closing_while_busy_exits_cleanly_within_a_second(busy, tmp_path):
    script = CLOSE_SCRIPT.format(root=str(ROOT), extra="", busy=busy)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = re.search(r"closed in ([\d.]+)", proc.stdout)
    assert m and float(m.group(1)) < 1.0, proc.stdout + proc.stderr[-2000:]


def test_a_fifo_as_data_is_refused_not_waited_on(make_window, qtbot, tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)
    w = make_window(SMALL)
    with qtbot.waitSignal(w.messageShown, timeout=3000) as got:
        w.import_csv(fifo)
    kind, text = got.args
    assert kind == "error" and "data.csv" in text
    w.actionStep.trigger()  # the worker is free
    qtbot.waitUntil(lambda: w.step_count == 1, timeout=3000)



def test_after_a_range_test_its_walk_says_the_run_is_elsewhere(make_window, qtbot):
    """The range test walks on the loss-vs-weight and loss-vs-step views, and its last frame stays there to be
    talked about (the steps that left the trough); beside a status bar saying step 3 of the run, both captions
    still spoke of a test under way ("now 10"). Done, they say the test is over and where the run is."""
    w = make_window(SMALL)
    for _ in range(3):
        before = w.step_count
        w.actionStep.trigger()
        qtbot.waitUntil(lambda: w.step_count == before + 1 and not w.last_snapshot.running, timeout=5000)
    with qtbot.waitSignal(w.rangeTestFinished, timeout=20000):
        w.actionRangeTest.trigger()
    over = "The test is over; the run is still at step 3 (→ continues it)."
    assert w.weight_view.mode == "range test" and w.weight_view.caption.text().endswith(over)
    assert w.step_view.caption.text().startswith("Range test:") and w.step_view.caption.text().endswith(over)
    assert w.status["step"].text() == "step 3"
    w.actionStep.trigger()  # the next step is the run's fourth, and the views show the run again
    qtbot.waitUntil(lambda: w.step_count == 4 and not w.last_snapshot.running, timeout=5000)
    assert w.weight_view.mode == "run" and over not in w.weight_view.caption.text()
    assert np.array_equal(w.step_view._h.steps, [1, 2, 3, 4]) and over not in w.step_view.caption.text()
