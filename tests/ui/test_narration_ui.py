"""The narration panel: the latest step's update with its numbers, the loss before and after, the events in words."""
from __future__ import annotations

from PySide6.QtWidgets import QFrame, QLabel

from gd_studio.engine import descent, narration
from gd_studio.engine.config import RunConfig
from gd_studio.engine.narration import MINUS, fmt, fmt_lr

# the article's one-weight parabola: loss(w) = mean((w·x − y)²), curvature λ = 2 here, so 1/λ = 0.5, 2/λ = 1
PARABOLA = RunConfig(dataset="line", dataset_params={"n_samples": 100, "noise": 0.1, "seed": 0}, model="one_weight",
                     loss="mse", lr=0.2, batch_size=0, seed=0, watch="w", val_fraction=0.0, standardize=False)


def _wait_step(qtbot, w, n, timeout=5000):
    qtbot.waitUntil(lambda: w.last_snapshot is not None and w.last_snapshot.step == n
                    and not w.last_snapshot.running, timeout=timeout)


def _panel(w):
    panel = w.findChild(QFrame, "narrationPanel")
    assert panel is not None
    return panel


def _term(x):
    t = fmt(x)
    return f"({t})" if t.startswith(MINUS) else t


def test_narration_writes_the_update_with_the_numbers_of_a_known_step(make_window, qtbot):
    w = make_window(PARABOLA)
    panel = _panel(w)
    assert "Take a step" in panel.text()
    w.controller.stepRequested.emit(2)
    _wait_step(qtbot, w, 2)
    ref = descent.build(PARABOLA).runner
    rec = ref.run(2)[-1]
    loss_after = ref.full_loss()
    equation = (f"w ← w {MINUS} r·dL/dw = {fmt(rec.watched_value)} {MINUS} {fmt_lr(0.2)} × "
                f"{_term(rec.watched_grad)} = {fmt(rec.watched_next)}")
    qtbot.waitUntil(lambda: panel.equation.text() == equation, timeout=3000)
    assert panel.loss.text() == f"loss {fmt(rec.loss)} → {fmt(loss_after)}"
    assert panel.title.text().startswith("Step 2")
    # λ = 2: the LR 0.2 is 0.4× the 1/λ threshold, said in words
    assert "0.4× the 1/λ threshold" in panel.events.text()
    assert narration.OVERSHOOT not in panel.text()


def test_narration_names_the_overshoot_and_the_threshold_at_a_large_lr(make_window, qtbot):
    w = make_window(PARABOLA.replace(lr=1.5))  # 1.5× the 2/λ threshold: every step lands farther away
    panel = _panel(w)
    w.actionStep.trigger()
    _wait_step(qtbot, w, 1)
    qtbot.waitUntil(lambda: narration.OVERSHOOT in panel.events.text(), timeout=3000)
    text = panel.events.text()
    assert "⚠ " + narration.OVERSHOOT in text  # marked by a sign, not by colour alone
    # divergence is judged by the whole network's λ_max (one weight here, so it equals the weight's λ)
    assert "⚠ the LR is 1.5× the 2/λ_max threshold (2/λ_max = 1.00)" in text
    w.controller.stepRequested.emit(3)
    _wait_step(qtbot, w, 4)
    qtbot.waitUntil(lambda: "diverging: the loss went up" in panel.events.text(), timeout=3000)


def test_narration_clears_on_reset_and_on_a_new_watched_weight(make_window, qtbot):
    w = make_window(PARABOLA)
    panel = _panel(w)
    w.controller.stepRequested.emit(3)
    _wait_step(qtbot, w, 3)
    qtbot.waitUntil(lambda: panel.equation.text().startswith("w ← w"), timeout=3000)
    w.reset()
    _wait_step(qtbot, w, 0)
    qtbot.waitUntil(lambda: "Take a step" in panel.text(), timeout=3000)
    w.controller.stepRequested.emit(2)
    _wait_step(qtbot, w, 2)
    qtbot.waitUntil(lambda: panel.equation.text().startswith("w ← w"), timeout=3000)
    w.controller.watchRequested.emit("descent direction")
    qtbot.waitUntil(lambda: "Take a step" in panel.text(), timeout=3000)
    w.actionStep.trigger()
    _wait_step(qtbot, w, 3)
    qtbot.waitUntil(lambda: panel.equation.text().startswith("α ← α"), timeout=3000)


def test_narration_follows_a_step_back(make_window, qtbot):
    w = make_window(PARABOLA)
    panel = _panel(w)
    w.controller.stepRequested.emit(3)
    _wait_step(qtbot, w, 3)
    w.actionStepBack.trigger()
    _wait_step(qtbot, w, 2)
    qtbot.waitUntil(lambda: panel.title.text().startswith("Step 2"), timeout=3000)


def test_mini_batch_narration_compares_losses_on_the_same_data(make_window, qtbot):
    cfg = PARABOLA.replace(batch_size=10)
    w = make_window(cfg)
    panel = _panel(w)
    w.controller.stepRequested.emit(2)
    _wait_step(qtbot, w, 2)
    qtbot.waitUntil(lambda: "training set" in panel.title.text(), timeout=3000)
    assert panel.equation.text().startswith("w ← w")


def test_the_weight_view_calls_a_rise_on_a_slice_a_rise_on_the_slice(make_window, qtbot):
    """Scenario 9's two weights: at step 3 the step rises on W1[0,0]'s slice while the loss falls (0.31 → 0.23).
    The caption said "the loss went up" beside a narration saying it fell; a one-weight model's slice is the loss."""
    from pathlib import Path

    from gd_studio.engine import scenarios

    root = Path(__file__).resolve().parents[2]
    scene = scenarios.load(next((root / "resources" / "scenarios").glob("09-*.gdscenario")))
    w = make_window(scene.config)
    caption = w.weight_view.caption
    w.controller.stepRequested.emit(3)
    _wait_step(qtbot, w, 3)
    qtbot.waitUntil(lambda: "On this slice the last step crossed the minimum" in caption.text(), timeout=3000)
    assert "loss went up" not in caption.text()
    assert float(w.last_snapshot.loss_now) < float(w.last_snapshot.history.loss[-1])  # the loss itself fell

    one = make_window(PARABOLA.replace(lr=1.5))
    one.controller.stepRequested.emit(2)
    _wait_step(qtbot, one, 2)
    qtbot.waitUntil(lambda: "Overshoot: the last step crossed the minimum and the loss went up"
                    in one.weight_view.caption.text(), timeout=3000)


def test_events_wrap_whole_in_the_narrow_column_of_a_short_screen(qtbot):
    """Issue 12: in the left column of a 720p screen the events were cut after 4 lines ("… the 2/λ_…", scenario 10);
    they wrap onto every line they need, the panel as tall as they are."""
    from gd_studio.ui.panels.narration import NarrationPanel

    p = NarrationPanel()
    qtbot.addWidget(p)
    p.set_compact(True, 1)  # the short screen's density
    p.set_narrow(True)
    p.resize(340, 400)
    p.show()
    qtbot.waitExposed(p)
    events = ["along W1[0,0]: crawling: the LR is 0.018× the 1/λ threshold, so each step covers only 1.8% of the way "
              "to the minimum", "the LR is 0.31× the 2/λ_max threshold (2/λ_max = 1.60): stable along every "
              "direction of the network"]
    p.show_narration({"step": 2006, "equation": "W1[0,0] ← W1[0,0] − r·dL/dW1[0,0] = 0.68 − 0.5 × (−2.4e-4) = 0.68",
                      "loss": "loss 0.057 → 0.057", "events": ["• " + e for e in events]})
    assert not p.events.elided
    shown = p.events.shown_lines()
    assert shown > 4 and p.events.height() >= shown * p.events.fontMetrics().lineSpacing()
    assert " ".join(QLabel.text(p.events).split()) == " ".join(p.events.text().split())


def test_while_running_the_narration_keeps_its_tallest_height_and_fits_its_text_once_stopped(qtbot):
    """The events took two, then three, then two lines as the run went (66, 80, 94 px in a digits run): each change
    re-laid out the whole window and repainted every view two or three times. While running the panel only grows;
    stopped, it is as tall as its text again (so a paused step renders the same however it was reached)."""
    from gd_studio.ui.panels.narration import NarrationPanel

    p = NarrationPanel()
    qtbot.addWidget(p)
    p.resize(700, 400)
    p.show()
    qtbot.waitExposed(p)
    long = ["• " + "along W1[0,0]: crawling: the LR is 0.018× the 1/λ threshold, so each step covers little " * 2,
            "• the LR is 0.31× the 2/λ_max threshold: stable along every direction of the network"]
    short = ["• converged"]

    def show(events, step, running):
        p.show_narration({"step": step, "equation": "w ← w − r·dL/dw = 1.00 − 0.1 × 2.0 = 0.80",
                          "loss": "loss 1.0 → 0.8", "events": events}, running=running)
        return p.events.height()

    tall = show(long, 1, running=True)
    low = show(short, 2, running=False)
    assert low < tall  # paused: as tall as its text
    assert show(long, 3, running=True) == tall
    assert show(short, 4, running=True) == tall  # running: no shrink, no re-layout
    assert show(short, 5, running=False) == low  # stopped: fits its text again
