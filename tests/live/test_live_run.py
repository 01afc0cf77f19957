"""LiveRun without Qt: build, step, snapshot, step back, jump, the live LR through reset/reseed, range test, validation."""
from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from gd_studio.engine import descent, narration
from gd_studio.engine.config import RunConfig
from gd_studio.engine.errors import GDStudioError
from gd_studio.live.run import AtFirstStep, LiveRun, RateMeter

MOONS = RunConfig(dataset="moons", dataset_params={"n_samples": 120, "noise": 0.2, "seed": 1}, model="mlp",
                  hidden=(6,), activation="tanh", loss="cross_entropy", optimizer="momentum",
                  optimizer_params={"momentum": 0.9}, lr=0.05, batch_size=16, seed=2, watch="W2[0,0]")
PARABOLA = RunConfig(dataset="line", dataset_params={"n_samples": 100, "noise": 0.2, "slope": -1.0, "seed": 0},
                     model="one_weight", hidden=(), loss="mse", optimizer="sgd", lr=0.15, batch_size=0, seed=4,
                     watch="w", standardize=False, val_fraction=0.0)


def _run(config=MOONS) -> LiveRun:
    run = LiveRun()
    run.configure(config)
    return run


def test_the_live_package_imports_no_qt():
    code = ("import sys, gd_studio.live.run, gd_studio.live.timeline, gd_studio.live.validation;"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph')"
            " or m.startswith('gd_studio.ui')]; print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_steps_match_the_engine_bit_for_bit_and_the_snapshot_is_read_only():
    run = _run()
    assert run.step(25) == 25
    ref = descent.build(MOONS).runner
    ref.run(25)
    assert np.array_equal(run.session.runner.params, ref.params)
    snap = run.snapshot()
    assert snap.step == 25 and snap.generation == run.generation
    assert not snap.history.loss.flags.writeable
    assert snap.weight is not None and np.all(np.isfinite(snap.weight.curve_loss))
    assert snap.extra["timeline"]["end"] == 25


def test_step_polls_cancel_every_step():
    run = _run()
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 7

    assert run.step(1000, cancel=cancel) == 7
    assert run.step_count == 7


def test_step_back_and_jump_are_exact():
    run = _run()
    run.step(30)
    run.step_back()
    ref = descent.build(MOONS).runner
    ref.run(29)
    assert run.step_count == 29 and np.array_equal(run.session.runner.params, ref.params)
    assert run.jump(10) == 10
    ref = descent.build(MOONS).runner
    ref.run(10)
    assert np.array_equal(run.session.runner.params, ref.params)
    run.jump(0)
    with pytest.raises(AtFirstStep):
        run.step_back()


def test_reset_and_reseed_keep_the_live_lr():
    """Bug 1 at its root: reset and reseed rebuild from the config in force, which knows the live LR."""
    run = _run()
    run.step(3)
    run.set_lr(0.38)
    info = run.reset()
    assert info.config.lr == 0.38 and run.config.lr == 0.38
    assert run.session.runner.lr == pytest.approx(0.38)
    run.step(1)
    assert run.snapshot().lr == pytest.approx(0.38)
    info = run.reseed(7)
    assert info.config.seed == 7 and info.config.lr == 0.38
    assert run.session.runner.lr == pytest.approx(0.38)


def test_a_bad_config_keeps_the_previous_run():
    run = _run()
    run.step(5)
    gen = run.generation
    with pytest.raises(GDStudioError):
        run.configure(MOONS.replace(lr=-1.0))
    assert run.generation == gen and run.step_count == 5


def test_a_regression_csv_under_cross_entropy_switches_the_loss_and_says_so(tmp_path):
    path = tmp_path / "reg.csv"
    x = np.linspace(-1, 1, 40)
    path.write_text("x,y\n" + "\n".join(f"{a:.4f},{2 * a + 0.1:.4f}" for a in x) + "\n")
    run = _run()
    info = run.configure(MOONS.replace(dataset="csv", data_path=str(path), target="y", hidden=(4,),
                                       watch=""))
    assert info.config.loss == "mse"
    assert any("Loss set to mse" in n for n in info.notes)


def test_snapshot_loss_is_the_loss_after_the_step():
    """Bug 6 at its root: the status bar's loss is where the ball is, after the step."""
    run = _run(PARABOLA)
    run.step(3)
    snap = run.snapshot()
    model, train = run.session.model, run.session.train
    after = float(model.loss(run.session.runner.params, train.X, train.y))
    assert snap.loss_now == pytest.approx(after)
    assert snap.extra["narration"]["loss_after"] == pytest.approx(after)
    assert snap.loss == float(snap.history.loss[-1]) != pytest.approx(after)  # the batch loss before the step


def test_rate_meter_measures_steps_not_reports():
    """Bug 5 at its root: asked 60 times a second, a 2 steps/s run reads 2."""
    m = RateMeter(window=2.0)
    t = 0.0
    for k in range(20):  # 2 steps per second for 10 s
        m.tick(t + 0.5 * k)
    assert m.rate() == pytest.approx(2.0, rel=0.01)
    m.clear()
    for k in range(200):
        m.tick(0.01 * k)
    assert m.rate() == pytest.approx(100.0, rel=0.01)


def test_rate_meter_counts_a_batch_of_steps_as_its_steps():
    """Running at full speed the steps are counted a batch at a time (one clock read a batch): the same rate."""
    m = RateMeter(window=2.0)
    for k in range(50):  # 40 steps every 10 ms: 4,000 steps/s
        m.tick(0.01 * k, steps=40)
    assert m.rate() == pytest.approx(4000.0, rel=0.01)
    m.clear()
    assert m.rate() == 0.0
    m.tick(0.0, steps=5)
    assert m.rate() == 0.0  # one batch: no interval yet


@pytest.mark.parametrize("watch", ["W2[0,0]", "descent direction"])
def test_a_batch_of_steps_leaves_what_as_many_single_steps_leave(watch):
    """LiveRun.step's loop over 40 steps against 40 single steps (step_once): the trail, the timeline's
    checkpoints, the surface path and the speed readout's step count all the same, bit for bit."""
    from gd_studio.live.run import Trail

    def state(run):
        t = run.trail
        return (list(t.step), list(t.w), list(t.loss), [p.tolist() for p in t.params], run.timeline.store.end,
                sorted(run.timeline.store._states), run.surface.path.steps,
                [p.tolist() for p in run.surface.path.params], run.rate._total)

    for fast in (False, True):
        a, b = _run(MOONS.replace(watch=watch)), _run(MOONS.replace(watch=watch))
        a.fast = b.fast = fast
        assert a.step(40) == 40
        for _ in range(40):
            assert b.step_once()
        assert isinstance(a.trail, Trail) and state(a) == state(b)
        np.testing.assert_array_equal(a.session.runner.params, b.session.runner.params)


def test_costly_parts_are_paced_by_their_cpu_time_not_the_wall_clock(monkeypatch):
    """While running, the slice is rebuilt within a share of the engine's time, measured in CPU time: a slice that
    waited for the core (another process had it) did not cost the engine that wait, and must not be refreshed
    rarer for it."""
    import time

    from gd_studio.engine import landscape

    real = landscape.weight_slice

    def waited(*args, **kwargs):
        time.sleep(0.03)  # the wall clock runs on; the engine's thread spends no CPU
        return real(*args, **kwargs)

    monkeypatch.setattr(landscape, "weight_slice", waited)
    run = _run()
    run.running = True
    run.step(5)
    run.snapshot()
    assert run.slice_cache is not None
    assert run.slice_refresh.cost < 0.015, run.slice_refresh.cost


def test_a_costly_part_is_spaced_by_the_engines_cpu_time_not_the_wall_clock():
    """A part that cost c of CPU is due again after c / share of the engine's CPU time: time the engine spent
    waiting for the core (a busy machine) does not count, so the part's share of the CPU it gets is the same at
    any load. (Spaced by the wall clock, it was due after 0.1 s whatever the engine had done meanwhile.)"""
    import time

    from gd_studio.live.run import Refresh

    r = Refresh(0.0, 0.05)
    cpu0 = time.thread_time()
    while time.thread_time() - cpu0 < 0.002:  # 2 ms of CPU: due again after 40 ms of the engine's CPU time
        sum(range(1000))
    r.done(cpu0)
    assert 0.0015 < r.cost < 0.02
    time.sleep(0.08)  # wall time passes; this thread spends none
    assert not r.due(time.perf_counter())
    cpu1 = time.thread_time()
    while time.thread_time() - cpu1 < 1.2 * r.cost / r.share:
        sum(range(1000))
    assert r.due(time.perf_counter())


def test_range_test_reports_progress_only_when_ready_and_can_be_cancelled():
    run = _run()
    seen = []
    out = run.range_test({"num_iter": 60, "start_lr": 1e-4, "end_lr": 10.0}, progress=seen.append)
    assert out.result is not None and not out.cancelled
    assert seen and all(p.generation == run.generation for p in seen)
    assert len(seen[-1].lrs) == len(out.result.lrs) or len(seen[-1].lrs) > 0
    seen.clear()
    out = run.range_test({"num_iter": 60}, progress=seen.append, ready=lambda: False)
    assert len(seen) == 1  # only the closing frame
    n = [0]

    def cancel():
        n[0] += 1
        return n[0] > 10

    out = run.range_test({"num_iter": 500}, cancel=cancel)
    assert out.cancelled and len(out.result.lrs) < 500


def test_repeated_range_test_keeps_the_engine_median_curve():
    run = _run()
    out = run.range_test({"num_iter": 60, "repeats": 3})
    assert out.repeat is not None and len(out.repeat.results) == 3
    assert math.isfinite(out.repeat.suggestions.get("steepest", math.nan))


def test_validation_trains_from_the_same_start_and_polls_cancel():
    run = _run()
    run.step(10)
    out = run.validate({"lrs": [("a", 0.05), ("b", 0.5)], "steps": 20})
    assert [r.label for r in out.runs] == ["a", "b"] and all(r.losses.size == 20 for r in out.runs)
    ref = descent.Runner(run.session.model, run.session.train, run.session.initial_params, optimizer="momentum",
                         optimizer_params={"momentum": 0.9}, schedule=__import__("gd_studio.engine.schedules",
                                                                                    fromlist=["make"]).make(
                             "constant", 0.05), batch_size=16, seed=2, watch=0, val=None)
    ref_losses = [float(ref.step().loss) for _ in range(20)]
    assert np.array_equal(out.runs[0].losses, np.asarray(ref_losses))
    n = [0]

    def cancel():
        n[0] += 1
        return n[0] > 5

    out = run.validate({"lrs": [("a", 0.05)], "steps": 200}, cancel=cancel)
    assert out.cancelled and out.runs[0].losses.size < 200


def test_validation_with_pick_is_the_engines_validate_candidates_and_cancels_in_the_pick_too():
    from gd_studio.engine import lr_finder
    from gd_studio.live.validation import candidate_runs

    run = _run()
    rt = run.range_test({"num_iter": 60})
    lrs = candidate_runs(rt.result.suggestions)
    assert len(lrs) >= 5
    curve = rt.result.suggestions["recommended"]
    out = run.validate({"lrs": lrs, "steps": 30, "pick": True, "curve_pick": curve})
    s = run.session
    direct = lr_finder.validate_candidates(s.model, s.train, s.initial_params, [lr for _, lr in lrs], steps=30,
                                           seeds=(MOONS.seed,), val_ds=s.val, batch_size=MOONS.batch_size,
                                           optimizer=MOONS.optimizer, optimizer_params=dict(MOONS.optimizer_params),
                                           curve_pick=curve)
    assert out.pick.best_lr == direct.best_lr and np.array_equal(out.pick.scores, direct.scores)
    assert out.pick.gain is not None and out.pick.gain >= 1.0
    # a cancel that arrives after the curves, during the pick: cancelled, no pick to apply
    n = [0]

    def cancel():
        n[0] += 1
        return n[0] > 30 * len(lrs) + 3

    out = run.validate({"lrs": lrs, "steps": 30, "pick": True, "curve_pick": curve}, cancel=cancel)
    assert out.cancelled and len(out.runs) == len(lrs) and out.pick.cancelled


def test_mini_batch_narration_judges_crossings_by_the_training_set_slope():
    """SGD on mini-batches: "crossed the minimum" only when the training-set slope along the watched weight
    changed sign; a batch that pushed the weight uphill is named as such."""
    config = RunConfig(dataset="moons", dataset_params={"n_samples": 120, "noise": 0.3, "seed": 1}, model="mlp",
                       hidden=(6,), activation="tanh", loss="cross_entropy", optimizer="sgd", lr=0.5,
                       batch_size=4, seed=3, watch="W2[0,0]")
    run = _run(config)
    model, i = run.session.model, run.watch_index
    seen = {"uphill": 0, "crossed": 0}
    for _ in range(60):
        p0 = run.session.runner.params.copy()
        run.step(1)
        p1 = run.session.runner.params
        events = run.snapshot().extra["narration"]["events"]
        s0 = float(model.loss_and_grad(p0, run.slice_X, run.slice_y)[1][i])
        s1 = float(model.loss_and_grad(p1, run.slice_X, run.slice_y)[1][i])
        crossed = any(narration.OVERSHOOT in e or narration.CROSSED in e or narration.ZIGZAG in e for e in events)
        assert crossed == (s0 * s1 < 0)
        seen["crossed"] += crossed
        seen["uphill"] += any("mini-batch noise" in e for e in events)
    assert seen["uphill"] > 0 and seen["crossed"] > 0  # the run shows both cases
