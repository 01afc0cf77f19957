"""Scenarios in the window: open/save round trip, identical replays, bundled ones, bad files, drop, --screenshot."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QImage

from gd_studio.ui.plots.common import with_margin
from gd_studio.engine import scenarios
from gd_studio.engine.config import RunConfig
from gd_studio.engine.fmt import fmt_lr
from gd_studio.ui import settings

ROOT = Path(__file__).resolve().parents[2]
SMALL = RunConfig(dataset="moons", dataset_params={"n_samples": 120, "noise": 0.2, "seed": 1}, model="mlp",
                  hidden=(6,), activation="tanh", loss="cross_entropy", optimizer="momentum", lr=0.05, batch_size=16,
                  seed=2, watch="W1[0,1]")


def _open(qtbot, w, path):
    with qtbot.waitSignal(w.scenarios.scenarioApplied, timeout=15000) as got:
        assert w.scenarios.open(path)
    scene = got.args[0]
    # scenarioApplied comes before the new run's first snapshot is drawn: wait for it, or the step count
    # read next may still be the previous run's
    qtbot.waitUntil(lambda: w.last_snapshot is not None and w.last_snapshot.step == scene.pre_run
                    and w.config() == scene.config, timeout=15000)
    return scene


def _steps(qtbot, w, n, timeout=10000):
    """n steps through the worker in one command; the snapshot once it is idle there."""
    target = w.step_count + n
    w.controller.stepRequested.emit(n)
    qtbot.waitUntil(lambda: w.last_snapshot.step == target and not w.last_snapshot.running, timeout=timeout)
    return w.last_snapshot


def _numbers(snap):
    h = snap.history
    return [np.asarray(a).copy() for a in (h.steps, h.loss, h.lr, h.val_steps, h.val_loss)] + [
        np.asarray(snap.weight.trail_w).copy(), np.asarray(snap.weight.curve_loss).copy()]


def test_save_then_load_gives_the_same_config_and_the_same_frames(make_window, qtbot, tmp_path):
    w = make_window(SMALL)
    w.set_lr(0.03)  # a live LR change is saved too
    qtbot.waitUntil(lambda: w.last_snapshot.lr == 0.03, timeout=3000)
    w.scenarios.set_panel_visible("loss_vs_lr", False)
    path = w.scenarios.save(tmp_path / "mine", title="my scene")
    assert path.name == "mine.gdscenario" and path.is_file()
    saved = scenarios.load(path)
    assert saved.config == SMALL.replace(lr=0.03)
    assert "loss_vs_lr" not in saved.panels
    assert settings.last_scenario_path() == path.resolve()

    w2 = make_window()
    runs = []
    for _ in range(2):
        s = _open(qtbot, w2, path)
        assert w2.config() == saved.config == s.config
        assert w2.lr_view.widget.isHidden()
        runs.append(_numbers(_steps(qtbot, w2, 25)))
    for a, b in zip(*runs):
        assert a.shape == b.shape and a.tobytes() == b.tobytes()  # bit for bit
    w2.scenarios.set_panel_visible("loss_vs_lr", True)
    assert not w2.lr_view.widget.isHidden()


def test_run_key_replays_the_same_steps_and_autoplay_stops_where_the_scene_says(make_window, qtbot, tmp_path):
    scene = scenarios.Scenario(title="t", config=SMALL, caption="Watch this.", pre_run=3, steps=12, speed=None)
    path = scenarios.save(scene, tmp_path / "auto.gdscenario")
    w = make_window(SMALL)
    runs = []
    for _ in range(2):
        _open(qtbot, w, path)
        qtbot.waitUntil(lambda: w.step_count == 3, timeout=5000)  # pre_run
        assert w.scenarios.caption.isVisible() and "Watch this." in w.scenarios.caption.text()
        w.actionRun.trigger()
        qtbot.waitUntil(lambda: not w.actionRun.isChecked() and not w.last_snapshot.running, timeout=10000)
        assert w.last_snapshot.step == 15  # pre_run + steps, exactly
        runs.append(_numbers(w.last_snapshot))
    for a, b in zip(*runs):
        assert a.tobytes() == b.tobytes()
    w.actionRun.trigger()  # after the scene's steps, Space runs on
    qtbot.waitUntil(lambda: w.step_count > 20, timeout=5000)
    w.pause()


@pytest.mark.parametrize("index", range(len(scenarios.bundled())))
def test_every_bundled_scenario_loads_and_runs_ten_steps(make_window, qtbot, index):
    path = scenarios.bundled()[index]
    expected = scenarios.load(path)
    w = make_window(SMALL)
    s = _open(qtbot, w, path)
    assert s.title == expected.title
    qtbot.waitUntil(lambda: w.step_count == expected.pre_run, timeout=10000)
    snap = _steps(qtbot, w, 10, timeout=20000)
    assert snap.step == expected.pre_run + 10 or snap.stop_reason  # divergence may end a run early
    assert w.scenarios.caption.isVisible()
    for key, attr in (("data", "data_view"), ("loss_vs_weight", "weight_view"), ("loss_vs_lr", "lr_view"),
                      ("loss_vs_step", "step_view")):
        assert getattr(w, attr).widget.isHidden() == (key not in expected.panels), key
    if expected.range_test is not None:  # its range test is one L away
        assert float(w.panel.rt_start.text()) == expected.range_test.start_lr
        assert w.panel.rt_iters.value() == expected.range_test.num_iter
    for key, box in expected.ranges.items():
        if box is None:
            continue
        view = getattr(w, {"data": "data_view", "loss_vs_weight": "weight_view", "loss_vs_lr": "lr_view",
                           "loss_vs_step": "step_view"}[key])
        vb = view.plot.getPlotItem().vb
        (x0, x1), (y0, y1) = vb.viewRange()
        follow = next((r for r in view.plot.sticky if hasattr(r, "hold")), None)
        if follow is not None:  # the box plus the marker's radius in pixels on every side
            (bx0, bx1), (by0, by1) = (with_margin(box[0], box[1], vb.width(), follow.margin_px()),
                                      with_margin(box[2], box[3], vb.height(), follow.margin_px()))
            box = (bx0, bx1, by0, by1)
        assert (x0, x1, y0, y1) == pytest.approx(box, rel=1e-6, abs=1e-9)


def test_range_test_scenario_runs_its_range_test_with_l(make_window, qtbot):
    path = next(p for p in scenarios.bundled() if scenarios.load(p).range_test is not None)
    w = make_window(SMALL)
    _open(qtbot, w, path)
    with qtbot.waitSignal(w.rangeTestFinished, timeout=30000) as got:
        qtbot.keyClick(w.centralWidget(), Qt.Key.Key_L)
    rt = scenarios.load(path).range_test
    assert got.args[0].start_lr == pytest.approx(rt.start_lr)
    assert w.lr_view.marker.isVisible()


def _corrupt_files(tmp_path):
    good = scenarios.dumps(scenarios.Scenario(title="ok", config=SMALL))
    files = {
        "corrupt": "{ this is not json",
        "truncated": good[: len(good) // 2],
        "future": good.replace('"version": 1', '"version": 99'),
        "wrong type": good.replace('"batch_size": 16', '"batch_size": "many"'),
    }
    out = {}
    for name, text in files.items():
        p = tmp_path / f"{name.replace(' ', '-')}.gdscenario"
        p.write_text(text, encoding="utf-8")
        out[name] = p
    return out


def test_bad_scenario_files_give_the_message_and_keep_the_state(make_window, qtbot, tmp_path):
    w = make_window(SMALL)
    _steps(qtbot, w, 4)
    before = (w.config(), w.step_count, w.scenarios.caption.isHidden())
    for name, path in _corrupt_files(tmp_path).items():
        with pytest.raises(scenarios.ScenarioError) as err:
            scenarios.load(path)
        assert not w.scenarios.open(path)
        kind, text = w.messages[-1]
        assert kind == "error" and str(err.value) in text and str(path) in text, name
        assert w.banner.isVisible()
        qtbot.wait(50)
        assert (w.config(), w.step_count, w.scenarios.caption.isHidden()) == before, name
    # the message names the place in the file
    assert "version" in w.messages[-2][1] or "99" in w.messages[-2][1]


def test_dropping_a_scenario_file_opens_it(make_window, qtbot):
    path = scenarios.bundled()[0]
    w = make_window(SMALL)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(w.scenarios.scenarioApplied, timeout=10000):
        w.dropEvent(event)
    assert w.config() == scenarios.load(path).config
    assert w.scenarios.playlist == scenarios.bundled()


def test_screenshot_from_the_command_line_writes_a_png(tmp_path):
    out = tmp_path / "shot.png"
    scene = sorted((ROOT / "resources" / "scenarios").glob("03-*.gdscenario"))[0]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", GD_STUDIO_SETTINGS=str(tmp_path / "s.ini"))
    proc = subprocess.run([sys.executable, "-m", "gd_studio", "--scenario", str(scene), "--screenshot", str(out),
                           "--steps", "5"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    image = QImage(str(out))
    assert not image.isNull() and image.width() >= 800 and image.height() >= 600
    bad = tmp_path / "bad.gdscenario"
    bad.write_text("{", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "gd_studio", "--scenario", str(bad), "--screenshot",
                           str(tmp_path / "x.png")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    lines = [ln for ln in proc.stderr.splitlines() if "propagateSizeHints" not in ln]
    assert len(lines) == 1 and str(bad) in lines[0]


def test_the_caption_says_when_the_rate_is_no_longer_the_scenes(make_window, qtbot):
    """Scenario 2's caption speaks of its small rate; after + the run uses another one, and the caption says so
    until the rate is the scene's again or another scene is opened."""
    w = make_window()
    scene = _open(qtbot, w, next((ROOT / "resources" / "scenarios").glob("02-*.gdscenario")))
    cap = w.scenarios.caption
    assert "Now r =" not in cap.text()
    w.set_lr(scene.config.lr * 10)
    qtbot.waitUntil(lambda: "Now r =" in cap.text(), timeout=3000)
    assert f"Now r = {fmt_lr(scene.config.lr * 10)}" in cap.text() and fmt_lr(scene.config.lr) in cap.text()
    w.set_lr(scene.config.lr)
    qtbot.waitUntil(lambda: "Now r =" not in cap.text(), timeout=3000)
    w.set_lr(0.5)
    qtbot.waitUntil(lambda: "Now r =" in cap.text(), timeout=3000)
    _open(qtbot, w, next((ROOT / "resources" / "scenarios").glob("01-*.gdscenario")))
    assert "Now r =" not in cap.text()
