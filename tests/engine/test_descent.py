"""The descent runner: SGD's closed form, divergence, bounded history, exact snapshot/restore, build()."""
from __future__ import annotations

import numpy as np
import pytest

from gd_studio.engine import datasets, descent, models
from gd_studio.engine.config import DESCENT_DIRECTION, RunConfig
from gd_studio.engine.errors import ConfigError, GDStudioError


def _line(n=50):
    x = np.linspace(-1, 1, n)[:, None]
    return datasets.Dataset(X=x, y=2.0 * x[:, 0], task="regression", feature_names=("x",),
                            class_names=(), name="line")


def test_full_batch_sgd_on_the_parabola_follows_the_closed_form():
    ds = _line()
    m = models.make("one_weight", 1, 1, loss="mse")
    lam = 2 * np.mean(ds.X ** 2)  # L(w) = (w − 2)² mean(x²)
    lr = 0.5 / lam
    r = descent.Runner(m, ds, np.array([-1.0]), lr=lr, batch_size=0, watch="w")
    w = -1.0
    for k in range(1, 6):
        rec = r.step()
        grad = lam * (w - 2.0)
        assert rec.step == k and rec.watched_value == pytest.approx(w)
        assert rec.watched_grad == pytest.approx(grad)
        w = w - lr * grad  # descent subtracts: w ← w − r·dL/dw
        assert rec.watched_next == pytest.approx(w)
        assert rec.update_norm == pytest.approx(abs(lr * grad))
    # the error shrinks by (1 − lr·λ) = 0.5 each step
    assert r.params[0] - 2.0 == pytest.approx(-3.0 * 0.5 ** 5)


def test_overshoot_then_divergence_is_reported_and_history_stays_finite():
    ds = _line()
    m = models.make("one_weight", 1, 1, loss="mse")
    lam = 2 * np.mean(ds.X ** 2)
    r = descent.Runner(m, ds, np.array([0.0]), lr=3.0 / lam, batch_size=0)
    records = r.run(1000)
    assert r.stopped and r.stop_reason.startswith(f"diverged at step {len(records) + 1}, lr = ")
    assert 5 < len(records) < 30
    rows = r.history.rows()
    assert np.all(np.isfinite(rows)) and rows.shape[0] == len(records)
    assert r.step() is None


def test_nonfinite_gradient_stops_with_reason():
    ds = _line()
    m = models.make("one_weight", 1, 1, loss="mse")
    r = descent.Runner(m, ds, np.array([1e200]), lr=1.0, batch_size=0)
    assert r.step() is None
    assert r.stop_reason.startswith("diverged at step 1, lr = 1")


def test_history_memory_is_flat_and_keeps_recent_steps_exactly():
    h = descent.History(("step", "loss"), recent=64, old=32)
    for step in range(1, 100_001):
        h.append((step, float(step)))
    rows = h.rows()
    assert len(h) <= 64 + 32
    np.testing.assert_array_equal(rows[-64:, 0], np.arange(100_001 - 64, 100_001))
    assert rows[0, 0] <= 100_000 // 16  # the old part still reaches back to the start of the run
    assert np.all(np.diff(rows[:, 0]) > 0)
    h.truncate(99_990)
    assert h.rows()[-1, 0] == 99_990


def test_history_thins_rows_recorded_every_k_steps():
    # validation rows come every 10 steps: one doubling of the stride removes none of them
    h = descent.History(("step", "val_loss"), recent=16, old=8)
    for step in range(10, 200_001, 10):
        h.append((step, 1.0))
    assert len(h) <= 24 and np.all(np.diff(h.rows()[:, 0]) > 0)


def test_long_runs_keep_memory_flat():
    ds = _line()
    m = models.make("one_weight", 1, 1, loss="mse")
    r = descent.Runner(m, ds, np.array([0.0]), lr=0.1, batch_size=0, val=ds, val_every=10,
                       history_recent=256, history_old=256)
    r.run(200_000)
    assert r.step_count == 200_000 and not r.stopped
    assert len(r.history) <= 512 and len(r.val_history) <= 512
    assert r.history.rows()[-1, 0] == 200_000


def _moons_session(**changes):
    settings = dict(dataset="moons", dataset_params={"n_samples": 120, "noise": 0.2}, model="mlp",
                    hidden=(8,), optimizer="adam", lr=0.01, batch_size=16, seed=3)
    cfg = RunConfig(**{**settings, **changes})
    return descent.build(cfg)


def test_same_seed_bit_identical_and_restore_continues_exactly():
    a, b = _moons_session(), _moons_session()
    ra, rb = a.runner.run(25), b.runner.run(25)
    assert [r.loss for r in ra] == [r.loss for r in rb]
    np.testing.assert_array_equal(a.runner.params, b.runner.params)
    state = a.runner.snapshot()
    ahead = [r.loss for r in a.runner.run(40)]
    params_ahead = a.runner.params
    a.runner.restore(state)
    assert a.runner.history.rows()[-1, 0] == 25
    again = [r.loss for r in a.runner.run(40)]
    assert again == ahead
    np.testing.assert_array_equal(a.runner.params, params_ahead)


def test_validation_loss_every_k_steps_and_epochs_count():
    s = _moons_session(val_every=5)
    recs = s.runner.run(20)
    assert [r.step for r in recs if r.val_loss is not None] == [5, 10, 15, 20]
    assert s.runner.val_history.rows().shape == (4, 2)
    assert recs[-1].epoch == 20 * 16 // s.train.n_samples


def test_set_lr_applies_from_the_next_step():
    s = _moons_session()
    s.runner.run(3)
    s.runner.set_lr(0.5)
    assert s.runner.step().lr == 0.5
    with pytest.raises(ConfigError):
        s.runner.set_lr(float("nan"))
    assert s.runner.lr == 0.5


def test_descent_direction_watch_reports_position_along_minus_gradient():
    s = _moons_session(watch=DESCENT_DIRECTION, optimizer="sgd", batch_size=0)
    rec = s.runner.step()
    assert rec.watched_value == 0.0 and rec.watched_grad == pytest.approx(-rec.grad_norm)
    # plain full-batch SGD moves exactly lr·|g| along −g/|g|
    assert rec.watched_next == pytest.approx(rec.lr * rec.grad_norm)


def test_build_rejects_mismatched_settings_with_clear_messages():
    with pytest.raises(ConfigError, match="mse is for regression"):
        descent.build(RunConfig(dataset="moons", loss="mse"))
    with pytest.raises(ConfigError, match="exactly one feature"):
        descent.build(RunConfig(dataset="moons", model="one_weight", loss="cross_entropy"))
    with pytest.raises(GDStudioError):
        descent.build(RunConfig(dataset="no-such-data"))
    s = descent.build(RunConfig(dataset="line", model="one_weight", loss="mse", watch="W1[0,0]"))
    assert "not in this model" in s.notes[0]
    s.runner.step()
    reset = s.reset()
    np.testing.assert_array_equal(reset.runner.params, s.initial_params)
    assert not np.array_equal(s.reset(seed=99).initial_params, s.initial_params)
