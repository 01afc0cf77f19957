"""Step back and the timeline: exact restores (bit for bit), replays, forks, the slider, the checkpoint budget."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QSlider

from gd_studio.engine import descent
from gd_studio.engine.config import RunConfig
from gd_studio.live.timeline import FAST_EVERY, CheckpointStore, RunTimeline


@pytest.fixture(autouse=True)
def _engine_in_the_worker_thread(monkeypatch):
    """These tests compare the worker's own LiveRun with a reference: keep it in this process to read it."""
    monkeypatch.setenv("GD_STUDIO_ENGINE", "thread")

# mini-batches (a seeded shuffle every epoch) and momentum: the random and optimizer state both matter
MOONS = RunConfig(dataset="moons", dataset_params={"n_samples": 120, "noise": 0.2, "seed": 1}, model="mlp",
                  hidden=(6,), activation="tanh", loss="cross_entropy", optimizer="momentum",
                  optimizer_params={"momentum": 0.9}, lr=0.05, batch_size=16, seed=2, watch="W2[0,0]")


def _runner_at(config, n):
    r = descent.build(config).runner
    recs = r.run(n)
    return r, recs


def _worker_runner(w):
    return w.controller.worker.session.runner  # read only while the worker is idle (after a snapshot)


def _wait_step(qtbot, w, n, timeout=5000):
    qtbot.waitUntil(lambda: w.last_snapshot is not None and w.last_snapshot.step == n
                    and not w.last_snapshot.running, timeout=timeout)


def _assert_same_state(a, b):
    sa, sb = a.snapshot(), b.snapshot()
    assert sa.step_count == sb.step_count
    assert np.array_equal(sa.params, sb.params)
    for k, v in sa.optimizer["buffers"].items():
        assert (v is None and sb.optimizer["buffers"][k] is None) or np.array_equal(v, sb.optimizer["buffers"][k])
    assert sa.sampler["rng"] == sb.sampler["rng"]
    assert np.array_equal(sa.sampler["order"], sb.sampler["order"]) and sa.sampler["pos"] == sb.sampler["pos"]


def test_step_back_action_is_named_with_left_arrow_in_menu_and_toolbar(make_window):
    w = make_window(MOONS)
    a = w.actionStepBack
    assert a.objectName() == "actionStepBack"
    assert QKeySequence("Left") in a.shortcuts()
    assert a in w.run_menu.actions() and a in w.toolbar.actions()
    assert w.findChild(QSlider, "timelineSlider") is not None


def test_step_back_is_bit_identical_and_the_replay_matches(make_window, qtbot):
    w = make_window(MOONS)
    w.controller.stepRequested.emit(41)
    _wait_step(qtbot, w, 41)
    w.actionStepBack.trigger()
    _wait_step(qtbot, w, 40)
    ref, ref_recs = _runner_at(MOONS, 40)
    _assert_same_state(_worker_runner(w), ref)
    assert len(w.last_snapshot.history.steps) == 40  # the loss-vs-step curve is cut at step 40
    # forward again: the next 20 steps' losses equal the original run's exactly
    w.controller.stepRequested.emit(20)
    _wait_step(qtbot, w, 60)
    more = ref.run(20)
    np.testing.assert_array_equal(np.asarray(w.last_snapshot.history.loss[40:60]),
                                  np.array([r.loss for r in more]))
    _assert_same_state(_worker_runner(w), ref)


def test_step_back_after_running_at_full_speed_replays_exactly(make_window, qtbot):
    w = make_window(MOONS)
    w.start()
    qtbot.waitUntil(lambda: w.step_count >= 3 * FAST_EVERY + 5, timeout=5000)
    w.pause()
    qtbot.waitUntil(lambda: not w.last_snapshot.running, timeout=3000)
    n = w.last_snapshot.step
    for k in (1, 2):  # sparse checkpoints while running fast: these are replays, still exact
        w.actionStepBack.trigger()
        _wait_step(qtbot, w, n - k)
    ref, _ = _runner_at(MOONS, n - 2)
    _assert_same_state(_worker_runner(w), ref)
    w.controller.stepRequested.emit(20)
    _wait_step(qtbot, w, n + 18)
    more = ref.run(20)
    np.testing.assert_array_equal(np.asarray(w.last_snapshot.history.loss[-20:]), [r.loss for r in more])


def test_a_new_lr_in_the_past_forks_the_run(make_window, qtbot):
    w = make_window(MOONS)
    w.controller.stepRequested.emit(30)
    _wait_step(qtbot, w, 30)
    w.controller.jumpRequested.emit(20)
    _wait_step(qtbot, w, 20)
    assert w.last_snapshot.extra["timeline"]["end"] == 30  # the future is kept until something changes
    w.set_lr(0.01)
    qtbot.waitUntil(lambda: w.last_snapshot.lr == pytest.approx(0.01), timeout=3000)
    assert w.last_snapshot.extra["timeline"]["end"] == 20  # the new LR discarded the recorded future
    w.controller.stepRequested.emit(10)
    _wait_step(qtbot, w, 30)
    h = w.last_snapshot.history
    np.testing.assert_array_equal(np.asarray(h.lr[20:30]), np.full(10, 0.01))
    _, orig = _runner_at(MOONS, 30)
    assert not np.array_equal(np.asarray(h.loss[21:30]), [r.loss for r in orig[21:30]])  # recomputed
    np.testing.assert_array_equal(np.asarray(h.loss[:20]), [r.loss for r in orig[:20]])  # the past is kept
    # the fork replays exactly too: back to 25 and on again gives the same numbers
    losses = np.asarray(h.loss).copy()
    w.controller.jumpRequested.emit(25)
    _wait_step(qtbot, w, 25)
    w.controller.stepRequested.emit(5)
    _wait_step(qtbot, w, 30)
    np.testing.assert_array_equal(np.asarray(w.last_snapshot.history.loss), losses)


def test_timeline_slider_jumps_and_views_follow(make_window, qtbot):
    w = make_window(MOONS)
    w.controller.stepRequested.emit(25)
    _wait_step(qtbot, w, 25)
    slider = w.findChild(QSlider, "timelineSlider")
    assert (slider.minimum(), slider.maximum(), slider.value()) == (0, 25, 25)
    slider.setValue(10)
    _wait_step(qtbot, w, 10)
    assert w.weight_view.arrow_count() == 10  # the steps up to there, drawn again
    assert len(w.last_snapshot.history.steps) == 10
    assert slider.maximum() == 25 and slider.value() == 10
    ref, _ = _runner_at(MOONS, 10)
    _assert_same_state(_worker_runner(w), ref)
    slider.setValue(22)  # forward again over the recorded future
    _wait_step(qtbot, w, 22)
    ref.run(12)
    _assert_same_state(_worker_runner(w), ref)


def test_step_back_after_divergence_clears_the_stop(make_window, qtbot):
    cfg = RunConfig(dataset="line", dataset_params={"n_samples": 50, "noise": 0.1, "seed": 0}, model="one_weight",
                    loss="mse", lr=20.0, batch_size=0, seed=0, watch="w", val_fraction=0.0, standardize=False)
    w = make_window(cfg)
    w.controller.stepRequested.emit(200)
    qtbot.waitUntil(lambda: bool(w.last_snapshot.stop_reason), timeout=5000)
    k = w.last_snapshot.step
    w.actionStepBack.trigger()
    qtbot.waitUntil(lambda: w.last_snapshot.stop_reason is None, timeout=3000)
    assert w.last_snapshot.step == k
    w.actionStepBack.trigger()  # and on back, one step at a time
    _wait_step(qtbot, w, k - 1)
    w.controller.jumpRequested.emit(0)
    _wait_step(qtbot, w, 0)
    w.set_lr(0.1)  # "what if the LR were smaller from here"
    w.controller.stepRequested.emit(5)
    _wait_step(qtbot, w, 5)
    assert w.last_snapshot.stop_reason is None


def test_checkpoint_store_stays_bounded_and_reaches_every_step():
    cfg = RunConfig(dataset="line", dataset_params={"n_samples": 40, "noise": 0.1, "seed": 0}, model="one_weight",
                    loss="mse", lr=0.05, batch_size=8, seed=0, watch="w", val_fraction=0.0)
    runner = descent.build(cfg).runner
    tl = RunTimeline(CheckpointStore(recent_steps=100, old_max=20))
    tl.reset(runner)
    states = {}
    for _ in range(3000):
        runner.step()
        tl.after_step(runner, fast=True)
        if runner.step_count in (1, 777, 2950):
            states[runner.step_count] = runner.snapshot()
    tl.store.prune()
    assert len(tl.store) <= 100 // FAST_EVERY + 20 + 2
    assert tl.store.first == 0 and tl.store.end == 3000
    for s, st in states.items():
        assert tl.goto(runner, s) == s
        assert np.array_equal(runner.params, st.params)
        assert runner.sampler.state()["rng"] == st.sampler["rng"]
