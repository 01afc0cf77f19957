"""AppState: one owner of the window's config (live LR included), busy state and last range test."""
from __future__ import annotations

import pytest

from gd_studio.engine.config import RunConfig
from gd_studio.ui.state import IDLE, RANGE_TEST, RUN, AppState

CFG = RunConfig(dataset="moons", model="mlp", hidden=(4,), lr=0.1, seed=0)


class _Result:
    suggestions = {"steepest": 0.05}


def test_the_live_lr_is_part_of_the_config_and_announced_once(qtbot):
    s = AppState(CFG)
    seen = []
    s.lrChanged.connect(seen.append)
    s.set_lr(0.03)
    s.set_lr(0.03)
    assert seen == [0.03] and s.config.lr == 0.03 and s.config.replace(lr=0.1) == CFG
    with qtbot.waitSignals([s.configChanged, s.lrChanged]):
        s.set_config(CFG.replace(seed=3, lr=0.2))
    assert s.lr == 0.2


def test_busy_is_one_of_four_states(qtbot):
    s = AppState(CFG)
    with qtbot.waitSignal(s.busyChanged) as got:
        s.set_busy(RANGE_TEST)
    assert got.args == [RANGE_TEST] and s.busy == RANGE_TEST
    s.set_busy(RUN)
    s.set_busy(IDLE)
    with pytest.raises(ValueError):
        s.set_busy("sleeping")


def test_range_test_result_and_its_suggestions(qtbot):
    s = AppState(CFG)
    assert s.suggestions() == {}
    s.set_range_test(_Result())
    assert s.suggestions() == {"steepest": 0.05}
    s.set_range_test(None)
    assert s.range_test is None


def test_window_config_follows_the_state(make_window):
    w = make_window(CFG)
    w.set_lr(0.02)
    assert w.config() is w.state.config and w.config().lr == 0.02
    assert float(w.panel.lr.input.text()) == 0.02  # the box shows the state
    assert w.lr_view.current_lr.value() == pytest.approx(__import__("math").log10(0.02))


def test_the_window_runs_blas_on_one_thread(make_window):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    make_window(CFG)
    blas = [i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
    assert blas and all(i["num_threads"] == 1 for i in blas)
