"""Features are installed with a FeatureContext: none keeps the window (only the context's parent, for dialogs)."""
from __future__ import annotations

from gd_studio.engine.config import RunConfig
from gd_studio.ui.context import FeatureContext

SMALL = RunConfig(dataset="moons", dataset_params={"n_samples": 60, "noise": 0.2, "seed": 1}, model="mlp",
                  hidden=(4,), loss="cross_entropy", lr=0.1, batch_size=0, seed=0)


def test_no_feature_holds_the_window_and_the_context_reads_it_as_it_is_now(make_window, qtbot):
    w = make_window(SMALL)
    ctx = w.feature_context
    assert isinstance(ctx, FeatureContext) and ctx.state is w.state and ctx.actions is w.action_registry
    for name in ("study", "scenarios", "exports", "range_files", "animation", "landscape_views"):
        feature = getattr(w, name)
        held = [k for k, v in vars(feature).items() if v is w]
        assert held == [], f"{name} keeps the window as {held}"

    # it reads the window as it is now
    with qtbot.waitSignal(ctx.snapshot_applied, timeout=10000):
        ctx.run_steps(3)
    qtbot.waitUntil(lambda: ctx.step_count() == 3, timeout=5000)
    assert ctx.last_snapshot() is w.last_snapshot and ctx.config_info() is w.config_info
    ctx.set_lr(0.05)
    assert w.config().lr == 0.05 == ctx.state.lr
